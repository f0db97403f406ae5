import type { Knex } from 'knex';
import { BatchRepository } from './BatchRepository.js';
import { BLOB_FENCE_LOCK_KEY, LocalFence } from './BlobFence.js';
import { CommitGroup } from './CommitGroup.js';
import { CheckpointRepository } from './CheckpointRepository.js';
import { ContactRepository } from './ContactRepository.js';
import { EboxRepository } from './EboxRepository.js';
import { EventRepository } from './EventRepository.js';
import { EvidenceRepository } from './EvidenceRepository.js';
import { InboundSmsRepository } from './InboundSmsRepository.js';
import { JobRepository, LocalJobs } from './JobRepository.js';
import { MessageRepository } from './MessageRepository.js';
import { NotificationRepository } from './NotificationRepository.js';
import { NotificationBatchRepository } from './NotificationBatchRepository.js';
import { PageSessionRepository } from './PageSessionRepository.js';
import { RecordTreeRepository } from './RecordTreeRepository.js';
import { SenderRepository } from './SenderRepository.js';
import { UsageRepository } from './UsageRepository.js';
import type { TransactionHooks, TransactionScope } from './TransactionHooks.js';
import type { SignalChannel } from './PgSignals.js';
import type { Jobs } from './jobs.js';
import { execute, prepared } from './Prepared.js';
import { walSyncOf } from './WalSync.js';

/** PostgreSQL: every document commit takes the blob fence shared (Prepared.ts: the hot path) */
const BLOB_FENCE_SHARED = prepared('blob_fence_shared', 'SELECT pg_advisory_xact_lock_shared(?)');

/**
 * The repositories, bound to the database or to one transaction. `M` is the job map the
 * job table is written with (the service's own by default; tests use their own).
 */
export class Repositories<M = Jobs> implements TransactionScope {
  readonly senders: SenderRepository;
  readonly messages: MessageRepository;
  readonly batches: BatchRepository;
  readonly evidence: EvidenceRepository;
  readonly events: EventRepository;
  readonly jobs: JobRepository<M>;
  readonly ebox: EboxRepository;
  readonly checkpoints: CheckpointRepository;
  readonly contacts: ContactRepository;
  readonly notifications: NotificationRepository;
  readonly notificationBatches: NotificationBatchRepository;
  readonly usage: UsageRepository;
  readonly inbound: InboundSmsRepository;
  /** RFC 4998 hash trees over proofs and checkpoints */
  readonly recordTrees: RecordTreeRepository;
  /** the pages' sessions, sign-in attempts and clerks */
  readonly pageSessions: PageSessionRepository;

  /** SQLite only, on the root store: transactions share commits (see CommitGroup). */
  readonly commits: CommitGroup | undefined;

  /** what the repositories of this transaction asked to be told of its outcome (TransactionHooks) */
  private readonly hooks: TransactionHooks[] = [];
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
    this.batches = new BatchRepository(db);
    this.evidence = new EvidenceRepository(db);
    // transactions write their events last, just before COMMIT, in one statement (EventRepository)
    this.events = new EventRepository(db, this.isTransaction);
    this.jobs = new JobRepository<M>(db, localJobs, this);
    this.ebox = new EboxRepository(db);
    this.checkpoints = new CheckpointRepository(db);
    this.contacts = new ContactRepository(db);
    this.notifications = new NotificationRepository(db);
    this.notificationBatches = new NotificationBatchRepository(db);
    this.usage = new UsageRepository(db);
    this.inbound = new InboundSmsRepository(db);
    this.recordTrees = new RecordTreeRepository(db);
    this.pageSessions = new PageSessionRepository(db);
  }

  /**
   * Runs `work` in one transaction: all its writes commit together or not at all, and
   * are on disk when the promise resolves. On SQLite, transactions that arrive together
   * share one commit, each in its own savepoint. Nested in a transaction, a savepoint.
   */
  async transaction<T>(work: (tx: Repositories<M>) => Promise<T>): Promise<T> {
    let tx: Repositories<M> | undefined;
    const root = !this.isTransaction;
    const unit = async (trx: Knex.Transaction) => {
      const r = await work((tx = new Repositories<M>(trx, this.localJobs, this.fence)));
      // the root transaction writes the events it noted as its last statements
      if (root) await tx.events.flush();
      return r;
    };
    let result: T;
    try {
      result = this.commits ? await this.commits.run(unit) : await this.db.transaction(unit);
    } catch (err) {
      // a savepoint that failed was rolled back; the root transaction may have committed
      // with its answer lost
      tx?.ended({ committed: false, maybeCommitted: !this.isTransaction });
      throw err;
    }
    if (this.isTransaction) {
      // a savepoint: the enclosing transaction decides, and writes its events
      this.hooks.push(...tx!.hooks.splice(0));
      this.events.adopt(tx!.events);
    }
    else tx!.ended({ committed: true });
    return result;
  }

  /**
   * PostgreSQL: signals the other processes of this database (PgSignals), when this
   * transaction commits (at once outside one). SQLite: one process, nothing to do.
   */
  async signal(channel: SignalChannel, payload: string): Promise<void> {
    if (this.db.client.config.client === 'pg') await this.db.raw('select pg_notify(?, ?)', [channel, payload]);
  }

  /**
   * Runs the reads of `work` on one snapshot of the database, so that what they return
   * together is what one moment held: a message's status and its proofs agree even while a
   * transaction records the next proof. PostgreSQL: a REPEATABLE READ, READ ONLY transaction;
   * SQLite: a transaction, whose snapshot (WAL) is taken at its first read. In a transaction,
   * `work` runs in it.
   */
  async snapshot<T>(work: (tx: Repositories<M>) => Promise<T>): Promise<T> {
    if (this.isTransaction) return work(this);
    const wal = walSyncOf(this.db);
    const unit = async (trx: Knex.Transaction) => {
      // SQLite: the snapshot holds the one connection, so no commit comes while it waits for
      // the commits before it to be on disk; it reads nothing that is not (WalSync.ts)
      await wal?.durable();
      return work(new Repositories<M>(trx, this.localJobs, this.fence));
    };
    return this.db.client.config.client === 'pg'
      ? this.db.transaction(unit, { isolationLevel: 'repeatable read', readOnly: true })
      : this.db.transaction(unit);
  }

  /**
   * Has `hooks` told how the transaction these repositories write in ends (TransactionHooks);
   * outside a transaction, `committed` runs at once.
   */
  afterTransaction(hooks: TransactionHooks): void {
    if (this.isTransaction) this.hooks.push(hooks);
    else hooks.committed?.();
  }

  /** Runs the hooks of this transaction, all of them, then throws the first error one threw. */
  private ended(outcome: { committed: true } | { committed: false; maybeCommitted: boolean }): void {
    let first: { error: unknown } | undefined;
    for (const h of this.hooks.splice(0)) {
      try {
        if (outcome.committed) h.committed?.();
        else h.failed?.(outcome.maybeCommitted);
      } catch (error) {
        first ??= { error };
      }
    }
    if (first) throw first.error;
  }

  /**
   * Commits documents: `place` moves their bytes into the blob store, then `work` writes the
   * rows that name them, in one transaction; no sweep can run in between (BlobFence.ts).
   * On PostgreSQL `place` is given that transaction: a blob store in the database gives the
   * bytes their key in it (BlobStore.commit), on its connection.
   */
  async commitWithBlobs<T>(place: (tx?: Repositories<M>) => Promise<void>, work: (tx: Repositories<M>) => Promise<T>): Promise<T> {
    if (this.isPostgres) {
      return this.transaction(async (tx) => {
        await execute(tx.db, BLOB_FENCE_SHARED, [BLOB_FENCE_LOCK_KEY]);
        await place(tx);
        return work(tx);
      });
    }
    return this.fence.shared(async () => {
      await place();
      return this.transaction(work);
    });
  }

  /** Runs a blob sweep's check-and-delete with no document commit in progress anywhere (BlobFence.ts). */
  async underBlobSweep<T>(work: (store: Repositories<M>) => Promise<T>): Promise<T> {
    if (this.isPostgres) {
      return this.transaction(async (tx) => {
        await tx.db.raw('SELECT pg_advisory_xact_lock(?)', [BLOB_FENCE_LOCK_KEY]);
        return work(tx);
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
