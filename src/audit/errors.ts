/**
 * Errors of the audit use cases (export, verify, verify-log) that are the caller's to fix —
 * a missing file, a bad trust anchor, an unknown sender — each with a stable code. The CLIs
 * print the detail and exit 3 (usage error); they never print a stack for these.
 */
export type AuditErrorCode =
  | 'FILE_NOT_FOUND'
  | 'FILE_UNREADABLE'
  | 'TRUST_ANCHORS_INVALID'
  | 'TRUST_ANCHORS_MISSING'
  | 'CRL_INVALID'
  | 'BUNDLE_INVALID'
  | 'SENDER_NOT_FOUND'
  | 'PERIOD_INVALID'
  | 'NOTHING_TO_EXPORT'
  | 'OUTPUT_EXISTS';

export class AuditError extends Error {
  constructor(
    readonly code: AuditErrorCode,
    detail: string,
    options: { cause?: unknown } = {},
  ) {
    super(detail, options);
    this.name = 'AuditError';
  }
}
