/**
 * The SMS phones send back, from Kannel (its sms-service get-url) or the HTTP aggregator
 * (a signed inbound callback), and what follows from them:
 *
 *   - stored once per provider message id (a provider that calls twice, or two calls that
 *     race, leave one row: the unique index decides);
 *   - attributed to the sender whose SMS the number received last, at most
 *     NOTIFY_INBOUND_ATTRIBUTION_DAYS before; that sender reads it with the notification it
 *     answers (GET /v1/notifications/replies), no other sender sees it;
 *   - a keyword (Keywords.ts) opts the number out of SMS from that sender or from all, or
 *     back in; the opt-out is in the contact directory, and later SMS to the number are not
 *     sent (the SMS channel's reachability is RECIPIENT_OPTED_OUT).
 *
 * Phone numbers are stored in E.164 and never logged.
 */
import { newRowId } from '../../domain/RowId.js';
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import { ServiceError } from '../../domain/errors.js';
import { constraintViolation } from '../../store/constraints.js';
import { ALL_SENDERS, type InboundSmsRecord, type OptOutRecord } from '../../store/InboundSmsRepository.js';
import type { Repositories } from '../../store/Repositories.js';
import { toE164 } from '../PhoneNumber.js';
import { matchKeyword, type KeywordAction } from './Keywords.js';

export interface InboundSms {
  provider: 'kannel' | 'sms-http';
  /** the provider's id of the message: the deduplication key */
  providerId: string;
  from: unknown;
  to: unknown;
  text: unknown;
  receivedAt?: Date;
}

export interface InboundOutcome {
  id: string;
  /** the message was already stored (same provider and id): nothing was done again */
  duplicate: boolean;
}

export interface ReplyView {
  id: string;
  notificationId: string | null;
  from: string;
  to: string;
  text: string;
  receivedAt: string;
  keyword: KeywordAction | null;
}

export interface ReplyPage {
  items: ReplyView[];
  /** give it back as `cursor` to get the replies received after these */
  cursor: string;
  /** more replies are there already */
  hasMore: boolean;
}

export interface OptOutView {
  scope: 'SENDER' | 'ALL';
  senderId: string | null;
  source: string;
  createdAt: string;
}

export const MAX_INBOUND_TEXT = 2000;

export function optOutView(o: OptOutRecord): OptOutView {
  return { scope: o.scope === ALL_SENDERS ? 'ALL' : 'SENDER', senderId: o.scope === ALL_SENDERS ? null : o.scope, source: o.source, createdAt: o.createdAt };
}

function replyView(m: InboundSmsRecord): ReplyView {
  return { id: m.id, notificationId: m.notificationId, from: m.from, to: m.to, text: m.text, receivedAt: m.receivedAt, keyword: m.keywordAction };
}

export class InboundService {
  constructor(
    private readonly store: Repositories,
    private readonly config: Config,
    private readonly log: Logger,
  ) {}

  /** Stores an inbound SMS and applies its keyword; refuses a malformed one (nothing stored). */
  async receive(input: InboundSms): Promise<InboundOutcome> {
    const malformed = (detail: string) => new ServiceError('MALFORMED_REQUEST', detail);
    if (typeof input.providerId !== 'string' || input.providerId === '' || input.providerId.length > 200) throw malformed('the message id is required (at most 200 characters)');
    const from = toE164(input.from);
    if (!from) throw malformed('"from" is not a phone number');
    if (typeof input.to !== 'string' || !/^[A-Za-z0-9 +]{1,20}$/.test(input.to)) throw malformed('"to" must be the number or sender ID answered (1 to 20 letters, digits, spaces or +)');
    if (typeof input.text !== 'string' || input.text.length > MAX_INBOUND_TEXT || input.text.includes('\u0000')) throw malformed(`"text" must be a string of at most ${MAX_INBOUND_TEXT} characters without NUL`);
    const text = input.text.normalize('NFC');
    const known = await this.store.inbound.findByProviderId(input.provider, input.providerId);
    if (known) return { id: known.id, duplicate: true };

    const now = new Date();
    const since = new Date(now.getTime() - this.config.notify.inboundAttributionDays * 86_400_000).toISOString();
    const keyword = matchKeyword(text) ?? null;
    const id = newRowId();
    try {
      await this.store.transaction(async (tx) => {
        const last = await tx.inbound.lastSendTo(from, since);
        const senderId = last?.senderId ?? null;
        await tx.inbound.insert({
          id,
          provider: input.provider,
          providerId: input.providerId,
          from,
          to: input.to as string,
          text,
          receivedAt: (input.receivedAt && !Number.isNaN(input.receivedAt.getTime()) ? input.receivedAt : now).toISOString(),
          senderId,
          notificationId: last?.notificationId ?? null,
          keywordAction: keyword,
          createdAt: now.toISOString(),
        });
        if (keyword) await this.applyKeyword(tx, keyword, from, senderId, `sms:${input.provider}`, id);
      });
    } catch (err) {
      // the same message, stored by a concurrent call since the lookup
      if (constraintViolation(err) === 'unique') {
        const stored = await this.store.inbound.findByProviderId(input.provider, input.providerId);
        if (stored) return { id: stored.id, duplicate: true };
      }
      throw err;
    }
    this.log.info({ inboundId: id, provider: input.provider, keyword }, 'inbound SMS stored');
    return { id, duplicate: false };
  }

  private async applyKeyword(tx: Repositories, keyword: KeywordAction, phone: string, senderId: string | null, source: string, inboundId: string): Promise<void> {
    const createdAt = new Date().toISOString();
    switch (keyword) {
      case 'OPT_OUT':
        // not attributable to a sender: no SMS from anyone (Keywords.ts)
        return tx.inbound.optOut({ phone, scope: senderId ?? ALL_SENDERS, source, inboundId, createdAt });
      case 'OPT_OUT_ALL':
        return tx.inbound.optOut({ phone, scope: ALL_SENDERS, source, inboundId, createdAt });
      case 'OPT_IN':
        if (senderId) {
          await tx.inbound.removeOptOuts(phone, [senderId, ALL_SENDERS]);
          return;
        }
        await tx.inbound.removeOptOuts(phone, (await tx.inbound.optOuts(phone)).map((o) => o.scope));
        return;
      case 'OPT_IN_ALL':
        await tx.inbound.removeOptOuts(phone, (await tx.inbound.optOuts(phone)).map((o) => o.scope));
        return;
    }
  }

  /**
   * A sender's replies after `cursor` (oldest first). The cursor is the row's sequence number;
   * rows commit in that order (InboundSmsRepository.insert), so none is passed over.
   */
  async replies(senderId: string, cursorParam: unknown, limitParam: unknown): Promise<ReplyPage> {
    const cursor = cursorParam === undefined || cursorParam === '' ? '0' : cursorParam;
    if (typeof cursor !== 'string' || !/^\d{1,15}$/.test(cursor)) throw new ServiceError('QUERY_INVALID', 'cursor must be a cursor this endpoint returned');
    const limit = limitParam === undefined ? 50 : typeof limitParam === 'string' && /^\d{1,3}$/.test(limitParam) ? Number(limitParam) : NaN;
    if (!(limit >= 1 && limit <= 200)) throw new ServiceError('QUERY_INVALID', 'limit must be a whole number from 1 to 200');
    const rows = await this.store.inbound.listForSender(senderId, Number(cursor), limit + 1);
    const page = rows.slice(0, limit);
    return { items: page.map(replyView), cursor: page.length > 0 ? String(page[page.length - 1]!.seq) : cursor, hasMore: rows.length > limit };
  }

  // ---------------------------------------------------------------- the directory's opt-outs (admin)

  private number(raw: unknown): string {
    const phone = toE164(raw);
    if (!phone) throw new ServiceError('PHONE_NUMBER_INVALID', 'give the number in E.164 form, e.g. +32470123456');
    return phone;
  }

  async optOuts(phoneParam: unknown): Promise<{ phoneNumber: string; optOuts: OptOutView[] }> {
    const phone = this.number(phoneParam);
    return { phoneNumber: phone, optOuts: (await this.store.inbound.optOuts(phone)).map(optOutView) };
  }

  /** Removes one opt-out: `scope` is a sender id or "all". */
  async removeOptOut(phoneParam: unknown, scopeParam: unknown): Promise<void> {
    const phone = this.number(phoneParam);
    if (typeof scopeParam !== 'string' || scopeParam === '') throw new ServiceError('NOT_FOUND', 'no such opt-out');
    const scope = scopeParam === 'all' ? ALL_SENDERS : scopeParam;
    const removed = await this.store.transaction((tx) => tx.inbound.removeOptOuts(phone, [scope]));
    if (removed === 0) throw new ServiceError('NOT_FOUND', 'no such opt-out');
    this.log.info({ scope: scopeParam }, 'opt-out removed by the operator');
  }

  /** Whether `phone` may not get SMS from `senderId`. */
  isOptedOut(phone: string, senderId: string): Promise<boolean> {
    return this.store.inbound.isOptedOut(phone, senderId);
  }
}
