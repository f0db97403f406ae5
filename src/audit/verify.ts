/**
 * The auditor's check of one proof, offline: the CAdES-T validation of the crypto layer
 * (`verifyCadesT`, one named line per check) completed with what only the service's own
 * vocabulary can say:
 *
 * | line | what | failing sub-indication |
 * | --- | --- | --- |
 * | STATEMENT_SCHEMA | the enveloped content is a version-1 evidence statement (statementProblems) | FORMAT_FAILURE |
 * | STATEMENT_COPY | the bundle's decoded statement is the signed one (RFC 8785 canonical form) | HASH_FAILURE |
 * | DOCUMENT_DIGEST | a document's SHA-256 equals the statement's digest for it (one line per document) | HASH_FAILURE, SIGNED_DATA_NOT_FOUND |
 *
 * Indication as EU DSS derives it (see src/crypto/ValidationReport.ts): TOTAL_FAILED when a
 * line fails with FORMAT_FAILURE, HASH_FAILURE, SIG_CRYPTO_FAILURE or
 * TIMESTAMP_IMPRINT_MISMATCH; else INDETERMINATE when any line fails; else TOTAL_PASSED. The
 * sub-indication is the first failing line's, fatal ones first.
 *
 * With an evidence record (RFC 4998; `ProofInput.record`), one more line:
 *
 * | line | what | failing sub-indication |
 * | --- | --- | --- |
 * | EVIDENCE_RECORD | the record verifies for SHA-256 of the proof file (records.ts, `verifyEvidenceRecord`): the proof existed at its first archive time-stamp's genTime (POE) | NO_POE |
 *
 * and the POE it gives is used as EN 319 102-1 past signature validation reads it
 * (docs/evidence-records.md, "Auditor side"): when the proof is not TOTAL_PASSED at the
 * validation time but is at the POE time (its certificate paths valid then, revocation after
 * it), the report is the one at the POE time, TOTAL_PASSED, and says so (`validatedAtPoe`). A
 * record that fails makes a proof that passes without it INDETERMINATE / NO_POE (a record that
 * does not verify proves nothing, and the auditor asked for it); a proof that does not pass on
 * its own keeps its own indication (the record could not cure it), with the record's failing
 * line among its checks; TOTAL_FAILED stays TOTAL_FAILED.
 *
 * File I/O is here too (the CLI and its workers share it): a proof is read whole but only
 * up to MAX_PROOF_BYTES (a larger file is a FORMAT_FAILURE, not an out-of-memory); documents
 * are hashed as streams, whatever their size.
 */
import { createHash } from 'node:crypto';
import fsSync, { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import canonicalize from 'canonicalize';
import {
  certificateInfo,
  DerError,
  parseCrl,
  pemToDer,
  TOTAL_FAILED_SUBINDICATIONS,
  verifyCadesT,
  type CertificateInfo,
  type CheckName,
  type EvidenceRecordCheck,
  type EvidenceRecordCheckName,
  type Indication,
  type SubIndication,
  type VerificationReport,
} from '../crypto/index.js';
import { evidenceTypeOf, statementProblems } from '../domain/EvidenceStatement.js';
import { AuditError } from './errors.js';
import { EvidenceRecordVerifier, type ArchiveTimeStampSummary } from './records.js';

/** A proof is a few kilobytes; 16 MiB leaves room for any statement while refusing a stray video. */
export const MAX_PROOF_BYTES = 16 * 1024 * 1024;

export type AuditCheckName = CheckName | 'STATEMENT_SCHEMA' | 'STATEMENT_COPY' | 'DOCUMENT_DIGEST' | 'EVIDENCE_RECORD';

export interface AuditCheck {
  name: AuditCheckName;
  passed: boolean;
  subIndication?: SubIndication;
  detail: string;
}

export interface StatementSummary {
  evidenceId?: string;
  type?: string;
  messageId?: string;
  eventTime?: string;
  sender?: string;
  documents?: Array<{ fileName: string; sha256: string }>;
}

/** What the CLI prints for one proof (and `--json` serialises). */
export interface ProofReport {
  file: string;
  indication: Indication;
  subIndication?: SubIndication;
  checks: AuditCheck[];
  /** SHA-256 of the proof file (hex). */
  sha256?: string;
  signingTime?: string;
  genTime?: string;
  signerSubject?: string;
  tsaSubject?: string;
  statement?: StatementSummary;
  /** The evidence record checked with the proof, when there was one. */
  evidenceRecord?: EvidenceRecordSummary;
  /**
   * Set when the proof passed by past signature validation: the time its certificate paths
   * and revocation were validated at — the record's POE — instead of the validation time.
   */
  validatedAtPoe?: string;
}

/** Where a proof's evidence record came from: `--record`, a `.ers` beside the proof, an export's manifest. */
export type RecordSource = 'option' | 'beside' | 'manifest';

export interface EvidenceRecordSummary {
  /** How the report names the record file. */
  file: string;
  source: RecordSource;
  valid: boolean;
  /** The record verifier's first failing check. */
  failedCheck?: EvidenceRecordCheckName;
  /** genTime of the first archive time-stamp: the proof existed then (a valid record only). */
  poe?: string;
  /** The time the record was validated at (its last archive time-stamp's TSA certificate valid then). */
  validatedAt: string;
  /** Each archive time-stamp of the record: genTime and TSA. */
  timeStamps: ArchiveTimeStampSummary[];
  checks: EvidenceRecordCheck[];
}

export interface DocumentInput {
  /** Where the bytes are. */
  path: string;
  /** The name to look the document up by in the statement (default: the path's base name). */
  fileName?: string;
}

export interface ProofInput {
  /** The proof file. */
  path: string;
  /** How the report names it (default: the path). */
  display?: string;
  documents?: DocumentInput[];
  /** A decoded copy of the statement to compare with the signed one (an export's statements/…json). */
  statementCopy?: string;
  /**
   * A folder to look in for the statement's documents by their FileName (when no manifest
   * says where they are); the documents found there are checked, the others are not.
   */
  documentsByName?: string;
  /** The proof's RFC 4998 evidence record (DER), whose leaf is SHA-256 of the proof file. */
  record?: string;
  /** How the report names the record (default: its path). */
  recordDisplay?: string;
  /** Where the record came from (default 'option'). */
  recordSource?: RecordSource;
}

export interface VerifyProofOptions {
  trustAnchors: Uint8Array[];
  at?: Date;
  /** DER CRLs (verify --crl): the signer and TSA certificates are checked against them. */
  crls?: Uint8Array[];
  crypto?: Crypto;
  /**
   * Verifies the evidence records given with proofs: one per run, so that the archive
   * time-stamps shared by the proofs of a tree are verified once (records.ts). Made on
   * demand, with the same trust anchors and `at` (or now), when absent.
   */
  records?: EvidenceRecordVerifier;
}

/** The record verifier a run uses: the trust anchors of the proofs, validated at `at`, or now. */
export function recordVerifierFor(options: Pick<VerifyProofOptions, 'trustAnchors' | 'at'>): EvidenceRecordVerifier {
  return new EvidenceRecordVerifier({ trustAnchors: options.trustAnchors, ...(options.at ? { at: options.at } : {}) });
}

/** The `.ers` a proof's evidence record has beside it (same stem), as export bundles lay it out. */
export function recordBeside(proofFile: string): string {
  return proofFile.replace(/\.p7s$/i, '') + '.ers';
}

const FATAL: ReadonlySet<SubIndication> = TOTAL_FAILED_SUBINDICATIONS;

/** Indication and sub-indication of a list of lines in report order (DSS convention, as in ValidationReport.ts). */
export function indicationOf(checks: readonly AuditCheck[]): { indication: Indication; subIndication?: SubIndication } {
  const failed = checks.filter((c) => !c.passed);
  const fatal = failed.find((c) => c.subIndication && FATAL.has(c.subIndication));
  const first = fatal ?? failed[0];
  const indication: Indication = fatal ? 'TOTAL_FAILED' : first ? 'INDETERMINATE' : 'TOTAL_PASSED';
  return first?.subIndication ? { indication, subIndication: first.subIndication } : { indication };
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** SHA-256 of a file, streamed (documents may be tens of megabytes). */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function errnoCode(err: unknown): string | undefined {
  return typeof (err as NodeJS.ErrnoException)?.code === 'string' ? (err as NodeJS.ErrnoException).code : undefined;
}

export type ProofBytes = { ok: true; bytes: Uint8Array } | { ok: false; detail: string };

/**
 * Reads a proof file, refusing more than `max` octets without reading them. A missing file is
 * the caller's mistake (AuditError FILE_NOT_FOUND); anything else unreadable is reported.
 * Synchronous: a proof is a few kilobytes, read by the auditor's CLI (and its batch workers)
 * in far less time than the round trips of asynchronous reads would take.
 */
export async function readProofFile(file: string, max = MAX_PROOF_BYTES): Promise<ProofBytes> {
  let fd: number;
  try {
    fd = fsSync.openSync(file, 'r');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw new AuditError('FILE_NOT_FOUND', `${file}: no such file`, { cause: err });
    throw new AuditError('FILE_UNREADABLE', `${file}: cannot be read (${errnoCode(err) ?? (err as Error).message})`, { cause: err });
  }
  try {
    const stat = fsSync.fstatSync(fd);
    if (!stat.isFile()) throw new AuditError('FILE_UNREADABLE', `${file}: not a regular file`);
    if (stat.size > max) return { ok: false, detail: `the file is ${formatBytes(stat.size)}; a proof is at most ${formatBytes(max)}, so this is not one` };
    const bytes = fsSync.readFileSync(fd);
    return { ok: true, bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
  } catch (err) {
    if (err instanceof AuditError) throw err;
    // EISDIR and the like, after the open succeeded
    throw new AuditError('FILE_UNREADABLE', `${file}: cannot be read (${errnoCode(err) ?? (err as Error).message})`, { cause: err });
  } finally {
    fsSync.closeSync(fd);
  }
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} octets`;
}

export interface TrustAnchors {
  der: Uint8Array[];
  /** One per certificate, for the report: file, subject, fingerprint. */
  certificates: Array<CertificateInfo & { file: string }>;
}

/**
 * Reads trust anchors from PEM files (any number of CERTIFICATE blocks) or DER files. Anything
 * that is not a certificate is an AuditError TRUST_ANCHORS_INVALID naming the file.
 */
export async function loadTrustAnchors(files: readonly string[]): Promise<TrustAnchors> {
  if (files.length === 0) throw new AuditError('TRUST_ANCHORS_MISSING', 'no trust anchor given (--trust ROOT.pem)');
  const out: TrustAnchors = { der: [], certificates: [] };
  for (const file of files) {
    let raw: Buffer;
    try {
      raw = await fs.readFile(file);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw new AuditError('FILE_NOT_FOUND', `trust anchor ${file}: no such file`, { cause: err });
      throw new AuditError('FILE_UNREADABLE', `trust anchor ${file}: cannot be read (${errnoCode(err) ?? (err as Error).message})`, { cause: err });
    }
    if (raw.length > MAX_PROOF_BYTES) throw new AuditError('TRUST_ANCHORS_INVALID', `trust anchor ${file}: ${formatBytes(raw.length)} is too large for certificates`);
    let ders: Uint8Array[];
    const text = raw.subarray(0, 64).toString('latin1');
    if (text.includes('-----BEGIN')) {
      try {
        ders = pemToDer(raw.toString('utf8'), 'CERTIFICATE');
      } catch (err) {
        throw new AuditError('TRUST_ANCHORS_INVALID', `trust anchor ${file}: ${(err as Error).message}`, { cause: err });
      }
      if (ders.length === 0) throw new AuditError('TRUST_ANCHORS_INVALID', `trust anchor ${file}: no "BEGIN CERTIFICATE" block`);
    } else {
      ders = [new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength)];
    }
    for (const der of ders) {
      try {
        out.certificates.push({ ...certificateInfo(der), file });
      } catch (err) {
        throw new AuditError('TRUST_ANCHORS_INVALID', `trust anchor ${file}: not an X.509 certificate (${err instanceof DerError ? err.message : String(err)})`, { cause: err });
      }
      out.der.push(der);
    }
  }
  return out;
}

/**
 * Reads CRLs (verify --crl) from DER files or PEM files of "X509 CRL" blocks. Anything that is
 * not a CRL is an AuditError CRL_INVALID naming the file.
 */
export async function loadCrls(files: readonly string[]): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (const file of files) {
    let raw: Buffer;
    try {
      raw = await fs.readFile(file);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw new AuditError('FILE_NOT_FOUND', `CRL ${file}: no such file`, { cause: err });
      throw new AuditError('FILE_UNREADABLE', `CRL ${file}: cannot be read (${errnoCode(err) ?? (err as Error).message})`, { cause: err });
    }
    if (raw.length > MAX_PROOF_BYTES) throw new AuditError('CRL_INVALID', `CRL ${file}: ${formatBytes(raw.length)} is too large`);
    let ders: Uint8Array[];
    if (raw.subarray(0, 64).toString('latin1').includes('-----BEGIN')) {
      try {
        ders = pemToDer(raw.toString('utf8'), 'X509 CRL');
      } catch (err) {
        throw new AuditError('CRL_INVALID', `CRL ${file}: ${(err as Error).message}`, { cause: err });
      }
      if (ders.length === 0) throw new AuditError('CRL_INVALID', `CRL ${file}: no "BEGIN X509 CRL" block`);
    } else {
      ders = [new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength)];
    }
    for (const der of ders) {
      try {
        parseCrl(der);
      } catch (err) {
        throw new AuditError('CRL_INVALID', `CRL ${file}: not an X.509 CRL (${err instanceof DerError ? err.message : String(err)})`, { cause: err });
      }
      out.push(der);
    }
  }
  return out;
}

function summarise(statement: Record<string, unknown>): StatementSummary {
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const sender = statement.SenderDetails as Record<string, unknown> | undefined;
  const docs = Array.isArray(statement.Documents) ? (statement.Documents as Array<Record<string, unknown>>) : undefined;
  const type = typeof statement.ERDSEventId === 'string' ? (evidenceTypeOf(statement.ERDSEventId) ?? statement.ERDSEventId) : undefined;
  const summary: StatementSummary = {};
  const set = <K extends keyof StatementSummary>(k: K, v: StatementSummary[K] | undefined) => {
    if (v !== undefined) summary[k] = v;
  };
  set('evidenceId', str(statement.EvidenceIdentifier));
  set('type', type);
  set('messageId', str(statement.MessageIdentifier));
  set('eventTime', str(statement.EventTime));
  set('sender', sender ? [str(sender.Identifier), str(sender.Name) && `(${str(sender.Name)})`].filter(Boolean).join(' ') : undefined);
  set('documents', docs?.map((d) => ({ fileName: String(d?.FileName ?? ''), sha256: String(d?.DigestValue ?? '') })));
  return summary;
}

/** Reads the enveloped content as a statement: STATEMENT_SCHEMA line and the parsed object. */
function checkStatement(report: VerificationReport, checks: AuditCheck[]): Record<string, unknown> | undefined {
  if (!report.content) {
    checks.push({ name: 'STATEMENT_SCHEMA', passed: false, subIndication: report.subIndication === 'SIGNED_DATA_NOT_FOUND' ? 'SIGNED_DATA_NOT_FOUND' : 'FORMAT_FAILURE', detail: 'not evaluated: no enveloped statement' });
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(report.content));
  } catch {
    checks.push({ name: 'STATEMENT_SCHEMA', passed: false, subIndication: 'FORMAT_FAILURE', detail: 'the enveloped content is not UTF-8 JSON, so not an evidence statement' });
    return undefined;
  }
  const problems = statementProblems(parsed);
  if (problems.length > 0) {
    checks.push({ name: 'STATEMENT_SCHEMA', passed: false, subIndication: 'FORMAT_FAILURE', detail: `not a version-1 evidence statement: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}` });
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  }
  const s = parsed as Record<string, unknown>;
  checks.push({ name: 'STATEMENT_SCHEMA', passed: true, detail: `evidence statement v${String(s.Version)}: ${evidenceTypeOf(String(s.ERDSEventId))} of message ${String(s.MessageIdentifier)}` });
  // A statement canonicalised otherwise than RFC 8785 was not made by the sealer.
  const canonical = canonicalize(parsed);
  if (canonical !== undefined && canonical !== new TextDecoder().decode(report.content)) {
    checks[checks.length - 1] = { name: 'STATEMENT_SCHEMA', passed: false, subIndication: 'FORMAT_FAILURE', detail: 'the statement is not in RFC 8785 (JCS) canonical form' };
  }
  return s;
}

async function checkStatementCopy(copyFile: string, signed: Record<string, unknown> | undefined, checks: AuditCheck[]): Promise<void> {
  if (!signed) {
    checks.push({ name: 'STATEMENT_COPY', passed: false, subIndication: 'FORMAT_FAILURE', detail: 'not evaluated: the signed statement is not readable' });
    return;
  }
  let copy: unknown;
  try {
    copy = JSON.parse(await fs.readFile(copyFile, 'utf8'));
  } catch (err) {
    const missing = errnoCode(err) === 'ENOENT';
    checks.push({ name: 'STATEMENT_COPY', passed: false, subIndication: missing ? 'SIGNED_DATA_NOT_FOUND' : 'HASH_FAILURE', detail: missing ? `${copyFile} is missing` : `${copyFile} is not JSON, so not the signed statement` });
    return;
  }
  if (canonicalize(copy) === canonicalize(signed)) {
    checks.push({ name: 'STATEMENT_COPY', passed: true, detail: `${path.basename(copyFile)} is the signed statement` });
    return;
  }
  const c = (typeof copy === 'object' && copy !== null ? copy : {}) as Record<string, unknown>;
  // own members only: a copy's "__proto__" or "constructor" is compared with nothing, not with what every object inherits
  const member = (o: Record<string, unknown>, k: string) => (Object.hasOwn(o, k) ? o[k] : undefined);
  const keys = [...new Set([...Object.keys(c), ...Object.keys(signed)])].filter((k) => canonicalize(member(c, k)) !== canonicalize(member(signed, k)));
  checks.push({ name: 'STATEMENT_COPY', passed: false, subIndication: 'HASH_FAILURE', detail: `${path.basename(copyFile)} differs from the signed statement in ${keys.slice(0, 5).join(', ') || 'its form'}` });
}

async function checkDocument(doc: DocumentInput, statement: Record<string, unknown> | undefined, checks: AuditCheck[]): Promise<void> {
  const fileName = doc.fileName ?? path.basename(doc.path);
  let sha: string;
  try {
    sha = await sha256File(doc.path);
  } catch (err) {
    const missing = errnoCode(err) === 'ENOENT';
    checks.push({ name: 'DOCUMENT_DIGEST', passed: false, subIndication: 'SIGNED_DATA_NOT_FOUND', detail: `${doc.path}: ${missing ? 'no such file' : `cannot be read (${errnoCode(err) ?? (err as Error).message})`}` });
    return;
  }
  const docs = statement && Array.isArray(statement.Documents) ? (statement.Documents as Array<Record<string, unknown>>) : undefined;
  if (!docs) {
    checks.push({ name: 'DOCUMENT_DIGEST', passed: false, subIndication: 'FORMAT_FAILURE', detail: `${fileName}: not evaluated: the statement lists no documents` });
    return;
  }
  const named = docs.map((d, i) => ({ d, i })).filter(({ d }) => d?.FileName === fileName);
  const sameDigest = docs.map((d, i) => ({ d, i })).filter(({ d }) => d?.DigestValue === sha);
  if (named.length > 0) {
    const match = named.find(({ d }) => d.DigestValue === sha);
    if (match) checks.push({ name: 'DOCUMENT_DIGEST', passed: true, detail: `${fileName}: SHA-256 ${sha} equals Documents[${match.i}]` });
    else checks.push({ name: 'DOCUMENT_DIGEST', passed: false, subIndication: 'HASH_FAILURE', detail: `${fileName}: SHA-256 ${sha}, but the statement's Documents[${named[0]!.i}] says ${String(named[0]!.d.DigestValue)}` });
    return;
  }
  const m = sameDigest[0];
  if (m) checks.push({ name: 'DOCUMENT_DIGEST', passed: true, detail: `${fileName}: SHA-256 ${sha} equals Documents[${m.i}] (named ${String(m.d.FileName)})` });
  else checks.push({ name: 'DOCUMENT_DIGEST', passed: false, subIndication: 'HASH_FAILURE', detail: `${fileName}: SHA-256 ${sha} is the digest of no document in the statement` });
}

/** The statement's documents present in `dir` under their FileName (plain names only: no path may escape `dir`). */
async function documentsNamedIn(statement: Record<string, unknown>, dir: string): Promise<DocumentInput[]> {
  const docs = Array.isArray(statement.Documents) ? (statement.Documents as Array<Record<string, unknown>>) : [];
  const found: DocumentInput[] = [];
  const seen = new Set<string>();
  for (const d of docs) {
    const name = d?.FileName;
    if (typeof name !== 'string' || name === '' || name !== path.basename(name) || name === '.' || name === '..' || seen.has(name)) continue;
    seen.add(name);
    const file = path.join(dir, name);
    if (fsSync.statSync(file, { throwIfNoEntry: false })?.isFile()) found.push({ path: file, fileName: name });
  }
  return found;
}

/** Validates one proof already in memory, with the statement and document lines. Never throws for bad input. */
export async function verifyProofBytes(bytes: Uint8Array, input: Omit<ProofInput, 'path'> & { display: string }, options: VerifyProofOptions): Promise<ProofReport> {
  const cades = (at: Date | undefined) =>
    verifyCadesT(bytes, {
      trustAnchors: options.trustAnchors,
      ...(at ? { at } : {}),
      ...(options.crypto ? { crypto: options.crypto } : {}),
      ...(options.crls?.length ? { crls: options.crls } : {}),
    });
  let report = await cades(options.at);
  let record: { line: AuditCheck; summary?: EvidenceRecordSummary } | undefined;
  let validatedAtPoe: Date | undefined;
  if (input.record) {
    record = await checkRecord(input, bytes, options);
    const poe = record.summary?.poe ? new Date(record.summary.poe) : undefined;
    if (poe && report.genTime && poe.getTime() < report.genTime.getTime()) {
      // The record is over these bytes, time-stamp included: a POE before its genTime contradicts it.
      record.line = { name: 'EVIDENCE_RECORD', passed: false, subIndication: 'NO_POE', detail: `${record.line.detail}; but that is before the proof's own time-stamp (genTime ${report.genTime.toISOString()}), so one of the two clocks is wrong` };
    } else if (poe && report.indication === 'INDETERMINATE') {
      // EN 319 102-1 past signature validation: the same proof, its paths and revocation at the POE time.
      const past = await cades(poe);
      if (past.indication === 'TOTAL_PASSED') {
        report = past;
        validatedAtPoe = poe;
        record.line = { ...record.line, detail: `${record.line.detail}; the proof is validated at that time (past signature validation): ${pastReason(past)}` };
      } else {
        const first = past.checks.find((c) => !c.passed);
        record.line = { ...record.line, detail: `${record.line.detail}; the proof does not validate at that time either${first ? ` (${first.name}: ${first.detail})` : ''}` };
      }
    }
  }
  const checks: AuditCheck[] = report.checks.map((c) => ({ ...c }));
  const structural = report.checks.some((c) => !c.passed && (c.name === 'DER_ENCODING' || c.name === 'CMS_STRUCTURE') && c.subIndication === 'FORMAT_FAILURE');
  let statement: Record<string, unknown> | undefined;
  if (!structural) statement = checkStatement(report, checks);
  if (input.statementCopy) await checkStatementCopy(input.statementCopy, statement, checks);
  for (const doc of input.documents ?? []) await checkDocument(doc, statement, checks);
  if (input.documentsByName && statement) {
    for (const doc of await documentsNamedIn(statement, input.documentsByName)) await checkDocument(doc, statement, checks);
  }
  if (record) checks.push(record.line);
  // The record's line comes last: a failing record decides only for a proof that passes without it.
  const out: ProofReport = { file: input.display, ...indicationOf(checks), checks, sha256: sha256Hex(bytes) };
  if (record?.summary) out.evidenceRecord = record.summary;
  if (validatedAtPoe) out.validatedAtPoe = validatedAtPoe.toISOString();
  if (report.signingTime) out.signingTime = report.signingTime.toISOString();
  if (report.genTime) out.genTime = report.genTime.toISOString();
  if (report.signerSubject) out.signerSubject = report.signerSubject;
  if (report.tsaSubject) out.tsaSubject = report.tsaSubject;
  if (statement) out.statement = summarise(statement);
  return out;
}

/** What past signature validation relied on, for the EVIDENCE_RECORD line. */
function pastReason(past: VerificationReport): string {
  const lines = past.checks.filter((c) => c.name === 'CERTIFICATE_CHAIN' || c.name === 'TSA_CERTIFICATE_CHAIN' || c.name === 'REVOCATION' || c.name === 'TSA_REVOCATION');
  return lines.map((c) => c.name).join(', ') + ' pass then';
}

/** Reads and verifies the record of `input`: the EVIDENCE_RECORD line and the summary for the report. */
async function checkRecord(input: Omit<ProofInput, 'path'>, proof: Uint8Array, options: VerifyProofOptions): Promise<{ line: AuditCheck; summary?: EvidenceRecordSummary }> {
  const file = input.record!;
  const display = input.recordDisplay ?? file;
  const source = input.recordSource ?? 'option';
  const where = source === 'beside' ? ' (found beside the proof)' : source === 'manifest' ? ' (named by manifest.json)' : '';
  let read: ProofBytes;
  try {
    read = await readProofFile(file);
  } catch (err) {
    if (source === 'option') throw err; // the auditor's own argument: a usage error
    return { line: { name: 'EVIDENCE_RECORD', passed: false, subIndication: 'NO_POE', detail: `${display}${where}: ${err instanceof AuditError ? err.message.replace(`${file}: `, '') : String(err)}` } };
  }
  if (!read.ok) return { line: { name: 'EVIDENCE_RECORD', passed: false, subIndication: 'NO_POE', detail: `${display}${where}: ${read.detail.replace('a proof is', 'a record is')}` } };
  const verifier = options.records ?? recordVerifierFor(options);
  const result = await verifier.verify(read.bytes, proof);
  const timeStamps = result.timeStamps;
  const summary: EvidenceRecordSummary = {
    file: display,
    source,
    valid: result.valid,
    ...(result.failedCheck ? { failedCheck: result.failedCheck } : {}),
    validatedAt: verifier.at.toISOString(),
    timeStamps,
    checks: result.checks,
  };
  if (!result.valid) {
    const failed = result.checks.find((c) => !c.passed);
    return { line: { name: 'EVIDENCE_RECORD', passed: false, subIndication: 'NO_POE', detail: `${display}${where}: ${result.failedCheck}: ${failed?.detail ?? 'failed'}` }, summary };
  }
  const poe = result.genTimes![0]!.toISOString();
  summary.poe = poe;
  const tsas = [...new Set(timeStamps.map((t) => t.tsa ?? 'a TSA without certificate'))];
  const renewals = timeStamps.length - 1;
  return {
    line: {
      name: 'EVIDENCE_RECORD',
      passed: true,
      detail: `${display}${where}: the proof existed at ${poe} (POE: the first archive time-stamp${timeStamps[0]?.tsa ? `, by ${timeStamps[0].tsa}` : ''}); ${renewals === 0 ? 'no renewal' : `${renewals} renewal${renewals === 1 ? '' : 's'}`}, TSA${tsas.length === 1 ? '' : 's'} ${tsas.join('; ')}; the last archive time-stamp valid at ${verifier.at.toISOString()}`,
    },
    summary,
  };
}

/**
 * Reads and validates one proof file. A missing proof file throws AuditError FILE_NOT_FOUND
 * (a usage error); an oversized or unreadable one is a FORMAT_FAILURE report.
 */
export async function verifyProofFile(input: ProofInput, options: VerifyProofOptions): Promise<ProofReport> {
  const display = input.display ?? input.path;
  const read = await readProofFile(input.path);
  if (!read.ok) {
    const checks: AuditCheck[] = [{ name: 'DER_ENCODING', passed: false, subIndication: 'FORMAT_FAILURE', detail: read.detail }];
    return { file: display, ...indicationOf(checks), checks };
  }
  return verifyProofBytes(read.bytes, { ...input, display }, options);
}

/**
 * As verifyProofFile, for a batch: never throws, whatever goes wrong with one proof (even a
 * file that vanished since the folder was listed) becomes that proof's report.
 */
export async function verifyForBatch(input: ProofInput, options: VerifyProofOptions): Promise<ProofReport> {
  try {
    return await verifyProofFile(input, options);
  } catch (err) {
    const detail = err instanceof AuditError ? err.message : `validation stopped: ${err instanceof Error ? err.message : String(err)}`;
    const checks: AuditCheck[] = [{ name: 'DER_ENCODING', passed: false, subIndication: 'FORMAT_FAILURE', detail }];
    return { file: input.display ?? input.path, ...indicationOf(checks), checks };
  }
}
