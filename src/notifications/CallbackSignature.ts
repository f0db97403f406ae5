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
 * anything, so that URL carries our attempt id and base64url(HMAC-SHA256(secret,
 * "<purpose>:<id>")) truncated to 128 bits; a report for an id we did not issue, or with a
 * token we did not compute, is refused.
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

export function urlToken(secret: string, purpose: string, id: string): string {
  return hmac(secret, `${purpose}:${id}`).subarray(0, 16).toString('base64url');
}

export function verifyUrlToken(secret: string, purpose: string, id: string, token: unknown): boolean {
  if (typeof token !== 'string' || !/^[A-Za-z0-9_-]{22}$/.test(token)) return false;
  return timingSafeEqual(Buffer.from(urlToken(secret, purpose, id)), Buffer.from(token));
}
