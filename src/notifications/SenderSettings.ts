/**
 * What the operator sets per sender for notifications (PUT /v1/admin/senders/{id}/notifications):
 *   smsSenderId  the sender shown on the phone (sms/SenderId.ts); null: KANNEL_FROM / SMS_HTTP_FROM
 *   rateLimit    {burst, perMinute}: its own token bucket instead of NOTIFY_RATE_LIMIT_BURST /
 *                NOTIFY_RATE_LIMIT_PER_MINUTE (perMinute 0: no limit); null: the configured one
 * A PUT replaces both (a member left out is null).
 */
import type { Config } from '../config.js';
import { ServiceError } from '../domain/errors.js';
import type { Repositories } from '../store/Repositories.js';
import { checkSenderId } from './sms/SenderId.js';

export interface SenderNotificationSettings {
  senderId: string;
  smsSenderId: string | null;
  rateLimit: { burst: number; perMinute: number } | null;
  /** what applies: the sender's own values or the configured defaults */
  effective: { smsSenderId: string | null; rateLimit: { burst: number; perMinute: number } };
  updatedAt: string | null;
}

const MAX_RATE = 1_000_000;

export class SenderSettingsService {
  constructor(
    private readonly store: Repositories,
    private readonly config: Config,
  ) {}

  private async sender(id: unknown): Promise<string> {
    if (typeof id !== 'string' || !(await this.store.senders.findById(id))) throw new ServiceError('NOT_FOUND', 'no such sender');
    return id;
  }

  private defaultFrom(): string | null {
    const p = this.config.notify.sms.provider;
    return p.kind === 'kannel' ? p.from : p.kind === 'http' ? (p.from ?? null) : null;
  }

  /** The rate limit that applies to a sender. */
  async rateLimit(senderId: string): Promise<{ burst: number; perMinute: number }> {
    const own = (await this.store.inbound.senderOverrides(senderId)).rateLimit;
    return own ?? { burst: this.config.notify.rateLimitBurst, perMinute: this.config.notify.rateLimitPerMinute };
  }

  async get(id: unknown): Promise<SenderNotificationSettings> {
    const senderId = await this.sender(id);
    const o = await this.store.inbound.senderOverrides(senderId);
    return {
      senderId,
      smsSenderId: o.smsSenderId,
      rateLimit: o.rateLimit,
      effective: { smsSenderId: o.smsSenderId ?? this.defaultFrom(), rateLimit: o.rateLimit ?? { burst: this.config.notify.rateLimitBurst, perMinute: this.config.notify.rateLimitPerMinute } },
      updatedAt: o.updatedAt,
    };
  }

  async put(id: unknown, body: unknown): Promise<SenderNotificationSettings> {
    const invalid = (detail: string) => new ServiceError('SENDER_SETTINGS_INVALID', detail);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('send a JSON object {"smsSenderId", "rateLimit"}');
    const b = body as Record<string, unknown>;
    const unknown = Object.keys(b).filter((k) => k !== 'smsSenderId' && k !== 'rateLimit');
    if (unknown.length > 0) throw invalid(`unknown member(s): ${unknown.join(', ')}`);
    let smsSenderId: string | null = null;
    if (b.smsSenderId !== undefined && b.smsSenderId !== null) {
      const check = checkSenderId(b.smsSenderId);
      if (!check.ok) throw new ServiceError(check.code, check.reason);
      smsSenderId = check.value;
    }
    let rateLimit: { burst: number; perMinute: number } | null = null;
    if (b.rateLimit !== undefined && b.rateLimit !== null) {
      const r = b.rateLimit as Record<string, unknown>;
      if (typeof r !== 'object' || Array.isArray(r) || Object.keys(r).some((k) => k !== 'burst' && k !== 'perMinute')) throw invalid('rateLimit must be {"burst", "perMinute"} or null');
      const whole = (v: unknown, min: number) => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= MAX_RATE;
      if (!whole(r.burst, 1)) throw invalid(`rateLimit.burst must be a whole number from 1 to ${MAX_RATE}`);
      if (!whole(r.perMinute, 0)) throw invalid(`rateLimit.perMinute must be a whole number from 0 (no limit) to ${MAX_RATE}`);
      rateLimit = { burst: r.burst as number, perMinute: r.perMinute as number };
    }
    const senderId = await this.sender(id);
    await this.store.transaction((tx) => tx.inbound.setSenderOverrides(senderId, { smsSenderId, rateLimit }));
    return this.get(senderId);
  }
}
