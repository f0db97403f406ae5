/**
 * Notifications, their per-channel attempts, their event history (status changes,
 * attempt changes, provider reports as received), and each sender's notification
 * settings. Writers that change an attempt call `lock` first, inside their transaction:
 * on PostgreSQL it takes the notification row FOR UPDATE, so a delivery report and the
 * job recording the send never interleave; SQLite has a single writer anyway. The
 * Idempotency-Keys of POST /v1/notifications are kept here too, one per sender and key.
 */
import type { Knex } from 'knex';
import type { RecipientType } from '../domain/identifiers.js';

export type NotificationStatusValue = 'SCHEDULED' | 'QUEUED' | 'FALLBACK' | 'SENT' | 'DELIVERED' | 'READ' | 'FAILED' | 'CANCELLED' | 'EXPIRED';
export type AttemptStatusValue = 'QUEUED' | 'SENT' | 'DELIVERED' | 'READ' | 'FAILED' | 'FALLBACK' | 'CANCELLED' | 'EXPIRED';

export interface NotificationRecord {
  id: string;
  senderId: string;
  messageId: string | null;
  recipientType: RecipientType | null;
  recipientId: string | null;
  /** the number the sender addressed (not the directory's number) */
  phone: string | null;
  strategy: string;
  status: NotificationStatusValue;
  reason: string | null;
  /** a notification language tag (src/notifications/content/Language.ts) */
  language: string;
  title: string | null;
  html: string | null;
  sms: string | null;
  smsEncoding: 'GSM-7' | 'UCS-2' | null;
  smsParts: number | null;
  template: string | null;
  reference: string | null;
  /** when a SCHEDULED notification is dispatched (null: at once) */
  sendAt: string | null;
  /** not handed to a provider by then: EXPIRED (null: no limit) */
  validUntil: string | null;
  /** the batch (POST /v1/notifications/batches) and its row, from 1, this notification came from */
  batchId: string | null;
  batchRow: number | null;
  createdAt: string;
  updatedAt: string;
}

export interface AttemptRecord {
  id: string;
  notificationId: string;
  channel: string;
  status: AttemptStatusValue;
  reason: string | null;
  provider: string | null;
  providerRef: string | null;
  units: number;
  targets: Record<string, unknown>;
  sentAt: string | null;
  deliveredAt: string | null;
  readAt: string | null;
  /** the end of the quiet hours the send was last deferred to */
  deferredUntil: string | null;
  /** when the send job first handed it to its provider (from then on it cannot be cancelled) */
  handedOverAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A page of a sender's notifications, newest first; `next` is the last item's key when there are more. */
export interface NotificationPage {
  items: NotificationRecord[];
  next?: { createdAt: string; id: string };
}

export interface NotificationFilter {
  status?: NotificationStatusValue;
  reference?: string;
  createdFrom?: string;
  createdTo?: string;
  phone?: string;
  recipientType?: RecipientType;
  recipientId?: string;
  after?: { createdAt: string; id: string };
  limit: number;
}

export type NotificationEventKind = 'STATUS' | 'ATTEMPT' | 'RECEIPT';

export interface NotificationEventRecord {
  id: number;
  notificationId: string;
  attemptId: string | null;
  at: string;
  kind: NotificationEventKind;
  status: string | null;
  channel: string | null;
  detail: Record<string, unknown>;
}

export class NotificationRepository {
  constructor(private readonly db: Knex) {}

  private get isPostgres(): boolean {
    return this.db.client.config.client === 'pg';
  }

  async insert(n: NotificationRecord): Promise<void> {
    await this.db('notifications').insert(notificationRow(n));
  }

  /**
   * Inserts many notifications, each with its QUEUED history entry, in multi-row
   * statements (a batch's chunk); their jobs are the caller's.
   */
  async insertMany(ns: NotificationRecord[]): Promise<void> {
    for (let i = 0; i < ns.length; i += ROWS_PER_STATEMENT) {
      const part = ns.slice(i, i + ROWS_PER_STATEMENT);
      await this.db('notifications').insert(part.map(notificationRow));
      await this.db('notification_events').insert(
        part.map((n) => ({ notification_id: n.id, attempt_id: null, at: n.createdAt, kind: 'STATUS', status: 'QUEUED', channel: null, detail: JSON.stringify({ strategy: n.strategy }) })),
      );
    }
  }

  async find(id: string): Promise<NotificationRecord | undefined> {
    const row = await this.db('notifications').where({ id }).first();
    return row && toNotification(row);
  }

  /** Reads the notification and, on PostgreSQL, locks its row until the transaction ends. */
  async lock(id: string): Promise<NotificationRecord | undefined> {
    const q = this.db('notifications').where({ id }).first();
    if (this.isPostgres) q.forUpdate();
    const row = await q;
    return row && toNotification(row);
  }

  async findByMessage(messageId: string): Promise<NotificationRecord[]> {
    return (await this.db('notifications').where({ message_id: messageId }).orderBy('created_at')).map(toNotification);
  }

  /** The sender's notifications matching `f`, newest first (keyset on created_at, id). */
  async listForSender(senderId: string, f: NotificationFilter): Promise<NotificationPage> {
    const q = this.db('notifications').where({ sender_id: senderId });
    if (f.status) q.andWhere({ status: f.status });
    if (f.reference !== undefined) q.andWhere({ reference: f.reference });
    if (f.createdFrom) q.andWhere('created_at', '>=', f.createdFrom);
    if (f.createdTo) q.andWhere('created_at', '<', f.createdTo);
    if (f.phone) q.andWhere({ phone_e164: f.phone });
    if (f.recipientType) q.andWhere({ recipient_type: f.recipientType });
    if (f.recipientId) q.andWhere({ recipient_id: f.recipientId });
    if (f.after) {
      const a = f.after;
      q.andWhere((w) => w.where('created_at', '<', a.createdAt).orWhere((w2) => w2.where('created_at', '=', a.createdAt).andWhere('id', '<', a.id)));
    }
    const rows = await q.orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(f.limit + 1);
    const items = rows.slice(0, f.limit).map(toNotification);
    const last = items[items.length - 1];
    return rows.length > f.limit && last ? { items, next: { createdAt: last.createdAt, id: last.id } } : { items };
  }

  async setStatus(id: string, status: NotificationStatusValue, reason: string | null): Promise<void> {
    await this.db('notifications').where({ id }).update({ status, reason, updated_at: new Date().toISOString() });
  }

  async insertAttempt(a: AttemptRecord): Promise<void> {
    await this.db('notification_attempts').insert({
      id: a.id,
      notification_id: a.notificationId,
      channel: a.channel,
      status: a.status,
      reason: a.reason,
      provider: a.provider,
      provider_ref: a.providerRef,
      units: a.units,
      targets: JSON.stringify(a.targets),
      sent_at: a.sentAt,
      delivered_at: a.deliveredAt,
      read_at: a.readAt,
      deferred_until: a.deferredUntil,
      handed_over_at: a.handedOverAt,
      created_at: a.createdAt,
      updated_at: a.updatedAt,
    });
  }

  async findAttempt(id: string): Promise<AttemptRecord | undefined> {
    const row = await this.db('notification_attempts').where({ id }).first();
    return row && toAttempt(row);
  }

  async attempts(notificationId: string): Promise<AttemptRecord[]> {
    return (await this.db('notification_attempts').where({ notification_id: notificationId }).orderBy(['created_at', 'channel'])).map(toAttempt);
  }

  async updateAttempt(id: string, patch: Partial<Omit<AttemptRecord, 'id' | 'notificationId' | 'channel' | 'createdAt'>>): Promise<void> {
    const row: Record<string, unknown> = { updated_at: new Date().toISOString() };
    const columns: Record<string, string> = {
      status: 'status',
      reason: 'reason',
      provider: 'provider',
      providerRef: 'provider_ref',
      units: 'units',
      sentAt: 'sent_at',
      deliveredAt: 'delivered_at',
      readAt: 'read_at',
      deferredUntil: 'deferred_until',
      handedOverAt: 'handed_over_at',
    };
    for (const [k, col] of Object.entries(columns)) {
      const v = (patch as Record<string, unknown>)[k];
      if (v !== undefined) row[col] = v;
    }
    if (patch.targets !== undefined) row.targets = JSON.stringify(patch.targets);
    await this.db('notification_attempts').where({ id }).update(row);
  }

  async appendEvent(e: Omit<NotificationEventRecord, 'id'>): Promise<void> {
    await this.db('notification_events').insert({
      notification_id: e.notificationId,
      attempt_id: e.attemptId,
      at: e.at,
      kind: e.kind,
      status: e.status,
      channel: e.channel,
      detail: JSON.stringify(e.detail),
    });
  }

  async events(notificationId: string): Promise<NotificationEventRecord[]> {
    const rows = await this.db('notification_events').where({ notification_id: notificationId }).orderBy('id');
    return rows.map((r: Record<string, unknown>) => ({
      id: Number(r.id),
      notificationId: r.notification_id as string,
      attemptId: (r.attempt_id as string | null) ?? null,
      at: r.at as string,
      kind: r.kind as NotificationEventKind,
      status: (r.status as string | null) ?? null,
      channel: (r.channel as string | null) ?? null,
      detail: JSON.parse(r.detail as string) as Record<string, unknown>,
    }));
  }

  async findIdempotencyKey(senderId: string, key: string): Promise<{ requestHash: string; notificationId: string } | undefined> {
    const row = await this.db('notification_idempotency_keys').where({ sender_id: senderId, key }).first();
    return row && { requestHash: row.request_hash as string, notificationId: row.notification_id as string };
  }

  /** Fails on the unique (sender_id, key) index when the key is already taken. */
  async insertIdempotencyKey(senderId: string, key: string, requestHash: string, notificationId: string): Promise<void> {
    await this.db('notification_idempotency_keys').insert({ sender_id: senderId, key, request_hash: requestHash, notification_id: notificationId, created_at: new Date().toISOString() });
  }

  async senderDefaultStrategy(senderId: string): Promise<string | undefined> {
    const row = await this.db('notify_sender_settings').where({ sender_id: senderId }).first();
    return row?.default_strategy as string | undefined;
  }

  async setSenderDefaultStrategy(senderId: string, strategy: string): Promise<void> {
    await this.db('notify_sender_settings')
      .insert({ sender_id: senderId, default_strategy: strategy, updated_at: new Date().toISOString() })
      .onConflict('sender_id')
      .merge(['default_strategy', 'updated_at']);
  }

  /** The sender's quiet hours ("HH:MM" to "HH:MM"), or null. */
  async senderQuietHours(senderId: string): Promise<{ start: string; end: string } | null> {
    const row = await this.db('notify_sender_settings').where({ sender_id: senderId }).first();
    return row?.quiet_start && row?.quiet_end ? { start: row.quiet_start as string, end: row.quiet_end as string } : null;
  }

  /** Sets (or with null clears) the sender's quiet hours; `defaultStrategy` fills a new settings row. */
  async setSenderQuietHours(senderId: string, quiet: { start: string; end: string } | null, defaultStrategy: string): Promise<void> {
    await this.db('notify_sender_settings')
      .insert({ sender_id: senderId, default_strategy: defaultStrategy, quiet_start: quiet?.start ?? null, quiet_end: quiet?.end ?? null, updated_at: new Date().toISOString() })
      .onConflict('sender_id')
      .merge(['quiet_start', 'quiet_end', 'updated_at']);
  }
}

/** Rows per multi-row INSERT: well under SQLite's 32,766 and PostgreSQL's 65,535 bound parameters. */
const ROWS_PER_STATEMENT = 500;

function notificationRow(n: NotificationRecord): Record<string, unknown> {
  return {
    id: n.id,
    sender_id: n.senderId,
    message_id: n.messageId,
    recipient_type: n.recipientType,
    recipient_id: n.recipientId,
    phone_e164: n.phone,
    strategy: n.strategy,
    status: n.status,
    reason: n.reason,
    language: n.language,
    title: n.title,
    html: n.html,
    sms: n.sms,
    sms_encoding: n.smsEncoding,
    sms_parts: n.smsParts,
    template: n.template,
    reference: n.reference,
    send_at: n.sendAt,
    valid_until: n.validUntil,
    batch_id: n.batchId,
    batch_row: n.batchRow,
    created_at: n.createdAt,
    updated_at: n.updatedAt,
  };
}

function toNotification(r: Record<string, unknown>): NotificationRecord {
  return {
    id: r.id as string,
    senderId: r.sender_id as string,
    messageId: (r.message_id as string | null) ?? null,
    recipientType: (r.recipient_type as RecipientType | null) ?? null,
    recipientId: (r.recipient_id as string | null) ?? null,
    phone: (r.phone_e164 as string | null) ?? null,
    strategy: r.strategy as string,
    status: r.status as NotificationStatusValue,
    reason: (r.reason as string | null) ?? null,
    language: r.language as NotificationRecord['language'],
    title: (r.title as string | null) ?? null,
    html: (r.html as string | null) ?? null,
    sms: (r.sms as string | null) ?? null,
    smsEncoding: (r.sms_encoding as NotificationRecord['smsEncoding']) ?? null,
    smsParts: r.sms_parts === null || r.sms_parts === undefined ? null : Number(r.sms_parts),
    template: (r.template as string | null) ?? null,
    reference: (r.reference as string | null) ?? null,
    sendAt: (r.send_at as string | null) ?? null,
    validUntil: (r.valid_until as string | null) ?? null,
    batchId: (r.batch_id as string | null) ?? null,
    batchRow: r.batch_row === null || r.batch_row === undefined ? null : Number(r.batch_row),
    createdAt: r.created_at as string,
    updatedAt: r.updated_at as string,
  };
}

function toAttempt(r: Record<string, unknown>): AttemptRecord {
  return {
    id: r.id as string,
    notificationId: r.notification_id as string,
    channel: r.channel as string,
    status: r.status as AttemptStatusValue,
    reason: (r.reason as string | null) ?? null,
    provider: (r.provider as string | null) ?? null,
    providerRef: (r.provider_ref as string | null) ?? null,
    units: Number(r.units),
    targets: r.targets ? (JSON.parse(r.targets as string) as Record<string, unknown>) : {},
    sentAt: (r.sent_at as string | null) ?? null,
    deliveredAt: (r.delivered_at as string | null) ?? null,
    readAt: (r.read_at as string | null) ?? null,
    deferredUntil: (r.deferred_until as string | null) ?? null,
    handedOverAt: (r.handed_over_at as string | null) ?? null,
    createdAt: r.created_at as string,
    updatedAt: r.updated_at as string,
  };
}
