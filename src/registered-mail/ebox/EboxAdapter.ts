/**
 * The contract every e-Box adapter keeps: the built-in local e-Box (LocalEbox.ts) and
 * the HTTP adapter for a remote e-Box shaped after the Belgian e-Box publication API
 * (HttpEboxAdapter.ts). The delivery worker depends on this interface only.
 */
import type { Readable } from 'node:stream';
import type { Subject } from '../../domain/EvidenceStatement.js';
import type { Recipient } from '../../domain/identifiers.js';
import type { DocumentRecord } from '../../domain/records.js';
import { DependencyError } from '../../domain/errors.js';

/** A document as deposited: its record's name, type, size, SHA-256 (lower-case hex) and role, and its bytes. */
export interface EboxDocument extends Pick<DocumentRecord, 'partName' | 'fileName' | 'mediaType' | 'size' | 'sha256' | 'isMain'> {
  /** opens the bytes (called at most once per deposit attempt) */
  open(): Readable;
}

export interface EboxDeposit {
  /** our idempotency key for the deposit: the message id. Depositing twice with it stores once. */
  depositId: string;
  recipient: Recipient;
  subject: Subject;
  sender: { id: string; name: string };
  /** registered mail: the recipient's e-Box shows it as such */
  registered: boolean;
  /** after this the message counts as not consulted (ContentHandoverFailure) */
  expiresAt: Date;
  documents: EboxDocument[];
}

export interface DepositReceipt {
  /** the e-Box's own id of the deposited message */
  eboxMessageId: string;
  depositedAt: Date;
}

export type RecipientStatus =
  | { reachable: true }
  | { reachable: false; reason: 'RECIPIENT_UNKNOWN' | 'EBOX_NOT_ACTIVATED' };

/** A recipient opened a deposited document (ETSI: ContentHandover). */
export interface HandoverEvent {
  depositId: string;
  eboxMessageId: string;
  readAt: Date;
}

export type EboxErrorCode =
  /** the e-Box could not be reached or answered 5xx/429: retry later */
  | 'EBOX_UNAVAILABLE'
  /** the e-Box answered in a way that retrying cannot fix (4xx other than 409/429) */
  | 'EBOX_REJECTED'
  /** credentials refused */
  | 'EBOX_AUTH_FAILED'
  /** the recipient cannot receive */
  | 'RECIPIENT_UNREACHABLE';

export class EboxError extends DependencyError<EboxErrorCode> {
  override readonly name = 'EboxError';
}

export interface EboxAdapter {
  readonly name: string;
  /** Whether the recipient exists and has an activated e-Box. Throws EboxError when the e-Box cannot answer. */
  recipientStatus(recipient: Recipient): Promise<RecipientStatus>;
  /** Deposits the message; idempotent on `depositId` (a repeat returns the first receipt). Throws EboxError. */
  deposit(deposit: EboxDeposit): Promise<DepositReceipt>;
  /**
   * Handover (read) events after `cursor` (opaque; undefined = from the start), with the
   * cursor to pass next time. Adapters whose recipients read through this service
   * (the local e-Box) report handovers directly and return none here.
   */
  handovers(cursor: string | undefined): Promise<{ events: HandoverEvent[]; cursor: string | undefined }>;
}
