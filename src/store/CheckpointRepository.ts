/** Time-stamped checkpoints of the event log's head, and small worker cursors. */
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { CheckpointRecord } from '../domain/records.js';

export class CheckpointRepository {
  constructor(private readonly db: Knex) {}

  /**
   * Stores a checkpoint and lists it in `record_pending` until it enters an RFC 4998 tree (the
   * leaf: SHA-256 of its token); insert it in a transaction.
   */
  async insert(c: Omit<CheckpointRecord, 'id'>): Promise<void> {
    const [row] = await this.db('checkpoints')
      .insert({
        event_seq: c.eventSeq,
        head_hash: c.headHash,
        token: Buffer.from(c.token.buffer, c.token.byteOffset, c.token.byteLength),
        gen_time: c.genTime,
        created_at: c.createdAt,
      })
      .returning('id');
    const id = typeof row === 'object' ? (row as { id: number }).id : row;
    await this.db('record_pending').insert({ kind: 'checkpoint', subject_id: String(id), digest: createHash('sha256').update(c.token).digest('hex'), created_at: c.createdAt });
  }

  async latest(): Promise<CheckpointRecord | undefined> {
    const row = await this.db('checkpoints').orderBy('id', 'desc').first();
    return row && toCheckpoint(row);
  }

  async list(fromSeq = 0, toSeq = Number.MAX_SAFE_INTEGER): Promise<CheckpointRecord[]> {
    const rows = await this.db('checkpoints').where('event_seq', '>=', fromSeq).andWhere('event_seq', '<=', toSeq).orderBy('id');
    return rows.map(toCheckpoint);
  }

  async getState(key: string): Promise<string | undefined> {
    const row = await this.db('worker_state').where({ key }).first();
    return row?.value as string | undefined;
  }

  async setState(key: string, value: string): Promise<void> {
    await this.db('worker_state')
      .insert({ key, value, updated_at: new Date().toISOString() })
      .onConflict('key')
      .merge();
  }
}

function toCheckpoint(row: Record<string, unknown>): CheckpointRecord {
  const token = row.token as Buffer;
  return {
    id: Number(row.id),
    eventSeq: Number(row.event_seq),
    headHash: row.head_hash as string,
    token: new Uint8Array(token.buffer, token.byteOffset, token.byteLength),
    genTime: row.gen_time as string,
    createdAt: row.created_at as string,
  };
}
