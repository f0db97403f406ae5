/**
 * Why a time-stamp could not be had. Callers decide on `code`, never on the message.
 */
import type { PKIFailureInfo, PKIStatus } from './TimeStampResp.js';

export type TimeStampErrorCode =
  /** The TSA did not answer within the timeout. */
  | 'TSA_TIMEOUT'
  /** The TSA could not be reached (DNS, connection refused, reset...). */
  | 'TSA_UNAVAILABLE'
  /** The TSA answered with a non-200 status or another content type than application/timestamp-reply. */
  | 'TSA_HTTP_ERROR'
  /** The TSA answered with a PKIStatus other than granted / grantedWithMods. */
  | 'TSA_REJECTED'
  /** The token is for another imprint, nonce or policy than asked. */
  | 'TSA_RESPONSE_MISMATCH'
  /** The answer is not a well-formed, correctly signed DER TimeStampResp, or its TSA certificate is unsuitable. */
  | 'TSA_BAD_RESPONSE'
  /** A TimeStampAuthority was given a certificate RFC 3161 §2.3 does not allow for time-stamping. */
  | 'TSA_CERTIFICATE_UNSUITABLE';

export class TimeStampError extends Error {
  override readonly name = 'TimeStampError';
  readonly code: TimeStampErrorCode;
  /** For TSA_REJECTED: the PKIStatus, its text and failure bits. */
  readonly status?: PKIStatus;
  readonly statusText?: string;
  readonly failInfo?: PKIFailureInfo[];
  /** For TSA_HTTP_ERROR: the HTTP status. */
  readonly httpStatus?: number;

  constructor(
    code: TimeStampErrorCode,
    message: string,
    options: { cause?: unknown; status?: PKIStatus; statusText?: string; failInfo?: PKIFailureInfo[]; httpStatus?: number } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options.status !== undefined) this.status = options.status;
    if (options.statusText !== undefined) this.statusText = options.statusText;
    if (options.failInfo !== undefined) this.failInfo = options.failInfo;
    if (options.httpStatus !== undefined) this.httpStatus = options.httpStatus;
  }
}
