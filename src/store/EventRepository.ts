/**
 * The append-only, hash-chained log of what happened to each message (see
 * src/domain/EventChain.ts). Writing reads the head and inserts the next rows under a
 * lock (PostgreSQL: a transaction-scoped advisory lock; SQLite has a single writer), so
 * rows are consecutive and each chains from the one before. Call `append` inside a
 * transaction.
 *
 * In a transaction `append` only notes the event, and Repositories.transaction writes what
 * was noted (`flush`) as the transaction's last statements before COMMIT: on SQLite the
 * head's read and one multi-row insert, however many events the transaction has (a letter
 * sealed at intake has two); on PostgreSQL one statement, append_events, that takes the lock,
 * reads the head and inserts the rows chained from it. On PostgreSQL the lock is held from
 * that statement to the commit, and every other appender waits for it: the log's order is the
 * order of commits; written last and in one statement, the lock is held for that statement's
 * round trip and the COMMIT's, not across the transaction's other statements. A savepoint
 * that succeeds hands its events to the enclosing transaction; one that fails drops them with
 * its other writes.
 */
import type { Knex } from 'knex';
import { eventBodyAroundSeq, eventHash, GENESIS_HASH, type ChainedEvent } from '../domain/EventChain.js';
import type { EventRecord } from '../domain/records.js';
import { execute, first, insertRows, prepared } from './Prepared.js';

/** Arbitrary constant naming the event log's advisory lock on PostgreSQL. */
export const EVENT_LOG_LOCK = 7_319_522;

/** The log's head: every transaction that appends events on SQLite reads it (Prepared.ts: the hot path). */
const EVENT_HEAD = prepared('event_log_head', 'SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1');
const EVENT_COLUMNS = ['seq', 'message_id', 'type', 'at', 'data', 'prev_hash', 'hash'];
/** PostgreSQL: lock, head, and the chained rows in one statement (migrations/20261210000300_pg_append_events.ts) */
const EVENT_APPEND = prepared('event_log_append', 'SELECT appended_seq, appended_prev, appended_hash FROM append_events(?, ?, ?, ?, ?, ?, ?)');

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
    if (this.db.client.config.client === 'pg') return this.appendOnPostgres(events);
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

  /**
   * PostgreSQL: the database takes the lock, reads the head, numbers and chains the rows
   * (append_events), with the canonical JSON of each event given around its `seq`: the lock
   * is held for this statement and the COMMIT only.
   */
  private async appendOnPostgres(events: Array<Omit<EventRecord, 'seq'>>): Promise<ChainedEvent[]> {
    const around = events.map((e) => eventBodyAroundSeq(e));
    const { rows } = await execute(this.db, EVENT_APPEND, [
      EVENT_LOG_LOCK,
      events.map((e) => e.messageId),
      events.map((e) => e.type),
      events.map((e) => e.at),
      events.map((e) => JSON.stringify(e.data)),
      around.map((a) => a.before),
      around.map((a) => a.after),
    ]);
    return events.map((e, i) => {
      const r = rows[i]!;
      return { seq: Number(r.appended_seq), messageId: e.messageId, type: e.type, at: e.at, data: e.data, prevHash: r.appended_prev as string, hash: r.appended_hash as string };
    });
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
