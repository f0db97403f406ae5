/**
 * Export for an auditor (operator side): one sender's messages submitted in a period, with
 * every proof of each, the decoded statements, optionally the documents, the event-log slice
 * that covers them with its time-stamped checkpoints, and the trust anchors — the bundle
 * described in auditBundle.ts, which `verify --dir` and `verify-log` accept as it is.
 *
 * The slice of the (global) event log: from the last checkpointed row before the first
 * event of these messages (or the genesis row) to the first checkpointed row at or after
 * their last event, so that both ends are pinned by a time-stamp. When the log has not been
 * checkpointed past the last event yet, the slice ends at that event and `verify-log` will say
 * the tail is unpinned (INDETERMINATE / NO_POE); the result says so too.
 *
 * With a RecordSource, each proof's RFC 4998 evidence record is written beside it (same stem,
 * `.ers`) and each kept checkpoint's beside its token; a proof or checkpoint in no
 * time-stamped tree yet is written without one (`recordsPending`), the manifest naming no record.
 *
 * Rows of any message not in the bundle (other senders', and this sender's outside the
 * period) are redacted to {seq, prevHash, hash}: the chain stays checkable, nothing leaks.
 *
 * The bundle is written to a temporary sibling folder and renamed into place at the end, so
 * a failed export never leaves something that looks like a complete bundle.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Language } from '../domain/EvidenceStatement.js';
import type { CheckpointRecord, EvidenceRecord, MessageRecord } from '../domain/records.js';
import type { Repositories } from '../store/Repositories.js';
import { AuditError } from './errors.js';
import {
  BUNDLE_FORMAT,
  checkpointRecordPath,
  checkpointTokenPath,
  CHECKPOINTS_FILE,
  documentPath,
  EVENTS_FILE,
  MANIFEST_FILE,
  proofPath,
  receiptPath,
  recordPath,
  statementPath,
  TRUST_FILE,
  type AuditManifest,
  type LogRow,
  type ManifestCheckpoint,
  type ManifestDocument,
  type ManifestProof,
} from './bundle.js';

/** Where document bytes are read from (the service's blob store). */
export interface DocumentSource {
  open(key: string): NodeJS.ReadableStream;
}

export interface ExportOptions {
  senderId: string;
  /** Messages submitted at or after `from` and before `to`. */
  from: Date;
  to: Date;
  outDir: string;
  /** PEM text of the trust anchors to ship (the dev root, or the operator's CA file). */
  trustAnchorsPem: string;
  /** Copy the documents too (those not yet purged by retention). */
  documents?: DocumentSource;
  /** Write each proof's PDF receipt in these languages too. */
  receipts?: ReceiptSource;
  /** Write the RFC 4998 evidence record of each proof and checkpoint beside it (those in a time-stamped tree). */
  records?: RecordSource;
  now?: Date;
}

/** Where receipts come from (the registered-mail receipts, signed as the service signs them). */
export interface ReceiptSource {
  languages: readonly Language[];
  render(evidence: EvidenceRecord, language: Language): Promise<Uint8Array>;
}

/** Where evidence records come from (registered-mail's records); undefined: not in a time-stamped tree yet. */
export interface RecordSource {
  evidence(evidence: EvidenceRecord): Promise<Uint8Array | undefined>;
  checkpoint(checkpoint: CheckpointRecord): Promise<Uint8Array | undefined>;
}

export interface ExportResult {
  outDir: string;
  messages: number;
  proofs: number;
  documents: number;
  receipts: number;
  /** Evidence records written (proofs and checkpoints). */
  records: number;
  /** Proofs and checkpoints of the bundle written without a record (in no time-stamped tree yet). */
  recordsPending: number;
  /** Documents whose bytes were already purged (listed in the manifest without a file). */
  documentsPurged: number;
  rows: number;
  redactedRows: number;
  checkpoints: number;
  fromSeq: number;
  toSeq: number;
  /** False when the log's tail after the last checkpoint is in the slice. */
  headPinned: boolean;
}

const PAGE = 500;
const ROWS_PER_READ = 5000;

async function messagesInPeriod(store: Repositories, senderId: string, from: Date, to: Date): Promise<MessageRecord[]> {
  const out: MessageRecord[] = [];
  let after: { submittedAt: string; id: string } | undefined;
  const toIso = to.toISOString();
  for (;;) {
    const page = await store.messages.listForSender(senderId, { since: from.toISOString(), limit: PAGE, ...(after ? { after } : {}) });
    for (const m of page.items) if (m.submittedAt < toIso) out.push(m);
    if (!page.next) break;
    after = page.next;
  }
  return out.sort((a, b) => a.submittedAt.localeCompare(b.submittedAt) || a.id.localeCompare(b.id));
}

async function writeFile(root: string, rel: string, data: string | Uint8Array): Promise<void> {
  const file = path.join(root, ...rel.split('/'));
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, data);
}

/** Copies a document out of the blob store, checking on the way that it is still the bytes the proofs name. */
async function copyDocument(source: DocumentSource, key: string, root: string, rel: string, sha256: string): Promise<boolean> {
  const file = path.join(root, ...rel.split('/'));
  await fs.mkdir(path.dirname(file), { recursive: true });
  const hash = createHash('sha256');
  try {
    await pipeline(
      source.open(key),
      new Transform({
        transform(chunk: Buffer, _enc, cb) {
          hash.update(chunk);
          cb(null, chunk);
        },
      }),
      createWriteStream(file),
    );
  } catch (err) {
    await fs.rm(file, { force: true });
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false; // purged by retention
    throw err;
  }
  const got = hash.digest('hex');
  if (got !== sha256) throw new Error(`document ${key} in the blob store has SHA-256 ${got}, not the ${sha256} its proofs name`);
  return true;
}

/**
 * The checkpoint nearest to `seq` going `down` (at or before it, to `limit`) or `up` (at or
 * after it, to `limit`), looked for in widening windows: checkpoints are frequent, so the
 * first window nearly always holds it, and no more than a window of tokens is ever loaded.
 */
async function nearestCheckpoint(store: Repositories, seq: number, direction: 'down' | 'up', limit: number): Promise<CheckpointRecord | undefined> {
  for (let width = 1024; ; width *= 4) {
    const lo = direction === 'down' ? Math.max(limit, seq - width + 1) : seq;
    const hi = direction === 'down' ? seq : Math.min(limit, seq + width - 1);
    const found = await store.checkpoints.list(lo, hi);
    if (found.length > 0) return found.reduce((best, c) => ((direction === 'down' ? c.eventSeq > best.eventSeq : c.eventSeq < best.eventSeq) ? c : best));
    if ((direction === 'down' && lo <= limit) || (direction === 'up' && hi >= limit)) return undefined;
  }
}

export async function exportAuditBundle(store: Repositories, options: ExportOptions): Promise<ExportResult> {
  if (!(options.from.getTime() < options.to.getTime())) throw new AuditError('PERIOD_INVALID', `the period is empty: --from ${options.from.toISOString()} is not before --to ${options.to.toISOString()}`);
  const sender = await store.senders.findById(options.senderId);
  if (!sender) throw new AuditError('SENDER_NOT_FOUND', `no sender with id ${options.senderId}`);
  const outDir = path.resolve(options.outDir);
  let existing: string[] | undefined;
  try {
    existing = await fs.readdir(outDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new AuditError('OUTPUT_EXISTS', `${options.outDir} cannot be used (${(err as NodeJS.ErrnoException).code})`, { cause: err });
  }
  if (existing && existing.length > 0) throw new AuditError('OUTPUT_EXISTS', `${options.outDir} exists and is not empty; give a new folder`);

  const messages = await messagesInPeriod(store, sender.id, options.from, options.to);
  if (messages.length === 0) throw new AuditError('NOTHING_TO_EXPORT', `sender ${sender.id} submitted no message from ${options.from.toISOString()} to ${options.to.toISOString()}`);

  await fs.mkdir(path.dirname(outDir), { recursive: true });
  const work = `${outDir}.partial-${randomBytes(4).toString('hex')}`;
  await fs.mkdir(work, { recursive: true, mode: 0o700 });
  try {
    const result = await writeBundle(store, options, sender, messages, work);
    if (existing) await fs.rmdir(outDir);
    await fs.rename(work, outDir);
    return { ...result, outDir };
  } catch (err) {
    await fs.rm(work, { recursive: true, force: true });
    throw err;
  }
}

async function writeBundle(
  store: Repositories,
  options: ExportOptions,
  sender: { id: string; name: string },
  messages: MessageRecord[],
  work: string,
): Promise<Omit<ExportResult, 'outDir'>> {
  const included = new Set(messages.map((m) => m.id));
  const proofs: ManifestProof[] = [];
  let minSeq = Number.POSITIVE_INFINITY;
  let maxSeq = 0;
  let copied = 0;
  let purged = 0;
  let receipts = 0;
  let records = 0;
  let recordsPending = 0;
  /** writes the record beside its object; the manifest names it */
  const writeRecord = async (rel: string, record: Uint8Array | undefined): Promise<string | undefined> => {
    if (!record) {
      recordsPending++;
      return undefined;
    }
    await writeFile(work, rel, record);
    records++;
    return rel;
  };

  for (const m of messages) {
    const [evidence, documents, events] = await Promise.all([store.evidence.listForMessage(m.id), store.messages.documents(m.id), store.events.listForMessage(m.id)]);
    for (const e of events) {
      minSeq = Math.min(minSeq, e.seq);
      maxSeq = Math.max(maxSeq, e.seq);
    }
    const docs: ManifestDocument[] = [];
    for (const d of documents) {
      const entry: ManifestDocument = { fileName: d.fileName, partName: d.partName, mediaType: d.mediaType, size: d.size, sha256: d.sha256 };
      if (options.documents && !m.documentsPurgedAt) {
        const rel = documentPath(m.id, d.position, d.fileName);
        if (await copyDocument(options.documents, d.blobKey, work, rel, d.sha256)) {
          entry.file = rel;
          copied++;
        } else purged++;
      } else if (options.documents) purged++;
      docs.push(entry);
    }
    for (const e of evidence) {
      const file = proofPath(m.id, e.seq, e.type);
      const statement = statementPath(m.id, e.seq, e.type);
      await writeFile(work, file, e.der);
      await writeFile(work, statement, JSON.stringify(JSON.parse(e.statement), null, 2) + '\n');
      const proof: ManifestProof = { file, statement, messageId: m.id, evidenceId: e.id, seq: e.seq, type: e.type, sha256: e.sha256, documents: docs };
      if (options.receipts) {
        proof.receipts = {};
        for (const language of options.receipts.languages) {
          const rel = receiptPath(m.id, e.seq, e.type, language);
          await writeFile(work, rel, await options.receipts.render(e, language));
          proof.receipts[language] = rel;
          receipts++;
        }
      }
      if (options.records) {
        const record = await writeRecord(recordPath(m.id, e.seq, e.type), await options.records.evidence(e));
        if (record) proof.record = record;
      }
      proofs.push(proof);
    }
  }

  // The slice, pinned at both ends where the log allows it.
  const head = (await store.events.head())?.seq ?? maxSeq;
  const before = minSeq > 1 && Number.isFinite(minSeq) ? await nearestCheckpoint(store, minSeq - 1, 'down', 0) : undefined;
  const fromSeq = before?.eventSeq ?? 1;
  const after = maxSeq > 0 ? await nearestCheckpoint(store, maxSeq, 'up', head) : undefined;
  const toSeq = after?.eventSeq ?? maxSeq;

  // Rows and checkpoints are read a window at a time and streamed out: a year's slice of a
  // busy log does not fit in memory. A checkpoint is kept when it pins an end of the slice or
  // is the first after a row of this bundle (it dates that row); the others add nothing.
  const eventsFile = path.join(work, ...EVENTS_FILE.split('/'));
  await fs.mkdir(path.dirname(eventsFile), { recursive: true });
  const out = createWriteStream(eventsFile);
  const write = (text: string) => (out.write(text) ? Promise.resolve() : new Promise<void>((resolve) => out.once('drain', () => resolve())));
  let rows = 0;
  let redacted = 0;
  const checkpoints: ManifestCheckpoint[] = [];
  let datesPending = true; // a row of the bundle since the last kept checkpoint
  try {
    for (let lo = fromSeq; lo <= toSeq; lo += ROWS_PER_READ) {
      const hi = Math.min(toSeq, lo + ROWS_PER_READ - 1);
      const [batch, pins] = await Promise.all([store.events.range(lo, hi, ROWS_PER_READ), store.checkpoints.list(lo, hi)]);
      const pinAt = new Map<number, CheckpointRecord>();
      for (const c of pins) if (!pinAt.has(c.eventSeq)) pinAt.set(c.eventSeq, c);
      let text = '';
      for (const r of batch) {
        const mine = included.has(r.messageId);
        const row: LogRow = mine ? r : { seq: r.seq, prevHash: r.prevHash, hash: r.hash, redacted: true };
        if (!mine) redacted++;
        if (mine) datesPending = true;
        text += JSON.stringify(row) + '\n';
        rows++;
        const c = pinAt.get(r.seq);
        if (c && (r.seq === fromSeq || r.seq === toSeq || datesPending)) {
          const token = checkpointTokenPath(c.eventSeq);
          await writeFile(work, token, c.token);
          const entry: ManifestCheckpoint = { eventSeq: c.eventSeq, headHash: c.headHash, genTime: c.genTime, token };
          if (options.records) {
            const record = await writeRecord(checkpointRecordPath(c.eventSeq), await options.records.checkpoint(c));
            if (record) entry.record = record;
          }
          checkpoints.push(entry);
          datesPending = false;
        }
      }
      await write(text);
    }
  } finally {
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
  await writeFile(work, CHECKPOINTS_FILE, JSON.stringify(checkpoints, null, 2) + '\n');
  await writeFile(work, TRUST_FILE, options.trustAnchorsPem.endsWith('\n') ? options.trustAnchorsPem : options.trustAnchorsPem + '\n');

  const manifest: AuditManifest = {
    format: BUNDLE_FORMAT,
    createdAt: (options.now ?? new Date()).toISOString(),
    sender: { id: sender.id, name: sender.name },
    period: { from: options.from.toISOString(), to: options.to.toISOString() },
    trustAnchors: [TRUST_FILE],
    proofs,
    log: { events: EVENTS_FILE, checkpoints: CHECKPOINTS_FILE, fromSeq, toSeq, redactedRows: redacted },
  };
  await writeFile(work, MANIFEST_FILE, JSON.stringify(manifest, null, 2) + '\n');
  await writeFile(work, 'README.txt', readme(manifest));
  return {
    messages: messages.length,
    proofs: proofs.length,
    documents: copied,
    receipts,
    records,
    recordsPending,
    documentsPurged: purged,
    rows,
    redactedRows: redacted,
    checkpoints: checkpoints.length,
    fromSeq,
    toSeq,
    headPinned: checkpoints.some((c) => c.eventSeq === toSeq),
  };
}

function readme(m: AuditManifest): string {
  const first = m.proofs[0];
  return `Audit bundle (${BUNDLE_FORMAT})
Sender ${m.sender.id} (${m.sender.name}), messages submitted from ${m.period.from} to ${m.period.to}.
${m.proofs.length} proofs; event-log rows ${m.log.fromSeq}..${m.log.toSeq} (${m.log.redactedRows} rows of other messages redacted).

Check it with the project's CLI, against the trust anchors published by the service
(trust/anchors.pem is a copy; compare its fingerprint with the published one):

  verify --dir . --trust PUBLISHED-ROOT.pem
  verify-log . --trust PUBLISHED-ROOT.pem

or with OpenSSL alone, one proof at a time:

  openssl cms -verify -cades -inform DER -in ${first?.file ?? 'proofs/<message>/<seq>-<type>.p7s'} -CAfile trust/anchors.pem
  (prints the statement; the signature time-stamp is checked by openssl ts -verify on the
  token and the signature value, see the project's README)
${
    first?.record
      ? `
Beside each proof, proofs/<messageId>/<seq>-<type>.ers is its RFC 4998 evidence record (DER): the
proof's SHA-256 is a leaf of a hash tree whose root was time-stamped, and renewed before each
TSA certificate expired, so the proof stays provable after its own keys expire. Each
checkpoint's record is beside its token (log/checkpoints/<eventSeq>.ers). Keep them with the
proofs: Bouncy Castle's org.bouncycastle.tsp.ers, or any RFC 4998 verifier, checks a record
against the SHA-256 of its proof and the trust anchors of its TSAs.
`
      : ''
  }${
    first?.receipts
      ? `
Each proof's PDF receipt (the proof in words, the proof attached) is under receipts/, in
${Object.keys(first.receipts).join(', ')}. Its PAdES signature is checked by any PDF reader, or:

  pdfsig ${Object.values(first.receipts)[0]}
`
      : ''
  }`;
}
