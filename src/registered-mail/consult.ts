/**
 * What a sender may read: its own messages, their events, evidence and callback
 * deliveries. Another sender's message is reported exactly like a missing one.
 */
import { ServiceError } from '../domain/errors.js';
import { nextStatus } from '../domain/MessageLifecycle.js';
import { MESSAGE_STATUSES, type MessageStatus } from '../domain/status.js';
import type { DocumentRecord, EventRecord, EvidenceRecord, MessageRecord, SenderRecord } from '../domain/records.js';
import type { Repositories } from '../store/Repositories.js';
import type { StoredJob } from '../store/JobRepository.js';
import { JOB_PAYLOADS, type JobRecord } from '../store/jobs.js';
import { PayloadError } from '../store/payload.js';
import { webhookFailureClass, type WebhookFailureClass } from './webhooks.js';

const CURSOR_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const MESSAGE_ID = /^[0-9a-f-]{36}$/i;

/** One webhook delivery of a message's status, as the sender sees it. */
export interface CallbackView {
  evidenceId: string;
  status: string;
  /** the job's state: pending, running, done or dead */
  delivery: JobRecord['status'];
  attempts: number;
  lastError: WebhookFailureClass | null;
  nextAttemptAt: string | null;
}

function callbackView(j: JobRecord<'webhook'>): CallbackView {
  return { evidenceId: j.payload.evidenceId, status: j.payload.status, delivery: j.status, attempts: j.attempts, lastError: webhookFailureClass(j.lastError), nextAttemptAt: j.status === 'pending' ? j.runAt : null };
}

export interface MessageView {
  message: MessageRecord;
  documents: DocumentRecord[];
  events: EventRecord[];
  evidence: EvidenceRecord[];
  /** the sender's webhook deliveries for this message (jobs of type webhook) */
  callbacks: CallbackView[];
}

export interface ListQuery {
  status?: string;
  since?: string;
  cursor?: string;
  limit?: string;
}

export class ConsultService {
  constructor(private readonly store: Repositories) {}

  /**
   * The view of a message the sender has just submitted, without its events: the message as
   * last read (the wait for its proof reads it) and its documents as the intake wrote them
   * (documents never change), so only its proofs and callbacks are read. Should a proof have
   * been recorded since the message was read (its status no longer the one its proofs lead
   * to), the whole view is read again, on one snapshot.
   */
  async submitted(sender: SenderRecord, message: MessageRecord, documents: DocumentRecord[]): Promise<MessageView> {
    if (message.senderId !== sender.id) throw new ServiceError('NOT_FOUND', 'no such message');
    const [evidence, jobs] = await Promise.all([this.store.evidence.listForMessage(message.id), this.store.jobs.listForMessage(message.id)]);
    if (!statusFollows(message.status, evidence)) return this.message(sender, message.id, { events: false });
    return { message, documents, events: [], evidence, callbacks: jobs.flatMap(webhookDelivery).map(callbackView) };
  }

  /**
   * The view of a message as the intake's transaction wrote it: with the first proof when the
   * intake sealed it, with none when the proof is the `accept` job's work and the answer does
   * not wait for it. Nothing is read but its webhook deliveries, when its sender has a webhook.
   */
  async asWritten(sender: SenderRecord, message: MessageRecord, documents: DocumentRecord[], evidence: EvidenceRecord[]): Promise<MessageView> {
    if (message.senderId !== sender.id) throw new ServiceError('NOT_FOUND', 'no such message');
    const jobs = sender.webhookUrl ? await this.store.jobs.listForMessage(message.id) : [];
    return { message, documents, events: [], evidence, callbacks: jobs.flatMap(webhookDelivery).map(callbackView) };
  }

  /**
   * The sender's message with what is known of it, read on one snapshot: its status and its
   * proofs agree. `events: false` leaves its events out.
   */
  async message(sender: SenderRecord, id: string, opts: { events?: boolean } = {}): Promise<MessageView> {
    return this.store.snapshot(async (db) => {
      const message = await this.ownMessage(sender, id, db);
      // one after the other: a transaction's statements share one connection
      const documents = await db.messages.documents(id);
      const events = opts.events === false ? [] : await db.events.listForMessage(id);
      const evidence = await db.evidence.listForMessage(id);
      const jobs = await db.jobs.listForMessage(id);
      return { message, documents, events, evidence, callbacks: jobs.flatMap(webhookDelivery).map(callbackView) };
    });
  }

  async list(sender: SenderRecord, q: ListQuery): Promise<{ items: MessageRecord[]; cursor?: string }> {
    if (q.status !== undefined && !(MESSAGE_STATUSES as readonly string[]).includes(q.status)) {
      throw new ServiceError('QUERY_INVALID', `status must be one of ${MESSAGE_STATUSES.join(', ')}`);
    }
    let since: string | undefined;
    if (q.since !== undefined) {
      const t = Date.parse(q.since);
      if (Number.isNaN(t)) throw new ServiceError('QUERY_INVALID', 'since must be an RFC 3339 date-time');
      since = new Date(t).toISOString();
    }
    const limit = q.limit === undefined ? 50 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new ServiceError('QUERY_INVALID', 'limit must be 1 to 500');
    let after: { submittedAt: string; id: string } | undefined;
    if (q.cursor !== undefined) {
      try {
        const [submittedAt, id] = JSON.parse(Buffer.from(q.cursor, 'base64url').toString('utf8')) as [unknown, unknown];
        // what `list` writes: a submission time as stored and a message id; nothing else reaches the query
        if (typeof submittedAt !== 'string' || typeof id !== 'string' || !CURSOR_TIME.test(submittedAt) || !MESSAGE_ID.test(id)) throw new Error('shape');
        after = { submittedAt, id };
      } catch {
        throw new ServiceError('QUERY_INVALID', 'cursor is not one this service gave');
      }
    }
    const page = await this.store.messages.listForSender(sender.id, { status: q.status as MessageStatus | undefined, since, after, limit });
    return { items: page.items, cursor: page.next && Buffer.from(JSON.stringify([page.next.submittedAt, page.next.id])).toString('base64url') };
  }

  async evidenceList(sender: SenderRecord, id: string): Promise<EvidenceRecord[]> {
    await this.ownMessage(sender, id);
    return this.store.evidence.listForMessage(id);
  }

  async evidence(sender: SenderRecord, id: string, evidenceId: string): Promise<EvidenceRecord> {
    await this.ownMessage(sender, id);
    const e = await this.store.evidence.find(id, evidenceId);
    if (!e) throw new ServiceError('NOT_FOUND', 'no such evidence for this message');
    return e;
  }

  private async ownMessage(sender: SenderRecord, id: string, db: Repositories = this.store): Promise<MessageRecord> {
    const m = MESSAGE_ID.test(id) ? await db.messages.findForSender(sender.id, id) : undefined;
    if (!m) throw new ServiceError('NOT_FOUND', 'no such message');
    return m;
  }
}

/** A webhook job, its payload read (one that does not fit is a dead letter, and not shown). */
function webhookDelivery(j: StoredJob): Array<JobRecord<'webhook'>> {
  if (j.type !== 'webhook') return [];
  try {
    return [{ ...j, type: 'webhook', payload: JOB_PAYLOADS.webhook(j.payload, 'payload') }];
  } catch (err) {
    if (err instanceof PayloadError) return [];
    throw err;
  }
}

/** Whether `status` is the one the proofs, in their order, lead a message to. */
function statusFollows(status: MessageStatus, evidence: EvidenceRecord[]): boolean {
  try {
    return evidence.reduce<MessageStatus>((s, e) => nextStatus(s, e.type), 'RECEIVED') === status;
  } catch {
    return false;
  }
}
