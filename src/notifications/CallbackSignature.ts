/**
 * Authenticity of the reports providers send back to us.
 *
 * Body signatures (GovApp push receipts, HTTP SMS aggregator reports), the same scheme as
 * the service's own webhooks:
 *   Signature header:  t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + raw body)>
 * checked in constant time, and refused when `t` is more than five minutes away from our
 * clock (a captured receipt cannot be replayed later).
 *
 * URL tokens (Kannel delivery reports): Kannel calls back a URL we give it and cannot sign
 * anything, so that URL carries our attempt id and a token that expires:
 *   "<exp>.<base64url(HMAC-SHA256(secret, "<purpose>:<id>:<exp>")) truncated to 128 bits>"
 * with <exp> the unix second after which it is no longer accepted. A report for an id we
 * did not issue, with a token we did not compute (an <exp> moved later is one), or after
 * <exp>, is refused: a URL that leaked (a log line, a proxy) stops working.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_TOLERANCE_SECONDS = 300;

function hmac(secret: string, data: string | Uint8Array): Buffer {
  return createHmac('sha256', secret).update(data).digest();
}

export function signBody(secret: string, body: string | Uint8Array, t: number = Math.floor(Date.now() / 1000)): string {
  const mac = createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex');
  return `t=${t},v1=${mac}`;
}

export function verifyBodySignature(secret: string, header: string | undefined, body: Uint8Array, nowMs: number = Date.now()): boolean {
  if (!header) return false;
  const fields = new Map(header.split(',').map((kv) => kv.trim().split('=', 2) as [string, string]));
  const t = fields.get('t');
  const v1 = fields.get('v1');
  if (!t || !/^\d{1,12}$/.test(t) || !v1 || !/^[0-9a-f]{64}$/.test(v1)) return false;
  if (Math.abs(nowMs / 1000 - Number(t)) > SIGNATURE_TOLERANCE_SECONDS) return false;
  const expected = createHmac('sha256', secret).update(`${t}.`).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(v1, 'hex'));
}

/** The outcome of checking a URL token. */
export enum UrlTokenCheck {
  VALID = 'VALID',
  /** malformed, or not computed by us for this purpose, id and expiry */
  INVALID = 'INVALID',
  /** ours, but its expiry has passed */
  EXPIRED = 'EXPIRED',
}

const URL_TOKEN = /^(\d{1,12})\.([A-Za-z0-9_-]{22})$/;

function urlMac(secret: string, purpose: string, id: string, exp: number): string {
  return hmac(secret, `${purpose}:${id}:${exp}`).subarray(0, 16).toString('base64url');
}

/** A token for `id` that is accepted until the unix second `expiresAt` (included). */
export function urlToken(secret: string, purpose: string, id: string, expiresAt: number): string {
  return `${expiresAt}.${urlMac(secret, purpose, id, expiresAt)}`;
}

/**
 * A token that does not expire, for a URL an operator writes once into a provider's
 * configuration (Kannel's sms-service get-url for inbound SMS):
 * base64url(HMAC-SHA256(secret, "<purpose>")) truncated to 128 bits.
 */
export function staticUrlToken(secret: string, purpose: string): string {
  return hmac(secret, purpose).subarray(0, 16).toString('base64url');
}

export function verifyStaticUrlToken(secret: string, purpose: string, token: unknown): boolean {
  if (typeof token !== 'string' || !/^[A-Za-z0-9_-]{22}$/.test(token)) return false;
  return timingSafeEqual(Buffer.from(staticUrlToken(secret, purpose)), Buffer.from(token));
}

export function verifyUrlToken(secret: string, purpose: string, id: string, token: unknown, nowMs: number = Date.now()): UrlTokenCheck {
  const m = typeof token === 'string' ? URL_TOKEN.exec(token) : null;
  if (!m) return UrlTokenCheck.INVALID;
  const exp = Number(m[1]);
  if (!timingSafeEqual(Buffer.from(urlMac(secret, purpose, id, exp)), Buffer.from(m[2]!))) return UrlTokenCheck.INVALID;
  return Math.floor(nowMs / 1000) > exp ? UrlTokenCheck.EXPIRED : UrlTokenCheck.VALID;
}
