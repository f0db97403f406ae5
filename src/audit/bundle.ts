/**
 * The audit bundle: what `export` writes for an auditor and what `verify --dir` and
 * `verify-log` read, offline, years later. A plain folder, readable without this project:
 *
 * ```
 * manifest.json                          this file's AuditManifest (format below)
 * README.txt                             how to check the bundle with OpenSSL and the CLI
 * trust/anchors.pem                      the trust anchors the proofs and tokens chain to
 * proofs/<messageId>/<seq>-<type>.p7s    each proof (CAdES-T, DER) exactly as sealed
 * proofs/<messageId>/<seq>-<type>.ers    its RFC 4998 evidence record (DER), when the proof is in a time-stamped tree
 * statements/<messageId>/<seq>-<type>.json  the statement each proof envelops (decoded copy)
 * documents/<messageId>/<position>-<FileName>  the documents, when exported with --documents
 * receipts/<messageId>/<seq>-<type>.<lang>.pdf  each proof's signed PDF receipt, when exported with --receipts
 * log/events.jsonl                       the event-log slice, one row per line (see LogRow)
 * log/checkpoints.json                   the time-stamped checkpoints of that slice
 * log/checkpoints/<eventSeq>.tst         each checkpoint's RFC 3161 token (DER)
 * log/checkpoints/<eventSeq>.ers         each checkpoint token's evidence record, when it has one
 * ```
 *
 * The event log is one hash chain across all senders. The slice runs from a checkpointed row
 * (or the genesis row) to a checkpointed row, so both ends are pinned by a time-stamp; rows
 * of messages outside the bundle are redacted to `{seq, prevHash, hash, redacted: true}`,
 * which keeps the chain's linkage checkable without showing another sender's data.
 */
import type { ChainedEvent } from '../domain/EventChain.js';

export const BUNDLE_FORMAT = 'registered-mail-audit-bundle/1';
export const MANIFEST_FILE = 'manifest.json';
export const TRUST_FILE = 'trust/anchors.pem';
export const EVENTS_FILE = 'log/events.jsonl';
export const CHECKPOINTS_FILE = 'log/checkpoints.json';

export interface ManifestDocument {
  /** Path of the document's bytes inside the bundle, when they were exported. */
  file?: string;
  fileName: string;
  partName: string;
  mediaType: string;
  size: number;
  sha256: string;
}

export interface ManifestProof {
  /** Path inside the bundle (forward slashes). */
  file: string;
  statement: string;
  messageId: string;
  evidenceId: string;
  seq: number;
  type: string;
  /** SHA-256 (hex) of the proof file, as the event log records it. */
  sha256: string;
  documents: ManifestDocument[];
  /** The proof's PDF receipts by language, when exported with --receipts: paths inside the bundle. */
  receipts?: Record<string, string>;
  /** The proof's RFC 4998 evidence record, beside it (same stem, `.ers`): path inside the bundle. */
  record?: string;
}

export interface ManifestCheckpoint {
  eventSeq: number;
  headHash: string;
  genTime: string;
  /** The token's path inside the bundle. */
  token: string;
  /** The token's RFC 4998 evidence record, beside it (`<eventSeq>.ers`): path inside the bundle. */
  record?: string;
}

export interface AuditManifest {
  format: typeof BUNDLE_FORMAT;
  createdAt: string;
  sender: { id: string; name: string };
  /** Messages submitted from `from` (inclusive) to `to` (exclusive). */
  period: { from: string; to: string };
  trustAnchors: string[];
  proofs: ManifestProof[];
  log: {
    events: string;
    checkpoints: string;
    fromSeq: number;
    toSeq: number;
    /** Rows of messages outside this bundle, shown only as {seq, prevHash, hash}. */
    redactedRows: number;
  };
}

/** A row of log/events.jsonl. */
export type LogRow = ChainedEvent | RedactedLogRow;

export interface RedactedLogRow {
  seq: number;
  prevHash: string;
  hash: string;
  redacted: true;
}

export function isRedacted(row: LogRow): row is RedactedLogRow {
  return (row as RedactedLogRow).redacted === true;
}

/** A name safe as one path segment on every file system (evidence types and UUIDs already are). */
export function safeSegment(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_');
  return cleaned.slice(0, 120) || '_';
}

export function proofPath(messageId: string, seq: number, type: string): string {
  return `proofs/${safeSegment(messageId)}/${seq}-${safeSegment(type)}.p7s`;
}

/** The evidence record of the proof at proofPath(…): the same stem, `.ers`. */
export function recordPath(messageId: string, seq: number, type: string): string {
  return `proofs/${safeSegment(messageId)}/${seq}-${safeSegment(type)}.ers`;
}

export function receiptPath(messageId: string, seq: number, type: string, language: string): string {
  return `receipts/${safeSegment(messageId)}/${seq}-${safeSegment(type)}.${safeSegment(language)}.pdf`;
}

export function statementPath(messageId: string, seq: number, type: string): string {
  return `statements/${safeSegment(messageId)}/${seq}-${safeSegment(type)}.json`;
}

export function documentPath(messageId: string, position: number, fileName: string): string {
  return `documents/${safeSegment(messageId)}/${position}-${safeSegment(fileName)}`;
}

export function checkpointTokenPath(eventSeq: number): string {
  return `log/checkpoints/${eventSeq}.tst`;
}

/** The evidence record of the checkpoint whose token is checkpointTokenPath(eventSeq). */
export function checkpointRecordPath(eventSeq: number): string {
  return `log/checkpoints/${eventSeq}.ers`;
}
