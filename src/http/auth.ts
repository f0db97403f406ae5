/**
 * Authentication at the edge.
 * - Senders: `Authorization: Bearer <API key>`, or — over the service's own TLS with
 *   TLS_CLIENT_CA_FILE — a client certificate that chains to that CA and is registered to a
 *   sender by its fingerprint. The sender and the credential used go on res.locals.
 * - Operator tokens (ADMIN_TOKEN, METRICS_TOKEN): compared in constant time.
 * A refusal is a 401 whose realm and reason reach the log and the metrics (AuthGuard),
 * never the client.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { TLSSocket } from 'node:tls';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { SenderService } from '../services/senders.js';
import type { CredentialRecord, SenderRecord } from '../store/rows.js';
import { unauthenticated, type AuthRealm } from './AuthGuard.js';

const BEARER = /^Bearer\s+(\S+)$/i;

export function requireSender(senders: SenderService): RequestHandler {
  const detail = 'a valid sender API key (Authorization: Bearer …) or registered client certificate is required';
  return async (req: Request, res: Response, next: NextFunction) => {
    const header = req.get('authorization');
    let outcome;
    if (header !== undefined) {
      const m = BEARER.exec(header);
      if (!m) return next(unauthenticated('sender', 'malformed', detail));
      outcome = await senders.authenticateApiKey(m[1]!);
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
    const header = req.get('authorization');
    const m = header === undefined ? undefined : BEARER.exec(header);
    if (header === undefined) return next(unauthenticated(realm, 'missing', `${what} is required`));
    if (!m) return next(unauthenticated(realm, 'malformed', `${what} is required`));
    if (!expected || !timingSafeEqual(sha256(m[1]!), expected)) return next(unauthenticated(realm, 'unknown', `${what} is required`));
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
