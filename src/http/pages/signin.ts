/**
 * /signin, /signin/callback, /signout (docs/pages.md, "Sign-in").
 *
 * GET /signin shows a button (a POST form with its CSRF token); the POST keeps the attempt's
 * secrets server-side (src/access/oidc.ts), gives the browser the attempt's id in a cookie
 * (`rm_signin`, HttpOnly, Secure, SameSite=Lax, Path=/signin, ten minutes) and sends it to the
 * identity provider. The callback takes the attempt of that cookie — once — and, when the
 * provider's answer validates, starts a session (a new id, whatever the browser had) and goes
 * to the page asked for at first (`next`, same-origin paths only). POST /signout deletes the
 * session's row and its cookie, then sends the browser to the provider's end-session endpoint
 * when it has one (RP-initiated logout; back to / after), else to /.
 *
 * Each POST /signin writes an attempt (a row, deleted when taken or ten minutes old): one
 * address may start `SIGNIN_STARTS` of them in ten minutes, then gets 429 RATE_LIMITED with
 * Retry-After, so that no client can fill the table. Counted in this process, as the
 * AuthGuard counts failed credentials.
 */
import { Router, type Request, type Response } from 'express';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { OidcSignin } from '../../access/oidc.js';
import type { PageSessionService } from '../../access/pageSessions.js';
import { ServiceError } from '../../domain/errors.js';
import { readCookie } from './cookies.js';
import { html } from './html.js';
import { isLang, pickLang } from './i18n.js';
import { common } from './i18n/common.js';
import { renderPage } from './layout.js';
import { checkCsrf, clearSessionCookie, csrfField, pageSession, safeNext, sessionCookieName, setSessionCookie } from './session.js';

const ATTEMPT_COOKIE = 'rm_signin';
const ATTEMPT_COOKIE_OPTIONS = { httpOnly: true, secure: true, sameSite: 'lax', path: '/signin' } as const;
const ATTEMPT_SECONDS = 10 * 60;
/** sign-ins one address may start within ATTEMPT_SECONDS (a person needs a handful) */
export const SIGNIN_STARTS = 30;

/** Counts a sign-in start of this address; 429 RATE_LIMITED with Retry-After once it is over SIGNIN_STARTS. */
async function countStart(starts: RateLimiterMemory, req: Request): Promise<void> {
  try {
    await starts.consume(req.ip ?? 'unknown');
  } catch (err) {
    if (!(err instanceof RateLimiterRes)) throw err;
    throw new ServiceError('RATE_LIMITED', 'too many sign-ins started from this address', { retryAfterSeconds: Math.max(1, Math.ceil(err.msBeforeNext / 1000)) });
  }
}

export function signinRoutes(signin: OidcSignin, sessions: PageSessionService): Router {
  const r = Router();
  const starts = new RateLimiterMemory({ points: SIGNIN_STARTS, duration: ATTEMPT_SECONDS });

  r.get('/signin', async (req: Request, res: Response) => {
    // the provider's endpoints, for this page's form-action
    await signin.prepare();
    res.locals.formOrigins = signin.formOrigins();
    const next = safeNext(req.query.next);
    const t = common[pickLang(req, res)];
    if (pageSession(res) && req.query.again === undefined) return res.redirect(303, next);
    renderPage(req, res, {
      title: t.signInTitle,
      body: html`<h1>${t.signInTitle}</h1>
<p>${t.signInIntro}</p>
<form method="post" action="/signin">
${csrfField(res)}
<input type="hidden" name="next" value="${next}">
<button type="submit">${t.signInButton}</button>
</form>`,
    });
  });

  r.post('/signin', checkCsrf, async (req: Request, res: Response) => {
    await countStart(starts, req);
    const next = safeNext((req.body as Record<string, unknown>).next);
    const lang = pickLang(req, res);
    const { authorizationUrl, attemptId } = await signin.begin(next, lang);
    res.cookie(ATTEMPT_COOKIE, attemptId, { ...ATTEMPT_COOKIE_OPTIONS, maxAge: ATTEMPT_SECONDS * 1000 });
    res.redirect(303, authorizationUrl);
  });

  r.get('/signin/callback', async (req: Request, res: Response) => {
    const attemptId = readCookie(req, ATTEMPT_COOKIE);
    res.clearCookie(ATTEMPT_COOKIE, ATTEMPT_COOKIE_OPTIONS);
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(req.query)) if (typeof v === 'string') query.append(k, v);
    const done = await signin.complete(attemptId, query);
    // a new session id at every sign-in: one the browser had before (perhaps planted) is ended
    const previous = readCookie(req, sessionCookieName(req));
    if (previous !== undefined) await sessions.end(previous);
    setSessionCookie(req, res, done.sessionId);
    const next = new URL(safeNext(done.nextPath), 'http://same.invalid');
    if (isLang(done.lang) && !next.searchParams.has('lang')) next.searchParams.set('lang', done.lang);
    res.redirect(303, next.pathname + next.search);
  });

  r.post('/signout', checkCsrf, async (req: Request, res: Response) => {
    const s = pageSession(res);
    if (s) await sessions.end(s.id);
    clearSessionCookie(req, res);
    // then the provider's session, when it offers to end it (it comes back to /)
    res.redirect(303, (await signin.endSessionUrl(pickLang(req, res))) ?? '/');
  });

  return r;
}
