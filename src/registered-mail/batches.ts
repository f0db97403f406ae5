/**
 * Batches of registered messages (POST /v1/messages/batches): a manifest, one row per
 * message, and the documents its rows name, sent as one multipart body or as one ZIP
 * archive (BatchArchive.ts). Each row is a registered message exactly as POST /v1/messages
 * makes it — the same metadata rules, the same document checks and staging (streamed to
 * disk while hashed), the same records, first event and `accept` job (intake.ts) — or is
 * refused with the code that POST would have answered. A refused row leaves nothing: its
 * staged documents are removed and no row of it is written. The accepted rows, the batch
 * and each row's outcome are written in one transaction, so a 2xx means that every
 * accepted message is durable, and a failure leaves none of them.
 *
 * Manifest row (JSON array member or JSON line): the metadata of POST /v1/messages, whose
 * `documents` name the files of the upload, `{"file": "letter-1.pdf", "isMainContent": true}`
 * (`httpPartName` is read as a synonym), with an optional `mediaType` (ZIP entries have none
 * of their own: without it the type follows the name's extension).
 */
import { createHash } from 'node:crypto';
import { newRowId } from '../domain/RowId.js';
import { canonicalJson } from '../domain/CanonicalJson.js';
import type { Readable } from 'node:stream';
import type { Config } from '../config.js';
import { replayAfterRace, ServiceError } from '../domain/errors.js';
import type { SenderRecord } from '../domain/records.js';
import type { MessageStatus } from '../domain/status.js';
import { NulInJsonError, refuseNul, unsafeTextReason } from '../domain/text.js';
import type { BatchForm, BatchRecord, BatchRowRecord } from '../store/BatchRepository.js';
import type { StagedBlob } from '../store/BlobStore.js';
import type { FsBlobStore } from '../store/FsBlobStore.js';
import type { Repositories } from '../store/Repositories.js';
import { readBatchArchive } from './BatchArchive.js';
import { bareMediaType, cleanFileName, documentPartProblem, stagedDocumentProblem, type StagedDocument, type SubmissionService } from './intake.js';
import { parseMetadata, type SubmissionMetadata } from './metadata.js';

/** Media types of the extensions a ZIP entry may have when its manifest row names none. */
const TYPE_OF_EXTENSION: Record<string, string> = {
  pdf: 'application/pdf',
  xml: 'application/xml',
  txt: 'text/plain',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  tif: 'image/tiff',
  tiff: 'image/tiff',
  odt: 'application/vnd.oasis.opendocument.text',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
};

export function mediaTypeOfName(name: string): string {
  const ext = /\.([A-Za-z0-9]+)$/.exec(name)?.[1]?.toLowerCase();
  return (ext && TYPE_OF_EXTENSION[ext]) ?? 'application/octet-stream';
}

interface Row {
  /** 1-based, in manifest order */
  row: number;
  /** the row as sent (a JSON value, or the text of a JSON line that does not parse): for the request hash */
  sent: unknown;
  senderReference: string | null;
  metadata?: SubmissionMetadata;
  /** the `mediaType` the manifest gives each document, by file name */
  mediaTypes: Map<string, string>;
  problem?: ServiceError;
  staged: StagedDocument[];
  /** the SHA-256 of each document of the row read but not kept (the row was refused): for the request hash */
  drained: Map<string, string>;
  seen: Set<string>;
}

export interface BatchAccepted {
  batch: BatchRecord;
  /** true when an Idempotency-Key matched an earlier identical request */
  replayed: boolean;
}

export interface BatchView {
  batch: BatchRecord;
  /** PROCESSING while a message of the batch has no proof yet (RECEIVED), else DONE */
  status: 'PROCESSING' | 'DONE';
  messageStatuses: Partial<Record<MessageStatus, number>>;
  rows: Array<BatchRowRecord & { messageStatus?: MessageStatus }>;
  /** the last row of this page when more follow */
  cursor?: string;
}

export class BatchService {
  constructor(
    private readonly store: Repositories,
    private readonly submissions: SubmissionService,
    private readonly config: Config,
    /** where an uploaded ZIP waits while it is read (a local file: the reader needs to seek), whichever store keeps the documents */
    private readonly archives: FsBlobStore,
  ) {}

  get limits(): Config['batch'] {
    return this.config.batch;
  }

  get intakeLimits(): Config['intake'] {
    return this.config.intake;
  }

  /** Starts the intake of one batch request for this sender. */
  begin(sender: SenderRecord, idempotencyKey: string | undefined, form: BatchForm): BatchIntake {
    return new BatchIntake(this, sender, idempotencyKey, form);
  }

  /** Reads a ZIP batch from `source` into a new intake and accepts it (BatchArchive.ts). */
  async acceptArchive(sender: SenderRecord, idempotencyKey: string | undefined, source: Readable): Promise<BatchAccepted> {
    const intake = this.begin(sender, idempotencyKey, 'zip');
    try {
      await readBatchArchive(source, intake, {
        stage: (s, max) => this.archives.stage(s, max),
        discard: (b) => this.archives.discard(b),
        limits: this.config.batch,
        maxDocuments: this.config.intake.maxDocuments,
      });
      return await intake.finish();
    } finally {
      await intake.abort();
    }
  }

  stage(source: Readable): Promise<StagedBlob> {
    return this.submissions.stage(source);
  }

  discard(blob: StagedBlob): Promise<void> {
    return this.submissions.discard(blob);
  }

  /**
   * Writes the accepted rows' messages (as POST /v1/messages does), the batch and every
   * row's outcome in one transaction; with a known Idempotency-Key the first batch is
   * returned instead (same request) or IDEMPOTENCY_KEY_REUSED thrown (another request).
   */
  async accept(sender: SenderRecord, rows: Row[], form: BatchForm, idempotencyKey: string | undefined): Promise<BatchAccepted> {
    const requestHash = hashBatch(rows);
    if (idempotencyKey) {
      const replay = await this.replay(sender, idempotencyKey, requestHash);
      if (replay) return replay;
    }
    const now = new Date();
    const prepared = rows.map((r) => ({ r, p: r.problem ? undefined : this.submissions.prepare(sender, r.metadata!, r.staged, now) }));
    const records: BatchRowRecord[] = prepared.map(({ r, p }) =>
      p ? { row: r.row, senderReference: r.senderReference, messageId: p.message.id } : { row: r.row, senderReference: r.senderReference, problem: problemOf(r.problem!) },
    );
    const accepted = records.filter((r) => r.messageId !== undefined).length;
    const batch: BatchRecord = {
      id: newRowId(),
      senderId: sender.id,
      idempotencyKey: idempotencyKey ?? null,
      requestHash,
      form,
      rowCount: rows.length,
      acceptedCount: accepted,
      refusedCount: rows.length - accepted,
      submittedAt: now.toISOString(),
    };
    const committed: string[] = [];
    try {
      await this.store.commitWithBlobs(
        async (tx) => {
          for (const { p } of prepared) if (p) await this.submissions.place(p.blobs, committed, tx);
        },
        async (tx) => {
          for (const { p } of prepared) if (p) await this.submissions.write(tx, p.message, p.documents);
          await tx.batches.insert(batch, records);
        },
      );
    } catch (err) {
      await this.submissions.removeUncommitted(committed);
      if (idempotencyKey) {
        const replay = await replayAfterRace(() => this.replay(sender, idempotencyKey, requestHash));
        if (replay) return replay;
      }
      throw err;
    }
    return { batch, replayed: false };
  }

  private async replay(sender: SenderRecord, key: string, requestHash: string): Promise<BatchAccepted | undefined> {
    const seen = await this.store.batches.findByIdempotencyKey(sender.id, key);
    if (!seen) return undefined;
    if (seen.requestHash !== requestHash) {
      throw new ServiceError('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used for a different request', { extensions: { batchId: seen.id } });
    }
    return { batch: seen, replayed: true };
  }

  /** One page of a batch of this sender's: another sender's batch is NOT_FOUND. */
  async view(sender: SenderRecord, id: string, opts: { cursor?: string; limit?: string } = {}): Promise<BatchView> {
    const limit = opts.limit === undefined ? 100 : /^\d{1,4}$/.test(opts.limit) ? Number(opts.limit) : NaN;
    if (!(limit >= 1 && limit <= 1000)) throw new ServiceError('QUERY_INVALID', 'limit must be 1 to 1000');
    if (opts.cursor !== undefined && !/^\d{1,6}$/.test(opts.cursor)) throw new ServiceError('QUERY_INVALID', 'cursor is the one given in `next`');
    const batch = /^[0-9a-f-]{36}$/i.test(id) ? await this.store.batches.findForSender(sender.id, id) : undefined;
    if (!batch) throw new ServiceError('NOT_FOUND', 'no such batch');
    const after = opts.cursor === undefined ? 0 : Number(opts.cursor);
    const rows = await this.store.batches.rows(batch.id, after, limit + 1);
    const page = rows.slice(0, limit);
    const messageStatuses = await this.store.batches.messageStatuses(batch.id);
    return {
      batch,
      status: (messageStatuses.RECEIVED ?? 0) > 0 ? 'PROCESSING' : 'DONE',
      messageStatuses,
      rows: page,
      ...(rows.length > limit ? { cursor: String(page[page.length - 1]!.row) } : {}),
    };
  }
}

/**
 * One batch request's intake. The manifest comes first; each document is then staged for
 * the row that names it. A problem of one row refuses that row (its later documents are
 * read and hashed, for the request hash, but not kept); a problem of the request (a document no row names, a manifest that
 * cannot be read, a limit of the batch) refuses the whole, and every later document is
 * drained. `finish` or `abort` must be called once.
 */
export class BatchIntake {
  private rows: Row[] | undefined;
  private manifestSeen = false;
  /** a manifest sent as a file part, still being read: documents after it wait for it */
  private manifestReading: Promise<void> | undefined;
  /** which row names each file */
  private readonly owner = new Map<string, Row>();
  private readonly pending: Array<Promise<void>> = [];
  private error: ServiceError | undefined;

  constructor(
    private readonly service: BatchService,
    private readonly sender: SenderRecord,
    private readonly idempotencyKey: string | undefined,
    private readonly form: BatchForm,
  ) {}

  get failed(): ServiceError | undefined {
    return this.error;
  }

  fail(error: ServiceError): void {
    this.error ??= error;
  }

  /** true when a row of the manifest names this file */
  declares(name: string): boolean {
    return this.owner.has(name);
  }

  /** The manifest: a JSON array of rows, or JSON lines (one row per line). */
  setManifest(raw: string, truncated: boolean): void {
    if (this.manifestSeen) return this.fail(new ServiceError('BATCH_MANIFEST_INVALID', 'the manifest appears more than once'));
    this.manifestSeen = true;
    const { maxRows, maxManifestBytes } = this.service.limits;
    if (truncated) return this.fail(new ServiceError('BATCH_TOO_LARGE', `the manifest is larger than ${maxManifestBytes} bytes`, { extensions: { limit: maxManifestBytes } }));
    let sent: Array<{ text?: string; value?: unknown }>;
    const text = raw.replace(/^\uFEFF/, '').trim();
    if (text.startsWith('[')) {
      let array: unknown;
      try {
        array = JSON.parse(text, refuseNul);
      } catch (err) {
        return this.fail(new ServiceError('BATCH_MANIFEST_INVALID', err instanceof NulInJsonError ? err.message : 'the manifest is not a valid JSON array', { cause: err }));
      }
      if (!Array.isArray(array)) return this.fail(new ServiceError('BATCH_MANIFEST_INVALID', 'the manifest must be a JSON array of rows, or JSON lines'));
      sent = array.map((value: unknown) => ({ value }));
    } else {
      sent = text
        .split(/\r?\n/)
        .filter((l) => l.trim() !== '')
        .map((line) => ({ text: line }));
    }
    if (sent.length === 0) return this.fail(new ServiceError('BATCH_MANIFEST_INVALID', 'the manifest has no rows'));
    if (sent.length > maxRows) return this.fail(new ServiceError('BATCH_TOO_LARGE', `at most ${maxRows} rows per batch`, { extensions: { limit: maxRows } }));
    this.rows = sent.map((s, i) => this.row(i + 1, s));
  }

  /** Reads the manifest from a file part (multipart); at most BATCH_MAX_MANIFEST_BYTES are kept. */
  readManifest(stream: Readable): void {
    const max = this.service.limits.maxManifestBytes;
    const reading = (async () => {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const c of stream as AsyncIterable<Buffer>) {
        size += c.length;
        if (size <= max) chunks.push(c);
      }
      this.setManifest(Buffer.concat(chunks).toString('utf8'), size > max);
    })()
      .catch((err: unknown) => this.fail(err instanceof ServiceError ? err : new ServiceError('MULTIPART_INVALID', 'the manifest part cannot be read', { cause: err })))
      .finally(() => {
        this.error ??= this.rows ? undefined : new ServiceError('BATCH_MANIFEST_INVALID', 'the manifest part cannot be read');
      });
    this.manifestReading ??= reading;
    this.pending.push(reading);
  }

  private row(n: number, s: { text?: string; value?: unknown }): Row {
    const limits = this.service.intakeLimits;
    let value = s.value;
    let parsed = s.text === undefined;
    if (s.text !== undefined) {
      try {
        value = JSON.parse(s.text, refuseNul);
        parsed = true;
      } catch {
        // parseMetadata gives the code POST /v1/messages gives
      }
    }
    const row: Row = { row: n, sent: parsed ? value : s.text, senderReference: null, mediaTypes: new Map(), staged: [], drained: new Map(), seen: new Set() };
    const object = parsed && typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
    const ref = object?.senderReference;
    if (typeof ref === 'string' && ref.length <= 200 && !unsafeTextReason(ref)) row.senderReference = ref;
    // the files the row names, read leniently: a row refused for its recipient still owns its files
    const names: string[] = [];
    let metadataText = s.text;
    if (object && Array.isArray(object.documents)) {
      const documents = object.documents.map((d: unknown) => {
        if (typeof d !== 'object' || d === null || Array.isArray(d)) return d;
        const { file, mediaType, ...rest } = d as Record<string, unknown>;
        const name = typeof file === 'string' && rest.httpPartName === undefined ? file : rest.httpPartName;
        if (typeof name === 'string') {
          names.push(name);
          if (typeof mediaType === 'string') row.mediaTypes.set(name, mediaType);
        }
        return { ...rest, httpPartName: name };
      });
      metadataText = JSON.stringify({ ...object, documents });
    } else if (parsed) {
      metadataText = JSON.stringify(value);
    }
    try {
      if (metadataText !== undefined && Buffer.byteLength(metadataText) > limits.maxMetadataBytes) {
        throw new ServiceError('METADATA_INVALID', `the row is larger than ${limits.maxMetadataBytes} bytes`);
      }
      row.metadata = parseMetadata(metadataText, limits.maxDocuments);
      for (const [name, type] of row.mediaTypes) {
        if (type.length > 255) throw new ServiceError('METADATA_INVALID', `the mediaType of "${name}" is too long`);
      }
    } catch (err) {
      row.problem = err instanceof ServiceError ? err : new ServiceError('METADATA_INVALID', 'the row cannot be read', { cause: err });
    }
    for (const name of names) {
      const other = this.owner.get(name);
      if (!other) this.owner.set(name, row);
      else if (other !== row) {
        row.problem ??= new ServiceError('DOCUMENT_PART_DUPLICATE', `"${name}" is named by row ${other.row} already: each file belongs to one row`, { extensions: { part: name } });
      }
    }
    return row;
  }

  /**
   * Stages one document for the row that names it; always consumes `stream`. `mediaType`
   * is the part's own (multipart); undefined for a ZIP entry (the manifest's, or by extension).
   */
  addDocument(name: string, fileName: string | undefined, mediaType: string | undefined, stream: Readable): Promise<void> {
    const drain = () => {
      stream.resume();
      return Promise.resolve();
    };
    if (this.error) return drain();
    if (!this.rows && this.manifestReading) {
      // the manifest part came first but is not read to its end yet: the document waits (unread);
      // once it is read, rows are set or the intake has failed
      const job = this.manifestReading.then(() => this.addDocument(name, fileName, mediaType, stream));
      this.pending.push(job);
      return job;
    }
    if (!this.rows) {
      this.fail(new ServiceError('BATCH_MANIFEST_MISSING', 'the manifest must come first, before the documents'));
      return drain();
    }
    const row = this.owner.get(name);
    if (!row) {
      this.fail(new ServiceError('DOCUMENT_PART_UNDECLARED', `"${name}" is not named by any row of the manifest`, { extensions: { part: name } }));
      return drain();
    }
    // a refused row's documents are read to their end and hashed, not kept: the request
    // hash covers them, so that a retry with other bytes is not taken for a replay
    const digest = () => {
      const job = digestOf(stream).then(
        (sha256) => void row.drained.set(row.drained.has(name) ? `${name}#${row.drained.size}` : name, sha256),
        (err) => this.fail(new ServiceError('INTERNAL', 'a document could not be read', { cause: err })),
      );
      this.pending.push(job);
      return job;
    };
    const duplicate = row.seen.has(name);
    row.seen.add(name);
    if (row.problem) return digest();
    const limits = this.service.intakeLimits;
    const type = bareMediaType(mediaType ?? row.mediaTypes.get(name) ?? mediaTypeOfName(name));
    const problem = documentPartProblem(name, fileName, type, duplicate, limits);
    if (problem) {
      row.problem = problem;
      return digest();
    }
    const job = this.service.stage(stream).then(
      (blob) => {
        row.staged.push({ partName: name, fileName: cleanFileName(fileName, name), mediaType: type, blob });
        row.problem ??= stagedDocumentProblem(name, blob, limits);
      },
      (err) => {
        stream.resume();
        this.fail(new ServiceError('INTERNAL', 'a document could not be stored', { cause: err }));
      },
    );
    this.pending.push(job);
    return job;
  }

  /** Waits for every document, decides each row and accepts the batch. */
  async finish(): Promise<BatchAccepted> {
    await Promise.all(this.pending);
    try {
      if (this.error) throw this.error;
      if (!this.rows) throw new ServiceError('BATCH_MANIFEST_MISSING', 'the batch needs a manifest: a "manifest" part, or manifest.json (or .jsonl) in the ZIP archive');
      for (const row of this.rows) {
        if (row.problem) continue;
        for (const d of row.metadata!.documents) {
          if (!row.staged.some((s) => s.partName === d.httpPartName)) {
            row.problem = new ServiceError('DOCUMENT_MISSING', `"${d.httpPartName}" is named by the row but was not sent`, { extensions: { part: d.httpPartName } });
            break;
          }
        }
      }
      if (this.rows.every((r) => r.problem)) {
        throw new ServiceError('BATCH_REFUSED', 'every row of the batch was refused', {
          extensions: {
            rows: this.rows.map((r) => {
              const p = problemOf(r.problem!);
              return { row: r.row, ...(r.senderReference !== null ? { senderReference: r.senderReference } : {}), code: p.code, detail: p.detail, ...p.extensions };
            }),
          },
        });
      }
      return await this.service.accept(this.sender, this.rows, this.form, this.idempotencyKey);
    } finally {
      await this.abort();
    }
  }

  /** Removes whatever is still staged (committed blobs have been moved already). */
  async abort(): Promise<void> {
    await Promise.all(this.pending.map((p) => p.catch(() => undefined)));
    const staged = (this.rows ?? []).flatMap((r) => r.staged);
    await Promise.all(staged.map((s) => (s.blob.committed ? undefined : this.service.discard(s.blob).catch(() => undefined))));
  }
}

/** The problem a row was refused with, as stored and shown: code, detail and the problem's own members. */
function problemOf(e: ServiceError): { code: string; detail: string; extensions: Record<string, unknown> } {
  return { code: e.code === 'INTERNAL' ? 'INTERNAL' : e.code, detail: e.code === 'INTERNAL' ? 'unexpected error' : e.message, extensions: e.extensions };
}

/**
 * SHA-256 over the canonical form of what was asked: the rows as sent, each staged
 * document's name, type and digest, and the digest of each document read for a refused row.
 */
function hashBatch(rows: Row[]): string {
  const docs = rows
    .flatMap((r) => r.staged)
    .sort((a, b) => a.partName.localeCompare(b.partName))
    .map((s) => ({ part: s.partName, fileName: s.fileName, mediaType: s.mediaType, sha256: s.blob.sha256 }));
  const drained = rows.flatMap((r) => [...r.drained].map(([part, sha256]) => ({ row: r.row, part, sha256 })));
  drained.sort((a, b) => a.row - b.row || a.part.localeCompare(b.part));
  return createHash('sha256')
    .update(canonicalJson({ rows: rows.map((r) => r.sent ?? null), docs, drained })!)
    .digest('hex');
}

async function digestOf(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream as AsyncIterable<Buffer>) hash.update(chunk);
  return hash.digest('hex');
}
