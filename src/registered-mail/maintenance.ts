/**
 * Periodic work, run as jobs so that several workers share it without doing it twice:
 * a Scheduler enqueues one job per kind and time slot (the dedupe key names the slot).
 *
 *   expiry-scan  deposited messages past their expiry → seal ContentHandoverFailure
 *   ebox-poll    read events of a remote e-Box → seal ContentHandover
 *   retention    purge document bytes past the retention period (evidence and events stay)
 *   checkpoint   time-stamp the event log's head (see src/domain/EventChain.ts)
 *   evidence-records  enter new proofs and checkpoints into a hash tree, one time-stamp per tree (records.ts)
 *   record-renewal    renew hash trees into RECORD_HASH_ALGORITHM, then the trees whose last TSA certificate expires soon (records.ts)
 *
 * A periodic job retries only within its slot (backoff capped at a quarter of the period,
 * as many attempts as fit): an outage that outlasts the slot skips it — the job is
 * finished with its last error and a warning `periodic slot skipped` — and the next slot's
 * job runs as usual. A skipped slot is never a dead letter.
 */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { parseTimeStampToken, type TimeStamper } from '../crypto/index.js';
import { checkpointImprintData } from '../domain/EventChain.js';
import { FINAL_STATUSES } from '../domain/MessageLifecycle.js';
import type { EboxAdapter } from './ebox/EboxAdapter.js';
import type { BlobStore } from '../store/BlobStore.js';
import type { Repositories } from '../store/Repositories.js';
import { retryBudget } from '../worker/backoff.js';
import type { JobHandlers, JobSlot } from '../worker/JobRunner.js';
import type { JobRecord } from '../store/jobs.js';
import { enqueueSeal } from './delivery.js';
import { REASON_BASE } from './evidence.js';
import type { EvidenceRecordService } from './records.js';

const BATCH = 500;
const EBOX_CURSOR_KEY = 'ebox-handover-cursor';

/** The periodic job types. */
export type PeriodicJobType = 'expiry-scan' | 'ebox-poll' | 'retention' | 'checkpoint' | 'evidence-records' | 'record-renewal';

export interface PeriodicTask {
  type: PeriodicJobType;
  intervalMs: number;
}

export class MaintenanceService {
  constructor(
    private readonly store: Repositories,
    private readonly blobs: BlobStore,
    private readonly ebox: EboxAdapter,
    private readonly timeStamper: TimeStamper,
    private readonly config: Config,
    private readonly log: Logger,
    private readonly records: EvidenceRecordService,
  ) {}

  tasks(): PeriodicTask[] {
    const every = this.config.worker.maintenanceIntervalMs;
    return [
      { type: 'expiry-scan', intervalMs: every },
      { type: 'ebox-poll', intervalMs: every },
      { type: 'retention', intervalMs: every },
      { type: 'checkpoint', intervalMs: this.config.worker.checkpointIntervalMs },
      { type: 'evidence-records', intervalMs: this.config.records.intervalMs },
      { type: 'record-renewal', intervalMs: this.config.records.renewIntervalMs },
    ];
  }

  handlers(): Pick<JobHandlers, PeriodicJobType> {
    const slot = (job: JobRecord<PeriodicJobType>) => this.slotOf(job);
    return {
      'expiry-scan': { run: () => this.expiryScan().then(() => undefined), slot },
      'ebox-poll': { run: () => this.eboxPoll().then(() => undefined), slot },
      retention: { run: () => this.retention().then(() => undefined), slot },
      checkpoint: { run: () => this.checkpoint().then(() => undefined), slot },
      'evidence-records': { run: () => this.records.enterPending().then(() => undefined), slot },
      'record-renewal': { run: () => this.records.renew().then(() => undefined), slot },
    };
  }

  private budget(intervalMs: number): { maxAttempts: number; maxBackoffMs: number } {
    return retryBudget(intervalMs, { baseMs: this.config.worker.backoffBaseMs, maxMs: this.config.worker.backoffMaxMs });
  }

  /** The slot a periodic job belongs to: it ends where the next slot's job takes over. */
  private slotOf(job: JobRecord<PeriodicJobType>): JobSlot {
    // jobs enqueued before the period was in the payload use the current one
    const intervalMs = job.payload.intervalMs || this.tasks().find((t) => t.type === job.type)?.intervalMs || this.config.worker.maintenanceIntervalMs;
    const { slot } = job.payload;
    return { endsAt: (slot + 1) * intervalMs, maxBackoffMs: this.budget(intervalMs).maxBackoffMs };
  }

  /** Enqueues each periodic task once per time slot (idempotent across workers). */
  async schedule(now = Date.now()): Promise<void> {
    for (const t of this.tasks()) {
      const slot = Math.floor(now / t.intervalMs);
      const { maxAttempts } = this.budget(t.intervalMs);
      await this.store.jobs.enqueue({ type: t.type, dedupeKey: `periodic:${t.type}:${slot}`, maxAttempts, payload: { slot, intervalMs: t.intervalMs } });
    }
  }

  async expiryScan(now = new Date()): Promise<number> {
    const due = await this.store.messages.expiredDeposits(now, BATCH);
    for (const m of due) {
      await this.store.transaction((tx) =>
        enqueueSeal(
          tx,
          this.config,
          { messageId: m.id, type: 'ContentHandoverFailure', eventTime: m.expiresAt ?? now.toISOString(), reasons: [{ Code: REASON_BASE + 'NOT_CONSULTED_BEFORE_EXPIRY', Details: `not opened before ${m.expiresAt}` }] },
          `handover-failure:${m.id}`,
        ),
      );
    }
    return due.length;
  }

  async eboxPoll(): Promise<number> {
    let cursor = await this.store.checkpoints.getState(EBOX_CURSOR_KEY);
    let total = 0;
    for (let page = 0; page < 20; page++) {
      const { events, cursor: next } = await this.ebox.handovers(cursor);
      await this.store.transaction(async (tx) => {
        for (const e of events) {
          await enqueueSeal(tx, this.config, { messageId: e.depositId, type: 'ContentHandover', eventTime: e.readAt.toISOString() }, `handover:${e.depositId}`);
        }
        if (next !== undefined && next !== cursor) await tx.checkpoints.setState(EBOX_CURSOR_KEY, next);
      });
      total += events.length;
      if (events.length === 0 || next === cursor) break;
      cursor = next;
    }
    return total;
  }

  async retention(now = new Date()): Promise<number> {
    const cutoff = new Date(now.getTime() - this.config.delivery.documentRetentionMs);
    const due = (await this.store.messages.dueForPurge(cutoff, BATCH)).filter((m) => FINAL_STATUSES.includes(m.status));
    for (const m of due) {
      const docs = await this.store.messages.documents(m.id);
      for (const d of docs) await this.blobs.remove(d.blobKey);
      const at = new Date().toISOString();
      await this.store.transaction(async (tx) => {
        await tx.messages.markPurged(m.id, at);
        await tx.events.append({ messageId: m.id, type: 'DocumentsPurged', at, data: { documents: docs.map((d) => d.sha256), retentionMs: this.config.delivery.documentRetentionMs } });
      });
    }
    if (due.length > 0) this.log.info({ count: due.length }, 'purged document bytes past retention');
    // the bookkeeping rows of finished periodic jobs need not outlive a day
    await this.store.jobs.deleteFinishedPeriodic(new Date(now.getTime() - 86_400_000));
    return due.length;
  }

  /** Time-stamps the log's head if it moved since the last checkpoint. */
  async checkpoint(): Promise<boolean> {
    return checkpointHead(this.store, this.timeStamper);
  }
}

/**
 * Time-stamps the event log's head if it moved since the last checkpoint (false when it did
 * not): the periodic checkpoint job, and the export that pins the tail of its slice.
 */
export async function checkpointHead(store: Repositories, timeStamper: TimeStamper): Promise<boolean> {
  const [head, last] = await Promise.all([store.events.head(), store.checkpoints.latest()]);
  if (!head || (last && last.eventSeq === head.seq)) return false;
  const token = await timeStamper.timestamp(checkpointImprintData(head.seq, head.hash));
  const genTime = parseTimeStampToken(token).genTime;
  await store.transaction((tx) => tx.checkpoints.insert({ eventSeq: head.seq, headHash: head.hash, token, genTime: genTime.toISOString(), createdAt: new Date().toISOString() }));
  return true;
}
