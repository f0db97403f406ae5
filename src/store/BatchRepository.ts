import type { Knex } from 'knex';
import type { MessageStatus } from '../domain/status.js';

export type BatchForm = 'multipart' | 'zip';

export interface BatchRecord {
  id: string;
  senderId: string;
  idempotencyKey: string | null;
  requestHash: string;
  form: BatchForm;
  rowCount: number;
  acceptedCount: number;
  refusedCount: number;
  submittedAt: string;
}

/** One manifest row's outcome: the message it made, or the problem that refused it. */
export type BatchRowRecord =
  | { row: number; senderReference: string | null; messageId: string }
  | { row: number; senderReference: string | null; messageId?: undefined; problem: { code: string; detail: string; extensions: Record<string, unknown> } };

/** A batch of registered messages and its rows (one aggregate); the messages are the message repository's. */
export class BatchRepository {
  constructor(private readonly db: Knex) {}

  async insert(batch: BatchRecord, rows: BatchRowRecord[]): Promise<void> {
    await this.db('message_batches').insert({
      id: batch.id,
      sender_id: batch.senderId,
      idempotency_key: batch.idempotencyKey,
      request_hash: batch.requestHash,
      form: batch.form,
      row_count: batch.rowCount,
      accepted_count: batch.acceptedCount,
      refused_count: batch.refusedCount,
      submitted_at: batch.submittedAt,
    });
    const records = rows.map((r) => ({
      batch_id: batch.id,
      row: r.row,
      message_id: r.messageId ?? null,
      sender_reference: r.senderReference,
      code: r.messageId === undefined ? r.problem.code : null,
      detail: r.messageId === undefined ? r.problem.detail : null,
      extensions: r.messageId === undefined ? JSON.stringify(r.problem.extensions) : null,
    }));
    // a few hundred rows per statement: SQLite allows at most 32,766 bound values in one
    for (let i = 0; i < records.length; i += 500) await this.db('message_batch_rows').insert(records.slice(i, i + 500));
  }

  /** The batch if it belongs to this sender; another sender's batch is not found. */
  async findForSender(senderId: string, id: string): Promise<BatchRecord | undefined> {
    const row = await this.db('message_batches').where({ id, sender_id: senderId }).first();
    return row && toBatch(row);
  }

  async findByIdempotencyKey(senderId: string, key: string): Promise<BatchRecord | undefined> {
    const row = await this.db('message_batches').where({ sender_id: senderId, idempotency_key: key }).first();
    return row && toBatch(row);
  }

  /** Rows after `afterRow`, in order, with the current status of each row's message. */
  async rows(batchId: string, afterRow: number, limit: number): Promise<Array<BatchRowRecord & { messageStatus?: MessageStatus }>> {
    const rows = await this.db('message_batch_rows as r')
      .leftJoin('messages as m', 'm.id', 'r.message_id')
      .where('r.batch_id', batchId)
      .andWhere('r.row', '>', afterRow)
      .orderBy('r.row')
      .limit(limit)
      .select('r.row', 'r.message_id', 'r.sender_reference', 'r.code', 'r.detail', 'r.extensions', 'm.status');
    return rows.map((r: Record<string, unknown>) => {
      const base = { row: Number(r.row), senderReference: (r.sender_reference as string | null) ?? null };
      if (r.message_id) return { ...base, messageId: r.message_id as string, messageStatus: r.status as MessageStatus };
      return { ...base, problem: { code: r.code as string, detail: (r.detail as string | null) ?? '', extensions: r.extensions ? (JSON.parse(r.extensions as string) as Record<string, unknown>) : {} } };
    });
  }

  /** How many of the batch's messages are in each status now. */
  async messageStatuses(batchId: string): Promise<Partial<Record<MessageStatus, number>>> {
    const rows = await this.db('message_batch_rows as r').join('messages as m', 'm.id', 'r.message_id').where('r.batch_id', batchId).groupBy('m.status').select('m.status').count({ n: '*' });
    const out: Partial<Record<MessageStatus, number>> = {};
    for (const r of rows as Array<{ status: MessageStatus; n: number | string }>) out[r.status] = Number(r.n);
    return out;
  }
}

function toBatch(r: Record<string, unknown>): BatchRecord {
  return {
    id: r.id as string,
    senderId: r.sender_id as string,
    idempotencyKey: (r.idempotency_key as string | null) ?? null,
    requestHash: r.request_hash as string,
    form: r.form as BatchForm,
    rowCount: Number(r.row_count),
    acceptedCount: Number(r.accepted_count),
    refusedCount: Number(r.refused_count),
    submittedAt: r.submitted_at as string,
  };
}
