/**
 * The auditor's check of an exported event-log slice (see auditBundle.ts and
 * src/domain/EventChain.ts), one named line per check:
 *
 * | line | what | failing sub-indication |
 * | --- | --- | --- |
 * | LOG_FORMAT | every line of log/events.jsonl is a row: seq, prevHash, hash, and the content or `redacted: true` | FORMAT_FAILURE |
 * | LOG_CHAIN | consecutive seqs; each row's prevHash is the previous row's hash; each unredacted row's hash is SHA-256(prevHash ‖ LF ‖ JCS(row)) | HASH_FAILURE |
 * | CHECKPOINT | per checkpoint: its RFC 3161 token (TSA signature, ESS, critical timeStamping usage, chain at genTime or --at), imprint = SHA-256("<seq>:<hash>") of the row at that seq | as the token's line, HASH_FAILURE when the head hash differs |
 * | LOG_START | the first row is the genesis row (seq 1, prevHash 0…0) or a row a valid checkpoint pins | NO_POE |
 * | LOG_HEAD | the last row is pinned by a valid checkpoint | NO_POE |
 * | PROOFS_IN_LOG | with a manifest: each proof's SHA-256 is the evidenceSha256 the log recorded for its evidence | HASH_FAILURE, SIGNED_DATA_NOT_FOUND |
 *
 * A checkpoint with an RFC 4998 evidence record (its `record` in checkpoints.json, or the
 * `.ers` beside its token: `log/checkpoints/<eventSeq>.ers`) is also checked through it: the
 * record's leaf is SHA-256 of the token file, verified at --at or now (records.ts). A record
 * that fails makes the CHECKPOINT line of a token that is valid on its own fail with NO_POE,
 * naming the record's check (a token that is not keeps its own failure, the record's named
 * after it); a valid one
 * is a proof of existence of the token at its first archive time-stamp's genTime, and a token
 * that does not validate at --at (its TSA certificate expired) is validated at that POE
 * (docs/evidence-records.md, "Auditor side").
 *
 * Redacted rows (other senders') cannot be recomputed, but their hashes are linked to on
 * both sides, and the checkpoints pin the rows they name: rewriting any row means breaking a
 * link, a recomputed hash or a time-stamp. The report names the first row that breaks.
 * Indication as for proofs: FORMAT_FAILURE, HASH_FAILURE, SIG_CRYPTO_FAILURE and
 * TIMESTAMP_IMPRINT_MISMATCH make it TOTAL_FAILED; any other failed line INDETERMINATE.
 */
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { verifyTimeStampToken, type Indication, type SubIndication } from '../crypto/index.js';
import { checkpointImprintData, eventHash, GENESIS_HASH } from '../domain/EventChain.js';
import { AuditError } from './errors.js';
import { insideBundle, readManifest } from './batch.js';
import { CHECKPOINTS_FILE, EVENTS_FILE, isRedacted, type AuditManifest, type LogRow, type ManifestCheckpoint } from './bundle.js';
import { MAX_PROOF_BYTES, recordVerifierFor, sha256File } from './verify.js';

export type LogSubIndication = SubIndication | 'NO_POE';
export type LogCheckName = 'LOG_FORMAT' | 'LOG_CHAIN' | 'LOG_START' | 'CHECKPOINT' | 'LOG_HEAD' | 'PROOFS_IN_LOG';

export interface LogCheck {
  name: LogCheckName;
  passed: boolean;
  subIndication?: LogSubIndication;
  detail: string;
  /** The row the line is about, when it is about one. */
  seq?: number;
}

export interface LogReport {
  bundle: string;
  indication: Indication;
  subIndication?: LogSubIndication;
  checks: LogCheck[];
  rows: number;
  redactedRows: number;
  fromSeq?: number;
  toSeq?: number;
  checkpoints: number;
  /** The first row that breaks the chain or its pins, if any. */
  firstBreak?: { seq: number; line?: number; detail: string };
}

const FATAL: ReadonlySet<LogSubIndication> = new Set(['FORMAT_FAILURE', 'HASH_FAILURE', 'SIG_CRYPTO_FAILURE', 'TIMESTAMP_IMPRINT_MISMATCH']);
const HEX64 = /^[0-9a-f]{64}$/;
/** A slice line is a few hundred octets; a line past this is not a row. */
const MAX_LINE = 1024 * 1024;

function indication(checks: LogCheck[]): { indication: Indication; subIndication?: LogSubIndication } {
  const failed = checks.filter((c) => !c.passed);
  const fatal = failed.find((c) => c.subIndication && FATAL.has(c.subIndication));
  const first = fatal ?? failed[0];
  const ind: Indication = fatal ? 'TOTAL_FAILED' : first ? 'INDETERMINATE' : 'TOTAL_PASSED';
  return first?.subIndication ? { indication: ind, subIndication: first.subIndication } : { indication: ind };
}

function parseRow(line: string, n: number): LogRow | string {
  if (line.length > MAX_LINE) return `line ${n} is ${line.length} characters long; not a log row`;
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return `line ${n} is not JSON`;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return `line ${n} is not a JSON object`;
  const r = v as Record<string, unknown>;
  if (!Number.isSafeInteger(r.seq) || (r.seq as number) < 1) return `line ${n}: seq must be a positive integer`;
  if (typeof r.prevHash !== 'string' || !HEX64.test(r.prevHash) || typeof r.hash !== 'string' || !HEX64.test(r.hash)) return `line ${n} (row ${String(r.seq)}): prevHash and hash must be 64 lower-case hex digits`;
  if (r.redacted === true) {
    const extra = Object.keys(r).filter((k) => !['seq', 'prevHash', 'hash', 'redacted'].includes(k));
    if (extra.length) return `line ${n} (row ${String(r.seq)}): a redacted row carries only seq, prevHash and hash, not ${extra.join(', ')}`;
    return { seq: r.seq as number, prevHash: r.prevHash, hash: r.hash, redacted: true };
  }
  if (typeof r.messageId !== 'string' || typeof r.type !== 'string' || typeof r.at !== 'string' || typeof r.data !== 'object' || r.data === null || Array.isArray(r.data)) {
    return `line ${n} (row ${String(r.seq)}): an unredacted row needs messageId, type, at and a data object`;
  }
  return { seq: r.seq as number, messageId: r.messageId, type: r.type, at: r.at, data: r.data as Record<string, unknown>, prevHash: r.prevHash, hash: r.hash };
}

async function readJsonFile<T>(file: string, what: string): Promise<T> {
  let text: string;
  try {
    const stat = await fs.stat(file);
    if (stat.size > 512 * 1024 * 1024) throw new AuditError('BUNDLE_INVALID', `${what} is ${stat.size} octets; too large`);
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if (err instanceof AuditError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new AuditError('FILE_NOT_FOUND', `${what}: ${file} is missing`, { cause: err });
    throw new AuditError('FILE_UNREADABLE', `${what}: ${file} cannot be read`, { cause: err });
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new AuditError('BUNDLE_INVALID', `${what}: ${file} is not JSON`, { cause: err });
  }
}

export interface VerifyLogOptions {
  trustAnchors: Uint8Array[];
  at?: Date;
  /** Told as each checkpoint is done (for a progress bar). */
  onCheckpoint?: (done: number, total: number) => void;
}

/** Where the slice's files are: from the manifest when there is one, else the default layout. */
export async function locateLog(bundle: string): Promise<{ manifest?: AuditManifest; events: string; checkpoints: string }> {
  const stat = await fs.stat(bundle).catch(() => undefined);
  if (!stat) throw new AuditError('FILE_NOT_FOUND', `${bundle}: no such directory`);
  if (!stat.isDirectory()) throw new AuditError('FILE_UNREADABLE', `${bundle}: not a directory (give the export's folder)`);
  const manifest = await readManifest(bundle);
  return {
    ...(manifest ? { manifest } : {}),
    events: insideBundle(bundle, manifest?.log.events ?? EVENTS_FILE),
    checkpoints: insideBundle(bundle, manifest?.log.checkpoints ?? CHECKPOINTS_FILE),
  };
}

/**
 * The lines of a file, streamed (a year's slice can be larger than a string may be); a line
 * longer than MAX_LINE is cut there and handed over, for the caller to refuse.
 */
async function* fileLines(file: string): AsyncGenerator<string> {
  let pending = '';
  for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    pending += chunk as string;
    let from = 0;
    for (let nl = pending.indexOf('\n', from); nl >= 0; nl = pending.indexOf('\n', from)) {
      yield pending.slice(from, nl);
      from = nl + 1;
    }
    pending = pending.slice(from);
    if (pending.length > MAX_LINE) {
      yield pending;
      return;
    }
  }
  if (pending !== '') yield pending;
}

interface Recorded {
  seq: number;
  sha256: unknown;
  messageId: string;
}

export async function verifyExportedLog(bundle: string, options: VerifyLogOptions): Promise<LogReport> {
  const { manifest, events, checkpoints: checkpointsFile } = await locateLog(bundle);
  const checks: LogCheck[] = [];
  const report = (extra: Partial<LogReport>): LogReport => ({ bundle, ...indication(checks), checks, rows: 0, redactedRows: 0, checkpoints: 0, ...extra });
  try {
    await fs.access(events);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new AuditError('FILE_NOT_FOUND', `${path.relative(bundle, events) || events}: the event log is missing`, { cause: err });
    throw new AuditError('FILE_UNREADABLE', `${events}: cannot be read`, { cause: err });
  }
  const list = await readJsonFile<ManifestCheckpoint[]>(checkpointsFile, 'checkpoints');
  if (!Array.isArray(list)) throw new AuditError('BUNDLE_INVALID', `${checkpointsFile} is not a list of checkpoints`);
  const wanted = new Set(list.map((c) => c?.eventSeq));

  // LOG_FORMAT and LOG_CHAIN (src/domain/EventChain.ts), in one pass over the rows. Only what
  // the later checks need is kept: the hashes of checkpointed rows and the evidence recorded.
  const hashAt = new Map<number, { hash: string; line: number }>();
  const recorded = new Map<string, Recorded>();
  let first: LogRow | undefined;
  let prev: LogRow | undefined;
  let rows = 0;
  let redactedRows = 0;
  let firstBreak: LogReport['firstBreak'];
  let chainProblem: LogCheck | undefined;
  let n = 0;
  for await (const line of fileLines(events)) {
    n++;
    const row = parseRow(line, n);
    if (typeof row === 'string') {
      checks.push({ name: 'LOG_FORMAT', passed: false, subIndication: 'FORMAT_FAILURE', detail: row });
      return report({ rows, redactedRows, firstBreak: firstBreak ?? { seq: prev ? prev.seq + 1 : Number.NaN, line: n, detail: row } });
    }
    rows++;
    first ??= row;
    if (isRedacted(row)) redactedRows++;
    else if (typeof row.data.evidenceId === 'string') recorded.set(row.data.evidenceId, { seq: row.seq, sha256: row.data.evidenceSha256, messageId: row.messageId });
    if (wanted.has(row.seq) && !hashAt.has(row.seq)) hashAt.set(row.seq, { hash: row.hash, line: n });
    if (!chainProblem) {
      let problem: string | undefined;
      if (prev && row.seq !== prev.seq + 1) problem = row.seq <= prev.seq ? `row ${row.seq} (line ${n}) comes after row ${prev.seq}: rows out of order or repeated` : `row ${row.seq} (line ${n}) follows row ${prev.seq}: rows ${prev.seq + 1}..${row.seq - 1} are missing`;
      else if (prev && row.prevHash !== prev.hash) problem = `row ${row.seq} (line ${n}) does not chain from row ${prev.seq}: its prevHash is not row ${prev.seq}'s hash`;
      else if (!isRedacted(row) && eventHash(row.prevHash, row) !== row.hash) problem = `row ${row.seq} (line ${n}): its content does not match its hash (the row was altered)`;
      if (problem) {
        chainProblem = { name: 'LOG_CHAIN', passed: false, subIndication: 'HASH_FAILURE', detail: problem, seq: row.seq };
        firstBreak = { seq: row.seq, line: n, detail: problem };
      }
    }
    prev = row;
  }
  if (!first || !prev) {
    checks.push({ name: 'LOG_FORMAT', passed: false, subIndication: 'FORMAT_FAILURE', detail: 'the event log slice has no rows' });
    return report({});
  }
  const fromSeq = first.seq;
  const toSeq = prev.seq;
  checks.push({ name: 'LOG_FORMAT', passed: true, detail: `${rows} rows, seq ${fromSeq}..${toSeq}, ${redactedRows} redacted` });
  checks.push(chainProblem ?? { name: 'LOG_CHAIN', passed: true, detail: `every row chains from the one before; ${rows - redactedRows} unredacted row hashes recomputed` });

  // CHECKPOINT (one line each)
  const records = recordVerifierFor({ trustAnchors: options.trustAnchors, ...(options.at ? { at: options.at } : {}) });
  const pinned = new Set<number>();
  let done = 0;
  for (const c of list) {
    done++;
    options.onCheckpoint?.(done, list.length);
    if (!Number.isSafeInteger(c?.eventSeq) || typeof c.headHash !== 'string' || typeof c.token !== 'string') {
      checks.push({ name: 'CHECKPOINT', passed: false, subIndication: 'FORMAT_FAILURE', detail: `checkpoint #${done} lacks eventSeq, headHash or token` });
      continue;
    }
    const label = `checkpoint of row ${c.eventSeq}`;
    const row = hashAt.get(c.eventSeq);
    if (!row) {
      checks.push({ name: 'CHECKPOINT', passed: false, subIndication: 'FORMAT_FAILURE', detail: `${label}: the row is not in the slice`, seq: c.eventSeq });
      continue;
    }
    let token: Uint8Array;
    let tokenFile: string;
    try {
      tokenFile = insideBundle(bundle, c.token);
      const stat = await fs.stat(tokenFile);
      if (stat.size > MAX_PROOF_BYTES) throw new Error('too large');
      token = new Uint8Array(await fs.readFile(tokenFile));
    } catch (err) {
      const detail = err instanceof AuditError ? err.message : `${label}: the token ${c.token} is missing or unreadable`;
      checks.push({ name: 'CHECKPOINT', passed: false, subIndication: 'SIGNED_DATA_NOT_FOUND', detail, seq: c.eventSeq });
      continue;
    }
    const data = checkpointImprintData(c.eventSeq, row.hash);
    let ts = await verifyTimeStampToken(token, data, { trustAnchors: options.trustAnchors, ...(options.at ? { at: options.at } : {}) });
    // The checkpoint's evidence record, when it has one: the token's proof of existence.
    let recordNote = '';
    const beside = tokenFile.replace(/\.tst$/i, '') + '.ers';
    const besideExists = typeof c.record !== 'string' && (await fs.stat(beside).catch(() => undefined))?.isFile() === true;
    const recordFile = typeof c.record === 'string' ? c.record : besideExists ? path.relative(bundle, beside).split(path.sep).join('/') : undefined;
    if (recordFile !== undefined) {
      let record: Uint8Array;
      try {
        const file = insideBundle(bundle, recordFile);
        if ((await fs.stat(file)).size > MAX_PROOF_BYTES) throw new Error('too large');
        record = new Uint8Array(await fs.readFile(file));
      } catch (err) {
        const detail = err instanceof AuditError ? err.message : `${label}: its evidence record ${recordFile} is missing or unreadable`;
        checks.push({ name: 'CHECKPOINT', passed: false, subIndication: 'NO_POE', detail, seq: c.eventSeq });
        continue;
      }
      const rec = await records.verify(record, token);
      if (!rec.valid) {
        const failed = rec.checks.find((k) => !k.passed);
        const why = `its evidence record ${recordFile}: ${rec.failedCheck}: ${failed?.detail ?? 'failed'}`;
        // a token that passes on its own is let down by its record; one that does not keeps its own failure
        if (ts.indication === 'TOTAL_PASSED') {
          checks.push({ name: 'CHECKPOINT', passed: false, subIndication: 'NO_POE', detail: `${label}: ${why}`, seq: c.eventSeq });
          continue;
        }
        recordNote = `; ${why}`;
      }
      const poe = rec.valid ? rec.genTimes![0]! : undefined;
      if (poe) {
        recordNote = `; its evidence record ${recordFile} proves the token existed at ${poe.toISOString()}`;
        if (ts.indication === 'INDETERMINATE' && ts.genTime && poe.getTime() >= ts.genTime.getTime()) {
          const past = await verifyTimeStampToken(token, data, { trustAnchors: options.trustAnchors, at: poe });
          if (past.indication === 'TOTAL_PASSED') {
            ts = past;
            recordNote += ', and the token is validated at that time';
          }
        }
      }
    }
    if (ts.indication !== 'TOTAL_PASSED') {
      const failed = ts.checks.find((k) => !k.passed && k.subIndication === ts.subIndication) ?? ts.checks.find((k) => !k.passed);
      const imprint = ts.subIndication === 'TIMESTAMP_IMPRINT_MISMATCH';
      const detail = imprint
        ? `${label}: the time-stamp is not over "${c.eventSeq}:<hash of row ${c.eventSeq}>": row ${c.eventSeq}'s hash is not the one time-stamped on ${ts.genTime?.toISOString() ?? '?'}`
        : `${label}: ${failed?.name}: ${failed?.detail}`;
      checks.push({ name: 'CHECKPOINT', passed: false, subIndication: ts.subIndication ?? 'FORMAT_FAILURE', detail: detail + recordNote, seq: c.eventSeq });
      if (imprint) firstBreak ??= { seq: c.eventSeq, line: row.line, detail };
      continue;
    }
    if (c.headHash !== row.hash) {
      const detail = `${label}: checkpoints.json says head hash ${c.headHash.slice(0, 16)}…, the row's hash is ${row.hash.slice(0, 16)}…`;
      checks.push({ name: 'CHECKPOINT', passed: false, subIndication: 'HASH_FAILURE', detail, seq: c.eventSeq });
      firstBreak ??= { seq: c.eventSeq, line: row.line, detail };
      continue;
    }
    pinned.add(c.eventSeq);
    checks.push({ name: 'CHECKPOINT', passed: true, detail: `${label}: time-stamped ${ts.genTime?.toISOString()} by ${ts.tsaSubject}, token valid, imprint over "${c.eventSeq}:${row.hash.slice(0, 16)}…"${recordNote}`, seq: c.eventSeq });
  }

  // LOG_START and LOG_HEAD: both ends pinned.
  if (first.seq === 1 && first.prevHash === GENESIS_HASH) checks.push({ name: 'LOG_START', passed: true, detail: 'the slice starts at the genesis row' });
  else if (pinned.has(first.seq)) checks.push({ name: 'LOG_START', passed: true, detail: `the slice starts at row ${first.seq}, pinned by a checkpoint` });
  else if (first.seq === 1) checks.push({ name: 'LOG_START', passed: false, subIndication: 'HASH_FAILURE', detail: 'row 1 does not chain from the genesis hash', seq: 1 });
  else checks.push({ name: 'LOG_START', passed: false, subIndication: 'NO_POE', detail: `the slice starts at row ${first.seq}, which no valid checkpoint pins`, seq: first.seq });
  if (pinned.has(toSeq)) checks.push({ name: 'LOG_HEAD', passed: true, detail: `the last row ${toSeq} is pinned by a checkpoint` });
  else {
    const lastPinned = [...pinned].sort((a, b) => b - a)[0];
    checks.push({ name: 'LOG_HEAD', passed: false, subIndication: 'NO_POE', detail: lastPinned === undefined ? 'no valid checkpoint pins any row of the slice' : `rows ${lastPinned + 1}..${toSeq} come after the last valid checkpoint (row ${lastPinned}): nothing pins them`, seq: toSeq });
  }

  // PROOFS_IN_LOG — the proofs are the ones the log recorded.
  if (manifest) checks.push(await checkProofsInLog(bundle, manifest, recorded));

  // The pins (LOG_START, LOG_HEAD) follow the checkpoints they depend on, so a bad token is named as the cause.
  const order: LogCheckName[] = ['LOG_FORMAT', 'LOG_CHAIN', 'CHECKPOINT', 'LOG_START', 'LOG_HEAD', 'PROOFS_IN_LOG'];
  checks.sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name) || (a.seq ?? 0) - (b.seq ?? 0));
  return report({ rows, redactedRows, fromSeq, toSeq, checkpoints: list.length, ...(firstBreak ? { firstBreak } : {}) });
}

async function checkProofsInLog(bundle: string, manifest: AuditManifest, recorded: Map<string, Recorded>): Promise<LogCheck> {
  for (const p of manifest.proofs) {
    const rec = recorded.get(p.evidenceId);
    if (!rec) return { name: 'PROOFS_IN_LOG', passed: false, subIndication: 'HASH_FAILURE', detail: `${p.file}: the log records no evidence ${p.evidenceId}` };
    let sha: string;
    try {
      sha = await sha256File(insideBundle(bundle, p.file));
    } catch {
      return { name: 'PROOFS_IN_LOG', passed: false, subIndication: 'SIGNED_DATA_NOT_FOUND', detail: `${p.file}: missing from the bundle`, seq: rec.seq };
    }
    if (sha !== rec.sha256 || rec.messageId !== p.messageId) {
      return { name: 'PROOFS_IN_LOG', passed: false, subIndication: 'HASH_FAILURE', detail: `${p.file}: SHA-256 ${sha.slice(0, 16)}… is not the ${String(rec.sha256).slice(0, 16)}… row ${rec.seq} recorded for evidence ${p.evidenceId}`, seq: rec.seq };
    }
  }
  return { name: 'PROOFS_IN_LOG', passed: true, detail: `each of the ${manifest.proofs.length} proofs is the one the log recorded (evidenceSha256)` };
}
