/**
 * Runs jobs from the outbox: claims due jobs under a lease, runs each with its
 * handler, retries failures with exponential backoff and jitter, and marks a job dead
 * when its attempts are spent (or when its handler says the failure is permanent).
 *
 * A handler that writes state should call `ctx.complete(tx)` inside its own transaction,
 * so that its writes and the job's completion commit together (and a worker that lost
 * its lease rolls back instead of writing twice). Otherwise the job is completed after
 * the handler returns.
 *
 * Leases. Every job the runner holds — running, waiting in memory to start, or waiting
 * for its outcome to be written — has its lease renewed by one heartbeat every
 * leaseMs/3, for as long as the job takes. A heartbeat that finds a job no longer held by
 * this worker (its lease ran out and another worker took it) aborts the job's
 * `ctx.signal` and drops it if it has not started; its completion is refused anyway
 * (`complete` checks `locked_by`).
 *
 * Start. Before its first claim, the runner gives back the running jobs of workers that
 * are provably gone — a dead process on this host, or on SQLite any earlier run (see
 * workerId.ts) — so that a restart after a crash does not wait for their leases.
 *
 * Stop. `stop()` ends the hand-over of new jobs to this runner, lets the running ones
 * finish, waits for open transactions that inserted jobs claimed for it, and gives back
 * (pending, attempts as before) what it holds but has not started. A job handed over
 * after that is given back at once.
 *
 * Answers lost. A claim, or the commit of a transaction that inserted jobs claimed by this
 * runner, may be carried out by the database while its answer is lost with the connection:
 * the jobs are then the runner's in the table without its knowing. It notes what it could
 * not confirm and, at each tick, looks for those jobs (JobRepository.heldBy) and runs them,
 * rather than leaving them to their lease.
 *
 * Outcomes. When the database does not take a job's outcome (done, failed, dead, skipped)
 * — a full disk, a database that went away — the runner keeps the job, keeps renewing its
 * lease, and writes the outcome again with a short capped backoff until it is written or
 * the lease is lost: the job is due again within moments of the database coming back.
 *
 * Payloads. Each job type's payload is read with its reader (the job map's catalogue, e.g.
 * src/store/jobs.ts) before its handler sees it, once per attempt: a payload that does
 * not fit — not JSON, a field missing or of another kind — is a permanent failure, the
 * job a dead letter whose last error names the field; the runner goes on with the others.
 *
 * Time slots. A handler with `slot` (periodic work) retries only within the job's slot,
 * with backoff capped for it; a slot that ends without success is skipped — the job is
 * finished with its last error and the warning `periodic slot skipped` — never a dead letter.
 */
import type { Logger } from 'pino';
import { LostLeaseError, UnreadablePayload, type JobOf, type JobType, type StoredJob } from '../store/JobRepository.js';
import type { Repositories } from '../store/Repositories.js';
import { backoffDelay, type BackoffPolicy } from './backoff.js';
import type { Jobs } from '../store/jobs.js';
import { PayloadError, type PayloadReader } from '../store/payload.js';
import { newWorkerId, workerGone } from './workerId.js';

export interface JobContext<M = Jobs> {
  workerId: string;
  /** Marks the job done inside the caller's transaction (throws LostLeaseError if another worker has it). */
  complete(tx: Repositories<M>): Promise<void>;
  /**
   * Aborted when this worker learns that the job is no longer its own (its lease ran out
   * and another worker took it): a handler may stop early; completing it is refused anyway.
   */
  signal: AbortSignal;
  /**
   * The job was enqueued by a transaction of this process and handed to this runner when it
   * committed: whoever in this process waits for its outcome learns of it in-process. A job
   * claimed from the table may have been enqueued by another process (PgSignals).
   */
  handedOver: boolean;
}

/** The time slot a job belongs to (periodic work): see JobHandler.slot. */
export interface JobSlot {
  /** when the slot ends (epoch ms): no retry starts after it */
  endsAt: number;
  /** the longest wait between two attempts */
  maxBackoffMs: number;
}

/** The handler of job type `T` of job map `M` (the service's own by default). */
export interface JobHandler<T extends JobType<M>, M = Jobs> {
  run: (job: JobOf<M, T>, ctx: JobContext<M>) => Promise<void>;
  /**
   * Called when the job dies (attempts spent or a permanent failure), inside the
   * transaction that marks it dead: enqueue follow-up work here (e.g. sealing a failure
   * evidence), database writes only.
   */
  onDead?: (job: JobOf<M, T>, error: unknown, tx: Repositories<M>) => Promise<void>;
  /**
   * For work bound to a time slot: a failed attempt is retried only if the retry starts
   * before the slot ends and attempts are left; otherwise the slot is skipped (the job is
   * finished, `done` with its last error), never a dead letter.
   */
  slot?: (job: JobOf<M, T>) => JobSlot;
}

/** A handler for every type of job map `M`, keyed by type. */
export type JobHandlers<M = Jobs> = { [T in JobType<M>]: JobHandler<T, M> };

/** The reader of every type's payload of job map `M` (see payload.ts). */
export type JobCatalog<M> = { readonly [T in JobType<M>]: PayloadReader<M[T]> };

/** A job bound to its handler, its payload read. */
interface Bound<M> {
  run(ctx: JobContext<M>): Promise<void>;
  onDead?(error: unknown, tx: Repositories<M>): Promise<void>;
  slot?(): JobSlot;
}

/**
 * Thrown by a handler whose dependency asked it to come back later (HTTP 429 with
 * Retry-After: a provider's rate limit). The job is due again after `delayMs` and the try
 * is not counted against its attempts: throttling paces the work, it is not a failure.
 */
export class RetryLaterError extends Error {
  constructor(
    readonly delayMs: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RetryLaterError';
  }
}

/** Thrown by a handler for a failure that retrying cannot fix. */
export class PermanentJobError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentJobError';
  }
}

export interface RunnerOptions<M = Jobs> {
  concurrency: number;
  pollMs: number;
  leaseMs: number;
  backoff: BackoffPolicy;
  /** only these job types (default: every type with a handler) */
  types?: Array<JobType<M>>;
}

/** A job this runner holds. */
interface Held {
  job: StoredJob;
  /** when its lease ends as far as this runner knows (the table's is never earlier) */
  leaseUntil: number;
  /** a heartbeat found it held by another worker */
  lost: boolean;
  abort: AbortController;
  /** handed over by its transaction in this process (JobContext.handedOver) */
  handedOver: boolean;
}

/** The runners of this process that have not stopped: the jobs they hold are not anyone's to take back. */
const liveRunners = new Set<string>();

/** Outcome writes the database refused are tried again after 50 ms, 100 ms, … at most this. */
const OUTCOME_RETRY_MAX_MS = 2000;

export class JobRunner<M = Jobs> {
  readonly workerId = newWorkerId();
  private running = false;
  /** stop() has given back what it held: jobs handed over from now on are given back at once */
  private stopped = false;
  private readonly active = new Set<Promise<void>>();
  /** jobs inserted already claimed by this runner (JobRepository adoption), not yet started */
  private readonly adopted: StoredJob[] = [];
  private readonly held = new Map<number, Held>();
  private heartbeat: NodeJS.Timeout | undefined;
  private renewing: Promise<void> | undefined;
  private readonly releases = new Set<Promise<void>>();
  private wake: (() => void) | undefined;
  /**
   * Whether the next tick should look for due jobs in the table: after a poke, after a
   * claim that filled every free slot (more may wait), and at least every pollMs.
   */
  private claimDue = true;
  private lastClaimAt = 0;
  private loop: Promise<void> | undefined;
  /** claims that failed (their time), until their lease would end: they may have gone through */
  private unansweredClaims: Array<{ at: Date; until: number }> = [];
  /** jobs inserted claimed for this runner whose transaction failed, until their lease would end */
  private readonly unansweredJobs = new Map<number, number>();

  /**
   * @param payloads the reader of each type's payload
   * @param handlers the handlers of the types this runner runs
   */
  constructor(
    private readonly store: Repositories<M>,
    private readonly payloads: JobCatalog<M>,
    private readonly handlers: Partial<JobHandlers<M>>,
    private readonly options: RunnerOptions<M>,
    private readonly log: Logger,
  ) {
    liveRunners.add(this.workerId);
  }

  /** The job types this runner runs. */
  get types(): string[] {
    return this.options.types ?? Object.keys(this.handlers);
  }

  private get heartbeatMs(): number {
    return Math.max(100, Math.floor(this.options.leaseMs / 3));
  }

  /**
   * Makes this runner take the due jobs of its types enqueued in this process: they are
   * inserted claimed by it and handed over when their transaction commits (no poll, no
   * claim round trip). `stop()` ends it.
   */
  adoptLocalJobs(): void {
    this.store.localJobs.adoptFor({
      workerId: this.workerId,
      leaseMs: this.options.leaseMs,
      types: new Set(this.types),
      take: (jobs) => this.adopt(jobs, true),
      unanswered: (jobs) => {
        for (const job of jobs) this.unansweredJobs.set(job.id, job.lockedUntil ? Date.parse(job.lockedUntil) : Date.now() + this.options.leaseMs);
        this.poke();
      },
    });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopped = false;
    liveRunners.add(this.workerId);
    this.loop = this.run();
  }

  /** Ask for an immediate look at the job table (e.g. after another process enqueued). */
  poke(): void {
    this.claimDue = true;
    this.wake?.();
  }

  /** Takes jobs that were inserted already claimed by this runner; they run before any claim. */
  /** `handedOver`: by their transaction in this process (JobContext.handedOver). */
  adopt(jobs: StoredJob[], handedOver = false): void {
    // a job found after a lost answer may be handed over by its transaction as well
    jobs = jobs.filter((j) => !this.held.has(j.id));
    if (jobs.length === 0) return;
    if (this.stopped) {
      this.release(jobs.map((j) => j.id));
      return;
    }
    for (const job of jobs) this.hold(job, job.lockedUntil ? Date.parse(job.lockedUntil) : Date.now() + this.options.leaseMs, handedOver);
    this.adopted.push(...jobs);
    this.wake?.();
  }

  async stop(): Promise<void> {
    // jobs enqueued from now on stay pending, for whichever worker runs next
    if (this.store.localJobs.adoption?.workerId === this.workerId) this.store.localJobs.adoptFor(undefined);
    this.running = false;
    this.wake?.();
    await this.loop;
    await Promise.all(this.active);
    // transactions that inserted jobs claimed for this runner commit (handing them over) or roll back
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.store.localJobs.settled().then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), this.options.leaseMs))),
    ]);
    clearTimeout(timer);
    if (timedOut) this.log.warn('stopping without waiting longer for transactions that enqueued jobs for this worker; their jobs are given back when they commit');
    // Jobs taken but not started go back to the table for whoever runs next.
    this.stopped = true;
    const left = this.adopted.splice(0);
    for (const job of left) this.held.delete(job.id);
    if (left.length > 0) this.release(left.map((j) => j.id));
    // jobs of a claim or an insert whose answer was lost: given back too, if the database says
    await this.takeUnanswered();
    await Promise.all(this.releases);
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    await this.renewing;
    liveRunners.delete(this.workerId);
  }

  /** Runs due jobs until none is left (tests and one-shot use). */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      this.claimDue = true;
      const n = await this.tick();
      await Promise.all(this.active);
      if (n === 0 && this.adopted.length === 0) return total;
      total += n;
    }
  }

  private async run(): Promise<void> {
    await this.reclaim();
    while (this.running) {
      try {
        await this.tick();
      } catch (err) {
        this.log.error({ err }, 'job claim failed');
      }
      const free = this.active.size < this.options.concurrency;
      if (free && (this.adopted.length > 0 || this.claimDue)) continue;
      const untilPoll = Math.max(0, this.lastClaimAt + this.options.pollMs - Date.now());
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.claimDue = true;
          resolve();
        }, untilPoll);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /** Gives back the running jobs of workers that are provably gone (a crash before this start). */
  private async reclaim(): Promise<void> {
    try {
      const holders = await this.store.jobs.lockHolders();
      const gone = holders.filter((id) => workerGone(id, { liveHere: liveRunners, singleProcess: this.store.jobs.singleProcess }));
      if (gone.length === 0) return;
      const n = await this.store.jobs.releaseHeldBy(gone);
      if (n > 0) this.log.info({ jobs: n, workers: gone }, 'took back the jobs of worker processes that are gone');
    } catch (err) {
      this.log.error({ err }, 'could not take back the jobs of workers that are gone; they are due again when their leases end');
    }
  }

  /**
   * Looks for the jobs of claims and inserts whose answer was lost (see the file's comment)
   * and takes them as adopted; once their lease would have ended, any claim takes them and
   * they are no longer looked for. While the database does not answer, they are kept.
   */
  private async takeUnanswered(): Promise<void> {
    const now = Date.now();
    this.unansweredClaims = this.unansweredClaims.filter((c) => c.until > now);
    for (const [id, until] of this.unansweredJobs) if (until <= now) this.unansweredJobs.delete(id);
    if (this.unansweredClaims.length === 0 && this.unansweredJobs.size === 0) return;
    const claims = [...this.unansweredClaims];
    const ids = [...this.unansweredJobs.keys()];
    let found: StoredJob[];
    try {
      found = await this.store.jobs.heldBy(this.workerId, { ids, claimedAt: claims.map((c) => c.at) });
    } catch (err) {
      this.log.warn({ err }, 'could not look for jobs claimed without an answer; will look again');
      return;
    }
    this.unansweredClaims = this.unansweredClaims.filter((c) => !claims.includes(c));
    for (const id of ids) this.unansweredJobs.delete(id);
    const mine = found.filter((j) => !this.held.has(j.id));
    if (mine.length > 0) {
      this.log.info({ jobs: mine.length }, 'took up jobs claimed for this worker whose answer was lost');
      this.adopt(mine);
    }
  }

  /** Starts adopted jobs, then claims due ones when a look is due; returns how many started. */
  private async tick(): Promise<number> {
    await this.takeUnanswered();
    let free = this.options.concurrency - this.active.size;
    let started = 0;
    while (free > 0 && this.adopted.length > 0) {
      const job = this.adopted.shift()!;
      const h = this.held.get(job.id);
      if (!h || h.lost || h.leaseUntil <= Date.now()) {
        // its lease ran out while it waited (no heartbeat got through) or another worker has it
        this.held.delete(job.id);
        this.log.warn({ jobId: job.id, type: job.type }, 'job not started: its lease ended while it waited');
        continue;
      }
      this.launch(h);
      free--;
      started++;
    }
    if (free <= 0) return started;
    if (!this.claimDue && Date.now() - this.lastClaimAt < this.options.pollMs) return started;
    this.claimDue = false;
    this.lastClaimAt = Date.now();
    const claimTime = new Date();
    const claimedAt = claimTime.getTime();
    let jobs: StoredJob[];
    try {
      jobs = await this.store.jobs.claim(this.workerId, free, this.options.leaseMs, this.types, claimTime);
    } catch (err) {
      // the database may have made the claim and lost its answer: look for it at the next tick
      this.unansweredClaims.push({ at: claimTime, until: claimedAt + this.options.leaseMs });
      throw err;
    }
    // A full claim may have left due jobs behind.
    if (jobs.length === free) this.claimDue = true;
    let launched = 0;
    for (const job of jobs) {
      const h = this.held.get(job.id);
      if (h) {
        // Already ours and in progress: its lease ran out in the table before a heartbeat
        // got through (a busy database), and this claim renewed it. Not run twice.
        h.leaseUntil = claimedAt + this.options.leaseMs;
        continue;
      }
      this.launch(this.hold(job, claimedAt + this.options.leaseMs));
      launched++;
    }
    return started + launched;
  }

  private hold(job: StoredJob, leaseUntil: number, handedOver = false): Held {
    const h: Held = { job, leaseUntil, lost: false, abort: new AbortController(), handedOver };
    this.held.set(job.id, h);
    if (!this.heartbeat) {
      this.heartbeat = setInterval(() => void this.renewLeases(), this.heartbeatMs);
      this.heartbeat.unref();
    }
    return h;
  }

  /** The heartbeat: renews the lease of every job held, in one statement. */
  private async renewLeases(): Promise<void> {
    if (this.held.size === 0) {
      clearInterval(this.heartbeat);
      this.heartbeat = undefined;
      return;
    }
    if (this.renewing) return;
    this.renewing = this.renew();
    await this.renewing;
    this.renewing = undefined;
  }

  private async renew(): Promise<void> {
    const ids = [...this.held.keys()];
    const sentAt = Date.now();
    try {
      const kept = await this.store.jobs.heartbeat(ids, this.workerId, this.options.leaseMs);
      for (const id of ids) {
        const h = this.held.get(id);
        if (!h) continue; // finished meanwhile
        if (kept.has(id)) {
          h.leaseUntil = Math.max(h.leaseUntil, sentAt + this.options.leaseMs);
        } else if (!h.lost) {
          h.lost = true;
          h.abort.abort(new LostLeaseError(id));
        }
      }
    } catch (err) {
      this.log.warn({ err, jobs: ids.length }, 'could not renew job leases');
    }
  }

  private release(ids: number[]): void {
    const p = this.store.jobs
      .release(ids, this.workerId)
      .then(
        () => undefined,
        (err) => this.log.warn({ err, jobIds: ids }, 'could not give back jobs not started; they are due again when their lease ends'),
      )
      .finally(() => this.releases.delete(p));
    this.releases.add(p);
  }

  private launch(h: Held): void {
    const p = this.execute(h).finally(() => {
      this.held.delete(h.job.id);
      this.active.delete(p);
      this.wake?.();
    });
    this.active.add(p);
  }

  private async execute(h: Held): Promise<void> {
    const { job } = h;
    let completed = false;
    const ctx: JobContext<M> = {
      workerId: this.workerId,
      signal: h.abort.signal,
      handedOver: h.handedOver,
      complete: async (tx) => {
        await tx.jobs.complete(job.id, this.workerId);
        completed = true;
      },
    };
    let bound: Bound<M> | undefined;
    let ok = false;
    let failure: unknown;
    try {
      bound = this.bind(job);
      await bound.run(ctx);
      ok = true;
    } catch (err) {
      failure = err;
    }
    try {
      if (ok) {
        if (!completed) {
          if (h.lost) throw new LostLeaseError(job.id);
          await this.record(h, () => this.store.jobs.complete(job.id, this.workerId));
        }
        this.log.debug({ jobId: job.id, type: job.type, attempts: job.attempts }, 'job done');
      } else if (failure instanceof LostLeaseError) {
        throw failure;
      } else {
        await this.recordFailure(h, bound, failure);
      }
    } catch (err) {
      if (err instanceof LostLeaseError) this.log.warn({ jobId: job.id, type: job.type }, 'job lease lost; another worker owns it');
      else this.log.error({ err, jobId: job.id, type: job.type }, 'could not settle job');
    }
  }

  /** The job with its payload read for its type, bound to its handler; a PermanentJobError if it cannot be. */
  private bind(job: StoredJob): Bound<M> {
    if (!this.runs(job.type)) throw new PermanentJobError(`no handler for job type ${job.type}`);
    return this.bindTyped(job.type, job);
  }

  private runs(type: string): type is JobType<M> {
    return Object.hasOwn(this.handlers, type) && Object.hasOwn(this.payloads, type);
  }

  private bindTyped<T extends JobType<M>>(type: T, stored: StoredJob): Bound<M> {
    const handler = this.handlers[type];
    if (!handler) throw new PermanentJobError(`no handler for job type ${type}`);
    if (stored.payload instanceof UnreadablePayload) throw new PermanentJobError(`malformed payload for job type ${type}: not JSON (${stored.payload.reason})`);
    let payload: M[T];
    try {
      payload = this.payloads[type](stored.payload, 'payload');
    } catch (err) {
      if (err instanceof PayloadError) throw new PermanentJobError(`malformed payload for job type ${type}: ${err.message}`, { cause: err });
      throw err;
    }
    const job: JobOf<M, T> = { ...stored, type, payload };
    const { onDead, slot } = handler;
    return {
      run: (ctx) => handler.run(job, ctx),
      onDead: onDead && ((error, tx) => onDead(job, error, tx)),
      slot: slot && (() => slot(job)),
    };
  }

  private async recordFailure(h: Held, bound: Bound<M> | undefined, err: unknown): Promise<void> {
    const { job } = h;
    if (err instanceof RetryLaterError && !bound?.slot) {
      const runAt = new Date(Date.now() + Math.max(1, err.delayMs));
      this.log.debug({ jobId: job.id, type: job.type, runAt }, 'job deferred: its dependency asked to come back later');
      await this.record(h, () => this.store.jobs.defer(job.id, this.workerId, `${err.name}: ${err.message}`, runAt));
      return;
    }
    const permanent = err instanceof PermanentJobError;
    const slot = bound?.slot?.();
    let outcome: 'retry' | 'dead' | 'skip';
    let retryAt: Date | null = null;
    if (slot) {
      const backoff = { baseMs: this.options.backoff.baseMs, maxMs: Math.max(1, Math.min(this.options.backoff.maxMs, slot.maxBackoffMs)) };
      const at = Date.now() + backoffDelay(job.attempts, backoff);
      if (!permanent && job.attempts < job.maxAttempts && at < slot.endsAt) retryAt = new Date(at);
      outcome = retryAt ? 'retry' : 'skip';
    } else if (permanent || job.attempts >= job.maxAttempts) {
      outcome = 'dead';
    } else {
      outcome = 'retry';
      retryAt = new Date(Date.now() + backoffDelay(job.attempts, this.options.backoff));
    }
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    const what = { retry: 'job failed; will retry', dead: 'job dead', skip: 'periodic slot skipped' }[outcome];
    this.log.warn({ jobId: job.id, type: job.type, attempts: job.attempts, retryAt, err: message }, what);
    await this.record(h, () =>
      outcome === 'skip'
        ? this.store.jobs.skip(job.id, this.workerId, message)
        : this.store.transaction(async (tx) => {
            const stillOurs = await tx.jobs.fail(job.id, this.workerId, message, retryAt);
            if (stillOurs && outcome === 'dead' && bound?.onDead) await bound.onDead(err, tx);
          }),
    );
  }

  /**
   * Writes a job's outcome. If the database does not take it, the job stays held (the
   * heartbeat renews its lease while it can) and the write is tried again, 50 ms, 100 ms,
   * … at most 2 s apart, until it is written or the lease is lost: then the job is due
   * again in the table as soon as its lease there ends.
   */
  private async record(h: Held, write: () => Promise<unknown>): Promise<void> {
    let delay = 50;
    for (let tries = 1; ; tries++) {
      try {
        await write();
        if (tries > 1) this.log.info({ jobId: h.job.id, type: h.job.type, tries }, 'job outcome recorded once the database took it');
        return;
      } catch (err) {
        if (err instanceof LostLeaseError) throw err;
        if (h.lost || Date.now() >= h.leaseUntil) {
          this.log.error({ err, jobId: h.job.id, type: h.job.type }, 'could not record job outcome before its lease ended; the job will run again');
          return;
        }
        this.log.warn({ err, jobId: h.job.id, type: h.job.type, tries, retryInMs: delay }, 'could not record job outcome; will retry');
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, OUTCOME_RETRY_MAX_MS, this.heartbeatMs);
      }
    }
  }
}
