/**
 * Issuing evidence for a message: build the statement (chained to the previous proof of
 * the same message by its SHA-256), seal it (outside any transaction: the TSA may be
 * slow), then record it inside the caller's transaction together with the status change
 * the state machine allows, the event, and the sender's webhook job.
 */
import { newRowId } from '../domain/RowId.js';
import { EventEmitter } from 'node:events';
import type { Config } from '../config.js';
import { buildStatement, type EventReason, type EvidenceType, type NotificationDetails } from '../domain/EvidenceStatement.js';
import { mayHaveEvidence, nextStatus } from '../domain/MessageLifecycle.js';
import type { MessageStatus } from '../domain/status.js';
import type { DocumentRecord, EvidenceRecord, MessageRecord, SenderRecord } from '../domain/records.js';
import type { Repositories } from '../store/Repositories.js';
import type { SealedEvidence, Sealer } from './sealing.js';

export interface PreparedEvidence {
  id: string;
  type: EvidenceType;
  seq: number;
  eventTime: Date;
  sealed: SealedEvidence;
  /** the status the message was in when the evidence was prepared */
  from: MessageStatus;
  /** the sender as read for the statement (its webhook is called for the new status) */
  sender: SenderRecord;
}

/** What `EvidenceService.record` wrote: the proof, and the message as it leaves it. */
export interface RecordedEvidence {
  message: MessageRecord;
  evidence: EvidenceRecord;
}

/** The state changed under us (another worker issued evidence first): the job retries and re-reads. */
export class StaleStateError extends Error {
  constructor(messageId: string) {
    super(`message ${messageId} changed while its evidence was being sealed`);
    this.name = 'StaleStateError';
  }
}

export const REASON_BASE = 'urn:registered-mail:reason:';

/** How long a notification is remembered (EvidenceNotifier.notifiedRecently). */
const REMEMBERED_MS = 30_000;

/**
 * Tells in-process listeners that a message has new evidence (POST /v1/messages waits on it),
 * and remembers for a while which messages it told of: a wait that begins after the proof
 * was sealed then knows that it must read the message.
 */
export class EvidenceNotifier extends EventEmitter {
  /** message id → when it was last notified and the message it was told of, oldest first */
  private readonly recent = new Map<string, { at: number; message: MessageRecord | undefined }>();

  /**
   * Tells the listeners of `messageId` (with `message`: the message as the committed record
   * left it, which they then need not read).
   */
  notify(messageId: string, message?: MessageRecord): void {
    const now = Date.now();
    this.recent.delete(messageId);
    this.recent.set(messageId, { at: now, message });
    for (const [id, seen] of this.recent) {
      if (now - seen.at <= REMEMBERED_MS) break;
      this.recent.delete(id);
    }
    this.emit(messageId, message);
  }

  /** When this message was notified in the last 30 seconds: the message it was told of, if it was. */
  notifiedRecently(messageId: string): { message: MessageRecord | undefined } | undefined {
    const seen = this.recent.get(messageId);
    return seen && Date.now() - seen.at <= REMEMBERED_MS ? { message: seen.message } : undefined;
  }
}

export class EvidenceService {
  constructor(
    private readonly store: Repositories,
    private readonly sealer: Sealer,
    private readonly config: Config,
    readonly notifier: EvidenceNotifier,
  ) {}

  /**
   * Seals the next evidence of `type`; throws IllegalTransitionError if the message cannot
   * receive it. The message's sender and documents are read unless the caller has them.
   */
  async prepare(
    message: MessageRecord,
    type: EvidenceType,
    opts: { eventTime?: Date; reasons?: EventReason[]; sender?: SenderRecord; documents?: DocumentRecord[]; notification?: NotificationDetails } = {},
  ): Promise<PreparedEvidence> {
    nextStatus(message.status, type);
    const [sender, documents, previous] = await Promise.all([
      opts.sender ?? this.store.senders.findById(message.senderId),
      opts.documents ?? this.store.messages.documents(message.id),
      // the first proof of a message chains from nothing: not looked for
      mayHaveEvidence(message.status) ? this.store.evidence.chainHead(message.id) : undefined,
    ]);
    if (!sender) throw new Error(`sender ${message.senderId} of message ${message.id} not found`);
    const id = newRowId();
    const eventTime = opts.eventTime ?? new Date();
    const statement = buildStatement({
      evidenceId: id,
      type,
      eventTime,
      policyOid: this.config.evidence.policyOid,
      issuerName: this.config.evidence.issuerName,
      sender: { id: sender.id, name: sender.name, reference: message.senderReference },
      recipient: { type: message.recipientType, id: message.recipientId },
      submissionTime: new Date(message.submittedAt),
      messageId: message.id,
      subject: message.subject,
      documents,
      previousEvidenceSha256: previous?.sha256 ?? null,
      reasons: opts.reasons,
      notification: opts.notification,
    });
    const sealed = await this.sealer.seal(statement, new Date());
    return { id, type, seq: (previous?.seq ?? 0) + 1, eventTime, sealed, from: message.status, sender };
  }

  /**
   * The message as `e` leaves it (its new status, and when it changed): what a caller that
   * writes the message's row itself, in the transaction that records `e`, writes
   * (`record` with `written`).
   */
  settled(message: MessageRecord, e: PreparedEvidence): MessageRecord {
    const to = nextStatus(e.from, e.type);
    return to === e.from ? message : { ...message, status: to, updatedAt: new Date().toISOString() };
  }

  /**
   * Records prepared evidence in `tx`; returns the record and the message as the record
   * leaves it (its new status, when and with which e-Box id it changed), as it is once `tx`
   * commits. `written`: `message` is already what `settled` gave and its row is written so in
   * `tx` (the intake's first proof), so its status is not moved again.
   */
  async record(
    tx: Repositories,
    message: MessageRecord,
    e: PreparedEvidence,
    extra: { eboxMessageId?: string; eventData?: Record<string, unknown>; written?: boolean } = {},
  ): Promise<RecordedEvidence> {
    const to = nextStatus(e.from, e.type);
    let now = message;
    if (extra.written) {
      if (message.status !== to) throw new StaleStateError(message.id);
    } else if (to !== e.from || extra.eboxMessageId) {
      const updatedAt = new Date().toISOString();
      const moved = await tx.messages.transition(message.id, e.from, to, { eboxMessageId: extra.eboxMessageId, at: updatedAt });
      if (!moved) throw new StaleStateError(message.id);
      now = { ...message, status: to, updatedAt, eboxMessageId: extra.eboxMessageId ?? message.eboxMessageId };
    }
    const record: EvidenceRecord = {
      id: e.id,
      messageId: message.id,
      seq: e.seq,
      type: e.type,
      statement: e.sealed.statementText,
      der: e.sealed.der,
      sha256: e.sealed.sha256,
      createdAt: new Date().toISOString(),
    };
    await tx.evidence.insert(record);
    const at = new Date().toISOString();
    await tx.events.append({
      messageId: message.id,
      type: e.type,
      at,
      data: { evidenceId: e.id, evidenceSha256: e.sealed.sha256, status: to, eventTime: e.eventTime.toISOString(), ...(extra.eventData ?? {}) },
    });
    if (e.sender.webhookUrl) await enqueueWebhook(tx, this.config, e.sender, message.id, { status: to, evidenceId: e.id, evidenceType: e.type, at });
    return { message: now, evidence: record };
  }
}

export async function enqueueWebhook(tx: Repositories, config: Config, sender: SenderRecord, messageId: string, body: { status: MessageStatus; evidenceId: string; evidenceType: EvidenceType; at: string }): Promise<void> {
  await tx.jobs.enqueue({
    type: 'webhook',
    messageId,
    dedupeKey: `webhook:${body.evidenceId}`,
    maxAttempts: config.worker.webhookMaxAttempts,
    payload: { senderId: sender.id, messageId, ...body },
  });
}
