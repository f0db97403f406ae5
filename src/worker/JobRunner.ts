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
 * Stop. `stop()` ends the hand-over of new jobs to this runner, lets the running ones
 * finish, waits for open transactions that inserted jobs claimed for it, and gives back
 * (pending, attempts as before) what it holds but has not started. A job handed over
 * after that is given back at once.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { LostLeaseError, type JobRecord } from '../store/JobRepository.js';
import type { Store } from '../store/Store.js';
import { backoffDelay, type BackoffPolicy } from './backoff.js';

export interface JobContext {
  workerId: string;
  /** Marks the job done inside the caller's transaction (throws LostLeaseError if another worker has it). */
  complete(tx: Store): Promise<void>;
}

export interface JobHandler {
  run(job: JobRecord, ctx: JobContext): Promise<void>;
  /**
   * Called when the job dies (attempts spent or a permanent failure), inside the
   * transaction that marks it dead: enqueue follow-up work here (e.g. sealing a failure
   * evidence), database writes only.
   */
  onDead?(job: JobRecord, error: unknown, tx: Store): Promise<void>;
}

/** Thrown by a handler for a failure that retrying cannot fix. */
export class PermanentJobError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentJobError';
  }
}

export interface RunnerOptions {
  concurrency: number;
  pollMs: number;
  leaseMs: number;
  backoff: BackoffPolicy;
  /** only these job types (default: every type with a handler) */
  types?: string[];
}

export class JobRunner {
  readonly workerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private running = false;
  /** stop() has given back what it held: jobs handed over from now on are given back at once */
  private stopped = false;
  private readonly active = new Set<Promise<void>>();
  /** jobs inserted already claimed by this runner (JobRepository adoption), not yet started */
  private readonly adopted: JobRecord[] = [];
  private readonly releases = new Set<Promise<void>>();
  private wake: (() => void) | undefined;
  /**
   * Whether the next tick should look for due jobs in the table: after a poke, after a
   * claim that filled every free slot (more may wait), and at least every pollMs.
   */
  private claimDue = true;
  private lastClaimAt = 0;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    private readonly handlers: Record<string, JobHandler>,
    private readonly options: RunnerOptions,
    private readonly log: Logger,
  ) {}

  /** The job types this runner runs. */
  get types(): string[] {
    return this.options.types ?? Object.keys(this.handlers);
  }

  /**
   * Makes this runner take the due jobs of its types enqueued in this process: they are
   * inserted claimed by it and handed over when their transaction commits (no poll, no
   * claim round trip). `stop()` ends it.
   */
  adoptLocalJobs(): void {
    this.store.localJobs.adoptFor({ workerId: this.workerId, leaseMs: this.options.leaseMs, types: new Set(this.types), take: (jobs) => this.adopt(jobs) });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopped = false;
    this.loop = this.run();
  }

  /** Ask for an immediate look at the job table (e.g. after another process enqueued). */
  poke(): void {
    this.claimDue = true;
    this.wake?.();
  }

  /** Takes jobs that were inserted already claimed by this runner; they run before any claim. */
  adopt(jobs: JobRecord[]): void {
    if (this.stopped) {
      this.release(jobs.map((j) => j.id));
      return;
    }
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
    if (left.length > 0) this.release(left.map((j) => j.id));
    await Promise.all(this.releases);
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

  /** Starts adopted jobs, then claims due ones when a look is due; returns how many started. */
  private async tick(): Promise<number> {
    let free = this.options.concurrency - this.active.size;
    let started = 0;
    while (free > 0 && this.adopted.length > 0) {
      this.launch(this.adopted.shift()!);
      free--;
      started++;
    }
    if (free <= 0) return started;
    if (!this.claimDue && Date.now() - this.lastClaimAt < this.options.pollMs) return started;
    this.claimDue = false;
    this.lastClaimAt = Date.now();
    const jobs = await this.store.jobs.claim(this.workerId, free, this.options.leaseMs, this.types);
    // A full claim may have left due jobs behind.
    if (jobs.length === free) this.claimDue = true;
    for (const job of jobs) this.launch(job);
    return started + jobs.length;
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

  private launch(job: JobRecord): void {
    const p = this.execute(job).finally(() => {
      this.active.delete(p);
      this.wake?.();
    });
    this.active.add(p);
  }

  private async execute(job: JobRecord): Promise<void> {
    const handler = this.handlers[job.type];
    let completed = false;
    const ctx: JobContext = {
      workerId: this.workerId,
      complete: async (tx) => {
        await tx.jobs.complete(job.id, this.workerId);
        completed = true;
      },
    };
    const heartbeat = setInterval(() => {
      this.store.jobs.heartbeat(job.id, this.workerId, this.options.leaseMs).catch(() => undefined);
    }, Math.max(1000, this.options.leaseMs / 3));
    try {
      if (!handler) throw new PermanentJobError(`no handler for job type ${job.type}`);
      await handler.run(job, ctx);
      if (!completed) await this.store.jobs.complete(job.id, this.workerId);
      this.log.debug({ jobId: job.id, type: job.type, attempts: job.attempts }, 'job done');
    } catch (err) {
      if (err instanceof LostLeaseError) {
        this.log.warn({ jobId: job.id, type: job.type }, 'job lease lost; another worker owns it');
        return;
      }
      const permanent = err instanceof PermanentJobError;
      const spent = permanent || job.attempts >= job.maxAttempts;
      const retryAt = spent ? null : new Date(Date.now() + backoffDelay(job.attempts, this.options.backoff));
      const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      this.log.warn({ jobId: job.id, type: job.type, attempts: job.attempts, retryAt, err: message }, spent ? 'job dead' : 'job failed; will retry');
      await this.store
        .transaction(async (tx) => {
          const stillOurs = await tx.jobs.fail(job.id, this.workerId, message, retryAt);
          if (stillOurs && spent && handler?.onDead) await handler.onDead(job, err, tx);
        })
        .catch((e) => this.log.error({ err: e, jobId: job.id }, 'could not record job failure'));
    } finally {
      clearInterval(heartbeat);
    }
  }
}
