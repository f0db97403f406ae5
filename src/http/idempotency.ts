/**
 * The Idempotency-Key request header (draft-ietf-httpapi-idempotency-key-header), as
 * POST /v1/messages and POST /v1/notifications read it: an RFC 8941 sf-string (`"…"`) or,
 * leniently, a bare token; 1 to 200 printable ASCII characters once unquoted.
 *
 * The header is a single value: a request with two Idempotency-Key lines is refused,
 * whatever they say (Node joins repeated lines into one "a, b" value, which would
 * otherwise pass for a different key than either).
 */
import type { Request } from 'express';
import { ServiceError } from '../domain/errors.js';

const HEADER = 'idempotency-key';
const SF_STRING = /^"((?:[\x20-\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"$/;

/** The request's key, undefined without the header; IDEMPOTENCY_KEY_INVALID otherwise. */
export function idempotencyKey(req: Request): string | undefined {
  let lines = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i]!.toLowerCase() === HEADER) lines++;
  if (lines > 1) throw new ServiceError('IDEMPOTENCY_KEY_INVALID', 'send one Idempotency-Key header, not several');
  const raw = req.get(HEADER);
  if (raw === undefined) return undefined;
  const m = SF_STRING.exec(raw.trim());
  const key = m ? m[1]!.replace(/\\(["\\])/g, '$1') : raw.trim();
  if (key.length === 0 || key.length > 200 || !/^[\x20-\x7e]+$/.test(key)) {
    throw new ServiceError('IDEMPOTENCY_KEY_INVALID', 'Idempotency-Key must be 1 to 200 printable ASCII characters (a UUID is recommended)');
  }
  return key;
}
