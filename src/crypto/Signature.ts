/**
 * Making and checking the signature values that CMS (RFC 5652 §5.5) and X.509 (RFC 5280
 * §4.1.1.3) carry.
 *
 * WebCrypto produces and expects ECDSA signatures as r‖s (IEEE P1363); CMS and X.509 carry
 *
 * ```asn1
 * Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }        -- RFC 3279 §2.2.3
 * ```
 *
 * RSA signatures are RSASSA-PKCS1-v1_5 (RFC 8017 §8.2) and carried as they are.
 */
import { createPublicKey, verify as nativeVerify, type KeyObject } from 'node:crypto';
import type { AlgorithmIdentifierValue, HashName, KeyAlgorithm } from './AlgorithmIdentifier.js';
import { algorithmSpec } from './AlgorithmIdentifier.js';
import { DerSequence, Tag, concat, integer, bytesToBigInt, readDer, readInteger, sequence } from './der.js';
import { bufferSource, defaultCrypto } from './webcrypto.js';
import { OID } from './oids.js';
import { importPublicKey, type PublicKeyInfo } from './SubjectPublicKeyInfo.js';

/** Signs `data` with SHA-256 and returns the signature value as CMS and X.509 carry it. */
export async function signBytes(privateKey: CryptoKey, algorithm: KeyAlgorithm, data: Uint8Array, crypto: Crypto = defaultCrypto()): Promise<Uint8Array> {
  const spec = algorithmSpec(algorithm);
  const raw = new Uint8Array(await crypto.subtle.sign(spec.signParams, privateKey, bufferSource(data)));
  return spec.family === 'ECDSA' ? ecdsaSigValueFromP1363(raw) : raw;
}

export function ecdsaSigValueFromP1363(raw: Uint8Array): Uint8Array {
  const half = raw.length / 2;
  return sequence(integer(bytesToBigInt(raw.subarray(0, half))), integer(bytesToBigInt(raw.subarray(half))));
}

/** Ecdsa-Sig-Value → r‖s, each left-padded to the curve's field size. Throws DerError if malformed. */
export function p1363FromEcdsaSigValue(der: Uint8Array, fieldSize: number): Uint8Array {
  const s = new DerSequence(readDer(der), 'Ecdsa-Sig-Value');
  const r = readInteger(s.next(Tag.INTEGER, 'r'));
  const sv = readInteger(s.next(Tag.INTEGER, 's'));
  s.end();
  const fixed = (v: bigint) => {
    const hex = v.toString(16).padStart(fieldSize * 2, '0');
    if (v < 0n || hex.length > fieldSize * 2) return new Uint8Array(fieldSize); // cannot verify; zeros never do
    return Uint8Array.from(Buffer.from(hex, 'hex'));
  };
  return concat([fixed(r), fixed(sv)]);
}

const FIELD_SIZE = { 'P-256': 32, 'P-384': 48, 'P-521': 66 } as const;

/** The hash a signature algorithm implies, or (for rsaEncryption) undefined: then the digest algorithm decides. */
const SIGNATURE_ALGORITHMS: Record<string, { family: 'RSA' | 'ECDSA'; hash?: HashName }> = {
  [OID.rsaEncryption]: { family: 'RSA' },
  [OID.sha256WithRSAEncryption]: { family: 'RSA', hash: 'SHA-256' },
  [OID.sha384WithRSAEncryption]: { family: 'RSA', hash: 'SHA-384' },
  [OID.sha512WithRSAEncryption]: { family: 'RSA', hash: 'SHA-512' },
  [OID.ecdsaWithSHA256]: { family: 'ECDSA', hash: 'SHA-256' },
  [OID.ecdsaWithSHA384]: { family: 'ECDSA', hash: 'SHA-384' },
  [OID.ecdsaWithSHA512]: { family: 'ECDSA', hash: 'SHA-512' },
};

export type SignatureCheck = { valid: true } | { valid: false; reason: string };

const NODE_HASH: Record<HashName, string> = { 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };

/** Native public keys by SubjectPublicKeyInfo DER: the same few certificates sign every proof. */
const publicKeys = new Map<string, KeyObject>();
const MAX_PUBLIC_KEYS = 1000;

function nativePublicKey(spki: Uint8Array): KeyObject {
  const id = Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength).toString('base64');
  let key = publicKeys.get(id);
  if (!key) {
    key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
    if (publicKeys.size >= MAX_PUBLIC_KEYS) publicKeys.delete(publicKeys.keys().next().value!);
    publicKeys.set(id, key);
  }
  return key;
}

/**
 * Checks `signature` over `data` with the public key `key`. `digestHash` is the SignerInfo's
 * digestAlgorithm, used when the signature algorithm is plain rsaEncryption (RFC 5754 §3.2).
 *
 * With no `crypto` given, node's native crypto checks it (synchronously, the key imported once
 * per SubjectPublicKeyInfo); an injected `crypto` (an HSM, a test double) is used as given.
 * Either way the Ecdsa-Sig-Value must be strict DER (p1363FromEcdsaSigValue reads it).
 */
export async function verifyBytes(
  key: PublicKeyInfo,
  signatureAlgorithm: AlgorithmIdentifierValue,
  digestHash: HashName | undefined,
  data: Uint8Array,
  signature: Uint8Array,
  crypto?: Crypto,
): Promise<SignatureCheck> {
  const alg = SIGNATURE_ALGORITHMS[signatureAlgorithm.oid];
  if (!alg) return { valid: false, reason: `unsupported signature algorithm ${signatureAlgorithm.oid}` };
  if (alg.family !== key.family) return { valid: false, reason: `signature algorithm ${signatureAlgorithm.oid} does not fit a ${key.family} key` };
  const hash = alg.hash ?? digestHash;
  if (!hash) return { valid: false, reason: 'no hash algorithm for the signature' };
  if (alg.hash && digestHash && alg.hash !== digestHash) return { valid: false, reason: `signature hash ${alg.hash} differs from digest algorithm ${digestHash}` };
  if (!crypto) return verifyNative(key, hash, data, signature);
  try {
    const publicKey = await importPublicKey(key, hash, crypto);
    let value = signature;
    if (key.family === 'ECDSA') value = p1363FromEcdsaSigValue(signature, FIELD_SIZE[key.curve!]);
    const params = key.family === 'RSA' ? { name: 'RSASSA-PKCS1-v1_5' } : { name: 'ECDSA', hash };
    const ok = await crypto.subtle.verify(params, publicKey, bufferSource(value), bufferSource(data));
    return ok ? { valid: true } : { valid: false, reason: 'the signature value does not verify with the certificate public key' };
  } catch (err) {
    return { valid: false, reason: `the signature could not be checked: ${(err as Error).message}` };
  }
}

function verifyNative(key: PublicKeyInfo, hash: HashName, data: Uint8Array, signature: Uint8Array): SignatureCheck {
  try {
    const publicKey = nativePublicKey(key.der);
    if (key.family === 'ECDSA') checkEcdsaSigValue(signature); // strict DER, as on the WebCrypto path
    const ok = nativeVerify(NODE_HASH[hash], data, key.family === 'ECDSA' ? { key: publicKey, dsaEncoding: 'der' } : publicKey, signature);
    return ok ? { valid: true } : { valid: false, reason: 'the signature value does not verify with the certificate public key' };
  } catch (err) {
    return { valid: false, reason: `the signature could not be checked: ${(err as Error).message}` };
  }
}

/** Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }, strict DER; throws DerError otherwise. */
function checkEcdsaSigValue(der: Uint8Array): void {
  const s = new DerSequence(readDer(der), 'Ecdsa-Sig-Value');
  s.next(Tag.INTEGER, 'r');
  s.next(Tag.INTEGER, 's');
  s.end();
}
