/**
 * Authentication at the edge.
 * - Senders: `Authorization: Bearer <API key>`, or — over the service's own TLS with
 *   TLS_CLIENT_CA_FILE — a client certificate that chains to that CA and is registered to a
 *   sender by its fingerprint. The sender and the credential used go on res.locals.
 * - Operator tokens (ADMIN_TOKEN, METRICS_TOKEN): compared in constant time.
 * A refusal is a 401 whose realm and reason reach the log and the metrics (AuthGuard),
 * never the client.
 *
 * `Authorization` must be one header line. Node keeps only the first of several (it drops
 * duplicates of this header in req.headers), while a proxy in front may pass on or check
 * another: a request with two lines is refused as malformed rather than authenticated by
 * whichever came first.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { TLSSocket } from 'node:tls';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { SenderService } from '../access/senders.js';
import type { CredentialRecord, SenderRecord } from '../domain/records.js';
import { unauthenticated, type AuthRealm } from './AuthGuard.js';

const BEARER = /^Bearer\s+(\S+)$/i;

/** The token of a one-line `Authorization: Bearer <token>`, or why there is none. */
export function bearerToken(req: Request): { token: string } | { refused: 'missing' | 'malformed' } {
  let lines = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i]!.toLowerCase() === 'authorization') lines++;
  const header = req.get('authorization');
  if (lines === 0 || header === undefined) return { refused: 'missing' };
  const m = lines === 1 ? BEARER.exec(header) : null;
  return m ? { token: m[1]! } : { refused: 'malformed' };
}

export function requireSender(senders: SenderService): RequestHandler {
  const detail = 'a valid sender API key (Authorization: Bearer …) or registered client certificate is required';
  return async (req: Request, res: Response, next: NextFunction) => {
    const bearer = bearerToken(req);
    let outcome;
    if (!('refused' in bearer)) {
      outcome = await senders.authenticateApiKey(bearer.token);
    } else if (bearer.refused === 'malformed') {
      return next(unauthenticated('sender', 'malformed', detail));
    } else {
      const cert = clientCertificate(req);
      if (!cert) return next(unauthenticated('sender', 'missing', detail));
      if (!cert.trusted) return next(unauthenticated('sender', 'certificate_untrusted', detail));
      outcome = await senders.authenticateCertificate(cert.der);
    }
    if ('refused' in outcome) return next(unauthenticated('sender', outcome.refused, detail));
    res.locals.sender = outcome.sender;
    res.locals.credential = outcome.credential;
    next();
  };
}

export function senderOf(res: Response): SenderRecord {
  return res.locals.sender as SenderRecord;
}

export function credentialOf(res: Response): CredentialRecord {
  return res.locals.credential as CredentialRecord;
}

/** Requires `Authorization: Bearer <token>`; with no token configured, the realm is closed. */
export function requireToken(realm: AuthRealm, token: string | undefined, what: string): RequestHandler {
  const expected = token === undefined ? undefined : sha256(token);
  return (req: Request, _res: Response, next: NextFunction) => {
    const bearer = bearerToken(req);
    if ('refused' in bearer) return next(unauthenticated(realm, bearer.refused, `${what} is required`));
    if (!expected || !timingSafeEqual(sha256(bearer.token), expected)) return next(unauthenticated(realm, 'unknown', `${what} is required`));
    next();
  };
}

/** The client certificate of a TLS connection, and whether it chains to the configured client CA. */
function clientCertificate(req: Request): { der: Uint8Array; trusted: boolean } | undefined {
  const socket = req.socket;
  if (!(socket instanceof TLSSocket)) return undefined;
  const cert = socket.getPeerCertificate();
  if (!cert || !cert.raw) return undefined;
  return { der: cert.raw, trusted: socket.authorized === true };
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
