/**
 * End-to-end encryption of a GovApp message body to every device of the recipient.
 *
 * JWE (RFC 7516) in the General JSON Serialization (§7.2.1), one recipient per device:
 *
 *   {
 *     "protected":  b64u({"enc": "A256GCM", "cty": "text/html", "messageId": "<notification id>"}),
 *     "recipients": [ { "header": {"alg": "ECDH-ES+A256KW", "kid": "<installation id>", "epk": {…}},
 *                       "encrypted_key": "…" }, … ],
 *     "iv": "…", "ciphertext": "…", "tag": "…"
 *   }
 *
 * - Key management ECDH-ES+A256KW (RFC 7518 §4.6): per device an ephemeral P-256 key agrees
 *   a key-wrapping key with the device's public key; the one content key is wrapped for each.
 * - Content encryption A256GCM (RFC 7518 §5.3); the protected header is the AAD, so the
 *   message id in it is authenticated: a device checks that it matches the push it came
 *   with, and a ciphertext cannot be replayed under another message.
 * - Only the title travels in clear (beside this object, in the push); the push backend
 *   sees ciphertext only.
 *
 * Device keys are public JWKs on P-256 (RFC 7518 §6.2.1), validated before they are stored.
 */
import { calculateJwkThumbprint, GeneralEncrypt, importJWK, type GeneralJWE, type JWK } from 'jose';

export const KEY_MANAGEMENT_ALG = 'ECDH-ES+A256KW';
export const CONTENT_ENC = 'A256GCM';
export const MESSAGE_ID_HEADER = 'messageId';

export class DeviceKeyError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DeviceKeyError';
  }
}

export interface DeviceRecipient {
  /** the installation id, carried as `kid` so a device finds its recipient entry */
  kid: string;
  /** public JWK, EC P-256 */
  jwk: JWK;
}

const B64U_32 = /^[A-Za-z0-9_-]{43}$/;

/**
 * Checks that `raw` is a public EC P-256 JWK usable for ECDH (a point on the curve, no
 * private part) and returns it reduced to its public members, with its RFC 7638 thumbprint.
 */
export async function validateDevicePublicKey(raw: unknown): Promise<{ jwk: JWK; thumbprint: string }> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new DeviceKeyError('the public key must be a JWK object');
  const k = raw as Record<string, unknown>;
  if (k.kty !== 'EC' || k.crv !== 'P-256') throw new DeviceKeyError('the public key must be an EC key on P-256 ({"kty": "EC", "crv": "P-256", "x": …, "y": …})');
  if ('d' in k) throw new DeviceKeyError('the JWK holds a private key ("d"): send the public key only');
  if (typeof k.x !== 'string' || typeof k.y !== 'string' || !B64U_32.test(k.x) || !B64U_32.test(k.y)) throw new DeviceKeyError('x and y must be 32-byte base64url coordinates');
  if (k.use !== undefined && k.use !== 'enc') throw new DeviceKeyError('the key\'s "use" must be "enc"');
  const jwk: JWK = { kty: 'EC', crv: 'P-256', x: k.x, y: k.y };
  try {
    await importJWK(jwk, KEY_MANAGEMENT_ALG); // WebCrypto refuses a point that is not on the curve
  } catch (err) {
    throw new DeviceKeyError('the public key is not a valid P-256 point', { cause: err });
  }
  return { jwk, thumbprint: await calculateJwkThumbprint(jwk, 'sha256') };
}

/** Encrypts the (already sanitised) HTML body to each device. */
export async function encryptForDevices(html: string, messageId: string, devices: DeviceRecipient[]): Promise<GeneralJWE> {
  if (devices.length === 0) throw new DeviceKeyError('no device to encrypt to');
  const enc = new GeneralEncrypt(new TextEncoder().encode(html)).setProtectedHeader({ enc: CONTENT_ENC, cty: 'text/html', [MESSAGE_ID_HEADER]: messageId });
  for (const d of devices) {
    enc.addRecipient(await importJWK(d.jwk, KEY_MANAGEMENT_ALG)).setUnprotectedHeader({ alg: KEY_MANAGEMENT_ALG, kid: d.kid });
  }
  return enc.encrypt();
}
