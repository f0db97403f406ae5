/**
 * The `Prefer` request header (RFC 7240): whether the client asked for `respond-async`,
 * i.e. an answer (202) as soon as the request is durable, without waiting for its outcome.
 * When it did, the answer says so with `Preference-Applied: respond-async`.
 */
import type { Request, Response } from 'express';

/** Whether the request asks for `respond-async`. */
export function prefersRespondAsync(req: Request): boolean {
  return /(^|[\s,;])respond-async\b/i.test(req.get('prefer') ?? '');
}

/** Whether the request asks for `respond-async`; when it does, the answer says it was applied. */
export function respondAsync(req: Request, res: Response): boolean {
  const asked = prefersRespondAsync(req);
  if (asked) res.setHeader('Preference-Applied', 'respond-async');
  return asked;
}
