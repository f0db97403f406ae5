/**
 * What the phones answer, and what the numbers asked for: the SMS each number was sent (to
 * attribute a reply to the sender whose SMS it last received), the inbound messages
 * (unique per provider and provider id: a provider that calls twice stores one row), the
 * opt-outs per number and sender or all senders ('*'), and each sender's SMS sender ID and
 * rate-limit override. Phone numbers are E.164.
 */
import type { Knex } from 'knex';

export const ALL_SENDERS = '*';

/**
 * PostgreSQL: inbound messages are stored one transaction at a time (an advisory lock held
 * until commit), so they commit in the order of their sequence numbers and a reader that
 * pages by sequence number never passes over one that commits later. Replies are few; the
 * wait is short. SQLite has a single writer anyway.
 */
export const INBOUND_LOCK_KEY = 7_245_114_917;

export type KeywordAction = 'OPT_OUT' | 'OPT_OUT_ALL' | 'OPT_IN' | 'OPT_IN_ALL';

export interface InboundSmsRecord {
  seq: number;
  id: string;
  provider: string;
  providerId: string;
  from: string;
  to: string;
  text: string;
  receivedAt: string;
  senderId: string | null;
  notificationId: string | null;
  keywordAction: KeywordAction | null;
  createdAt: string;
}

export interface OptOutRecord {
  phone: string;
  /** a sender id, or ALL_SENDERS */
  scope: string;
  source: string;
  inboundId: string | null;
  createdAt: string;
}

export interface SenderOverrides {
  smsSenderId: string | null;
  rateLimit: { burst: number; perMinute: number } | null;
  updatedAt: string | null;
}

export class InboundSmsRepository {
  constructor(private readonly db: Knex) {}

  /** An SMS the provider accepted for `phone`. */
  async recordSend(s: { attemptId: string; notificationId: string; senderId: string; phone: string; sentAt: string }): Promise<void> {
    await this.db('notify_sms_sends')
      .insert({ attempt_id: s.attemptId, notification_id: s.notificationId, sender_id: s.senderId, phone_e164: s.phone, sent_at: s.sentAt })
      .onConflict('attempt_id')
      .ignore();
  }

  /** The last SMS sent to `phone` at or after `since` (ISO), if any. */
  async lastSendTo(phone: string, since: string): Promise<{ senderId: string; notificationId: string; sentAt: string } | undefined> {
    const row = await this.db('notify_sms_sends').where({ phone_e164: phone }).andWhere('sent_at', '>=', since).orderBy('sent_at', 'desc').first();
    return row && { senderId: row.sender_id as string, notificationId: row.notification_id as string, sentAt: row.sent_at as string };
  }

  async findByProviderId(provider: string, providerId: string): Promise<InboundSmsRecord | undefined> {
    const row = await this.db('notify_inbound_sms').where({ provider, provider_id: providerId }).first();
    return row && toInbound(row);
  }

  /**
   * Fails on the unique (provider, provider_id) index when the message is already stored.
   * Call inside a transaction: on PostgreSQL it takes INBOUND_LOCK_KEY until the commit.
   */
  async insert(m: Omit<InboundSmsRecord, 'seq'>): Promise<void> {
    if (this.db.client.config.client === 'pg') await this.db.raw('SELECT pg_advisory_xact_lock(?)', [INBOUND_LOCK_KEY]);
    await this.db('notify_inbound_sms').insert({
      id: m.id,
      provider: m.provider,
      provider_id: m.providerId,
      from_e164: m.from,
      to_address: m.to,
      text: m.text,
      received_at: m.receivedAt,
      sender_id: m.senderId,
      notification_id: m.notificationId,
      keyword_action: m.keywordAction,
      created_at: m.createdAt,
    });
  }

  /** A sender's replies after `afterSeq`, oldest first. */
  async listForSender(senderId: string, afterSeq: number, limit: number): Promise<InboundSmsRecord[]> {
    return (await this.db('notify_inbound_sms').where({ sender_id: senderId }).andWhere('seq', '>', afterSeq).orderBy('seq').limit(limit)).map(toInbound);
  }

  // ---------------------------------------------------------------- opt-outs

  async optOut(o: OptOutRecord): Promise<void> {
    await this.db('notify_opt_outs')
      .insert({ phone_e164: o.phone, scope: o.scope, source: o.source, inbound_id: o.inboundId, created_at: o.createdAt })
      .onConflict(['phone_e164', 'scope'])
      .ignore();
  }

  /** Removes the number's opt-outs of these scopes; returns how many there were. */
  async removeOptOuts(phone: string, scopes: string[]): Promise<number> {
    if (scopes.length === 0) return 0;
    return this.db('notify_opt_outs').where({ phone_e164: phone }).whereIn('scope', scopes).delete();
  }

  async optOuts(phone: string): Promise<OptOutRecord[]> {
    return (await this.db('notify_opt_outs').where({ phone_e164: phone }).orderBy(['created_at', 'scope'])).map((r: Record<string, unknown>) => ({
      phone: r.phone_e164 as string,
      scope: r.scope as string,
      source: r.source as string,
      inboundId: (r.inbound_id as string | null) ?? null,
      createdAt: r.created_at as string,
    }));
  }

  /** Whether `phone` opted out of SMS from `senderId` (or from every sender). */
  /** Of `phones`, those opted out of this sender's SMS or of every sender's. */
  async optedOutAmong(phones: string[], senderId: string): Promise<Set<string>> {
    const out = new Set<string>();
    for (let i = 0; i < phones.length; i += 500) {
      const rows = await this.db('notify_opt_outs').whereIn('phone_e164', phones.slice(i, i + 500)).whereIn('scope', [senderId, ALL_SENDERS]).select('phone_e164');
      for (const r of rows as Array<{ phone_e164: string }>) out.add(r.phone_e164);
    }
    return out;
  }

  async isOptedOut(phone: string, senderId: string): Promise<boolean> {
    const row = await this.db('notify_opt_outs').where({ phone_e164: phone }).whereIn('scope', [senderId, ALL_SENDERS]).first();
    return row !== undefined;
  }

  // ---------------------------------------------------------------- sender overrides

  async senderOverrides(senderId: string): Promise<SenderOverrides> {
    const row = await this.db('notify_sender_overrides').where({ sender_id: senderId }).first();
    if (!row) return { smsSenderId: null, rateLimit: null, updatedAt: null };
    const burst = row.rate_burst === null || row.rate_burst === undefined ? null : Number(row.rate_burst);
    const perMinute = row.rate_per_minute === null || row.rate_per_minute === undefined ? null : Number(row.rate_per_minute);
    return {
      smsSenderId: (row.sms_sender_id as string | null) ?? null,
      rateLimit: burst !== null && perMinute !== null ? { burst, perMinute } : null,
      updatedAt: row.updated_at as string,
    };
  }

  async setSenderOverrides(senderId: string, o: { smsSenderId: string | null; rateLimit: { burst: number; perMinute: number } | null }): Promise<void> {
    const row = {
      sender_id: senderId,
      sms_sender_id: o.smsSenderId,
      rate_burst: o.rateLimit?.burst ?? null,
      rate_per_minute: o.rateLimit?.perMinute ?? null,
      updated_at: new Date().toISOString(),
    };
    await this.db('notify_sender_overrides').insert(row).onConflict('sender_id').merge(['sms_sender_id', 'rate_burst', 'rate_per_minute', 'updated_at']);
  }
}

function toInbound(r: Record<string, unknown>): InboundSmsRecord {
  return {
    seq: Number(r.seq),
    id: r.id as string,
    provider: r.provider as string,
    providerId: r.provider_id as string,
    from: r.from_e164 as string,
    to: r.to_address as string,
    text: r.text as string,
    receivedAt: r.received_at as string,
    senderId: (r.sender_id as string | null) ?? null,
    notificationId: (r.notification_id as string | null) ?? null,
    keywordAction: (r.keyword_action as KeywordAction | null) ?? null,
    createdAt: r.created_at as string,
  };
}
