/**
 * The append-only, hash-chained log of what happened to each message (see
 * src/domain/EventChain.ts). Appending reads the head and writes the next row under a
 * lock (PostgreSQL: a transaction-scoped advisory lock; SQLite has a single writer), so
 * rows are consecutive and each chains from the one before. Call `append` inside a
 * transaction.
 */
import type { Knex } from 'knex';
import { eventHash, GENESIS_HASH, type ChainedEvent } from '../domain/EventChain.js';
import type { EventRecord } from '../domain/records.js';

/** Arbitrary constant naming the event log's advisory lock on PostgreSQL. */
export const EVENT_LOG_LOCK = 7_319_522;

export class EventRepository {
  constructor(private readonly db: Knex) {}

  async append(e: Omit<EventRecord, 'seq'>): Promise<ChainedEvent> {
    if (this.db.client.config.client === 'pg') await this.db.raw('SELECT pg_advisory_xact_lock(?)', [EVENT_LOG_LOCK]);
    const head = await this.db('events').select('seq', 'hash').orderBy('seq', 'desc').first();
    const seq = head ? Number(head.seq) + 1 : 1;
    const prevHash: string = head ? head.hash : GENESIS_HASH;
    const hash = eventHash(prevHash, { seq, messageId: e.messageId, type: e.type, at: e.at, data: e.data });
    await this.db('events').insert({ seq, message_id: e.messageId, type: e.type, at: e.at, data: JSON.stringify(e.data), prev_hash: prevHash, hash });
    return { seq, messageId: e.messageId, type: e.type, at: e.at, data: e.data, prevHash, hash };
  }

  async listForMessage(messageId: string): Promise<EventRecord[]> {
    const rows = await this.db('events').where({ message_id: messageId }).orderBy('seq');
    return rows.map((r: Record<string, unknown>) => {
      const { prevHash: _p, hash: _h, ...event } = toChainedEvent(r);
      return event;
    });
  }

  /** Rows `fromSeq` ≤ seq ≤ `toSeq` of the whole log, in order, with their hashes. */
  async range(fromSeq: number, toSeq: number = Number.MAX_SAFE_INTEGER, limit = 10_000): Promise<ChainedEvent[]> {
    const rows = await this.db('events').where('seq', '>=', fromSeq).andWhere('seq', '<=', toSeq).orderBy('seq').limit(limit);
    return rows.map(toChainedEvent);
  }

  async head(): Promise<{ seq: number; hash: string } | undefined> {
    const head = await this.db('events').select('seq', 'hash').orderBy('seq', 'desc').first();
    return head ? { seq: Number(head.seq), hash: head.hash as string } : undefined;
  }
}

function toChainedEvent(r: Record<string, unknown>): ChainedEvent {
  return {
    seq: Number(r.seq),
    messageId: r.message_id as string,
    type: r.type as string,
    at: r.at as string,
    data: JSON.parse(r.data as string),
    prevHash: r.prev_hash as string,
    hash: r.hash as string,
  };
}
