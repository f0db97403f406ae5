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
 * The checks themselves are verify-core.ts's, bytes in and report out (the verification page
 * runs the same code in the browser). File I/O is here (the CLI and its workers share it): a
 * proof is read whole but only up to MAX_PROOF_BYTES (a larger file is a FORMAT_FAILURE, not
 * an out-of-memory); documents are hashed as streams, whatever their size.
 */
import { createHash } from 'node:crypto';
import fsSync, { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { canonicalJson } from '../domain/CanonicalJson.js';
import { DerError, parseCrl, pemToDer, type CertificateInfo } from '../crypto/index.js';
import { AuditError } from './errors.js';
import { EvidenceRecordVerifier } from './records.js';
import {
  formatBytes,
  indicationOf,
  MAX_PROOF_BYTES,
  tooLargeDetail,
  trustAnchorsFromBytes,
  unreadableProofReport,
  verifyProof,
  type AuditCheck,
  type CoreVerifyOptions,
  type DocumentDigest,
  type DocumentUnreadable,
  type EvidenceRecordSummary,
  type ProofReport,
  type RecordOutcome,
  type RecordSource,
} from './verify-core.js';

export {
  indicationOf,
  MAX_PROOF_BYTES,
  sha256Hex,
  type AuditCheck,
  type AuditCheckName,
  type EvidenceRecordSummary,
  type ProofReport,
  type RecordSource,
  type StatementSummary,
} from './verify-core.js';

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

export interface VerifyProofOptions extends CoreVerifyOptions {
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
    if (stat.size > max) return { ok: false, detail: tooLargeDetail(stat.size, max) };
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
    for (const { der, info } of trustAnchorsFromBytes(file, new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength))) {
      out.certificates.push({ ...info, file });
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

async function checkStatementCopy(copyFile: string, signed: Record<string, unknown> | undefined): Promise<AuditCheck> {
  if (!signed) {
    return { name: 'STATEMENT_COPY', passed: false, subIndication: 'FORMAT_FAILURE', detail: 'not evaluated: the signed statement is not readable' };
  }
  let copy: unknown;
  try {
    copy = JSON.parse(await fs.readFile(copyFile, 'utf8'));
  } catch (err) {
    const missing = errnoCode(err) === 'ENOENT';
    return { name: 'STATEMENT_COPY', passed: false, subIndication: missing ? 'SIGNED_DATA_NOT_FOUND' : 'HASH_FAILURE', detail: missing ? `${copyFile} is missing` : `${copyFile} is not JSON, so not the signed statement` };
  }
  if (canonicalJson(copy) === canonicalJson(signed)) {
    return { name: 'STATEMENT_COPY', passed: true, detail: `${path.basename(copyFile)} is the signed statement` };
  }
  const c = (typeof copy === 'object' && copy !== null ? copy : {}) as Record<string, unknown>;
  // own members only: a copy's "__proto__" or "constructor" is compared with nothing, not with what every object inherits
  const member = (o: Record<string, unknown>, k: string) => (Object.hasOwn(o, k) ? o[k] : undefined);
  const keys = [...new Set([...Object.keys(c), ...Object.keys(signed)])].filter((k) => canonicalJson(member(c, k)) !== canonicalJson(member(signed, k)));
  return { name: 'STATEMENT_COPY', passed: false, subIndication: 'HASH_FAILURE', detail: `${path.basename(copyFile)} differs from the signed statement in ${keys.slice(0, 5).join(', ') || 'its form'}` };
}

/** A document's SHA-256, or why it could not be read (the DOCUMENT_DIGEST line's detail). */
async function hashDocument(doc: DocumentInput): Promise<DocumentDigest | DocumentUnreadable> {
  const fileName = doc.fileName ?? path.basename(doc.path);
  try {
    return { fileName, sha256: await sha256File(doc.path) };
  } catch (err) {
    const missing = errnoCode(err) === 'ENOENT';
    return { fileName, unreadable: `${doc.path}: ${missing ? 'no such file' : `cannot be read (${errnoCode(err) ?? (err as Error).message})`}` };
  }
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

/** Validates one proof already in memory, with the statement and document lines (verify-core.ts). Never throws for bad input. */
export async function verifyProofBytes(bytes: Uint8Array, input: Omit<ProofInput, 'path'> & { display: string }, options: VerifyProofOptions): Promise<ProofReport> {
  return verifyProof(
    bytes,
    {
      display: input.display,
      ...(input.statementCopy ? { statementCopy: (signed) => checkStatementCopy(input.statementCopy!, signed) } : {}),
      documents: async (statement) => {
        const docs = [...(input.documents ?? [])];
        if (input.documentsByName && statement) docs.push(...(await documentsNamedIn(statement, input.documentsByName)));
        const out: Array<DocumentDigest | DocumentUnreadable> = [];
        for (const doc of docs) out.push(await hashDocument(doc));
        return out;
      },
      ...(input.record ? { record: () => checkRecord(input, bytes, options) } : {}),
    },
    options,
  );
}

/** Reads and verifies the record of `input`: the EVIDENCE_RECORD line and the summary for the report. */
async function checkRecord(input: Omit<ProofInput, 'path'>, proof: Uint8Array, options: VerifyProofOptions): Promise<RecordOutcome> {
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
  if (!read.ok) return unreadableProofReport(display, read.detail);
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
