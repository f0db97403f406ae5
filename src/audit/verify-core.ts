/**
 * The check of one proof, bytes in, report out: the platform-neutral core the auditor's CLI
 * (verify.ts, which reads files around it) and the verification page in the browser
 * (src/browser/verify/) share. It reads no file, hashes no stream and imports no Node module
 * itself (the crypto layer's hashes are node:crypto's under Node and @noble/hashes' in the page,
 * scripts/build-pages.ts): the caller hands it the proof's octets, the documents' SHA-256
 * digests, and a WebCrypto `Crypto` (options.crypto; the crypto layer's default when absent). The lines it adds to the
 * crypto layer's CAdES-T validation, the indication rules and the evidence-record handling
 * are described in verify.ts.
 */
import { canonicalJson } from '../domain/CanonicalJson.js';
// the crypto layer's modules one by one, not its index: the browser bundle takes only what verifies
import { digest } from '../crypto/AlgorithmIdentifier.js';
import { verifyCadesT } from '../crypto/CadesVerification.js';
import { certificateInfo, type CertificateInfo } from '../crypto/CertificateInfo.js';
import { DerError } from '../crypto/der.js';
import type { EvidenceRecordCheck, EvidenceRecordCheckName } from '../crypto/EvidenceRecord.js';
import { pemToDer } from '../crypto/pem.js';
import { TOTAL_FAILED_SUBINDICATIONS, type CheckName, type Indication, type SubIndication, type VerificationReport } from '../crypto/ValidationReport.js';
import { evidenceTypeOf, statementProblems } from '../domain/EvidenceStatement.js';
import { AuditError } from './errors.js';
import type { ArchiveTimeStampSummary } from './records.js';

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


/** The options of one check: the anchors, the validation time, CRLs, the WebCrypto to verify with. */
export interface CoreVerifyOptions {
  trustAnchors: Uint8Array[];
  at?: Date;
  /** DER CRLs: the signer and TSA certificates are checked against them. */
  crls?: Uint8Array[];
  crypto?: Crypto;
}

/** A document the caller has hashed: the name to look it up by in the statement, its SHA-256 (hex). */
export interface DocumentDigest {
  fileName: string;
  sha256: string;
}

/** A document the caller could not read: the DOCUMENT_DIGEST line's detail. */
export interface DocumentUnreadable {
  fileName: string;
  unreadable: string;
}

/** The evidence record's line and summary, as the caller checked it. */
export interface RecordOutcome {
  line: AuditCheck;
  summary?: EvidenceRecordSummary;
}

/** What the caller brings besides the proof's octets; each part is optional. */
export interface ProofSources {
  /** How the report names the proof. */
  display: string;
  /** The STATEMENT_COPY line, given the signed statement (an export's decoded copy). */
  statementCopy?: (signed: Record<string, unknown> | undefined) => Promise<AuditCheck>;
  /** The documents to check, in report order, given the signed statement. */
  documents?: (statement: Record<string, unknown> | undefined) => Promise<Array<DocumentDigest | DocumentUnreadable>>;
  /** The evidence record's check (RFC 4998), when there is a record. */
  record?: () => Promise<RecordOutcome>;
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

/** SHA-256 of `bytes`, hex. */
export function sha256Hex(bytes: Uint8Array): string {
  return toHex(digest('SHA-256', bytes));
}

function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} octets`;
}

/** Why a file of `size` octets is not read as a proof (more than `max`). */
export function tooLargeDetail(size: number, max = MAX_PROOF_BYTES): string {
  return `the file is ${formatBytes(size)}; a proof is at most ${formatBytes(max)}, so this is not one`;
}

/** The report on a proof that could not be read at all (too large, unreadable): one failed DER_ENCODING line. */
export function unreadableProofReport(display: string, detail: string): ProofReport {
  const checks: AuditCheck[] = [{ name: 'DER_ENCODING', passed: false, subIndication: 'FORMAT_FAILURE', detail }];
  return { file: display, ...indicationOf(checks), checks };
}

/**
 * The certificates of one trust-anchor file's octets, PEM (any number of CERTIFICATE blocks)
 * or DER. Anything that is not a certificate is an AuditError TRUST_ANCHORS_INVALID naming `name`.
 */
export function trustAnchorsFromBytes(name: string, raw: Uint8Array): Array<{ der: Uint8Array; info: CertificateInfo }> {
  if (raw.length > MAX_PROOF_BYTES) throw new AuditError('TRUST_ANCHORS_INVALID', `trust anchor ${name}: ${formatBytes(raw.length)} is too large for certificates`);
  let ders: Uint8Array[];
  const text = new TextDecoder('latin1').decode(raw.subarray(0, 64));
  if (text.includes('-----BEGIN')) {
    try {
      ders = pemToDer(new TextDecoder('utf-8').decode(raw), 'CERTIFICATE');
    } catch (err) {
      throw new AuditError('TRUST_ANCHORS_INVALID', `trust anchor ${name}: ${(err as Error).message}`, { cause: err });
    }
    if (ders.length === 0) throw new AuditError('TRUST_ANCHORS_INVALID', `trust anchor ${name}: no "BEGIN CERTIFICATE" block`);
  } else {
    ders = [raw];
  }
  return ders.map((der) => {
    try {
      return { der, info: certificateInfo(der) };
    } catch (err) {
      throw new AuditError('TRUST_ANCHORS_INVALID', `trust anchor ${name}: not an X.509 certificate (${err instanceof DerError ? err.message : String(err)})`, { cause: err });
    }
  });
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
  const canonical = canonicalJson(parsed);
  if (canonical !== undefined && canonical !== new TextDecoder().decode(report.content)) {
    checks[checks.length - 1] = { name: 'STATEMENT_SCHEMA', passed: false, subIndication: 'FORMAT_FAILURE', detail: 'the statement is not in RFC 8785 (JCS) canonical form' };
  }
  return s;
}

/** The DOCUMENT_DIGEST line of a document whose SHA-256 the caller computed. */
export function documentLine(doc: DocumentDigest | DocumentUnreadable, statement: Record<string, unknown> | undefined): AuditCheck {
  const { fileName } = doc;
  if ('unreadable' in doc) return { name: 'DOCUMENT_DIGEST', passed: false, subIndication: 'SIGNED_DATA_NOT_FOUND', detail: doc.unreadable };
  const sha = doc.sha256;
  const docs = statement && Array.isArray(statement.Documents) ? (statement.Documents as Array<Record<string, unknown>>) : undefined;
  if (!docs) return { name: 'DOCUMENT_DIGEST', passed: false, subIndication: 'FORMAT_FAILURE', detail: `${fileName}: not evaluated: the statement lists no documents` };
  const named = docs.map((d, i) => ({ d, i })).filter(({ d }) => d?.FileName === fileName);
  const sameDigest = docs.map((d, i) => ({ d, i })).filter(({ d }) => d?.DigestValue === sha);
  if (named.length > 0) {
    const match = named.find(({ d }) => d.DigestValue === sha);
    if (match) return { name: 'DOCUMENT_DIGEST', passed: true, detail: `${fileName}: SHA-256 ${sha} equals Documents[${match.i}]` };
    return { name: 'DOCUMENT_DIGEST', passed: false, subIndication: 'HASH_FAILURE', detail: `${fileName}: SHA-256 ${sha}, but the statement's Documents[${named[0]!.i}] says ${String(named[0]!.d.DigestValue)}` };
  }
  const m = sameDigest[0];
  if (m) return { name: 'DOCUMENT_DIGEST', passed: true, detail: `${fileName}: SHA-256 ${sha} equals Documents[${m.i}] (named ${String(m.d.FileName)})` };
  return { name: 'DOCUMENT_DIGEST', passed: false, subIndication: 'HASH_FAILURE', detail: `${fileName}: SHA-256 ${sha} is the digest of no document in the statement` };
}

/** Validates one proof already in memory, with the statement, document and record lines. Never throws for bad input. */
export async function verifyProof(bytes: Uint8Array, sources: ProofSources, options: CoreVerifyOptions): Promise<ProofReport> {
  const cades = (at: Date | undefined) =>
    verifyCadesT(bytes, {
      trustAnchors: options.trustAnchors,
      ...(at ? { at } : {}),
      ...(options.crypto ? { crypto: options.crypto } : {}),
      ...(options.crls?.length ? { crls: options.crls } : {}),
    });
  let report = await cades(options.at);
  let record: RecordOutcome | undefined;
  let validatedAtPoe: Date | undefined;
  if (sources.record) {
    record = await sources.record();
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
  if (sources.statementCopy) checks.push(await sources.statementCopy(statement));
  for (const doc of (await sources.documents?.(statement)) ?? []) checks.push(documentLine(doc, statement));
  if (record) checks.push(record.line);
  // The record's line comes last: a failing record decides only for a proof that passes without it.
  const out: ProofReport = { file: sources.display, ...indicationOf(checks), checks, sha256: sha256Hex(bytes) };
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
