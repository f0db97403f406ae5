/**
 * The jobs that take an accepted message to the recipient's e-Box, each issuing its
 * evidence (ETSI EN 319 522-1):
 *
 *   accept   recipient reachable? → SubmissionAcceptance (+ deposit job) | SubmissionRejection
 *   deposit  e-Box deposit → ContentConsignment; when the retry budget is spent → seal job
 *            for ContentConsignmentFailure
 *   seal     one evidence of a given type (handover, handover failure, consignment failure)
 *
 * Every handler re-reads the message and does nothing if it has moved on, so running a job
 * again after a crash is harmless; its writes commit with the job's completion.
 */
import type { Config } from '../config.js';
import type { EvidenceType } from '../domain/EvidenceStatement.js';
import { canIssue } from '../domain/MessageLifecycle.js';
import { EboxError, type EboxAdapter } from './ebox/EboxAdapter.js';
import type { BlobStore } from '../store/BlobStore.js';
import type { DocumentRecord, MessageRecord, SenderRecord } from '../domain/records.js';
import type { Repositories } from '../store/Repositories.js';
import { PermanentJobError, type JobContext, type JobHandlers } from '../worker/JobRunner.js';
import type { JobRecord, JobType, SealJobPayload } from '../store/jobs.js';
import { REASON_BASE, type EvidenceService, type PreparedEvidence, type RecordedEvidence } from './evidence.js';
import { enqueueRegisteredMailNotice } from '../notifications/index.js';
import { SIGNAL } from '../store/PgSignals.js';

export const JOB = {
  accept: 'accept',
  deposit: 'deposit',
  seal: 'seal',
  webhook: 'webhook',
} as const satisfies Record<string, JobType>;

export type { SealJobPayload };

export async function enqueueSeal(tx: Repositories, config: Config, payload: SealJobPayload, dedupeKey: string): Promise<void> {
  await tx.jobs.enqueue({ type: JOB.seal, messageId: payload.messageId, dedupeKey, maxAttempts: config.worker.sealMaxAttempts, payload });
}

/** A message's first proof, sealed and not yet recorded (DeliveryService.decide). */
export interface Decision {
  /** the recipient's e-Box is reachable: SubmissionAcceptance, and a deposit to follow */
  reachable: boolean;
  prepared: PreparedEvidence;
}

export class DeliveryService {
  constructor(
    private readonly store: Repositories,
    private readonly blobs: BlobStore,
    private readonly ebox: EboxAdapter,
    private readonly evidence: EvidenceService,
    private readonly config: Config,
  ) {}

  handlers(): Pick<JobHandlers, typeof JOB.accept | typeof JOB.deposit | typeof JOB.seal> {
    return {
      [JOB.accept]: { run: (job, ctx) => this.accept(job, ctx) },
      [JOB.deposit]: { run: (job, ctx) => this.deposit(job, ctx), onDead: (job, err, tx) => this.depositDead(job, err, tx) },
      [JOB.seal]: { run: (job, ctx) => this.seal(job, ctx) },
    };
  }

  /** The job's message, its sender and its documents (one statement; the proof's statement names them). */
  private async message(job: JobRecord<'accept' | 'deposit' | 'seal'>): Promise<{ message: MessageRecord; sender: SenderRecord | undefined; documents: DocumentRecord[] }> {
    const id = job.payload.messageId;
    const found = await this.store.messages.findForProof(id);
    if (!found) throw new PermanentJobError(`message ${id} not found`);
    return found;
  }

  private async accept(job: JobRecord<'accept'>, ctx: JobContext): Promise<void> {
    const { message, sender, documents } = await this.message(job);
    if (message.status !== 'RECEIVED') return; // already decided
    const decision = await this.decide(message, sender, documents);
    const decided = await this.store.transaction(async (tx) => {
      const recorded = await this.recordDecision(tx, message, decision);
      // a submission waiting for it in another process (the job came from the table): told at commit
      if (!ctx.handedOver) await tx.signal(SIGNAL.proofs, message.id);
      await ctx.complete(tx);
      return recorded.message;
    });
    // the submission waiting for this proof answers with the message as committed, without reading it
    this.evidence.notifier.notify(message.id, decided);
  }

  /**
   * The first decision on a message still RECEIVED, sealed: whether its recipient's e-Box is
   * reachable, and the SubmissionAcceptance or SubmissionRejection that says so. Nothing is
   * written: the `accept` job records it, or the intake in the transaction that writes the
   * message (SubmissionService). A permanent refusal of the e-Box is a PermanentJobError.
   */
  async decide(message: MessageRecord, sender: SenderRecord | undefined, documents: DocumentRecord[]): Promise<Decision> {
    const status = await this.ebox.recipientStatus({ type: message.recipientType, id: message.recipientId }).catch((err) => {
      throw err instanceof EboxError && err.permanent ? new PermanentJobError(err.message, { cause: err }) : err;
    });
    const type: EvidenceType = status.reachable ? 'SubmissionAcceptance' : 'SubmissionRejection';
    const reasons = status.reachable ? undefined : [{ Code: REASON_BASE + status.reason, Details: status.reason === 'RECIPIENT_UNKNOWN' ? 'the recipient is not known to the e-Box' : "the recipient's e-Box is not activated" }];
    const prepared = await this.evidence.prepare(message, type, { eventTime: new Date(message.submittedAt), reasons, sender, documents });
    return { reachable: status.reachable, prepared };
  }

  /** The message as `decision` leaves it, for the intake that writes its row with the decision. */
  settled(message: MessageRecord, decision: Decision): MessageRecord {
    return this.evidence.settled(message, decision.prepared);
  }

  /**
   * Records a decision in `tx`: the proof, the status, the event and, for a reachable
   * recipient, the `deposit` job that takes the letter on. `written`: as EvidenceService.record.
   */
  async recordDecision(tx: Repositories, message: MessageRecord, decision: Decision, opts: { written?: boolean } = {}): Promise<RecordedEvidence> {
    const recorded = await this.evidence.record(tx, message, decision.prepared, { written: opts.written });
    if (decision.reachable) {
      await tx.jobs.enqueue({ type: JOB.deposit, messageId: message.id, dedupeKey: `deposit:${message.id}`, maxAttempts: this.config.worker.depositMaxAttempts, payload: { messageId: message.id } });
    }
    return recorded;
  }

  private async deposit(job: JobRecord<'deposit'>, ctx: JobContext): Promise<void> {
    const { message, sender, documents } = await this.message(job);
    if (message.status !== 'ACCEPTED') return;
    const expiresAt = message.expiresAt ? new Date(message.expiresAt) : new Date(Date.now() + this.config.delivery.messageExpiryMs);
    let receipt;
    try {
      receipt = await this.ebox.deposit({
        depositId: message.id,
        recipient: { type: message.recipientType, id: message.recipientId },
        subject: message.subject,
        sender: { id: message.senderId, name: sender?.name ?? message.senderId },
        registered: true,
        expiresAt,
        documents: documents.map((d) => ({ partName: d.partName, fileName: d.fileName, mediaType: d.mediaType, size: d.size, sha256: d.sha256, isMain: d.isMain, open: () => this.blobs.open(d.blobKey) })),
      });
    } catch (err) {
      throw err instanceof EboxError && err.permanent ? new PermanentJobError(`${err.code}: ${err.message}`, { cause: err }) : err;
    }
    const prepared = await this.evidence.prepare(message, 'ContentConsignment', { eventTime: receipt.depositedAt, sender, documents });
    await this.store.transaction(async (tx) => {
      await this.evidence.record(tx, message, prepared, { eboxMessageId: receipt.eboxMessageId, eventData: { ebox: this.ebox.name, eboxMessageId: receipt.eboxMessageId } });
      await enqueueRegisteredMailNotice(tx, this.config, message);
      await ctx.complete(tx);
    });
    this.evidence.notifier.notify(message.id);
  }

  /** The deposit's retry budget is spent (or the e-Box refused for good): seal the failure. */
  private async depositDead(job: JobRecord<'deposit'>, err: unknown, tx: Repositories): Promise<void> {
    const code = err instanceof PermanentJobError && err.cause instanceof EboxError ? err.cause.code : err instanceof EboxError ? err.code : 'DEPOSIT_FAILED';
    const details = err instanceof Error ? err.message.slice(0, 500) : String(err);
    await enqueueSeal(
      tx,
      this.config,
      { messageId: job.payload.messageId, type: 'ContentConsignmentFailure', eventTime: new Date().toISOString(), reasons: [{ Code: REASON_BASE + code, Details: `after ${job.attempts} attempts: ${details}` }] },
      `consignment-failure:${job.payload.messageId}`,
    );
  }

  private async seal(job: JobRecord<'seal'>, ctx: JobContext): Promise<void> {
    const p = job.payload;
    const { message, sender, documents } = await this.message(job);
    if (!canIssue(message.status, p.type)) return; // e.g. handover arrived after expiry was sealed: the first fact stands
    const prepared = await this.evidence.prepare(message, p.type, { eventTime: new Date(p.eventTime), reasons: p.reasons, sender, documents });
    await this.store.transaction(async (tx) => {
      await this.evidence.record(tx, message, prepared);
      await ctx.complete(tx);
    });
    this.evidence.notifier.notify(message.id);
  }
}
