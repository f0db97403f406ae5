/**
 * Signals between the processes of one PostgreSQL database (LISTEN/NOTIFY). A job enqueued by
 * an API process wakes the workers at once, instead of at their next look at the job table
 * (WORKER_POLL_MS); the first proof of a message sealed by a worker wakes the API process
 * whose submission waits for it, instead of its next re-read of the status (every 250 ms).
 *
 * A NOTIFY sent in a transaction is delivered when the transaction commits, never if it rolls
 * back, so a signal never announces what is not there. Signals only make things sooner: a
 * listener that is disconnected (the database restarting) misses some, and the polls and
 * re-reads find the work as they would without signals. The listener reconnects, with a delay
 * that doubles up to 10 s, and on each connection tells its process to look at the job table
 * once, for jobs enqueued while it was away.
 *
 * It holds one connection of its own, outside the pool: a listening connection must stay the
 * same session, and must not be taken from the queries' pool.
 */
import type pg from 'pg';
import type { Logger } from 'pino';

/** The channels, one per kind of signal; the payload says which job type or which message. */
export const SIGNAL = {
  /** a job is due: the payload is its type */
  jobs: 'rm_jobs',
  /** a message has its first proof: the payload is its id */
  proofs: 'rm_proofs',
} as const;
export type SignalChannel = (typeof SIGNAL)[keyof typeof SIGNAL];

const CHANNELS = new Set<string>(Object.values(SIGNAL));
const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 10_000;

export class PgSignalListener {
  private client: pg.Client | undefined;
  private closed = false;
  private retryMs = FIRST_RETRY_MS;
  private retry: NodeJS.Timeout | undefined;
  private connecting: Promise<void> | undefined;

  /**
   * @param receive called with each signal; on each (re)connection with a `jobs` signal
   *   without type (look at the job table once)
   */
  constructor(
    private readonly connectionString: string,
    private readonly receive: (channel: SignalChannel, payload: string) => void,
    private readonly log: Logger,
  ) {}

  /** Connects and listens; resolves once the first attempt ended, connected or not (it retries). */
  start(): Promise<void> {
    return (this.connecting ??= this.connect());
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    await this.connecting;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    // loaded here, not with the module: a service on SQLite never loads the driver
    const { default: driver } = await import('pg');
    const client = new driver.Client({ connectionString: this.connectionString, application_name: 'registered-mail signals', connectionTimeoutMillis: 5000 });
    let gone = false;
    const lost = (err?: Error) => {
      if (gone) return;
      gone = true;
      if (this.client === client) this.client = undefined;
      void client.end().catch(() => undefined);
      if (this.closed) return;
      this.log.warn({ err, retryMs: this.retryMs }, 'PostgreSQL signals: listening connection lost; polls and re-reads go on, reconnecting');
      this.retry = setTimeout(() => {
        this.connecting = this.connect();
      }, this.retryMs);
      this.retry.unref();
      this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
    };
    client.on('error', lost);
    client.on('end', () => lost());
    client.on('notification', (n) => {
      if (CHANNELS.has(n.channel)) this.receive(n.channel as SignalChannel, n.payload ?? '');
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${SIGNAL.jobs}; LISTEN ${SIGNAL.proofs}`);
    } catch (err) {
      lost(err as Error);
      return;
    }
    if (gone) return;
    if (this.closed) {
      gone = true;
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.retryMs = FIRST_RETRY_MS;
    this.receive(SIGNAL.jobs, '');
  }
}
