/**
 * Bulk notifications (POST /v1/notifications/batches): many rows, each its own recipient
 * and values, under batch-wide parts (template or content, strategy, …). Each row is merged
 * with the batch-wide parts into the body a single POST of it would carry and goes through
 * the same `parse` and `build` (service.ts): an accepted row is an ordinary notification —
 * same jobs, statuses and GET — carrying its batch id and row number; a refused row keeps
 * the problem code and detail a single POST of it would have been answered with.
 *
 * Writing. The rows are read as they stream in (BatchInput.ts) and written in chunks of
 * CHUNK_ROWS, each chunk in one transaction with multi-row INSERTs, while the batch is
 * RECEIVING: nothing is sent yet. Once the body is read, one transaction makes the batch
 * ACCEPTED and inserts the dispatch jobs of all its notifications in one statement; the
 * answer (202) follows that commit. A batch refused as a whole (too many rows, a body that
 * cannot be read, the client gone, a database error) is deleted with all it wrote; a
 * process that dies meanwhile leaves a RECEIVING batch that the next batch request deletes
 * once it is STALE_RECEIVING_MS old.
 *
 * Pacing. A batch takes one token of the sender's bucket (NOTIFY_RATE_LIMIT_*), like a
 * single request: its rows are paced by the send jobs, not by the request limit. Its jobs
 * (dispatch and send) have BULK_PRIORITY: due jobs are claimed by priority first, so a
 * batch's 50,000 jobs wait behind registered mail and single notifications instead of
 * starving them, and the provider's own limit (429, retried with backoff) sets the pace.
 *
 * Status. Derived, never stored beyond ACCEPTED: ACCEPTED while every notification of the
 * batch is QUEUED, SENDING while some are not settled, DONE when every one is settled (SENT,
 * DELIVERED, READ, FAILED, CANCELLED, EXPIRED), or none was accepted.
 */
import { newRowId } from '../domain/RowId.js';
import type { SenderRecord } from '../domain/records.js';
import { ServiceError } from '../domain/errors.js';
import type { Config } from '../config.js';
import type { Repositories } from '../store/Repositories.js';
import type { BatchRecord, BatchRefusal, BatchRowRecord } from '../store/NotificationBatchRepository.js';
import type { NotificationRecord } from '../store/NotificationRepository.js';
import { BULK_PRIORITY } from '../store/JobRepository.js';
import { BATCH_SETTINGS, ROW_MEMBERS, type BatchInput, type BatchItem } from './BatchInput.js';
import { NOTIFY_JOB } from './engine.js';
import { isLanguage } from './content/Language.js';
import { isSettled, NOTIFICATION_STATUSES, type NotificationStatus } from './NotificationStatus.js';
import type { NotificationInput, NotificationService, RateLimitState } from './service.js';

export { batchFormat, openBatch, settingsFromQuery, type BatchFormat, type BatchInput } from './BatchInput.js';

/** Rows written per transaction. */
export const CHUNK_ROWS = 2000;
/** A RECEIVING batch not written to for this long belongs to a request that died. */
export const STALE_RECEIVING_MS = 3_600_000;
/** The largest line or CSV record of a batch, as the largest body of a single POST. */
export const MAX_ROW_BYTES = 128 * 1024;

export type BatchStatus = 'ACCEPTED' | 'SENDING' | 'DONE';

export interface BatchView {
  batch: BatchRecord;
  status: BatchStatus;
  /** the batch's notifications by status (every status, 0 when none) */
  notifications: Record<NotificationStatus, number>;
}

export interface BatchSubmitted {
  id: string;
  replayed: boolean;
  rate?: RateLimitState;
}

export class NotificationBatches {
  constructor(
    private readonly store: Repositories,
    private readonly config: Config,
    private readonly notifications: NotificationService,
  ) {}

  /** The batch-wide parts, checked as a request with a stand-in recipient would be (a fault there is every row's fault). */
  private checkSettings(settings: Record<string, unknown>): void {
    const unknown = Object.keys(settings).filter((k) => !(BATCH_SETTINGS as readonly string[]).includes(k));
    if (unknown.length > 0) throw new ServiceError('BATCH_INVALID', `unknown batch-wide member(s): ${unknown.join(', ')}; a batch sets ${BATCH_SETTINGS.join(', ')}`);
    this.notifications.parse({ ...settings, phoneNumber: '+32470000000' });
  }

  /** The body a single POST of this row would carry: the batch-wide parts, the row's members, values merged (the row's win). */
  private merge(settings: Record<string, unknown>, body: unknown): unknown {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
    const row = body as Record<string, unknown>;
    const extra = Object.keys(row).filter((k) => !(ROW_MEMBERS as readonly string[]).includes(k));
    if (extra.length > 0) throw new ServiceError('NOTIFICATION_INVALID', `a row gives only ${ROW_MEMBERS.join(', ')}; not ${extra.join(', ')} (batch-wide)`);
    const merged: Record<string, unknown> = { ...settings, ...row };
    const a = settings.values;
    const b = row.values;
    if (a !== undefined && b !== undefined && isPlainObject(a) && isPlainObject(b)) merged.values = { ...a, ...b };
    return merged;
  }

  /**
   * Reads, checks and queues a batch; see the file's comment. With an Idempotency-Key
   * already used by an accepted batch of the sender, the body is read only to compare its
   * digest: the same request is answered with that batch (nothing written), another one
   * with IDEMPOTENCY_KEY_REUSED.
   */
  async submit(sender: SenderRecord, input: BatchInput, idempotencyKey?: string): Promise<BatchSubmitted> {
    this.checkSettings(input.settings);
    if (idempotencyKey !== undefined) {
      const seen = await this.store.notificationBatches.findByKey(sender.id, idempotencyKey);
      if (seen) {
        for await (const _ of input.rows) void _;
        return this.replayOf(seen, input.digest());
      }
    }
    const rate = await this.notifications.takeToken(sender.id);
    await this.sweepStale();
    const defaultStrategy = await this.notifications.defaultStrategy(sender.id);
    const now = new Date().toISOString();
    const batch: BatchRecord = {
      id: newRowId(),
      senderId: sender.id,
      status: 'RECEIVING',
      format: input.format,
      strategy: typeof input.settings.strategy === 'string' ? input.settings.strategy : defaultStrategy,
      template: typeof input.settings.template === 'string' ? input.settings.template : null,
      rowsAccepted: 0,
      rowsRefused: 0,
      idempotencyKey: null,
      requestHash: null,
      createdAt: now,
      updatedAt: now,
      acceptedAt: null,
    };
    await this.store.notificationBatches.insert(batch);
    let hash: string | undefined;
    try {
      let rows = 0;
      let chunk: BatchItem[] = [];
      for await (const item of input.rows) {
        if (++rows > this.config.notify.batch.maxRows) throw new ServiceError('BATCH_TOO_LARGE', `a batch has at most ${this.config.notify.batch.maxRows} rows (NOTIFY_BATCH_MAX_ROWS)`);
        chunk.push(item);
        if (chunk.length >= CHUNK_ROWS) {
          await this.writeChunk(sender, batch.id, input.settings, defaultStrategy, chunk);
          chunk = [];
        }
      }
      if (chunk.length > 0) await this.writeChunk(sender, batch.id, input.settings, defaultStrategy, chunk);
      hash = input.digest();
      const requestHash = hash;
      await this.store.transaction(async (tx) => {
        await tx.notificationBatches.accept(batch.id, idempotencyKey ?? null, requestHash, new Date().toISOString());
        await tx.notificationBatches.queueDispatch(batch.id, NOTIFY_JOB.dispatch, this.config.notify.sendMaxAttempts, BULK_PRIORITY);
      });
    } catch (err) {
      // nothing of a refused batch stays; if even this fails, the next batch request's sweep deletes it
      await this.store.notificationBatches.discard(batch.id).catch(() => undefined);
      // a batch with the same key committed first (the unique index refused this one's): a replay of it
      if (idempotencyKey !== undefined && hash !== undefined) {
        const seen = await this.store.notificationBatches.findByKey(sender.id, idempotencyKey).catch(() => undefined);
        if (seen) return this.replayOf(seen, hash);
      }
      throw err;
    }
    return { id: batch.id, replayed: false, ...(rate ? { rate } : {}) };
  }

  private replayOf(seen: BatchRecord, hash: string): BatchSubmitted {
    if (seen.requestHash !== hash) throw new ServiceError('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used for a different batch', { extensions: { batchId: seen.id } });
    return { id: seen.id, replayed: true };
  }

  /** One chunk: every row parsed and built as a single POST would be, then written in one transaction. */
  private async writeChunk(sender: SenderRecord, batchId: string, settings: Record<string, unknown>, defaultStrategy: string, items: BatchItem[]): Promise<void> {
    const parsed: Array<{ row: number; input: NotificationInput }> = [];
    const refusals: BatchRefusal[] = [];
    const refuse = (row: number, err: unknown) => {
      if (!(err instanceof ServiceError)) throw err;
      refusals.push({ batchId, row, code: err.code, detail: err.message });
    };
    for (const item of items) {
      if ('error' in item) {
        refuse(item.row, item.error);
        continue;
      }
      try {
        const input = this.notifications.parse(this.merge(settings, item.body));
        // a batch's rows go out as soon as they can, within NOTIFY_DEFAULT_VALIDITY_SECONDS
        if (input.sendAt !== undefined || input.validUntil !== undefined) {
          throw new ServiceError('NOTIFICATION_INVALID', 'sendAt and validUntil are for single notifications: a batch row is sent as soon as it can be, within NOTIFY_DEFAULT_VALIDITY_SECONDS');
        }
        parsed.push({ row: item.row, input });
      } catch (err) {
        refuse(item.row, err);
      }
    }
    // the directory's languages of the whole chunk in a few queries
    const { byRecipient, byPhone } = await this.store.contacts.languages(
      parsed.flatMap((p) => (p.input.recipient ? [p.input.recipient] : [])),
      parsed.flatMap((p) => (p.input.phone ? [p.input.phone] : [])),
    );
    // the numbers of the chunk that answered STOP to this sender (or STOP ALL), in one query
    const optedOut = await this.store.inbound.optedOutAmong(
      parsed.flatMap((p) => (p.input.phone ? [p.input.phone] : [])),
      sender.id,
    );
    const now = new Date().toISOString();
    const records: NotificationRecord[] = [];
    for (const { row, input } of parsed) {
      const language = input.recipient ? byRecipient.get(`${input.recipient.type}:${input.recipient.id}`) : input.phone ? byPhone.get(input.phone) : undefined;
      try {
        const n = this.notifications.build(sender, input, { defaultStrategy, contactLanguage: isLanguage(language) ? language : undefined, batch: { id: batchId, row } }, now);
        // as a single POST answers: an SMS-only send to a number that opted out is refused
        if (n.phone && optedOut.has(n.phone) && this.notifications.strategies.get(n.strategy)!.channels.every((c) => c === 'SMS')) {
          throw new ServiceError('RECIPIENT_OPTED_OUT', 'the recipient asked for no more SMS from you (or from every sender): this strategy has no other channel');
        }
        records.push(n);
      } catch (err) {
        refuse(row, err);
      }
    }
    await this.store.transaction(async (tx) => {
      await tx.notifications.insertMany(records);
      await tx.notificationBatches.insertRefusals(refusals);
      await tx.notificationBatches.addCounts(batchId, records.length, refusals.length);
    });
  }

  /** Deletes batches whose request died while they were RECEIVING (best effort: the next request tries again). */
  private async sweepStale(): Promise<void> {
    for (const id of await this.store.notificationBatches.staleReceiving(new Date(Date.now() - STALE_RECEIVING_MS))) {
      await this.store.notificationBatches.discard(id);
    }
  }

  /** One of the sender's accepted batches (others', and batches still being received, are NOT_FOUND). */
  async get(sender: SenderRecord, id: string): Promise<BatchView> {
    const batch = await this.store.notificationBatches.find(id);
    if (!batch || batch.senderId !== sender.id || batch.status !== 'ACCEPTED') throw new ServiceError('NOT_FOUND', 'no such batch');
    const counts = await this.store.notificationBatches.statusCounts(id);
    const notifications = Object.fromEntries(NOTIFICATION_STATUSES.map((s) => [s, counts[s] ?? 0])) as Record<NotificationStatus, number>;
    const unsettled = NOTIFICATION_STATUSES.filter((s) => !isSettled(s)).reduce((sum, s) => sum + notifications[s], 0);
    const status: BatchStatus = unsettled === 0 ? 'DONE' : notifications.QUEUED === batch.rowsAccepted ? 'ACCEPTED' : 'SENDING';
    return { batch, status, notifications };
  }

  /** The batch's rows after `cursor` (a row number), at most `limit`, optionally only accepted or refused ones. */
  async rows(sender: SenderRecord, id: string, query: { cursor?: unknown; limit?: unknown; result?: unknown }): Promise<{ items: BatchRowRecord[]; nextCursor: string | null }> {
    const { batch } = await this.get(sender, id);
    const after = query.cursor === undefined ? 0 : Number(query.cursor);
    if (typeof query.cursor !== 'undefined' && (typeof query.cursor !== 'string' || !/^\d{1,9}$/.test(query.cursor))) throw new ServiceError('QUERY_INVALID', 'cursor must be the nextCursor of an earlier page');
    const limit = query.limit === undefined ? 100 : Number(query.limit);
    if (query.limit !== undefined && (typeof query.limit !== 'string' || !/^\d{1,4}$/.test(query.limit) || limit < 1 || limit > 1000)) throw new ServiceError('QUERY_INVALID', 'limit must be a whole number from 1 to 1000');
    const result = query.result;
    if (result !== undefined && result !== 'accepted' && result !== 'refused') throw new ServiceError('QUERY_INVALID', 'result must be accepted or refused');
    const items = await this.store.notificationBatches.rows(batch.id, after, limit + 1, result);
    const more = items.length > limit;
    const page = more ? items.slice(0, limit) : items;
    return { items: page, nextCursor: more ? String(page[page.length - 1]!.row) : null };
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
