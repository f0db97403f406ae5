/**
 * The pages' errors, as an HTML page in the person's language with the status kept: the
 * stable code decides the status (as for the API, src/http/problem.ts) and the text; a 5xx
 * shows a reference (correlation id) and goes to the log with its cause.
 */
import { randomUUID } from 'node:crypto';
import type { ErrorRequestHandler, Request, Response } from 'express';
import type { Logger } from 'pino';
import { ServiceError } from '../../domain/errors.js';
import { outageOf } from '../../domain/outage.js';
import { STATUS_OF } from '../problem.js';
import { html } from './html.js';
import { pickLang } from './i18n.js';
import { common } from './i18n/common.js';
import { renderPage } from './layout.js';

type Bucket = '400' | '403' | '404' | '429' | '500' | '503';

function bucketOf(status: number): Bucket {
  if (status === 403 || status === 404 || status === 429 || status === 503) return String(status) as Bucket;
  return status >= 500 ? '500' : status === 410 ? '404' : '400';
}

function asServiceError(err: unknown): ServiceError {
  if (err instanceof ServiceError) return err;
  const outage = outageOf(err);
  if (outage) return outage;
  const status = (err as { status?: unknown } | null)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) return new ServiceError('MALFORMED_REQUEST', 'bad request', { cause: err });
  return new ServiceError('INTERNAL', 'unexpected error', { cause: err });
}

export function renderError(req: Request, res: Response, err: unknown, log: Logger): void {
  const se = asServiceError(err);
  if (res.headersSent) {
    if (se.code !== 'CLIENT_GONE') log.error({ err, code: se.code }, 'error after the page started');
    res.destroy();
    return;
  }
  const status = STATUS_OF[se.code];
  const t = common[pickLang(req, res)];
  const bucket = bucketOf(status);
  let detail = t.errorDetail[bucket];
  if (se.code === 'CSRF_REFUSED') detail = t.csrfRefused;
  else if (se.code === 'SIGNIN_FAILED') detail = t.signInFailed;
  else if (se.code === 'SIGNIN_UNAVAILABLE') detail = t.signInUnavailable;
  else if (se.extensions.reason === 'not-citizen') detail = t.notCitizen;
  else if (se.extensions.reason === 'not-clerk') detail = t.notClerk;
  let reference: string | undefined;
  if (status >= 500) {
    reference = randomUUID();
    log.error({ err: se, cause: se.cause, code: se.code, correlationId: reference, path: req.path }, se.message);
  } else {
    log.info({ code: se.code, status, path: req.path }, 'page refused');
  }
  if (se.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(se.retryAfterSeconds));
  renderPage(req, res, {
    title: t.errorTitle[bucket],
    status,
    body: html`<h1>${t.errorTitle[bucket]}</h1>
<p class="notice error" data-code="${se.code}">${detail}</p>
${reference ? html`<p>${t.reference}: <code>${reference}</code></p>` : ''}
${se.code === 'SIGNIN_FAILED' ? html`<p><a href="/signin">${t.signIn}</a></p>` : ''}
<p><a href="/">${t.backHome}</a></p>`,
  });
}

export function pageErrorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => renderError(req, res, err, log);
}
