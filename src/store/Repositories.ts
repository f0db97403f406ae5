import type { Knex } from 'knex';
import { BLOB_FENCE_LOCK_KEY, LocalFence } from './BlobFence.js';
import { CommitGroup } from './CommitGroup.js';
import { CheckpointRepository } from './CheckpointRepository.js';
import { ContactRepository } from './ContactRepository.js';
import { EboxRepository } from './EboxRepository.js';
import { EventRepository } from './EventRepository.js';
import { EvidenceRepository } from './EvidenceRepository.js';
import { JobRepository, LocalJobs, type JobAdoption, type JobRecord } from './JobRepository.js';
import { MessageRepository } from './MessageRepository.js';
import { NotificationRepository } from './NotificationRepository.js';
import { SenderRepository } from './SenderRepository.js';
import { UsageRepository } from './UsageRepository.js';

/** The repositories, bound to the database or to one transaction. */
export class Repositories {
  readonly senders: SenderRepository;
  readonly messages: MessageRepository;
  readonly evidence: EvidenceRepository;
  readonly events: EventRepository;
  readonly jobs: JobRepository;
  readonly ebox: EboxRepository;
  readonly checkpoints: CheckpointRepository;
  readonly contacts: ContactRepository;
  readonly notifications: NotificationRepository;
  readonly usage: UsageRepository;

  /** SQLite only, on the root store: transactions share commits (see CommitGroup). */
  readonly commits: CommitGroup | undefined;

  /**
   * Jobs inserted claimed by this process's runner in this transaction, with the adoption
   * they were claimed for: handed to it at commit, even if adoption was turned off since.
   */
  private readonly adoptedJobs: Array<{ job: JobRecord; adoption: JobAdoption }> = [];
  private readonly isTransaction: boolean;

  constructor(
    readonly db: Knex,
    /** the runner of this process that takes jobs directly, shared with every transaction */
    readonly localJobs: LocalJobs = new LocalJobs(),
    /** SQLite: the blob fence of this process (BlobFence.ts), shared with every transaction */
    private readonly fence: LocalFence = new LocalFence(),
  ) {
    this.isTransaction = (db as Knex & { isTransaction?: boolean }).isTransaction === true;
    this.commits = !this.isTransaction && db.client.config.client === 'better-sqlite3' ? new CommitGroup(db) : undefined;
    this.senders = new SenderRepository(db);
    this.messages = new MessageRepository(db);
    this.evidence = new EvidenceRepository(db);
    this.events = new EventRepository(db);
    this.jobs = new JobRepository(db, localJobs, (job, adoption) => {
      if (!this.isTransaction) return adoption.take([job]); // committed already
      localJobs.opened();
      this.adoptedJobs.push({ job, adoption });
    });
    this.ebox = new EboxRepository(db);
    this.checkpoints = new CheckpointRepository(db);
    this.contacts = new ContactRepository(db);
    this.notifications = new NotificationRepository(db);
    this.usage = new UsageRepository(db);
  }

  /**
   * Runs `work` in one transaction: all its writes commit together or not at all, and
   * are on disk when the promise resolves. On SQLite, transactions that arrive together
   * share one commit, each in its own savepoint.
   */
  async transaction<T>(work: (tx: Repositories) => Promise<T>): Promise<T> {
    let tx: Repositories | undefined;
    const unit = (trx: Knex.Transaction) => work((tx = new Repositories(trx, this.localJobs, this.fence)));
    let result: T;
    try {
      result = this.commits ? await this.commits.run(unit) : await this.db.transaction(unit);
    } catch (err) {
      if (tx) {
        const adopted = tx.adoptedJobs.splice(0);
        this.localJobs.closed(adopted.length);
        // Rolled back, or — the root transaction — committed with its answer lost: the
        // runner looks for the jobs it inserted claimed once the database answers. (A
        // savepoint that failed was rolled back: its jobs never existed.)
        if (!this.isTransaction) for (const [adoption, jobs] of groupByAdoption(adopted)) adoption.unanswered?.(jobs);
      }
      throw err;
    }
    const adopted = tx!.adoptedJobs.splice(0);
    if (adopted.length > 0) {
      if (this.isTransaction) {
        // a savepoint: the enclosing transaction decides
        this.adoptedJobs.push(...adopted);
      } else {
        try {
          for (const [adoption, jobs] of groupByAdoption(adopted)) adoption.take(jobs);
        } finally {
          this.localJobs.closed(adopted.length);
        }
      }
    }
    return result;
  }

  /**
   * Commits documents: `place` moves their bytes into the blob store, then `work` writes the
   * rows that name them, in one transaction; no sweep can run in between (BlobFence.ts).
   */
  async commitWithBlobs<T>(place: () => Promise<void>, work: (tx: Repositories) => Promise<T>): Promise<T> {
    if (this.isPostgres) {
      return this.transaction(async (tx) => {
        await tx.db.raw('SELECT pg_advisory_xact_lock_shared(?)', [BLOB_FENCE_LOCK_KEY]);
        await place();
        return work(tx);
      });
    }
    return this.fence.shared(async () => {
      await place();
      return this.transaction(work);
    });
  }

  /** Runs a blob sweep's check-and-delete with no document commit in progress anywhere (BlobFence.ts). */
  async underBlobSweep<T>(work: (store: Repositories) => Promise<T>): Promise<T> {
    if (this.isPostgres) {
      return this.db.transaction(async (trx) => {
        await trx.raw('SELECT pg_advisory_xact_lock(?)', [BLOB_FENCE_LOCK_KEY]);
        return work(new Repositories(trx, this.localJobs, this.fence));
      });
    }
    return this.fence.exclusive(() => work(this));
  }

  private get isPostgres(): boolean {
    return this.db.client.config.client === 'pg';
  }

  /** Checks the database answers (health check). */
  async ping(): Promise<void> {
    await this.db.raw('select 1');
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}

function groupByAdoption(adopted: Array<{ job: JobRecord; adoption: JobAdoption }>): Map<JobAdoption, JobRecord[]> {
  const out = new Map<JobAdoption, JobRecord[]>();
  for (const { job, adoption } of adopted) {
    const jobs = out.get(adoption);
    if (jobs) jobs.push(job);
    else out.set(adoption, [job]);
  }
  return out;
}
