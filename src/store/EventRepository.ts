/**
 * The append-only, hash-chained log of what happened to each message (see
 * src/domain/EventChain.ts). Writing reads the head and inserts the next rows under a
 * lock (PostgreSQL: a transaction-scoped advisory lock; SQLite has a single writer), so
 * rows are consecutive and each chains from the one before. Call `append` inside a
 * transaction.
 *
 * In a transaction `append` only notes the event, and Repositories.transaction writes what
 * was noted (`flush`) as the transaction's last statements before COMMIT: the head's read and
 * one multi-row insert, however many events the transaction has (a letter sealed at intake
 * has two). On PostgreSQL the lock is held from the write to the commit, and every other
 * appender waits for it: the log's order is the order of commits; written last, the lock is
 * held for those two statements and the COMMIT, not across the round trips of the
 * transaction's other statements. A savepoint that succeeds hands its events to the
 * enclosing transaction; one that fails drops them with its other writes.
 */
import type { Knex } from 'knex';
import { eventHash, GENESIS_HASH, type ChainedEvent } from '../domain/EventChain.js';
import type { EventRecord } from '../domain/records.js';
import { execute, first, insertRows, prepared } from './Prepared.js';

/** Arbitrary constant naming the event log's advisory lock on PostgreSQL. */
export const EVENT_LOG_LOCK = 7_319_522;

/** Every transaction that appends events runs these (Prepared.ts: the hot path). */
const EVENT_LOG_LOCKED = prepared('event_log_lock', 'SELECT pg_advisory_xact_lock(?)');
const EVENT_HEAD = prepared('event_log_head', 'SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1');
const EVENT_COLUMNS = ['seq', 'message_id', 'type', 'at', 'data', 'prev_hash', 'hash'];

export class EventRepository {
  /** events noted in this transaction, written by `flush` (deferred mode only) */
  private readonly noted: Array<Omit<EventRecord, 'seq'>> = [];

  constructor(
    private readonly db: Knex,
    /** note events and write them at `flush` (in a transaction) instead of at once */
    private readonly deferred = false,
  ) {}

  async append(e: Omit<EventRecord, 'seq'>): Promise<void> {
    if (this.deferred) this.noted.push(e);
    else await this.write([e]);
  }

  /** Takes the events a savepoint noted, now that it succeeded: they commit with this transaction. */
  adopt(savepoint: EventRepository): void {
    this.noted.push(...savepoint.noted.splice(0));
  }

  /** Writes the events noted so far (the last statements before COMMIT). */
  async flush(): Promise<ChainedEvent[]> {
    if (this.noted.length === 0) return [];
    return this.write(this.noted.splice(0));
  }

  private async write(events: Array<Omit<EventRecord, 'seq'>>): Promise<ChainedEvent[]> {
    if (this.db.client.config.client === 'pg') await execute(this.db, EVENT_LOG_LOCKED, [EVENT_LOG_LOCK]);
    const head = await this.head();
    let seq = head ? head.seq : 0;
    let prevHash: string = head ? head.hash : GENESIS_HASH;
    const chained: ChainedEvent[] = [];
    for (const e of events) {
      seq++;
      const hash = eventHash(prevHash, { seq, messageId: e.messageId, type: e.type, at: e.at, data: e.data });
      chained.push({ seq, messageId: e.messageId, type: e.type, at: e.at, data: e.data, prevHash, hash });
      prevHash = hash;
    }
    await execute(
      this.db,
      insertRows('events_insert', 'events', EVENT_COLUMNS, chained.length),
      chained.flatMap((c) => [c.seq, c.messageId, c.type, c.at, JSON.stringify(c.data), c.prevHash, c.hash]),
    );
    return chained;
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
    const head = await first(this.db, EVENT_HEAD, []);
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
