/**
 * Intake of a registered message: the sender's metadata and document parts arrive as a
 * stream; each document is staged to disk while hashed; when the request is complete the
 * whole is validated and its first proof sealed — whether the recipient's e-Box is
 * reachable, SubmissionAcceptance or SubmissionRejection (DeliveryService.decide) — then the
 * documents are committed (fsynced, renamed) to the blob store, and message, documents,
 * idempotency key, events, proof and the `deposit` job are written in one transaction. Only
 * then is the message accepted. When the proof cannot be sealed in time (the e-Box or the
 * TSA slow or down), or SUBMIT_SEAL=job, the message is written RECEIVED with an `accept`
 * job instead, and sealing its proof is that job's work (src/registered-mail/delivery.ts).
 * Any failure removes what was staged or committed, so a refused request leaves nothing
 * behind — committed bytes once the database confirms that their transaction did not
 * commit after all.
 */
import { createHash } from 'node:crypto';
import { newRowId } from '../domain/RowId.js';
import { canonicalJson } from '../domain/CanonicalJson.js';
import type { Readable } from 'node:stream';
import type { Config } from '../config.js';
import { replayAfterRace, ServiceError } from '../domain/errors.js';
import { unsafeTextReason } from '../domain/text.js';
import type { BlobStore, StagedBlob } from '../store/BlobStore.js';
import type { DocumentRecord, EvidenceRecord, MessageRecord, SenderRecord } from '../domain/records.js';
import type { Repositories } from '../store/Repositories.js';
import type { Decision, DeliveryService } from './delivery.js';
import type { EvidenceNotifier } from './evidence.js';
import { parseMetadata, PART_NAME, type SubmissionMetadata } from './metadata.js';

export interface StagedDocument {
  partName: string;
  fileName: string;
  mediaType: string;
  blob: StagedBlob;
}

export interface PreparedMessage {
  message: MessageRecord;
  documents: DocumentRecord[];
  /** each staged blob and the key of the document object it becomes */
  blobs: Array<{ blob: StagedBlob; key: string }>;
}

export interface Accepted {
  message: MessageRecord;
  documents: DocumentRecord[];
  /** true when an Idempotency-Key matched an earlier identical request */
  replayed: boolean;
  /** the first proof, when it was sealed before the message committed and written with it */
  evidence?: EvidenceRecord;
}

/** What seals a message's first proof before the intake commits it (DeliveryService). */
export type Decider = Pick<DeliveryService, 'decide' | 'settled' | 'recordDecision'>;

/** SHA-256 over the canonical form of what was asked: metadata and each document's name, type and digest. */
function hashRequest(metadata: SubmissionMetadata, staged: StagedDocument[]): string {
  const docs = [...staged].sort((a, b) => a.partName.localeCompare(b.partName)).map((s) => ({ part: s.partName, fileName: s.fileName, mediaType: s.mediaType, sha256: s.blob.sha256 }));
  return createHash('sha256').update(canonicalJson({ metadata, docs })!).digest('hex');
}

/** the length of documents.media_type: with ALLOWED_MEDIA_TYPES=*\/* a longer type would reach it */
const MAX_MEDIA_TYPE_LENGTH = 255;
/** Objects whose transaction's outcome is unknown are looked at again at most this far apart. */
const UNCOMMITTED_RETRY_MAX_MS = 10_000;

export class SubmissionService {
  /** objects of failed intakes waiting to be looked at again (removeUncommitted), by their timer */
  private readonly retries = new Map<ReturnType<typeof setTimeout>, string[]>();
  private closing = false;

  constructor(
    private readonly store: Repositories,
    private readonly blobs: BlobStore,
    private readonly config: Config,
    /** seals the first proof at intake (SUBMIT_SEAL=intake); without it, the `accept` job does */
    private readonly decider?: Decider,
  ) {}

  /**
   * Starts the intake of one request for this sender. `sealWithin`: how long the intake may
   * take to seal the first proof before it commits (0: the `accept` job seals it after).
   */
  begin(sender: SenderRecord, idempotencyKey?: string, opts: { sealWithin?: number } = {}): Intake {
    return new Intake(this, sender, idempotencyKey, opts.sealWithin ?? 0);
  }

  /**
   * Waits up to `ms` for the message to leave RECEIVED (its first evidence sealed);
   * returns the message as it then is. `written`: the message as this process's intake
   * has just written it. A message is read only when neither that nor the notification of
   * its proof (EvidenceNotifier: the message as the proof's transaction committed it) says
   * how it is: the proof was announced without it, by another process, or not at all within
   * 250 ms.
   */
  async waitForDecision(messageId: string, ms: number, notifier: EvidenceNotifier, written?: MessageRecord): Promise<MessageRecord | undefined> {
    const deadline = Date.now() + ms;
    // Listening before each read: a notification that comes while the status is being read
    // (the job can seal within milliseconds) is not missed, so the wait ends at once.
    let notified = false;
    let told: MessageRecord | undefined;
    let wake: (() => void) | undefined;
    const listener = (message?: MessageRecord) => {
      notified = true;
      told = message;
      wake?.();
    };
    notifier.on(messageId, listener);
    // listening already: a proof announced from now on ends the wait; one announced before is remembered
    const earlier = notifier.notifiedRecently(messageId);
    let known = earlier ? earlier.message : written;
    try {
      for (;;) {
        notified = false;
        const m = known ?? (await this.store.messages.findById(messageId));
        known = undefined;
        if (!m || m.status !== 'RECEIVED' || Date.now() >= deadline) return m;
        if (notified) {
          known = told;
          continue;
        }
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => wake?.(), Math.min(250, Math.max(0, deadline - Date.now())));
          wake = () => {
            clearTimeout(t);
            wake = undefined;
            resolve();
          };
        });
        if (notified) known = told;
      }
    } finally {
      notifier.off(messageId, listener);
    }
  }

  /**
   * Called by Intake.finish once everything is staged and validated: seals the first proof
   * (within `sealWithin` ms), commits the documents, then in one transaction the message,
   * its documents, its idempotency key, its events, and either the proof and what follows it
   * or, when no proof could be sealed in time, the `accept` job that seals it. With a known
   * Idempotency-Key the first message is returned instead (same request) or
   * IDEMPOTENCY_KEY_REUSED thrown (another request).
   */
  async accept(sender: SenderRecord, metadata: SubmissionMetadata, staged: StagedDocument[], idempotencyKey: string | undefined, sealWithin = 0): Promise<Accepted> {
    // what a replay of the same key is compared by: only needed with a key
    const requestHash = idempotencyKey ? hashRequest(metadata, staged) : '';
    if (idempotencyKey) {
      const replay = await this.replay(sender, idempotencyKey, requestHash);
      if (replay) return replay;
    }
    const { message, documents, blobs } = this.prepare(sender, metadata, staged, new Date());
    const decision = await this.decideWithin(sealWithin, message, sender, documents);
    const committed: string[] = [];
    let accepted: Accepted;
    try {
      // the bytes move into place and the rows that name them commit with no sweep in between
      accepted = await this.store.commitWithBlobs(
        (tx) => this.place(blobs, committed, tx),
        async (tx) => {
          let written: Accepted = { message, documents, replayed: false };
          if (decision) written = await this.writeDecided(tx, message, documents, decision);
          else await this.write(tx, message, documents);
          if (idempotencyKey) await tx.messages.insertIdempotencyKey(sender.id, idempotencyKey, requestHash, message.id);
          return written;
        },
      );
    } catch (err) {
      // A transaction that reports a failure may have committed all the same (its COMMIT
      // reached the database, the answer was lost with the connection): its bytes go only
      // once the database says that no row names them.
      await this.removeUncommitted(committed);
      // A concurrent request with the same key won the race: answer as a replay of it, or
      // IDEMPOTENCY_KEY_REUSED when it was another request.
      if (idempotencyKey) {
        const replay = await replayAfterRace(() => this.replay(sender, idempotencyKey, requestHash));
        if (replay) return replay;
      }
      throw err;
    }
    return accepted;
  }

  /**
   * The first proof of a message not yet written, sealed within `ms`; undefined when there is
   * no time for it, no decider, or it fails or takes longer (the e-Box or the TSA slow or
   * down): the `accept` job then decides, with its retries, after the message has committed.
   * A proof sealed here is stored and given out only with the transaction that writes its
   * message: one sealed for a transaction that fails is dropped.
   */
  private async decideWithin(ms: number, message: MessageRecord, sender: SenderRecord, documents: DocumentRecord[]): Promise<Decision | undefined> {
    if (!this.decider || ms <= 0 || this.config.submitSeal !== 'intake') return undefined;
    const deciding = this.decider.decide(message, sender, documents);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), ms);
    });
    try {
      return await Promise.race([deciding, late]);
    } catch {
      // the job meets the same cause again, and retries or records it (EboxError, TimeStampError)
      return undefined;
    } finally {
      clearTimeout(timer);
      deciding.catch(() => undefined);
    }
  }

  /**
   * In the caller's transaction: a message already decided — its row in the status its first
   * proof leads to, its documents, its MessageReceived event, then the proof, its event and
   * what follows it (DeliveryService.recordDecision: the `deposit` job for a reachable
   * recipient, the sender's webhook).
   */
  private async writeDecided(tx: Repositories, message: MessageRecord, documents: DocumentRecord[], decision: Decision): Promise<Accepted> {
    const settled = this.decider!.settled(message, decision);
    await tx.messages.insert(settled, documents);
    await this.appendReceived(tx, message, documents);
    const recorded = await this.decider!.recordDecision(tx, settled, decision, { written: true });
    return { message: recorded.message, documents, replayed: false, evidence: recorded.evidence };
  }

  /**
   * The records of one accepted message: the message RECEIVED, its documents in the
   * metadata's order, and which staged blob becomes which document's object. Shared by
   * POST /v1/messages and each row of a batch (batches.ts), so both make the same message.
   */
  prepare(sender: SenderRecord, metadata: SubmissionMetadata, staged: StagedDocument[], now: Date): PreparedMessage {
    const byPart = new Map(staged.map((s) => [s.partName, s]));
    const messageId = newRowId();
    const blobs: PreparedMessage['blobs'] = [];
    const documents: DocumentRecord[] = metadata.documents.map((d, position) => {
      const s = byPart.get(d.httpPartName)!;
      const id = newRowId();
      blobs.push({ blob: s.blob, key: id });
      return { id, messageId, position, partName: d.httpPartName, fileName: s.fileName, mediaType: s.mediaType, size: s.blob.size, sha256: s.blob.sha256, isMain: d.isMainContent, blobKey: id };
    });
    const at = now.toISOString();
    const message: MessageRecord = {
      id: messageId,
      senderId: sender.id,
      recipientType: metadata.recipient.type,
      recipientId: metadata.recipient.id,
      subject: metadata.subject,
      senderReference: metadata.senderReference,
      status: 'RECEIVED',
      submittedAt: at,
      updatedAt: at,
      expiresAt: new Date(now.getTime() + this.config.delivery.messageExpiryMs).toISOString(),
      eboxMessageId: null,
      documentsPurgedAt: null,
    };
    return { message, documents, blobs };
  }

  /**
   * Moves prepared blobs to their keys, noting each in `committed` (for removeUncommitted);
   * in `tx`, the intake's transaction, when the blob store is in the database.
   */
  async place(blobs: PreparedMessage['blobs'], committed: string[], tx?: Repositories): Promise<void> {
    for (const b of blobs) {
      await this.blobs.commit(b.blob, b.key, tx);
      committed.push(b.key);
    }
  }

  /** In the caller's transaction: the message, its documents, the first event and the `accept` job. */
  async write(tx: Repositories, message: MessageRecord, documents: DocumentRecord[]): Promise<void> {
    await tx.messages.insert(message, documents);
    await this.appendReceived(tx, message, documents);
    await tx.jobs.enqueue({ type: 'accept', messageId: message.id, dedupeKey: `accept:${message.id}`, maxAttempts: this.config.worker.sealMaxAttempts, payload: { messageId: message.id } });
  }

  private async appendReceived(tx: Repositories, message: MessageRecord, documents: DocumentRecord[]): Promise<void> {
    await tx.events.append({
      messageId: message.id,
      type: 'MessageReceived',
      at: message.submittedAt,
      data: { senderId: message.senderId, documents: documents.map((d) => ({ partName: d.partName, sha256: d.sha256, size: d.size })) },
    });
  }

  /**
   * Removes the objects among `keys` that no document row names, looked up with the blob
   * fence held exclusively (BlobFence.ts): no intake transaction is then in progress
   * anywhere — one the database is still finishing included — so what it finds is final.
   * While the database cannot answer, the objects stay and are looked at again in the
   * background, less and less often (and by the blob sweep of the next start, should this
   * process stop first).
   */
  async removeUncommitted(keys: string[], retryMs = 0): Promise<void> {
    if (keys.length === 0) return;
    try {
      await this.store.underBlobSweep(async (tx) => {
        const named = await tx.messages.liveAmong(keys);
        for (const k of keys) if (!named.has(k)) await this.blobs.remove(k);
      });
    } catch {
      if (this.closing) return; // the blob sweep of the next start takes them
      const next = Math.min(Math.max(retryMs * 2, 250), UNCOMMITTED_RETRY_MAX_MS);
      const retry = setTimeout(() => {
        this.retries.delete(retry);
        void this.removeUncommitted(keys, next);
      }, next);
      retry.unref();
      this.retries.set(retry, keys);
    }
  }

  /**
   * Before the process stops (after the HTTP server has stopped taking requests): the objects
   * still waiting to be looked at again are looked at once more now, not left to the blob sweep
   * of the next start — a database back from an outage answers at once.
   */
  async close(): Promise<void> {
    this.closing = true;
    const waiting = [...this.retries];
    this.retries.clear();
    for (const [timer] of waiting) clearTimeout(timer);
    await Promise.all(waiting.map(([, keys]) => this.removeUncommitted(keys)));
  }

  private async replay(sender: SenderRecord, key: string, requestHash: string): Promise<Accepted | undefined> {
    const seen = await this.store.messages.findIdempotencyKey(sender.id, key);
    if (!seen) return undefined;
    if (seen.requestHash !== requestHash) {
      throw new ServiceError('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used for a different request', { extensions: { messageId: seen.messageId } });
    }
    const message = await this.store.messages.findById(seen.messageId);
    if (!message) throw new ServiceError('INTERNAL', 'idempotency key refers to a missing message');
    return { message, documents: await this.store.messages.documents(message.id), replayed: true };
  }

  stage(source: Readable): Promise<StagedBlob> {
    return this.blobs.stage(source, this.config.intake.maxDocumentBytes);
  }

  discard(blob: StagedBlob): Promise<void> {
    return this.blobs.discard(blob);
  }

  get limits(): Config['intake'] {
    return this.config.intake;
  }
}

/**
 * One request's intake. Parts may come in any order; the first error is kept and every
 * later part is drained without being stored. `finish` or `abort` must be called once.
 */
export class Intake {
  private metadataRaw: string | undefined;
  private metadataSeen = false;
  private readonly staged: StagedDocument[] = [];
  private readonly pending: Array<Promise<void>> = [];
  private fileParts = 0;
  /** every document part name seen so far, staged or still streaming */
  private readonly partNames = new Set<string>();
  private error: ServiceError | undefined;

  constructor(
    private readonly service: SubmissionService,
    private readonly sender: SenderRecord,
    private readonly idempotencyKey: string | undefined,
    private readonly sealWithin: number,
  ) {}

  get failed(): ServiceError | undefined {
    return this.error;
  }

  fail(error: ServiceError): void {
    this.error ??= error;
  }

  setMetadata(raw: string, truncated: boolean): void {
    if (this.metadataSeen) return this.fail(new ServiceError('METADATA_INVALID', 'the metadata part appears more than once'));
    this.metadataSeen = true;
    if (truncated) return this.fail(new ServiceError('METADATA_INVALID', `the metadata part is larger than ${this.service.limits.maxMetadataBytes} bytes`));
    this.metadataRaw = raw;
  }

  /** Reads the metadata from a file part; at most maxMetadataBytes are kept. */
  readMetadata(stream: Readable): void {
    const max = this.service.limits.maxMetadataBytes;
    this.pending.push(
      (async () => {
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const c of stream as AsyncIterable<Buffer>) {
          size += c.length;
          if (size <= max) chunks.push(c);
        }
        this.setMetadata(Buffer.concat(chunks).toString('utf8'), size > max);
      })(),
    );
  }

  /** Stages one document part; always consumes `stream`. */
  addDocument(partName: string, fileName: string | undefined, mediaType: string, stream: Readable): void {
    this.fileParts++;
    const seen = this.partNames.has(partName);
    this.partNames.add(partName);
    const limits = this.service.limits;
    const type = bareMediaType(mediaType);
    if (!this.error) {
      if (this.fileParts > limits.maxDocuments) {
        this.fail(new ServiceError('TOO_MANY_DOCUMENTS', `at most ${limits.maxDocuments} documents per message`));
      } else {
        const problem = documentPartProblem(partName, fileName, type, seen, limits);
        if (problem) this.fail(problem);
      }
    }
    if (this.error) {
      stream.resume();
      return;
    }
    const job = this.service.stage(stream).then(
      async (blob) => {
        const doc: StagedDocument = { partName, fileName: cleanFileName(fileName, partName), mediaType: type, blob };
        this.staged.push(doc);
        const problem = stagedDocumentProblem(partName, blob, limits);
        if (problem) this.fail(problem);
      },
      (err) => {
        stream.resume();
        this.fail(new ServiceError('INTERNAL', 'a document could not be stored', { cause: err }));
      },
    );
    this.pending.push(job);
  }

  /** Waits for every part, validates the whole and accepts it. */
  async finish(): Promise<Accepted> {
    await Promise.all(this.pending);
    try {
      if (this.error) throw this.error;
      const metadata = parseMetadata(this.metadataRaw, this.service.limits.maxDocuments);
      const declared = new Set(metadata.documents.map((d) => d.httpPartName));
      for (const s of this.staged) {
        if (!declared.has(s.partName)) {
          throw new ServiceError('DOCUMENT_PART_UNDECLARED', `part "${s.partName}" is not listed in metadata.documents`, { extensions: { part: s.partName } });
        }
      }
      for (const name of declared) {
        if (!this.staged.some((s) => s.partName === name)) {
          throw new ServiceError('DOCUMENT_MISSING', `document part "${name}" is listed in metadata.documents but was not sent`, { extensions: { part: name } });
        }
      }
      return await this.service.accept(this.sender, metadata, this.staged, this.idempotencyKey, this.sealWithin);
    } finally {
      await this.abort();
    }
  }

  /** Removes whatever is still staged (committed blobs have been moved already). */
  async abort(): Promise<void> {
    await Promise.all(this.pending.map((p) => p.catch(() => undefined)));
    await Promise.all(this.staged.map((s) => this.service.discard(s.blob).catch(() => undefined)));
  }
}

/** Control characters are dropped from a file name (cleanFileName); what else would misread it is refused. */
function unsafeFileName(raw: string): string | undefined {
  return unsafeTextReason(raw.replace(/\p{Cc}/gu, ''));
}

/** The media type without parameters, lower case. */
export function bareMediaType(mediaType: string): string {
  return mediaType.split(';')[0]!.trim().toLowerCase();
}

/**
 * What refuses a document part before its bytes are read: its name, a duplicate of it, its
 * file name, its media type. The same checks, with the same codes, for every form of upload.
 */
export function documentPartProblem(partName: string, fileName: string | undefined, type: string, duplicate: boolean, limits: Config['intake']): ServiceError | undefined {
  if (!PART_NAME.test(partName)) return new ServiceError('DOCUMENT_PART_UNDECLARED', 'a document part has no usable name', { extensions: { part: partName } });
  if (duplicate) return new ServiceError('DOCUMENT_PART_DUPLICATE', `document part "${partName}" appears more than once`, { extensions: { part: partName } });
  if (fileName !== undefined && unsafeFileName(fileName)) {
    return new ServiceError('DOCUMENT_NAME_INVALID', `the file name of part "${partName}" ${unsafeFileName(fileName)}`, { extensions: { part: partName } });
  }
  if (type.length > MAX_MEDIA_TYPE_LENGTH || (!limits.allowedMediaTypes.includes(type) && !limits.allowedMediaTypes.includes('*/*'))) {
    return new ServiceError('DOCUMENT_MEDIA_TYPE_NOT_ALLOWED', `media type "${type}" is not accepted`, { extensions: { part: partName, allowed: limits.allowedMediaTypes } });
  }
  return undefined;
}

/** What refuses a document once staged: too large, or empty. */
export function stagedDocumentProblem(partName: string, blob: StagedBlob, limits: Config['intake']): ServiceError | undefined {
  if (blob.tooLarge) {
    return new ServiceError('DOCUMENT_TOO_LARGE', `document "${partName}" is larger than ${limits.maxDocumentBytes} bytes`, { extensions: { part: partName, limit: limits.maxDocumentBytes } });
  }
  if (blob.size === 0) return new ServiceError('DOCUMENT_EMPTY', `document "${partName}" is empty`, { extensions: { part: partName } });
  return undefined;
}

export function cleanFileName(raw: string | undefined, fallback: string): string {
  const base = (raw ?? '').split(/[\\/]/).pop()!.replace(/\p{Cc}/gu, '').trim();
  return (base || fallback).slice(0, 255);
}
