/**
 * Every error the service can report has a stable string code. Clients and tests
 * match on `code`, never on the message text. The HTTP layer maps codes to statuses
 * (src/http/problem.ts); what is exposed to a client is decided there too.
 */
export type ErrorCode =
  // request shape
  | 'MALFORMED_REQUEST'
  | 'MULTIPART_INVALID'
  | 'CLIENT_GONE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'METADATA_MISSING'
  | 'METADATA_INVALID'
  | 'RECIPIENT_INVALID'
  | 'SUBJECT_INVALID'
  | 'DOCUMENT_MISSING'
  | 'DOCUMENT_EMPTY'
  | 'DOCUMENT_TOO_LARGE'
  | 'DOCUMENT_MEDIA_TYPE_NOT_ALLOWED'
  | 'DOCUMENT_PART_UNDECLARED'
  | 'DOCUMENT_PART_DUPLICATE'
  | 'DOCUMENT_NAME_INVALID'
  | 'TOO_MANY_DOCUMENTS'
  | 'MAIN_DOCUMENT_INVALID'
  // batches of messages
  | 'BATCH_MANIFEST_MISSING'
  | 'BATCH_MANIFEST_INVALID'
  | 'BATCH_TOO_LARGE'
  | 'BATCH_REFUSED'
  | 'ARCHIVE_INVALID'
  | 'ARCHIVE_UNSAFE'
  | 'IDEMPOTENCY_KEY_INVALID'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'QUERY_INVALID'
  | 'SELECTION_TOO_LARGE'
  | 'WEBHOOK_INVALID'
  | 'WEBHOOK_TARGET_FORBIDDEN'
  | 'RECIPIENT_EXISTS'
  | 'SENDER_INVALID'
  | 'CREDENTIAL_INVALID'
  | 'CREDENTIAL_EXISTS'
  | 'DOCUMENT_PURGED'
  | 'EVIDENCE_RECORD_PENDING'
  // notifications
  | 'NOTIFICATION_INVALID'
  | 'SMS_TOO_LONG'
  | 'PHONE_NUMBER_INVALID'
  | 'CONTACT_INVALID'
  | 'DEVICE_KEY_INVALID'
  | 'INSTALLATION_EXISTS'
  | 'RATE_LIMITED'
  | 'NOTIFICATION_NOT_CANCELLABLE'
  | 'BATCH_INVALID'
  | 'CALLBACK_SIGNATURE_INVALID'
  | 'RECIPIENT_OPTED_OUT'
  | 'SMS_SENDER_ID_INVALID'
  | 'SMS_SENDER_ID_TOO_LONG'
  | 'SENDER_SETTINGS_INVALID'
  // access
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'NOT_ACCEPTABLE'
  // the pages' sign-in and the clerks of senders
  | 'CSRF_REFUSED'
  | 'SIGNIN_FAILED'
  | 'SIGNIN_UNAVAILABLE'
  | 'CLERK_INVALID'
  | 'CLERK_EXISTS'
  // dependencies
  | 'TSA_UNAVAILABLE'
  | 'DATABASE_UNAVAILABLE'
  | 'STORAGE_FULL'
  | 'SIGNING_KEY_UNAVAILABLE'
  | 'REVOCATION_UNAVAILABLE'
  | 'SEALING_FAILED'
  | 'INTERNAL';

export class ServiceError extends Error {
  readonly code: ErrorCode;
  /** Extra members for the problem document (e.g. the offending part name). */
  readonly extensions: Record<string, unknown>;
  /** When a retry may succeed (answered as `Retry-After`), for throttling and outages. */
  readonly retryAfterSeconds: number | undefined;
  /** Facts for the log only, never shown to the client (e.g. why a credential was refused). */
  readonly logFields: Record<string, unknown>;

  constructor(
    code: ErrorCode,
    detail: string,
    options: { cause?: unknown; extensions?: Record<string, unknown>; retryAfterSeconds?: number; logFields?: Record<string, unknown> } = {},
  ) {
    super(detail, { cause: options.cause });
    this.name = 'ServiceError';
    this.code = code;
    this.extensions = options.extensions ?? {};
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.logFields = options.logFields ?? {};
  }
}

/**
 * A failure of a service this one depends on (the e-Box, an SMS or push provider): a stable
 * code, and whether trying again can help (`permanent` false: retry with backoff).
 */
export class DependencyError<C extends string = string> extends Error {
  constructor(
    readonly code: C,
    message: string,
    readonly permanent: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * After a write refused because a concurrent request with the same Idempotency-Key committed
 * first: that request's answer as a replay (`replay` finds it), IDEMPOTENCY_KEY_REUSED (thrown)
 * when it was another request, or undefined when there is none to find — the write's own
 * error then stands.
 */
export async function replayAfterRace<T>(replay: () => Promise<T | undefined>): Promise<T | undefined> {
  return replay().catch((e: unknown) => {
    if (e instanceof ServiceError && e.code === 'IDEMPOTENCY_KEY_REUSED') throw e;
    return undefined;
  });
}
