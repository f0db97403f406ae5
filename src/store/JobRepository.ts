/**
 * The job table (transactional outbox). Claiming is one statement that moves due jobs
 * to `running` under a lease: on PostgreSQL the inner SELECT takes FOR UPDATE SKIP LOCKED,
 * so several workers never claim the same row; SQLite has one writer at a time anyway.
 * A job whose lease expired (its worker died) is due again.
 *
 * When a job runner works in this process (`LocalJobs.adoptFor`), a due job of a type it
 * runs is inserted already claimed by it, under the same lease, and handed to it once the
 * transaction that inserted it has committed — to the runner it was claimed for, even if
 * that runner has begun to stop meanwhile (it runs the job or gives it back): no claim
 * round trip, and if this process dies before finishing it, the job is taken back as any
 * claimed job is (at the next start on this host, or when its lease runs out). The
 * repository learns how its transaction ended through TransactionHooks.ts.
 *
 * The table stores any job map's types; `enqueue` takes the pairs of the map `M` the
 * repository is typed with (the service's own, ./jobs.ts, by default). Rows are
 * read back with their payload unread (`StoredJob`): the runner reads it for its type.
 */
import type { Knex } from 'knex';
import type { Jobs } from './jobs.js';
import { AUTOCOMMIT, type TransactionScope } from './TransactionHooks.js';
import { SIGNAL } from './PgSignals.js';
import { execute, insertRows, prepared } from './Prepared.js';

/** A job enqueued: every letter's `deposit` (Prepared.ts: the hot path); a job with the same dedupe key is kept instead. */
const JOB_INSERT_COLUMNS = ['type', 'payload', 'message_id', 'dedupe_key', 'status', 'attempts', 'max_attempts', 'priority', 'run_at', 'locked_by', 'locked_until', 'created_at', 'updated_at'];
const JOB_COLUMNS = ['id', ...JOB_INSERT_COLUMNS, 'last_error'].join(', ');
const JOB_INSERT = insertRows('job_insert', 'jobs', JOB_INSERT_COLUMNS, 1, 'ON CONFLICT (dedupe_key) DO NOTHING');
/** written claimed by this process's runner (LocalJobs), which is handed the row at commit */
const JOB_INSERT_CLAIMED = insertRows('job_insert_claimed', 'jobs', JOB_INSERT_COLUMNS, 1, `ON CONFLICT (dedupe_key) DO NOTHING RETURNING ${JOB_COLUMNS}`);
/** a job done by the worker that still holds it (every job) */
const JOB_DONE = prepared('job_done', "UPDATE jobs SET status = 'done', locked_until = NULL, updated_at = ? WHERE id = ? AND locked_by = ? AND status = 'running'");
/** PostgreSQL: the insert, and the signal to the other processes' workers if it inserted */
const JOB_INSERT_SIGNALLED = prepared(
  'job_insert_signalled',
  `WITH inserted AS (${JOB_INSERT.sqlite} RETURNING id) SELECT pg_notify(?, ?) FROM inserted`,
);

export const JOB_STATUSES = ['pending', 'running', 'done', 'dead'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/**
 * A job map names the job types and the payload each carries: `{ accept: { messageId: string }, … }`.
 * The service's own is `Jobs` (src/store/jobs.ts); the table itself is indifferent to it.
 */
export type JobType<M> = keyof M & string;

/** The columns of a job other than its type and payload. */
export interface JobState {
  id: number;
  messageId: string | null;
  dedupeKey: string | null;
  status: JobStatus;
  attempts: number;
  maxAttempts: number;
  /** claimed in ascending order before `runAt`: 0 for the service's own work, BULK_PRIORITY for a batch's rows */
  priority: number;
  runAt: string;
  lockedBy: string | null;
  lockedUntil: string | null;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
}

/**
 * A row of the job table as stored: its payload is the column's JSON, not yet read for its
 * type (the runner does that before the handler sees it), or an UnreadablePayload.
 */
export interface StoredJob extends JobState {
  type: string;
  payload: unknown;
}

/** A job of type `T` of map `M` whose payload was read for its type. */
export type JobOf<M, T extends JobType<M>> = JobState & { type: T; payload: M[T] };

/** A payload column that is not JSON: kept as found, so that the job can fail on its own. */
export class UnreadablePayload {
  constructor(
    readonly text: unknown,
    readonly reason: string,
  ) {}
}

export interface EnqueueOptions {
  messageId?: string;
  /** with a key already in the table, the enqueue does nothing */
  dedupeKey?: string;
  maxAttempts: number;
  /** not before (default: now) */
  runAt?: Date;
  /**
   * 0 (default) or BULK_PRIORITY: due jobs are claimed in ascending priority, then run_at,
   * so that bulk work yields to everything else; a job of a priority above 0 is never
   * handed over at commit (it waits for a claim, in its turn)
   */
  priority?: number;
}

/** The priority of a bulk send's jobs (POST /v1/notifications/batches): claimed after every job of priority 0. */
export const BULK_PRIORITY = 1;

/** A job to add: one of the map's types, with that type's payload. */
export type NewJob<M> = { [T in JobType<M>]: EnqueueOptions & { type: T; payload: M[T] } }[JobType<M>];

export class LostLeaseError extends Error {
  constructor(jobId: number) {
    super(`job ${jobId} is no longer held by this worker`);
    this.name = 'LostLeaseError';
  }
}

/** A job runner of this process that takes the jobs enqueued here directly. */
export interface JobAdoption {
  workerId: string;
  leaseMs: number;
  types: ReadonlySet<string>;
  /** called with jobs inserted as claimed by `workerId`, after their insert committed */
  take(jobs: StoredJob[]): void;
  /**
   * called with jobs inserted as claimed by `workerId` whose transaction reported a failure:
   * it may have committed all the same (its COMMIT carried out, the answer lost with the
   * connection), so the runner looks for them once the database answers (heldBy)
   */
  unanswered?(jobs: StoredJob[]): void;
}

/**
 * The process-wide adoption setting, shared by a store and its transactions, and the
 * count of claimed inserts whose transaction is still open (a runner that stops waits
 * for them: each either commits and is handed over, or rolls back and never existed).
 */
export class LocalJobs {
  adoption: JobAdoption | undefined;
  private open = 0;
  private waiting: Array<() => void> = [];

  adoptFor(adoption: JobAdoption | undefined): void {
    this.adoption = adoption;
  }

  /** A job was inserted claimed inside a transaction that has not ended yet. */
  opened(): void {
    this.open++;
  }

  /** `n` such jobs' transactions ended (committed and handed over, or rolled back). */
  closed(n: number): void {
    this.open -= n;
    if (this.open <= 0) {
      this.open = 0;
      for (const resolve of this.waiting.splice(0)) resolve();
    }
  }

  /** Resolves once no transaction holding a claimed insert is open. */
  settled(): Promise<void> {
    return this.open === 0 ? Promise.resolve() : new Promise((resolve) => this.waiting.push(resolve));
  }
}

/** Jobs inserted claimed in one transaction, each with the adoption it was claimed for. */
type Adopted = Array<{ job: StoredJob; adoption: JobAdoption }>;

export class JobRepository<M = Jobs> {
  /** the claimed inserts of the transaction this repository writes in, until it ends */
  private adopted: Adopted | undefined;

  /**
   * @param scope the transaction this repository writes in: a job inserted claimed is
   *   handed to the adoption it was claimed for when that transaction commits — even if
   *   adoption was turned off since — and looked for again if its outcome is unknown
   */
  constructor(
    private readonly db: Knex,
    private readonly local: LocalJobs = new LocalJobs(),
    private readonly scope: TransactionScope = AUTOCOMMIT,
  ) {}

  private get isPostgres(): boolean {
    return this.db.client.config.client === 'pg';
  }

  /** SQLite: one process uses the database at a time, so no other process can hold a job. */
  get singleProcess(): boolean {
    return this.db.client.config.client === 'better-sqlite3';
  }

  /**
   * Adds a job; with a dedupe key already present, does nothing. A due job of a type the
   * local runner takes is inserted claimed by it (see LocalJobs).
   */
  async enqueue(job: NewJob<M>): Promise<void> {
    const at = new Date();
    const now = at.toISOString();
    const runAt = job.runAt ?? at;
    const a = this.local.adoption;
    const priority = job.priority ?? 0;
    const adopt = a !== undefined && a.types.has(job.type) && runAt.getTime() <= at.getTime() && priority === 0;
    const values = [
      job.type,
      JSON.stringify(job.payload),
      job.messageId ?? null,
      job.dedupeKey ?? null,
      adopt ? 'running' : 'pending',
      adopt ? 1 : 0,
      job.maxAttempts,
      priority,
      runAt.toISOString(),
      adopt ? a.workerId : null,
      adopt ? new Date(at.getTime() + a.leaseMs).toISOString() : null,
      now,
      now,
    ];
    if (!adopt) {
      // due now, and no runner of this process takes it: on PostgreSQL the insert, if it
      // inserts, wakes the workers of other processes when its transaction commits (one statement)
      const signal = runAt.getTime() <= at.getTime() && this.db.client.config.client === 'pg';
      if (signal) await execute(this.db, JOB_INSERT_SIGNALLED, [...values, SIGNAL.jobs, job.type]);
      else await execute(this.db, JOB_INSERT, values);
      return;
    }
    const { rows } = await execute(this.db, JOB_INSERT_CLAIMED, values);
    if (rows.length === 1) this.handOverAtEnd(toJob(rows[0]!), a);
  }

  /** Hands a job inserted claimed to its adoption once its transaction commits (see TransactionHooks). */
  private handOverAtEnd(job: StoredJob, adoption: JobAdoption): void {
    this.local.opened();
    if (this.adopted) {
      this.adopted.push({ job, adoption });
      return;
    }
    const adopted: Adopted = [{ job, adoption }];
    this.adopted = adopted;
    this.scope.afterTransaction({
      committed: () => {
        this.adopted = undefined;
        try {
          for (const [a, jobs] of byAdoption(adopted)) a.take(jobs);
        } finally {
          this.local.closed(adopted.length);
        }
      },
      failed: (maybeCommitted) => {
        this.adopted = undefined;
        this.local.closed(adopted.length);
        // Rolled back, or committed with its answer lost: the runner looks for the jobs it
        // inserted claimed once the database answers. (A savepoint that failed was rolled
        // back: its jobs never existed.)
        if (maybeCommitted) for (const [a, jobs] of byAdoption(adopted)) a.unanswered?.(jobs);
      },
    });
  }

  /** Gives back jobs taken but not started by `workerId` (the runner stops): due again at once. */
  async release(ids: number[], workerId: string): Promise<number> {
    if (ids.length === 0) return 0;
    return this.db('jobs')
      .whereIn('id', ids)
      .andWhere({ locked_by: workerId, status: 'running' })
      .update({ status: 'pending', attempts: this.db.raw('attempts - 1'), locked_by: null, locked_until: null, updated_at: new Date().toISOString() });
  }

  /**
   * Claims up to `limit` due jobs (optionally of the given types) for `workerId`, in
   * ascending priority, then run_at (a batch's jobs come after every other due job). The claimed
   * rows' `updated_at` is `now`, the claim's time: a claim whose answer was lost is found
   * with `heldBy`.
   */
  async claim(workerId: string, limit: number, leaseMs: number, types?: string[], now: Date = new Date()): Promise<StoredJob[]> {
    const nowIso = now.toISOString();
    const until = new Date(now.getTime() + leaseMs).toISOString();
    const typeFilter = types && types.length > 0 ? `AND type IN (${types.map(() => '?').join(', ')})` : '';
    const lock = this.isPostgres ? 'FOR UPDATE SKIP LOCKED' : '';
    // Two statements, each one index range in claim order (status, priority, run_at, id): one
    // condition with an OR made the database sort every due row for each claim, which a
    // batch's 50,000 pending jobs turned into most of the runner's time. Jobs whose worker
    // died (lease over) come first; then pending ones.
    const claimWhere = async (due: string, dueAt: string, n: number): Promise<StoredJob[]> => {
      const sql = `UPDATE jobs SET status = 'running', locked_by = ?, locked_until = ?, attempts = attempts + 1, updated_at = ?
        WHERE id IN (SELECT id FROM jobs WHERE ${due} ${typeFilter} ORDER BY priority, run_at, id LIMIT ? ${lock})
        RETURNING *`;
      const result = await this.db.raw(sql, [workerId, until, nowIso, dueAt, ...(types ?? []), n]);
      const rows: Record<string, unknown>[] = this.isPostgres ? result.rows : result;
      return rows.map(toJob);
    };
    const expired = await claimWhere(`status = 'running' AND locked_until < ?`, nowIso, limit);
    const pending = expired.length < limit ? await claimWhere(`status = 'pending' AND run_at <= ?`, nowIso, limit - expired.length) : [];
    return [...expired, ...pending].sort((a, b) => a.id - b.id);
  }

  /** Extends the lease of the running jobs among `ids` still held by `workerId`; returns their ids. */
  async heartbeat(ids: number[], workerId: string, leaseMs: number): Promise<Set<number>> {
    if (ids.length === 0) return new Set();
    const rows: Array<{ id: number | string }> = await this.db('jobs')
      .whereIn('id', ids)
      .andWhere({ locked_by: workerId, status: 'running' })
      .update({ locked_until: new Date(Date.now() + leaseMs).toISOString() }, ['id']);
    return new Set(rows.map((r) => Number(r.id)));
  }

  /**
   * The running jobs `workerId` holds among `ids`, or that it claimed at one of the times
   * `claimedAt`: the jobs of an insert or a claim the database carried out but whose answer
   * was lost with the connection.
   */
  async heldBy(workerId: string, where: { ids?: number[]; claimedAt?: Date[] }): Promise<StoredJob[]> {
    const ids = where.ids ?? [];
    const times = (where.claimedAt ?? []).map((d) => d.toISOString());
    if (ids.length === 0 && times.length === 0) return [];
    const rows = await this.db('jobs')
      .where({ locked_by: workerId, status: 'running' })
      .andWhere((q) => {
        if (ids.length > 0) q.orWhereIn('id', ids);
        if (times.length > 0) q.orWhereIn('updated_at', times);
      })
      .orderBy('id');
    return rows.map(toJob);
  }

  /** The workers that hold running jobs (to find those whose process is gone). */
  async lockHolders(): Promise<string[]> {
    const rows: Array<{ locked_by: string }> = await this.db('jobs').distinct('locked_by').where({ status: 'running' }).whereNotNull('locked_by');
    return rows.map((r) => r.locked_by);
  }

  /**
   * Gives back the running jobs of workers that are gone: due again at once. Their
   * attempts stay counted (the attempt may have been what stopped the process).
   */
  async releaseHeldBy(workerIds: string[]): Promise<number> {
    if (workerIds.length === 0) return 0;
    const now = new Date().toISOString();
    return this.db('jobs')
      .whereIn('locked_by', workerIds)
      .andWhere({ status: 'running' })
      .update({ status: 'pending', run_at: now, locked_by: null, locked_until: null, updated_at: now });
  }

  /**
   * Marks the job done, if this worker still holds it (call inside the handler's
   * transaction). `locked_by` is kept: on a done job it names the worker that ran it.
   */
  async complete(id: number, workerId: string): Promise<void> {
    const { changes } = await execute(this.db, JOB_DONE, [new Date().toISOString(), id, workerId]);
    if (changes !== 1) throw new LostLeaseError(id);
  }

  /** Records a failed attempt: due again at `retryAt`, or dead when `retryAt` is null. */
  async fail(id: number, workerId: string, error: string, retryAt: Date | null): Promise<boolean> {
    const n = await this.db('jobs')
      .where({ id, locked_by: workerId, status: 'running' })
      .update({
        status: retryAt ? 'pending' : 'dead',
        run_at: (retryAt ?? new Date()).toISOString(),
        locked_by: null,
        locked_until: null,
        last_error: error.slice(0, 2000),
        updated_at: new Date().toISOString(),
      });
    return n === 1;
  }

  /** Puts a job back, due at `runAt`, without counting this try (a dependency's rate limit); false if this worker no longer holds it. */
  async defer(id: number, workerId: string, error: string, runAt: Date): Promise<boolean> {
    const n = await this.db('jobs')
      .where({ id, locked_by: workerId, status: 'running' })
      .update({
        status: 'pending',
        attempts: this.db.raw('attempts - 1'),
        run_at: runAt.toISOString(),
        locked_by: null,
        locked_until: null,
        last_error: error.slice(0, 2000),
        updated_at: new Date().toISOString(),
      });
    return n === 1;
  }

  /**
   * Finishes a job whose time slot ended without success (periodic work): `done`, with
   * its last error kept; never a dead letter. False if this worker no longer holds it.
   */
  async skip(id: number, workerId: string, error: string): Promise<boolean> {
    const n = await this.db('jobs')
      .where({ id, locked_by: workerId, status: 'running' })
      .update({ status: 'done', locked_until: null, last_error: error.slice(0, 2000), updated_at: new Date().toISOString() });
    return n === 1;
  }

  /** Deletes finished periodic jobs (dedupe key `periodic:…`) last updated before `before`. */
  async deleteFinishedPeriodic(before: Date): Promise<number> {
    return this.db('jobs').where({ status: 'done' }).andWhere('dedupe_key', 'like', 'periodic:%').andWhere('updated_at', '<', before.toISOString()).delete();
  }

  /** Puts a dead job back in the queue with a fresh budget. */
  async retryDead(id: number): Promise<boolean> {
    const n = await this.db('jobs').where({ id, status: 'dead' }).update({ status: 'pending', attempts: 0, run_at: new Date().toISOString(), updated_at: new Date().toISOString() });
    return n === 1;
  }

  async find(id: number): Promise<StoredJob | undefined> {
    const row = await this.db('jobs').where({ id }).first();
    return row && toJob(row);
  }

  async listForMessage(messageId: string): Promise<StoredJob[]> {
    return (await this.db('jobs').where({ message_id: messageId }).orderBy('id')).map(toJob);
  }

  async list(filter: { status?: JobStatus; limit?: number }): Promise<StoredJob[]> {
    const q = this.db('jobs').orderBy('id').limit(filter.limit ?? 100);
    if (filter.status) q.where({ status: filter.status });
    return (await q).map(toJob);
  }

  /** Job counts by type and status (for metrics). */
  async counts(): Promise<Array<{ type: string; status: JobStatus; count: number }>> {
    const rows: Array<{ type: string; status: string; n: number | string }> = await this.db('jobs').select('type', 'status').count({ n: '*' }).groupBy('type', 'status');
    return rows.map((r) => ({ type: String(r.type), status: r.status as JobStatus, count: Number(r.n) }));
  }

  /** When the next pending job is due, if any (lets an idle worker sleep just long enough). */
  async nextDue(): Promise<Date | undefined> {
    const row = await this.db('jobs').where({ status: 'pending' }).min({ t: 'run_at' }).first();
    return row?.t ? new Date(row.t as string) : undefined;
  }
}

function byAdoption(adopted: Adopted): Map<JobAdoption, StoredJob[]> {
  const out = new Map<JobAdoption, StoredJob[]>();
  for (const { job, adoption } of adopted) {
    const jobs = out.get(adoption);
    if (jobs) jobs.push(job);
    else out.set(adoption, [job]);
  }
  return out;
}

/** The payload column's JSON (PostgreSQL's driver may hand over a json column parsed already). */
function readPayload(column: unknown): unknown {
  if (typeof column !== 'string') return column;
  try {
    return JSON.parse(column);
  } catch (err) {
    return new UnreadablePayload(column, err instanceof Error ? err.message : String(err));
  }
}

function toJob(r: Record<string, unknown>): StoredJob {
  return {
    id: Number(r.id),
    type: r.type as string,
    payload: readPayload(r.payload),
    messageId: (r.message_id as string | null) ?? null,
    dedupeKey: (r.dedupe_key as string | null) ?? null,
    status: r.status as JobStatus,
    attempts: Number(r.attempts),
    maxAttempts: Number(r.max_attempts),
    priority: Number(r.priority ?? 0),
    runAt: r.run_at as string,
    lockedBy: (r.locked_by as string | null) ?? null,
    lockedUntil: (r.locked_until as string | null) ?? null,
    lastError: (r.last_error as string | null) ?? null,
    createdAt: r.created_at as string,
    updatedAt: r.updated_at as string,
  };
}
