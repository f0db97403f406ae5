/**
 * RFC 9457 problem details. Each ErrorCode has one HTTP status; 4xx problems are shown
 * to the client with their code and detail, 5xx become a generic body with a
 * correlation id while the detail and cause go to the log.
 */
import { randomUUID } from 'node:crypto';
import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { ServiceError, type ErrorCode } from '../domain/errors.js';
import { outageOf } from '../domain/outage.js';
import { realmOf, type AuthFailureReason, type AuthGuard, type AuthRealm } from './AuthGuard.js';

export const PROBLEM_TYPE_BASE = 'https://registered-mail.example/problems/';

export const STATUS_OF: Record<ErrorCode, number> = {
  MALFORMED_REQUEST: 400,
  MULTIPART_INVALID: 400,
  // the client is gone: nobody reads this answer (nginx logs such requests as 499)
  CLIENT_GONE: 400,
  UNSUPPORTED_MEDIA_TYPE: 415,
  METADATA_MISSING: 400,
  METADATA_INVALID: 400,
  RECIPIENT_INVALID: 422,
  SUBJECT_INVALID: 422,
  DOCUMENT_MISSING: 422,
  DOCUMENT_EMPTY: 422,
  DOCUMENT_TOO_LARGE: 413,
  DOCUMENT_MEDIA_TYPE_NOT_ALLOWED: 415,
  DOCUMENT_PART_UNDECLARED: 422,
  DOCUMENT_PART_DUPLICATE: 422,
  DOCUMENT_NAME_INVALID: 422,
  TOO_MANY_DOCUMENTS: 422,
  MAIN_DOCUMENT_INVALID: 422,
  BATCH_MANIFEST_MISSING: 400,
  BATCH_MANIFEST_INVALID: 400,
  BATCH_TOO_LARGE: 413,
  BATCH_REFUSED: 422,
  ARCHIVE_INVALID: 400,
  ARCHIVE_UNSAFE: 422,
  IDEMPOTENCY_KEY_INVALID: 400,
  IDEMPOTENCY_KEY_REUSED: 409,
  QUERY_INVALID: 400,
  SELECTION_TOO_LARGE: 422,
  WEBHOOK_INVALID: 422,
  WEBHOOK_TARGET_FORBIDDEN: 422,
  RECIPIENT_EXISTS: 409,
  SENDER_INVALID: 422,
  CREDENTIAL_INVALID: 422,
  CREDENTIAL_EXISTS: 409,
  DOCUMENT_PURGED: 410,
  EVIDENCE_RECORD_PENDING: 404,
  NOTIFICATION_INVALID: 422,
  SMS_TOO_LONG: 422,
  PHONE_NUMBER_INVALID: 422,
  CONTACT_INVALID: 422,
  DEVICE_KEY_INVALID: 422,
  INSTALLATION_EXISTS: 409,
  RATE_LIMITED: 429,
  NOTIFICATION_NOT_CANCELLABLE: 409,
  BATCH_INVALID: 400,
  CALLBACK_SIGNATURE_INVALID: 401,
  RECIPIENT_OPTED_OUT: 422,
  SMS_SENDER_ID_INVALID: 422,
  SMS_SENDER_ID_TOO_LONG: 422,
  SENDER_SETTINGS_INVALID: 422,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  NOT_ACCEPTABLE: 406,
  CSRF_REFUSED: 403,
  SIGNIN_FAILED: 400,
  SIGNIN_UNAVAILABLE: 503,
  CLERK_INVALID: 422,
  CLERK_EXISTS: 409,
  TSA_UNAVAILABLE: 503,
  DATABASE_UNAVAILABLE: 503,
  STORAGE_FULL: 507,
  SIGNING_KEY_UNAVAILABLE: 503,
  REVOCATION_UNAVAILABLE: 503,
  SEALING_FAILED: 500,
  INTERNAL: 500,
};

const TITLES: Partial<Record<ErrorCode, string>> = {
  UNAUTHENTICATED: 'Authentication required',
  NOT_FOUND: 'Not found',
  EVIDENCE_RECORD_PENDING: 'Evidence record not made yet',
  TSA_UNAVAILABLE: 'Time-stamping authority unavailable',
  DATABASE_UNAVAILABLE: 'Database unavailable',
  STORAGE_FULL: 'Storage full',
  SIGNING_KEY_UNAVAILABLE: 'Signing key unavailable',
  REVOCATION_UNAVAILABLE: 'Revocation data unavailable',
};

/** Outages the client should retry: the detail is shown, with Retry-After; the cause goes to the log. */
const OUTAGES = new Set<ErrorCode>(['TSA_UNAVAILABLE', 'DATABASE_UNAVAILABLE', 'STORAGE_FULL', 'SIGNING_KEY_UNAVAILABLE', 'REVOCATION_UNAVAILABLE']);

export function sendProblem(res: Response, err: unknown, log: Logger): void {
  const known = err instanceof ServiceError && err.code !== 'INTERNAL' ? err : undefined;
  const se = known ?? outageOf(err) ?? (err instanceof ServiceError ? err : new ServiceError('INTERNAL', 'unexpected error', { cause: err }));
  const status = STATUS_OF[se.code];
  // the client went away: nobody reads the answer, and nothing failed on the service's side
  if (se.code === 'CLIENT_GONE') log.info({ code: se.code, cause: (se.cause as { code?: unknown } | undefined)?.code }, se.message);
  if (res.headersSent) {
    if (se.code !== 'CLIENT_GONE') log.error({ err, code: se.code }, 'error after the response started');
    res.destroy();
    return;
  }
  const body: Record<string, unknown> = {
    type: PROBLEM_TYPE_BASE + se.code.toLowerCase().replace(/_/g, '-'),
    title: TITLES[se.code] ?? se.code.toLowerCase().replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase()),
    status,
    code: se.code,
  };
  if (status >= 500) {
    const correlationId = randomUUID();
    const outage = OUTAGES.has(se.code);
    if (outage) log.warn({ cause: se.cause, code: se.code, correlationId }, se.message);
    else log.error({ err: se, cause: se.cause, code: se.code, correlationId }, se.message);
    body.detail = outage ? se.message : 'the service could not complete the request';
    body.correlationId = correlationId;
    if (se.code === 'TSA_UNAVAILABLE' && se.retryAfterSeconds === undefined) res.setHeader('Retry-After', '30');
  } else {
    body.detail = se.message;
    Object.assign(body, se.extensions);
  }
  if (se.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(se.retryAfterSeconds));
  if (status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="registered-mail"');
  res.status(status).type('application/problem+json').send(JSON.stringify(body));
}

/**
 * express's final error handler: body-parser and other framework errors become problems too.
 * Every refused credential (a 401) is reported to the guard, which logs, counts and throttles.
 */
export function problemHandler(log: Logger, guard?: AuthGuard): ErrorRequestHandler {
  return async (err, req, res, _next) => {
    if (!(err instanceof ServiceError) && typeof err?.status === 'number' && err.status >= 400 && err.status < 500) {
      const code: ErrorCode = err.status === 413 ? 'DOCUMENT_TOO_LARGE' : err.status === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : 'MALFORMED_REQUEST';
      return sendProblem(res, new ServiceError(code, String(err.message ?? 'bad request'), { cause: err }), log);
    }
    if (guard && err instanceof ServiceError && STATUS_OF[err.code] === 401) {
      const realm = (err.logFields.realm as AuthRealm | undefined) ?? realmOf(req.path);
      const reason = (err.logFields.reason as AuthFailureReason | undefined) ?? (err.code === 'CALLBACK_SIGNATURE_INVALID' ? 'signature' : 'unknown');
      await guard.failed(req, realm, reason).catch((e) => log.error({ err: e }, 'could not record an authentication failure'));
    }
    sendProblem(res, err, log);
  };
}
