/**
 * Who is signed in on the pages (docs/pages.md). The pages router loads the session of the
 * request's cookie (`loadSession`); `requireCitizen` and `requireClerk` let a page through only
 * for a citizen (a session with an INSZ/NISS) or a clerk (a session whose identity the operator
 * mapped to a sender), and send anyone not signed in to /signin?next=<this page>.
 *
 * CSRF: every form POST carries `_csrf` (`csrfField(res)`), checked by `checkCsrf`: a
 * session's token is derived from its id; before sign-in, from a random cookie of its own
 * (`rm_csrf`, HttpOnly, SameSite=Lax). Both are unknown to another site, which cannot read
 * this site's cookies.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { csrfTokenOf, type PageSession, type PageSessionService } from '../../access/pageSessions.js';
import { ServiceError } from '../../domain/errors.js';
import { readCookie } from './cookies.js';
import { html, type Html } from './html.js';

export interface Citizen {
  insz: string;
  name: string;
}

export interface Clerk {
  senderId: string;
  senderName: string;
  /** the identity provider's subject of this person */
  subject: string;
  name: string;
}

const ANONYMOUS_CSRF_COOKIE = 'rm_csrf';

/** `__Host-rm_session` over https (bound to this host, path /, Secure), `rm_session` otherwise. */
export function sessionCookieName(req: Request): string {
  return req.secure ? '__Host-rm_session' : 'rm_session';
}

/** The session cookie's attributes: HttpOnly, Secure (browsers take it on http://127.0.0.1 and localhost too), SameSite=Lax so it comes back with the identity provider's redirect. */
export const SESSION_COOKIE = { httpOnly: true, secure: true, sameSite: 'lax', path: '/' } as const;

export function setSessionCookie(req: Request, res: Response, sessionId: string): void {
  res.cookie(sessionCookieName(req), sessionId, SESSION_COOKIE);
}

export function clearSessionCookie(req: Request, res: Response): void {
  res.clearCookie(sessionCookieName(req), SESSION_COOKIE);
}

/** The signed-in person of this request, if any (set by `loadSession`). */
export function pageSession(res: Response): PageSession | undefined {
  return res.locals.pageSession as PageSession | undefined;
}

/** Loads the session of the request's cookie into `res.locals.pageSession` (an expired or unknown one: its cookie is cleared). */
export function loadSession(sessions: PageSessionService | undefined): RequestHandler {
  return async (req, res, next) => {
    const id = readCookie(req, sessionCookieName(req));
    if (id !== undefined && sessions) {
      const session = await sessions.find(id);
      if (session) res.locals.pageSession = session;
      else clearSessionCookie(req, res);
    }
    next();
  };
}

/** Only a safe, same-origin relative path: one leading slash, no scheme, no `//` or `/\\` (another host), no control characters. */
export function safeNext(raw: unknown): string {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 1000) return '/';
  if (!raw.startsWith('/') || raw.startsWith('//') || raw.startsWith('/\\')) return '/';
  if (/[\p{Cc}\\]/u.test(raw)) return '/';
  try {
    const u = new URL(raw, 'http://same.invalid');
    if (u.host !== 'same.invalid') return '/';
    return u.pathname + u.search;
  } catch {
    return '/';
  }
}

function toSignin(req: Request, res: Response): void {
  res.redirect(303, `/signin?next=${encodeURIComponent(safeNext(req.originalUrl))}`);
}

/** A page for a citizen: sets `res.locals.citizen` ({ insz, name }). */
export const requireCitizen: RequestHandler = (req, res, next) => {
  const s = pageSession(res);
  if (!s) return toSignin(req, res);
  if (s.insz === null) return next(new ServiceError('FORBIDDEN', 'this identity carries no INSZ/NISS', { extensions: { reason: 'not-citizen' } }));
  res.locals.citizen = { insz: s.insz, name: s.name } satisfies Citizen;
  next();
};

/** A page for a sender's clerk: sets `res.locals.clerk` ({ senderId, senderName, subject, name }). */
export const requireClerk: RequestHandler = (req, res, next) => {
  const s = pageSession(res);
  if (!s) return toSignin(req, res);
  if (!s.clerk) return next(new ServiceError('FORBIDDEN', 'this identity is not mapped to a sender', { extensions: { reason: 'not-clerk' } }));
  res.locals.clerk = { senderId: s.clerk.senderId, senderName: s.clerk.senderName, subject: s.subject, name: s.name } satisfies Clerk;
  next();
};

/** The CSRF token of this request: the session's, else the anonymous cookie's (made now when absent). */
export function csrfToken(req: Request, res: Response): string {
  const s = pageSession(res);
  if (s) return s.csrfToken;
  let anon = (res.locals.anonymousCsrf as string | undefined) ?? readCookie(req, ANONYMOUS_CSRF_COOKIE);
  if (anon === undefined || !/^[A-Za-z0-9_-]{43}$/.test(anon)) {
    anon = randomBytes(32).toString('base64url');
    res.cookie(ANONYMOUS_CSRF_COOKIE, anon, { httpOnly: true, secure: true, sameSite: 'lax', path: '/' });
  }
  res.locals.anonymousCsrf = anon;
  return csrfTokenOf(anon);
}

/** The hidden input every form POST carries. */
export function csrfField(res: Response): Html {
  return html`<input type="hidden" name="_csrf" value="${csrfToken(res.req, res)}">`;
}

/** Refuses a POST whose `_csrf` is not this session's (or this browser's, before sign-in) token: 403 CSRF_REFUSED. */
export const checkCsrf: RequestHandler = (req: Request, res: Response, next: NextFunction) => {
  const given: unknown = (req.body as Record<string, unknown> | undefined)?._csrf;
  const s = pageSession(res);
  const anon = readCookie(req, ANONYMOUS_CSRF_COOKIE);
  const expected = s ? s.csrfToken : anon !== undefined ? csrfTokenOf(anon) : undefined;
  if (typeof given !== 'string' || expected === undefined || !sameText(given, expected)) {
    return next(new ServiceError('CSRF_REFUSED', 'the form\'s CSRF token is missing or wrong'));
  }
  next();
};

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}
