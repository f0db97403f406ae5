/**
 * What the sender's console shows a clerk of one sender: its messages (filtered, newest
 * first, in pages that stay stable while messages arrive), one message's timeline (events,
 * proofs, notifications, webhook deliveries), the month's usage, its settings, and the
 * bundle of a selection's proofs as a tar archive.
 *
 * Every method takes the sender's id first and every query is scoped to it: a filter narrows
 * the sender's messages and never names another sender, and another sender's message is
 * reported exactly like a missing one (NOT_FOUND).
 */
import { createHash } from 'node:crypto';
import { proofPath, tarStream, type TarEntry } from '../audit/index.js';
import { ServiceError } from '../domain/errors.js';
import { normaliseIdentifier, type RecipientType } from '../domain/identifiers.js';
import { MESSAGE_STATUSES, type MessageStatus } from '../domain/status.js';
import type { DocumentRecord, EventRecord, MessageRecord, SenderRecord } from '../domain/records.js';
import type { MessageFilter } from '../store/MessageRepository.js';
import type { AttemptStatusValue, NotificationStatusValue } from '../store/NotificationRepository.js';
import type { Repositories } from '../store/Repositories.js';
import { ConsultService, type CallbackView } from './consult.js';

/** The most messages one bundle holds. */
export const MAX_BUNDLE_MESSAGES = 500;
export const BUNDLE_FORMAT = 'registered-mail-console-bundle/1';
export const BUNDLE_MANIFEST = 'manifest.json';
const DEFAULT_PAGE = 25;
const MAX_PAGE = 100;
const RECIPIENT_TYPES: readonly RecipientType[] = ['citizen', 'enterprise'];
const CURSOR_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const MESSAGE_ID = /^[0-9a-f-]{36}$/i;
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

/** The console's filter as the clerk typed it (the query of the list page); empty fields are absent. */
export interface ConsoleQuery {
  status?: string;
  /** a day (YYYY-MM-DD, from its start, UTC) or an RFC 3339 date-time */
  from?: string;
  /** a day (YYYY-MM-DD, up to its end, UTC) or an RFC 3339 date-time (exclusive) */
  to?: string;
  reference?: string;
  recipientType?: string;
  recipientId?: string;
  cursor?: string;
  limit?: string;
}

export const CONSOLE_QUERY_FIELDS = ['status', 'from', 'to', 'reference', 'recipientType', 'recipientId', 'cursor', 'limit'] as const;

export interface ConsoleFilter extends MessageFilter {
  after?: { submittedAt: string; id: string };
  limit: number;
}

export interface ConsolePage {
  items: MessageRecord[];
  /** the cursor of the next page; absent on the last page */
  cursor?: string;
}

export interface ProofView {
  id: string;
  seq: number;
  type: string;
  createdAt: string;
  sha256: string;
}

export interface NotificationView {
  id: string;
  status: NotificationStatusValue;
  reason: string | null;
  createdAt: string;
  attempts: Array<{ channel: string; status: AttemptStatusValue; reason: string | null; sentAt: string | null; deliveredAt: string | null }>;
}

export interface Timeline {
  message: MessageRecord;
  documents: DocumentRecord[];
  /** the message's events, in the order of the event log */
  events: Array<Pick<EventRecord, 'seq' | 'type' | 'at'>>;
  /** its proofs, in the order they were sealed */
  proofs: ProofView[];
  notifications: NotificationView[];
  /** webhook deliveries of its status changes: state, attempts, the class of the last failure */
  webhooks: CallbackView[];
}

export interface Usage {
  /** YYYY-MM, UTC */
  month: string;
  /** messages submitted in the month */
  messages: number;
  /** notifications by channel: how many, and the units (SMS parts, pushes) they took */
  notifications: Array<{ channel: string; messages: number; units: number }>;
}

export interface Bundle {
  /** the number of messages in it */
  messages: number;
  fileName: string;
  /** the tar archive, chunk by chunk */
  stream: AsyncGenerator<Buffer>;
}

export interface BundleManifest {
  format: typeof BUNDLE_FORMAT;
  sender: { id: string; name: string };
  createdAt: string;
  filter: MessageFilter;
  messages: Array<{ id: string; senderReference: string | null; status: MessageStatus; submittedAt: string; proofs: string[] }>;
  /** every other file of the archive with the SHA-256 (hex) of its bytes */
  files: Array<{ path: string; sha256: string; size: number; evidenceId: string; type: string; createdAt: string }>;
}

export class ConsoleService {
  private readonly consult: ConsultService;

  constructor(private readonly store: Repositories) {
    this.consult = new ConsultService(store);
  }

  /** Reads the console's query: what is not one of its fields is ignored, what is malformed is QUERY_INVALID. */
  parseQuery(q: Record<string, unknown>): ConsoleFilter {
    const v: Record<string, string> = {};
    for (const f of CONSOLE_QUERY_FIELDS) {
      const raw = q[f];
      if (raw === undefined) continue;
      if (typeof raw !== 'string') throw new ServiceError('QUERY_INVALID', `${f} is given more than once`, { extensions: { field: f } });
      if (raw.length > 200 || /\p{Cc}/u.test(raw)) throw new ServiceError('QUERY_INVALID', `${f} is too long or holds control characters`, { extensions: { field: f } });
      const t = raw.trim();
      if (t !== '') v[f] = t;
    }
    const filter: ConsoleFilter = { limit: DEFAULT_PAGE };
    if (v.status !== undefined) {
      if (!(MESSAGE_STATUSES as readonly string[]).includes(v.status)) throw new ServiceError('QUERY_INVALID', `status must be one of ${MESSAGE_STATUSES.join(', ')}`, { extensions: { field: 'status' } });
      filter.status = v.status as MessageStatus;
    }
    if (v.from !== undefined) filter.from = instant(v.from, 'from', false);
    if (v.to !== undefined) filter.to = instant(v.to, 'to', true);
    if (filter.from && filter.to && filter.from >= filter.to) throw new ServiceError('QUERY_INVALID', 'from must come before to', { extensions: { field: 'to' } });
    if (v.reference !== undefined) filter.senderReference = v.reference;
    if (v.recipientType !== undefined || v.recipientId !== undefined) {
      if (v.recipientType === undefined || !(RECIPIENT_TYPES as readonly string[]).includes(v.recipientType)) {
        throw new ServiceError('QUERY_INVALID', 'recipientType must be citizen or enterprise when recipientId is given', { extensions: { field: 'recipientType' } });
      }
      if (v.recipientId === undefined) throw new ServiceError('QUERY_INVALID', 'recipientId must be given with recipientType', { extensions: { field: 'recipientId' } });
      filter.recipient = { type: v.recipientType as RecipientType, id: normaliseIdentifier(v.recipientId) };
    }
    if (v.limit !== undefined) {
      const n = Number(v.limit);
      if (!/^\d+$/.test(v.limit) || n < 1 || n > MAX_PAGE) throw new ServiceError('QUERY_INVALID', `limit must be 1 to ${MAX_PAGE}`, { extensions: { field: 'limit' } });
      filter.limit = n;
    }
    if (v.cursor !== undefined) filter.after = readCursor(v.cursor);
    return filter;
  }

  /** A page of the sender's messages that match `filter`, newest first. */
  async messages(senderId: string, filter: ConsoleFilter): Promise<ConsolePage> {
    const page = await this.store.messages.searchForSender(senderId, messageFilter(filter), { after: filter.after, limit: filter.limit });
    return { items: page.items, cursor: page.next && Buffer.from(JSON.stringify([page.next.submittedAt, page.next.id])).toString('base64url') };
  }

  /** One of the sender's messages with everything that happened to it. */
  async timeline(senderId: string, messageId: string): Promise<Timeline> {
    const view = await this.consult.message(await this.sender(senderId), messageId);
    const notifications = await this.store.notifications.findByMessage(messageId);
    const withAttempts = await Promise.all(
      notifications
        // the sender's own notifications only (a message's are always its sender's; kept as a guard)
        .filter((n) => n.senderId === senderId)
        .map(async (n): Promise<NotificationView> => ({
          id: n.id,
          status: n.status,
          reason: n.reason,
          createdAt: n.createdAt,
          attempts: (await this.store.notifications.attempts(n.id)).map((a) => ({ channel: a.channel, status: a.status, reason: a.reason, sentAt: a.sentAt, deliveredAt: a.deliveredAt })),
        })),
    );
    return {
      message: view.message,
      documents: view.documents,
      events: view.events.map((e) => ({ seq: e.seq, type: e.type, at: e.at })),
      proofs: view.evidence.map((e) => ({ id: e.id, seq: e.seq, type: e.type, createdAt: e.createdAt, sha256: e.sha256 })),
      notifications: withAttempts,
      webhooks: view.callbacks,
    };
  }

  /** One proof of one of the sender's messages (its DER and statement). */
  async proof(senderId: string, messageId: string, evidenceId: string) {
    return this.consult.evidence(await this.sender(senderId), messageId, evidenceId);
  }

  /** The sender's usage in `month` (YYYY-MM, UTC; default: this month). */
  async usage(senderId: string, month?: string, now: Date = new Date()): Promise<Usage> {
    const m = month ?? now.toISOString().slice(0, 7);
    const parsed = MONTH.exec(m);
    if (!parsed) throw new ServiceError('QUERY_INVALID', 'month must be YYYY-MM', { extensions: { field: 'month' } });
    const start = new Date(Date.UTC(Number(parsed[1]), Number(parsed[2]) - 1, 1));
    const end = new Date(Date.UTC(Number(parsed[1]), Number(parsed[2]), 1));
    const [messages, rows] = await Promise.all([this.store.messages.countForSender(senderId, start.toISOString(), end.toISOString()), this.store.usage.report(m, senderId)]);
    return { month: m, messages, notifications: rows.map((r) => ({ channel: r.channel, messages: r.messages, units: r.units })) };
  }

  /** The sender's name and webhook (its secret is never shown again: only whether one is set). */
  async settings(senderId: string): Promise<{ name: string; webhookUrl: string | null; webhookSecretSet: boolean }> {
    const s = await this.sender(senderId);
    return { name: s.name, webhookUrl: s.webhookUrl, webhookSecretSet: s.webhookSecret !== null };
  }

  /**
   * The proofs (DER, exactly as sealed) of the sender's messages matching `filter` (its
   * paging ignored), with a manifest naming the SHA-256 of each file, as a tar archive
   * streamed message by message. More than MAX_BUNDLE_MESSAGES: SELECTION_TOO_LARGE, before
   * anything is sent.
   */
  async bundle(senderId: string, filter: ConsoleFilter, now: Date = new Date()): Promise<Bundle> {
    const sender = await this.sender(senderId);
    const f = messageFilter(filter);
    const ids = await this.store.messages.idsForSender(senderId, f, MAX_BUNDLE_MESSAGES + 1);
    if (ids.length > MAX_BUNDLE_MESSAGES) {
      throw new ServiceError('SELECTION_TOO_LARGE', `a bundle holds at most ${MAX_BUNDLE_MESSAGES} messages; narrow the filter`, { extensions: { limit: MAX_BUNDLE_MESSAGES } });
    }
    const store = this.store;
    const manifest: BundleManifest = { format: BUNDLE_FORMAT, sender: { id: sender.id, name: sender.name }, createdAt: now.toISOString(), filter: f, messages: [], files: [] };
    async function* entries(): AsyncGenerator<TarEntry> {
      for (const id of ids) {
        const message = await store.messages.findForSender(senderId, id);
        if (!message) continue; // gone since the selection (messages are never deleted today)
        const proofs: string[] = [];
        for (const e of await store.evidence.listForMessage(id)) {
          const name = proofPath(id, e.seq, e.type);
          manifest.files.push({ path: name, sha256: createHash('sha256').update(e.der).digest('hex'), size: e.der.byteLength, evidenceId: e.id, type: e.type, createdAt: e.createdAt });
          proofs.push(name);
          yield { name, data: e.der, mtime: new Date(e.createdAt) };
        }
        manifest.messages.push({ id, senderReference: message.senderReference, status: message.status, submittedAt: message.submittedAt, proofs });
      }
      yield { name: BUNDLE_MANIFEST, data: Buffer.from(JSON.stringify(manifest, null, 2) + '\n', 'utf8'), mtime: now };
    }
    return { messages: ids.length, fileName: `proofs-${now.toISOString().slice(0, 19).replace(/[-:]/g, '')}Z.tar`, stream: tarStream(entries()) };
  }

  private async sender(id: string): Promise<SenderRecord> {
    const s = MESSAGE_ID.test(id) ? await this.store.senders.findById(id) : undefined;
    if (!s) throw new ServiceError('NOT_FOUND', 'no such sender');
    return s;
  }
}

/** The filter's conditions on messages (without its paging). */
function messageFilter(f: ConsoleFilter): MessageFilter {
  const { after: _a, limit: _l, ...conditions } = f;
  return conditions;
}

/** A day or a date-time as the stored form of submission times; a day as `to` means up to its end. */
function instant(v: string, field: 'from' | 'to', endOfDay: boolean): string {
  const day = DAY.exec(v);
  if (day) {
    const d = new Date(Date.UTC(Number(day[1]), Number(day[2]) - 1, Number(day[3])));
    if (d.toISOString().slice(0, 10) !== v) throw new ServiceError('QUERY_INVALID', `${field} is not a date`, { extensions: { field } });
    if (endOfDay) d.setUTCDate(d.getUTCDate() + 1);
    return d.toISOString();
  }
  const t = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(t)) throw new ServiceError('QUERY_INVALID', `${field} must be a date (YYYY-MM-DD) or an RFC 3339 date-time`, { extensions: { field } });
  return new Date(t).toISOString();
}

function readCursor(cursor: string): { submittedAt: string; id: string } {
  try {
    const [submittedAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof submittedAt !== 'string' || typeof id !== 'string' || !CURSOR_TIME.test(submittedAt) || !MESSAGE_ID.test(id)) throw new Error('shape');
    return { submittedAt, id };
  } catch {
    throw new ServiceError('QUERY_INVALID', 'cursor is not one this service gave', { extensions: { field: 'cursor' } });
  }
}
