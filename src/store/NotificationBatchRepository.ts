/**
 * Bulk notification batches (POST /v1/notifications/batches): the batch, its refused rows,
 * and the queueing of its accepted rows' dispatch jobs in one statement. The accepted rows
 * are notifications (NotificationRepository) carrying `batch_id` and `batch_row`.
 *
 * A batch is RECEIVING while its rows are written, chunk by chunk, each chunk in its own
 * transaction; its notifications have no job yet and are not shown. The transaction that
 * makes it ACCEPTED inserts the dispatch jobs of all its notifications (`queueDispatch`):
 * before that commit nothing is sent, and a batch that does not get there is deleted with
 * everything it wrote (`discard`), at once or, after a crash, by `staleReceiving`.
 */
import type { Knex } from 'knex';

export type BatchStatusValue = 'RECEIVING' | 'ACCEPTED';
export type BatchFormat = 'csv' | 'ndjson';

export interface BatchRecord {
  id: string;
  senderId: string;
  status: BatchStatusValue;
  format: BatchFormat;
  strategy: string;
  template: string | null;
  rowsAccepted: number;
  rowsRefused: number;
  idempotencyKey: string | null;
  requestHash: string | null;
  createdAt: string;
  updatedAt: string;
  acceptedAt: string | null;
}

export interface BatchRefusal {
  batchId: string;
  row: number;
  code: string;
  detail: string;
}

/** One row of a batch as GET …/rows lists it. */
export type BatchRowRecord = { row: number; result: 'accepted'; notificationId: string } | { row: number; result: 'refused'; code: string; detail: string };

const ROWS_PER_STATEMENT = 500;

export class NotificationBatchRepository {
  constructor(private readonly db: Knex) {}

  async insert(b: BatchRecord): Promise<void> {
    await this.db('notification_batches').insert({
      id: b.id,
      sender_id: b.senderId,
      status: b.status,
      format: b.format,
      strategy: b.strategy,
      template: b.template,
      rows_accepted: b.rowsAccepted,
      rows_refused: b.rowsRefused,
      idempotency_key: b.idempotencyKey,
      request_hash: b.requestHash,
      created_at: b.createdAt,
      updated_at: b.updatedAt,
      accepted_at: b.acceptedAt,
    });
  }

  async find(id: string): Promise<BatchRecord | undefined> {
    const row = await this.db('notification_batches').where({ id }).first();
    return row && toBatch(row);
  }

  /** The sender's ACCEPTED batch that was made with this Idempotency-Key. */
  async findByKey(senderId: string, key: string): Promise<BatchRecord | undefined> {
    const row = await this.db('notification_batches').where({ sender_id: senderId, idempotency_key: key, status: 'ACCEPTED' }).first();
    return row && toBatch(row);
  }

  async insertRefusals(refusals: BatchRefusal[]): Promise<void> {
    for (let i = 0; i < refusals.length; i += ROWS_PER_STATEMENT) {
      await this.db('notification_batch_refusals').insert(refusals.slice(i, i + ROWS_PER_STATEMENT).map((r) => ({ batch_id: r.batchId, batch_row: r.row, code: r.code, detail: r.detail.slice(0, 500) })));
    }
  }

  /** A chunk written: the batch's counts grow, and `updated_at` says it is still being received. */
  async addCounts(id: string, accepted: number, refused: number): Promise<void> {
    await this.db('notification_batches')
      .where({ id })
      .update({ rows_accepted: this.db.raw('rows_accepted + ?', [accepted]), rows_refused: this.db.raw('rows_refused + ?', [refused]), updated_at: new Date().toISOString() });
  }

  /**
   * RECEIVING → ACCEPTED, with the request's Idempotency-Key and hash (the unique index
   * refuses a key another batch of the sender committed first). Call in the transaction
   * that calls `queueDispatch`.
   */
  async accept(id: string, key: string | null, requestHash: string, at: string): Promise<void> {
    await this.db('notification_batches').where({ id, status: 'RECEIVING' }).update({ status: 'ACCEPTED', idempotency_key: key, request_hash: requestHash, accepted_at: at, updated_at: at });
  }

  /**
   * Inserts a `notify.dispatch` job for every notification of the batch, in one statement,
   * as `tx.jobs.enqueue` would (same type, payload and dedupe key), pending at `priority`.
   */
  async queueDispatch(id: string, jobType: string, maxAttempts: number, priority: number): Promise<number> {
    const now = new Date().toISOString();
    const result = await this.db.raw(
      `INSERT INTO jobs (type, payload, message_id, dedupe_key, status, attempts, max_attempts, priority, run_at, created_at, updated_at)
       SELECT CAST(? AS VARCHAR(60)), '{"notificationId":"' || id || '"}', NULL, 'notify-dispatch:' || id, 'pending', 0, CAST(? AS INTEGER), CAST(? AS INTEGER),
              CAST(? AS VARCHAR(30)), CAST(? AS VARCHAR(30)), CAST(? AS VARCHAR(30))
       FROM notifications WHERE batch_id = ? ORDER BY batch_row`,
      [jobType, maxAttempts, priority, now, now, now, id],
    );
    return Number((result as { rowCount?: number; changes?: number }).rowCount ?? (result as { changes?: number }).changes ?? 0);
  }

  /** Deletes a batch that was not accepted, with its notifications, their history and its refusals. */
  async discard(id: string): Promise<void> {
    const ids = this.db('notifications').select('id').where({ batch_id: id });
    await this.db('notification_events').whereIn('notification_id', ids).delete();
    await this.db('notifications').where({ batch_id: id }).delete();
    await this.db('notification_batch_refusals').where({ batch_id: id }).delete();
    await this.db('notification_batches').where({ id, status: 'RECEIVING' }).delete();
  }

  /** Batches still RECEIVING whose last chunk was written before `before` (their request died with a process). */
  async staleReceiving(before: Date): Promise<string[]> {
    const rows: Array<{ id: string }> = await this.db('notification_batches').select('id').where({ status: 'RECEIVING' }).andWhere('updated_at', '<', before.toISOString()).limit(100);
    return rows.map((r) => r.id);
  }

  /** The batch's notifications counted by status. */
  async statusCounts(id: string): Promise<Record<string, number>> {
    const rows: Array<{ status: string; n: number | string }> = await this.db('notifications').select('status').count({ n: '*' }).where({ batch_id: id }).groupBy('status');
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }

  /** Rows after row `after`, in order, at most `limit`; only accepted or refused ones if asked. */
  async rows(id: string, after: number, limit: number, result?: 'accepted' | 'refused'): Promise<BatchRowRecord[]> {
    const accepted = () => this.db('notifications').select('batch_row', { notification_id: 'id' }).select(this.db.raw('NULL AS code'), this.db.raw('NULL AS detail')).where({ batch_id: id }).andWhere('batch_row', '>', after);
    const refused = () =>
      this.db('notification_batch_refusals').select('batch_row', this.db.raw('NULL AS notification_id'), 'code', 'detail').where({ batch_id: id }).andWhere('batch_row', '>', after);
    let q: Knex.QueryBuilder;
    if (result === 'accepted') q = accepted().orderBy('batch_row').limit(limit);
    else if (result === 'refused') q = refused().orderBy('batch_row').limit(limit);
    else q = this.db.select('*').from(accepted().unionAll(refused()).as('r')).orderBy('batch_row').limit(limit);
    const rows: Array<Record<string, unknown>> = await q;
    return rows.map((r) =>
      r.notification_id !== null && r.notification_id !== undefined
        ? { row: Number(r.batch_row), result: 'accepted' as const, notificationId: r.notification_id as string }
        : { row: Number(r.batch_row), result: 'refused' as const, code: r.code as string, detail: r.detail as string },
    );
  }
}

function toBatch(r: Record<string, unknown>): BatchRecord {
  return {
    id: r.id as string,
    senderId: r.sender_id as string,
    status: r.status as BatchStatusValue,
    format: r.format as BatchFormat,
    strategy: r.strategy as string,
    template: (r.template as string | null) ?? null,
    rowsAccepted: Number(r.rows_accepted),
    rowsRefused: Number(r.rows_refused),
    idempotencyKey: (r.idempotency_key as string | null) ?? null,
    requestHash: (r.request_hash as string | null) ?? null,
    createdAt: r.created_at as string,
    updatedAt: r.updated_at as string,
    acceptedAt: (r.accepted_at as string | null) ?? null,
  };
}
