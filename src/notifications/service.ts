/**
 * Short-message notifications, offered to senders on their own (POST /v1/notifications)
 * and used by the registered-mail hook: submission (validation, rate limit, content
 * checked for every channel the strategy may use), status queries, the senders' default
 * strategy, usage and its price, and the providers' reports. The jobs and state changes
 * are in engine.ts; the providers are built from the configuration in src/app/notifications.ts.
 */
import { createHash } from 'node:crypto';
import { newRowId } from '../domain/RowId.js';
import { canonicalJson } from '../domain/CanonicalJson.js';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { replayAfterRace, ServiceError } from '../domain/errors.js';
import { isValidRecipientId, normaliseIdentifier, type RecipientType } from '../domain/identifiers.js';
import { UrlTokenCheck, verifyBodySignature } from './CallbackSignature.js';
import type { ChannelName, NotificationChannel, NotificationContent } from './channels/Channel.js';
import { isLanguage, languageList, type Language } from './content/Language.js';
import { BUILTIN_TEMPLATES, builtinTemplate, pickLanguage, renderContent, TemplateError, type ContentParts, type ContentSet } from './content/Templates.js';
import { isSettled, NOTIFICATION_STATUSES } from './NotificationStatus.js';
import { parseQuietHours, type QuietHours } from './QuietHours.js';
import { checkMobileNumber } from './PhoneNumber.js';
import { httpSmsReportEvent } from './providers/HttpSmsGateway.js';
import { kannelInboundText, kannelReportEvent, parseKannelQuery, verifyKannelDlrToken, verifyKannelInboundToken } from './providers/KannelSmsGateway.js';
import type { StrategyRegistry } from './Strategies.js';
import type { AttemptRecord, NotificationEventRecord, NotificationFilter, NotificationRecord } from '../store/NotificationRepository.js';
import type { SenderRecord } from '../domain/records.js';
import type { Repositories } from '../store/Repositories.js';
import type { JobHandlers } from '../worker/JobRunner.js';
import type { NotifyJobType } from './engine.js';
import { ContactService } from './contacts.js';
import { InboundService } from './inbound/InboundService.js';
import { SenderSettingsService } from './SenderSettings.js';
import { NotificationBatches } from './batches.js';
import type { NotificationEngine } from './engine.js';

export { enqueueRegisteredMailNotice } from './engine.js';
// what the HTTP layer needs of src/notifications, so that it depends on this service only
export { isSettled, NOTIFICATION_STATUSES, ATTEMPT_STATUSES } from './NotificationStatus.js';
export { GOVAPP_SIGNATURE_HEADER } from './providers/HttpPushGateway.js';
export { BUILTIN_TEMPLATES } from './content/Templates.js';
export { LANGUAGES as NOTIFICATION_LANGUAGES } from './content/Language.js';
export { BUILTIN_STRATEGY_NAMES } from './Strategies.js';
export type { NotificationRecord } from '../store/NotificationRepository.js';
export { KEYWORDS } from './inbound/Keywords.js';
export type { InboundService, ReplyPage, OptOutView } from './inbound/InboundService.js';
export type { SenderSettingsService, SenderNotificationSettings } from './SenderSettings.js';
export { batchFormat, openBatch, settingsFromQuery, MAX_ROW_BYTES, type BatchView, type BatchSubmitted, type BatchStatus } from './batches.js';

export interface NotificationDetails {
  notification: NotificationRecord;
  attempts: AttemptRecord[];
  events: NotificationEventRecord[];
}

export interface UsageLine {
  channel: ChannelName;
  /** notifications that used the channel */
  messages: number;
  /** SMS parts or pushes */
  units: number;
  unitPrice: string;
  amount: string;
}

export interface UsageReport {
  month: string;
  currency: string;
  senders: Array<{ senderId: string; senderName: string; lines: UsageLine[]; amount: string }>;
  amount: string;
}

/** What submit made of a request: a new notification, or — same Idempotency-Key, same request — the first one. */
export interface Submitted {
  id: string;
  /** true when an Idempotency-Key matched an earlier identical request */
  replayed: boolean;
  /** the sender's bucket after this request took its token (absent: no limit, or a replay) */
  rate?: RateLimitState;
}

/**
 * A sender's token bucket as the RateLimit header fields tell it: `burst` tokens at most,
 * `perMinute` added a minute; `remaining` whole tokens left; `nextTokenSeconds` until one
 * more is there (0 when full); `windowSeconds` to refill from empty.
 */
export interface RateLimitState {
  burst: number;
  perMinute: number;
  remaining: number;
  nextTokenSeconds: number;
  windowSeconds: number;
}

export class RateLimitedError extends ServiceError {
  constructor(readonly rate: RateLimitState) {
    super('RATE_LIMITED', `at most ${rate.burst} notifications at once and ${rate.perMinute} a minute; try again in ${rate.nextTokenSeconds} s`, {
      extensions: { retryAfter: rate.nextTokenSeconds },
      retryAfterSeconds: rate.nextTokenSeconds,
    });
  }
}

const MAX_VALUES = 50;
/** how far ahead sendAt (and validUntil after it) may be */
const MAX_AHEAD_MS = 90 * 86_400_000;
/** a sendAt this far in the past (clocks differ) is taken as "now" */
const SEND_AT_SKEW_MS = 5 * 60_000;
const RFC3339 = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt]([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d{1,9})?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$/;

/** An RFC 3339 date-time (offset required) as epoch ms, or undefined. */
function rfc3339(v: unknown): number | undefined {
  if (typeof v !== 'string' || !RFC3339.test(v)) return undefined;
  const t = Date.parse(v.toUpperCase());
  return Number.isNaN(t) ? undefined : t;
}

/** The cursor of the listing: a creation time as stored and a notification id. */
const CURSOR_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface ListQuery {
  status?: string;
  reference?: string;
  createdFrom?: string;
  createdTo?: string;
  phoneNumber?: string;
  recipientType?: string;
  recipientId?: string;
  limit?: string;
  cursor?: string;
}

/** What the sender's settings are: default strategy, quiet hours. */
export interface SenderSettings {
  defaultStrategy: string;
  quietHours: QuietHours | null;
}

/** A notification request as `parse` read it. */
export interface NotificationInput {
  recipient?: { type: RecipientType; id: string };
  phone?: string;
  strategy?: string;
  language?: Language;
  template?: string;
  content?: ContentSet;
  values: Record<string, string>;
  reference?: string;
  transliterate?: boolean;
  /** RFC 3339: dispatch then */
  sendAt?: string;
  /** RFC 3339: not handed to a provider by then, EXPIRED */
  validUntil?: string;
}

export class NotificationService {
  private callbackBaseUrl: string | undefined;
  /** the contact directory */
  readonly contacts: ContactService;
  /** replies and opt-outs */
  readonly inbound: InboundService;
  /** per-sender SMS sender ID and rate limit */
  readonly senderSettings: SenderSettingsService;
  /** bulk sends (POST /v1/notifications/batches) */
  readonly batches: NotificationBatches;

  constructor(
    private readonly store: Repositories,
    readonly config: Config,
    readonly engine: NotificationEngine,
    readonly strategies: StrategyRegistry,
    private readonly channels: Map<ChannelName, NotificationChannel>,
    private readonly log: Logger,
  ) {
    this.callbackBaseUrl = config.notify.callbackBaseUrl;
    this.inbound = new InboundService(store, config, log);
    this.contacts = new ContactService(store, config);
    this.senderSettings = new SenderSettingsService(store, config);
    this.batches = new NotificationBatches(store, config, this);
  }

  handlers(): Pick<JobHandlers, NotifyJobType> {
    return this.engine.handlers();
  }


  /** The base URL providers call back; set by whoever knows where the service listens. */
  get callbackBase(): string | undefined {
    return this.callbackBaseUrl;
  }

  setCallbackBaseUrl(url: string): void {
    this.callbackBaseUrl = url.replace(/\/+$/, '');
  }

  // ---------------------------------------------------------------- submission

  /**
   * Validates and queues a sender's notification. With an Idempotency-Key, the key and the
   * SHA-256 of the canonical request are written in the transaction that creates the
   * notification; a known key with the same request returns the first notification (sent
   * and billed once), with another request IDEMPOTENCY_KEY_REUSED. A request refused for
   * its content neither uses nor stores the key; a replay is not rate-limited.
   */
  async submit(sender: SenderRecord, body: unknown, idempotencyKey?: string): Promise<Submitted> {
    const input = this.parse(body);
    const requestHash = createHash('sha256').update(canonicalJson(input)!).digest('hex');
    if (idempotencyKey !== undefined) {
      const replay = await this.replay(sender, idempotencyKey, requestHash);
      if (replay) return replay;
    }
    // the times are checked against the clock after a replay was ruled out (a retry of a
    // scheduled request is answered with the first notification, whenever it comes)
    const now = Date.now();
    if (input.sendAt !== undefined) {
      const t = Date.parse(input.sendAt);
      if (t < now - SEND_AT_SKEW_MS) throw new ServiceError('NOTIFICATION_INVALID', `sendAt is in the past (more than ${SEND_AT_SKEW_MS / 1000} s ago)`);
      if (t > now + MAX_AHEAD_MS) throw new ServiceError('NOTIFICATION_INVALID', `sendAt must be at most ${MAX_AHEAD_MS / 86_400_000} days ahead`);
    }
    // sendAt in the past within the skew: at once; then validity counts from now
    const sendAt = input.sendAt !== undefined && Date.parse(input.sendAt) > now ? input.sendAt : undefined;
    const due = sendAt ? Date.parse(sendAt) : now;
    const validUntil = input.validUntil ?? new Date(due + this.config.notify.defaultValiditySeconds * 1000).toISOString();
    if (Date.parse(validUntil) <= due) throw new ServiceError('NOTIFICATION_INVALID', 'validUntil must be later than sendAt (or than now, without sendAt)');
    if (Date.parse(validUntil) > due + MAX_AHEAD_MS) throw new ServiceError('NOTIFICATION_INVALID', `validUntil must be at most ${MAX_AHEAD_MS / 86_400_000} days after sendAt (or now)`);
    let contactLanguage: string | undefined;
    if (input.recipient) {
      contactLanguage = (await this.store.contacts.findByRecipient(input.recipient.type, input.recipient.id))?.language;
    } else if (input.phone) {
      contactLanguage = (await this.store.contacts.findByPhone(input.phone))[0]?.language;
    }
    const n = this.build(sender, input, {
      defaultStrategy: await this.defaultStrategy(sender.id),
      contactLanguage: isLanguage(contactLanguage) ? contactLanguage : undefined,
      batch: null,
      sendAt: sendAt ?? null,
      validUntil,
    });
    await this.refuseOptedOut(sender, this.strategies.get(n.strategy)!.channels, input.phone ?? (input.recipient ? ((await this.store.contacts.findByRecipient(input.recipient.type, input.recipient.id))?.phone ?? null) : null));
    // only a request that is otherwise acceptable takes a token
    const rate = await this.takeToken(sender.id);
    try {
      await this.store.transaction(async (tx) => {
        await this.engine.create(tx, n);
        if (idempotencyKey !== undefined) await tx.notifications.insertIdempotencyKey(sender.id, idempotencyKey, requestHash, n.id);
      });
    } catch (err) {
      // A concurrent request with the same key committed first (the unique index refused
      // this one's key, and its transaction is rolled back): answer as a replay of it.
      if (idempotencyKey !== undefined) {
        const replay = await replayAfterRace(() => this.replay(sender, idempotencyKey, requestHash));
        if (replay) return replay;
      }
      throw err;
    }
    return { id: n.id, replayed: false, ...(rate ? { rate } : {}) };
  }

  /**
   * A strategy that can only send SMS, to a number that answered STOP to this sender (or
   * STOP ALL): refused at once, 422 RECIPIENT_OPTED_OUT — nothing would be sent. A strategy
   * with another channel is accepted; its SMS attempt fails with that reason.
   */
  private async refuseOptedOut(sender: SenderRecord, channels: readonly ChannelName[], phone: string | null): Promise<void> {
    if (!phone || channels.some((c) => c !== 'SMS')) return;
    if (await this.inbound.isOptedOut(phone, sender.id)) {
      throw new ServiceError('RECIPIENT_OPTED_OUT', 'the recipient asked for no more SMS from you (or from every sender): this strategy has no other channel, nothing was queued');
    }
  }

  // ---------------------------------------------------------------- replies from phones

  /**
   * Kannel's sms-service get-url: an SMS a phone sent, `rawQuery` as Kannel wrote it (the
   * text's bytes are read by its coding). The URL token proves the operator configured it.
   */
  async kannelInbound(rawQuery: string): Promise<{ id: string; duplicate: boolean }> {
    const p = this.config.notify.sms.provider;
    if (p.kind !== 'kannel') throw new ServiceError('NOT_FOUND', 'the Kannel SMS provider is not configured');
    const q = parseKannelQuery(rawQuery);
    const str = (name: string) => q.get(name)?.toString('utf8');
    if (!verifyKannelInboundToken(p.dlrSecret, str('token'))) throw this.refused('kannel', 'CALLBACK_SIGNATURE_INVALID', 'the inbound SMS does not carry the sms-service token');
    const bytes = q.get('text');
    const text = bytes === undefined ? undefined : kannelInboundText(bytes, str('coding') ?? '');
    if (bytes !== undefined && text === undefined) throw new ServiceError('MALFORMED_REQUEST', 'text (%b) cannot be read with its coding (%c: 0, 1 or 2)');
    const at = str('at');
    const receivedAt = at !== undefined && /^\d{1,12}$/.test(at) ? new Date(Number(at) * 1000) : undefined;
    return this.inbound.receive({ provider: 'kannel', providerId: str('id') ?? '', from: str('from'), to: str('to'), text, receivedAt });
  }

  /** The HTTP aggregator's inbound callback: signed body {id, from, to, text, receivedAt}. */
  async httpSmsInbound(rawBody: Uint8Array, signature: string | undefined): Promise<{ id: string; duplicate: boolean }> {
    const p = this.config.notify.sms.provider;
    if (p.kind !== 'http') throw new ServiceError('NOT_FOUND', 'the HTTP SMS provider is not configured');
    if (!verifyBodySignature(p.callbackSecret, signature, rawBody)) throw this.refused('sms-http', 'CALLBACK_SIGNATURE_INVALID', 'the inbound signature (Signature) is missing, wrong or too old');
    const r = parseJson(rawBody);
    if (!r) throw new ServiceError('MALFORMED_REQUEST', 'expected {"id", "from", "to", "text", "receivedAt"}');
    const at = typeof r.receivedAt === 'string' ? new Date(r.receivedAt) : undefined;
    if (r.receivedAt !== undefined && (!at || Number.isNaN(at.getTime()))) throw new ServiceError('MALFORMED_REQUEST', 'receivedAt must be an RFC 3339 date-time');
    return this.inbound.receive({ provider: 'sms-http', providerId: typeof r.id === 'string' ? r.id : '', from: r.from, to: r.to, text: r.text, receivedAt: at });
  }

  /**
   * The notification a parsed request makes: strategy, language (the request's, the
   * directory's, the service's default), content rendered and checked for every channel
   * the strategy may use. Throws the ServiceError a POST of this request is answered with.
   * A single POST and every row of a batch go through here and through `parse`.
   */
  build(
    sender: SenderRecord,
    input: NotificationInput,
    context: {
      defaultStrategy: string;
      contactLanguage: Language | undefined;
      batch: { id: string; row: number } | null;
      /** dispatched then (SCHEDULED until); null or absent: at once */
      sendAt?: string | null;
      /** not handed to a provider by then: EXPIRED; absent: NOTIFY_DEFAULT_VALIDITY_SECONDS from now */
      validUntil?: string;
    },
    now: string = new Date().toISOString(),
  ): NotificationRecord {
    const strategyName = input.strategy ?? context.defaultStrategy;
    const strategy = this.strategies.get(strategyName)!;
    const wanted: Language = input.language ?? context.contactLanguage ?? this.config.notify.defaultLanguage;
    const set: ContentSet = input.template ? builtinTemplate(input.template)!.languages : input.content!;
    const language = pickLanguage(set, wanted);
    if (!language) throw new ServiceError('NOTIFICATION_INVALID', `content must give a text in at least one of ${languageList()}`);
    let rendered: ContentParts;
    try {
      rendered = renderContent(set[language]!, { ...input.values, sender: sender.name });
    } catch (err) {
      if (err instanceof TemplateError) throw new ServiceError('NOTIFICATION_INVALID', `${err.message} (language ${language})`, { cause: err, extensions: { placeholder: err.placeholder } });
      throw err;
    }
    const content = this.engine.prepareContent(
      strategy,
      { language, title: rendered.title ?? null, html: rendered.html ?? null, sms: rendered.sms ?? null, smsEncoding: null, smsParts: null } satisfies NotificationContent,
      input.transliterate ?? this.config.notify.sms.transliterate,
    );
    return {
      id: newRowId(),
      senderId: sender.id,
      messageId: null,
      recipientType: input.recipient?.type ?? null,
      recipientId: input.recipient?.id ?? null,
      phone: input.phone ?? null,
      strategy: strategyName,
      status: context.sendAt ? 'SCHEDULED' : 'QUEUED',
      reason: null,
      ...content,
      template: input.template ?? null,
      reference: input.reference ?? null,
      sendAt: context.sendAt ?? null,
      validUntil: context.validUntil ?? new Date(Date.parse(now) + this.config.notify.defaultValiditySeconds * 1000).toISOString(),
      batchId: context.batch?.id ?? null,
      batchRow: context.batch?.row ?? null,
      createdAt: now,
      updatedAt: now,
    };
  }

  private async replay(sender: SenderRecord, key: string, requestHash: string): Promise<Submitted | undefined> {
    const seen = await this.store.notifications.findIdempotencyKey(sender.id, key);
    if (!seen) return undefined;
    if (seen.requestHash !== requestHash) {
      throw new ServiceError('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used for a different notification request', { extensions: { notificationId: seen.notificationId } });
    }
    return { id: seen.notificationId, replayed: true };
  }

  /** Reads a request body of POST /v1/notifications (or a batch's row merged with the batch's parts); throws its ServiceError. */
  parse(body: unknown): NotificationInput {
    const invalid = (detail: string) => new ServiceError('NOTIFICATION_INVALID', detail);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('send a JSON object');
    const b = body as Record<string, unknown>;
    const known = ['recipient', 'phoneNumber', 'strategy', 'language', 'template', 'content', 'values', 'reference', 'smsTransliterate', 'sendAt', 'validUntil'];
    const unknown = Object.keys(b).filter((k) => !known.includes(k));
    if (unknown.length > 0) throw invalid(`unknown member(s): ${unknown.join(', ')}`);
    if ((b.recipient === undefined) === (b.phoneNumber === undefined)) throw invalid('give exactly one of "recipient" ({"type", "id"}) or "phoneNumber" (E.164)');
    const out: NotificationInput = { values: {} };
    if (b.recipient !== undefined) {
      const r = b.recipient as { type?: unknown; id?: unknown } | null;
      if (typeof r !== 'object' || r === null || (r.type !== 'citizen' && r.type !== 'enterprise') || typeof r.id !== 'string' || !isValidRecipientId(r.type, r.id)) {
        throw new ServiceError('RECIPIENT_INVALID', 'recipient must be {"type": "citizen", "id": INSZ/NISS} or {"type": "enterprise", "id": KBO/BCE} with valid check digits');
      }
      out.recipient = { type: r.type, id: normaliseIdentifier(r.id) };
    } else {
      const phone = checkMobileNumber(b.phoneNumber);
      if (!phone.ok) throw new ServiceError('PHONE_NUMBER_INVALID', phone.reason);
      out.phone = phone.e164;
    }
    if (b.strategy !== undefined) {
      if (typeof b.strategy !== 'string' || !this.strategies.get(b.strategy)) throw invalid(`strategy must be one of ${this.strategies.names().join(', ')}`);
      out.strategy = b.strategy;
    }
    if (b.language !== undefined) {
      if (!isLanguage(b.language)) throw invalid(`language must be ${languageList()}`);
      out.language = b.language;
    }
    if ((b.template === undefined) === (b.content === undefined)) throw invalid('give exactly one of "template" (a built-in template id) or "content" (your own text per language)');
    if (b.template !== undefined) {
      if (typeof b.template !== 'string' || !builtinTemplate(b.template)) throw invalid(`template must be one of ${[...BUILTIN_TEMPLATES.keys()].join(', ')}`);
      out.template = b.template;
    } else {
      const c = b.content;
      if (typeof c !== 'object' || c === null || Array.isArray(c)) throw invalid('content must be an object keyed by language');
      const set: ContentSet = {};
      for (const [lang, parts] of Object.entries(c as Record<string, unknown>)) {
        if (!isLanguage(lang)) throw invalid(`content language "${lang}" is not one of ${languageList()}`);
        if (typeof parts !== 'object' || parts === null || Array.isArray(parts)) throw invalid(`content.${lang} must be {"title", "html", "sms"}`);
        const p = parts as Record<string, unknown>;
        const extra = Object.keys(p).filter((k) => !['title', 'html', 'sms'].includes(k));
        if (extra.length > 0) throw invalid(`content.${lang}: unknown member(s) ${extra.join(', ')}`);
        const limits = { title: 500, html: 64 * 1024, sms: 2000 } as const;
        for (const k of ['title', 'html', 'sms'] as const) {
          if (p[k] !== undefined && (typeof p[k] !== 'string' || (p[k] as string).length > limits[k])) throw invalid(`content.${lang}.${k} must be a string of at most ${limits[k]} characters`);
        }
        set[lang] = { title: p.title as string | undefined, html: p.html as string | undefined, sms: p.sms as string | undefined };
      }
      out.content = set;
    }
    if (b.values !== undefined) {
      if (typeof b.values !== 'object' || b.values === null || Array.isArray(b.values)) throw invalid('values must be an object of placeholder values');
      const entries = Object.entries(b.values as Record<string, unknown>);
      if (entries.length > MAX_VALUES) throw invalid(`at most ${MAX_VALUES} values`);
      for (const [k, v] of entries) {
        if (!/^[A-Za-z][A-Za-z0-9_]{0,39}$/.test(k)) throw invalid(`value name "${k}" is not a placeholder name`);
        if (k === 'sender') throw invalid('"sender" is filled in by the service with your name');
        if ((typeof v !== 'string' && typeof v !== 'number') || String(v).length > 1000) throw invalid(`values.${k} must be a string or number of at most 1000 characters`);
        out.values[k] = String(v);
      }
    }
    if (b.reference !== undefined) {
      if (typeof b.reference !== 'string' || b.reference.length > 200) throw invalid('reference must be a string of at most 200 characters');
      out.reference = b.reference;
    }
    if (b.smsTransliterate !== undefined) {
      if (typeof b.smsTransliterate !== 'boolean') throw invalid('smsTransliterate must be true or false');
      out.transliterate = b.smsTransliterate;
    }
    if (b.sendAt !== undefined) {
      const t = rfc3339(b.sendAt);
      if (t === undefined) throw invalid('sendAt must be an RFC 3339 date-time with its offset, e.g. 2026-12-24T09:00:00+01:00');
      out.sendAt = new Date(t).toISOString();
    }
    if (b.validUntil !== undefined) {
      const t = rfc3339(b.validUntil);
      if (t === undefined) throw invalid('validUntil must be an RFC 3339 date-time with its offset, e.g. 2026-12-24T18:00:00+01:00');
      out.validUntil = new Date(t).toISOString();
    }
    return out;
  }

  /**
   * The sender's token bucket (NOTIFY_RATE_LIMIT_BURST tokens at most, NOTIFY_RATE_LIMIT_PER_MINUTE
   * added a minute), kept in the database: every API process on it shares the bucket.
   * Takes a token or throws RATE_LIMITED; undefined when there is no limit. A batch
   * (batches.ts) takes one token, as a single request does.
   */
  async takeToken(senderId: string): Promise<RateLimitState | undefined> {
    // the sender's own limit (PUT /v1/admin/senders/{id}/notifications) or the configured one
    const { perMinute, burst } = await this.senderSettings.rateLimit(senderId);
    if (perMinute === 0) return undefined;
    const perSecond = perMinute / 60;
    const { granted, tokens } = await this.store.usage.takeToken(senderId, burst, perSecond / 1000, Date.now());
    const state: RateLimitState = {
      burst,
      perMinute,
      remaining: Math.max(0, Math.floor(tokens)),
      nextTokenSeconds: tokens >= burst ? 0 : Math.max(1, Math.ceil((1 - (tokens - Math.floor(tokens))) / perSecond)),
      windowSeconds: Math.max(1, Math.ceil(burst / perSecond)),
    };
    if (!granted) throw new RateLimitedError(state);
    return state;
  }

  /** Waits (bounded) until the notification's send status is known: SENT, DELIVERED, READ or FAILED. */
  async waitForOutcome(id: string, waitMs: number): Promise<NotificationRecord | undefined> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const n = await this.store.notifications.find(id);
      if (!n || isSettled(n.status) || Date.now() >= deadline) return n;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.engine.changes.off('changed', onChange);
          resolve();
        };
        const onChange = (changed: string) => {
          if (changed === id) done();
        };
        const timer = setTimeout(done, Math.max(1, Math.min(200, deadline - Date.now())));
        this.engine.changes.on('changed', onChange);
      });
    }
  }

  // ---------------------------------------------------------------- queries

  /** One of the sender's notifications (others' are NOT_FOUND, as if they did not exist). */
  async details(sender: SenderRecord, id: string): Promise<NotificationDetails> {
    const notification = await this.store.notifications.find(id);
    if (!notification || notification.senderId !== sender.id) throw new ServiceError('NOT_FOUND', 'no such notification');
    // a row of a batch still being received is not a notification yet (it may never be)
    if (notification.batchId && (await this.store.notificationBatches.find(notification.batchId))?.status !== 'ACCEPTED') throw new ServiceError('NOT_FOUND', 'no such notification');
    const [attempts, events] = await Promise.all([this.store.notifications.attempts(id), this.store.notifications.events(id)]);
    return { notification, attempts, events };
  }

  /**
   * The sender's notifications, newest first, filtered; an opaque cursor (keyset on
   * created_at, id) for the next page. A filter that is not understood is QUERY_INVALID.
   */
  async list(sender: SenderRecord, q: ListQuery): Promise<{ items: NotificationRecord[]; cursor?: string }> {
    const bad = (detail: string) => new ServiceError('QUERY_INVALID', detail);
    const f: NotificationFilter = { limit: 50 };
    if (q.status !== undefined) {
      if (!(NOTIFICATION_STATUSES as readonly string[]).includes(q.status)) throw bad(`status must be one of ${NOTIFICATION_STATUSES.join(', ')}`);
      f.status = q.status as NotificationRecord['status'];
    }
    if (q.reference !== undefined) {
      if (q.reference.length === 0 || q.reference.length > 200) throw bad('reference must be 1 to 200 characters');
      f.reference = q.reference;
    }
    for (const k of ['createdFrom', 'createdTo'] as const) {
      if (q[k] === undefined) continue;
      const t = rfc3339(q[k]);
      if (t === undefined) throw bad(`${k} must be an RFC 3339 date-time with its offset`);
      f[k] = new Date(t).toISOString();
    }
    if (f.createdFrom && f.createdTo && f.createdFrom >= f.createdTo) throw bad('createdFrom must be before createdTo');
    if (q.phoneNumber !== undefined) {
      const phone = checkMobileNumber(q.phoneNumber);
      if (!phone.ok) throw bad(`phoneNumber: ${phone.reason}`);
      f.phone = phone.e164;
    }
    if (q.recipientType !== undefined) {
      if (q.recipientType !== 'citizen' && q.recipientType !== 'enterprise') throw bad('recipientType must be citizen or enterprise');
      f.recipientType = q.recipientType;
    }
    if (q.recipientId !== undefined) {
      if (!f.recipientType || !isValidRecipientId(f.recipientType, q.recipientId)) throw bad('recipientId needs recipientType and must be a valid INSZ/NISS (citizen) or KBO/BCE (enterprise)');
      f.recipientId = normaliseIdentifier(q.recipientId);
    }
    if (q.limit !== undefined) {
      const limit = /^\d{1,3}$/.test(q.limit) ? Number(q.limit) : NaN;
      if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw bad('limit must be 1 to 500');
      f.limit = limit;
    }
    if (q.cursor !== undefined) {
      try {
        const [createdAt, id] = JSON.parse(Buffer.from(q.cursor, 'base64url').toString('utf8')) as [unknown, unknown];
        if (typeof createdAt !== 'string' || typeof id !== 'string' || !CURSOR_TIME.test(createdAt) || !UUID.test(id)) throw new Error('shape');
        f.after = { createdAt, id };
      } catch {
        throw bad('cursor is not one this service gave');
      }
    }
    const page = await this.store.notifications.listForSender(sender.id, f);
    return { items: page.items, cursor: page.next && Buffer.from(JSON.stringify([page.next.createdAt, page.next.id])).toString('base64url') };
  }

  /**
   * DELETE /v1/notifications/{id}: cancels the sender's notification while nothing of it was
   * handed to a provider; cancelling a cancelled one again changes nothing. Others' are
   * NOT_FOUND; once an attempt was handed over, NOTIFICATION_NOT_CANCELLABLE.
   */
  async cancel(sender: SenderRecord, id: string): Promise<NotificationDetails> {
    const outcome = await this.engine.cancel(id, sender.id);
    if (outcome === 'not-found') throw new ServiceError('NOT_FOUND', 'no such notification');
    if (typeof outcome === 'object') throw new ServiceError('NOTIFICATION_NOT_CANCELLABLE', outcome.notCancellable, { extensions: { notificationId: id } });
    return this.details(sender, id);
  }

  async settings(senderId: string): Promise<SenderSettings> {
    return { defaultStrategy: await this.defaultStrategy(senderId), quietHours: await this.store.notifications.senderQuietHours(senderId) };
  }

  /**
   * PUT /v1/notifications/settings: `defaultStrategy` and/or `quietHours` (null: none); a
   * member left out keeps its value. Both are checked before either is written.
   */
  async updateSettings(senderId: string, body: unknown): Promise<SenderSettings> {
    const invalid = (detail: string) => new ServiceError('NOTIFICATION_INVALID', detail);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('send a JSON object with defaultStrategy and/or quietHours');
    const b = body as Record<string, unknown>;
    const unknown = Object.keys(b).filter((k) => k !== 'defaultStrategy' && k !== 'quietHours');
    if (unknown.length > 0) throw invalid(`unknown member(s): ${unknown.join(', ')}`);
    if (b.defaultStrategy === undefined && b.quietHours === undefined) throw invalid('give defaultStrategy and/or quietHours');
    if (b.defaultStrategy !== undefined && (typeof b.defaultStrategy !== 'string' || !this.strategies.get(b.defaultStrategy))) throw invalid(`defaultStrategy must be one of ${this.strategies.names().join(', ')}`);
    let quiet: QuietHours | null | undefined;
    if (b.quietHours !== undefined) {
      const parsed = parseQuietHours(b.quietHours);
      if (!parsed.ok) throw invalid(parsed.reason);
      quiet = parsed.value;
    }
    await this.store.transaction(async (tx) => {
      if (typeof b.defaultStrategy === 'string') await tx.notifications.setSenderDefaultStrategy(senderId, b.defaultStrategy);
      if (quiet !== undefined) await tx.notifications.setSenderQuietHours(senderId, quiet, (await tx.notifications.senderDefaultStrategy(senderId)) ?? this.config.notify.defaultStrategy);
    });
    return this.settings(senderId);
  }

  async defaultStrategy(senderId: string): Promise<string> {
    const s = await this.store.notifications.senderDefaultStrategy(senderId);
    return s && this.strategies.get(s) ? s : this.config.notify.defaultStrategy;
  }

  /** Usage of a month (UTC, "YYYY-MM"), priced; for one sender or all. */
  async usage(monthParam: unknown, senderId?: string): Promise<UsageReport> {
    const month = monthParam === undefined ? new Date().toISOString().slice(0, 7) : monthParam;
    if (typeof month !== 'string' || !/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) throw new ServiceError('QUERY_INVALID', 'month must be YYYY-MM');
    const rows = await this.store.usage.report(month, senderId);
    const prices: Record<string, string> = { SMS: this.config.notify.pricing.smsPart, GOVAPP: this.config.notify.pricing.push };
    const bySender = new Map<string, UsageLine[]>();
    for (const r of rows) {
      const unitPrice = prices[r.channel] ?? '0';
      const line: UsageLine = { channel: r.channel as ChannelName, messages: r.messages, units: r.units, unitPrice, amount: formatMicro(BigInt(r.units) * toMicro(unitPrice)) };
      bySender.set(r.senderId, [...(bySender.get(r.senderId) ?? []), line]);
    }
    if (senderId && !bySender.has(senderId)) bySender.set(senderId, []);
    let total = 0n;
    const senders: UsageReport['senders'] = [];
    for (const [id, lines] of bySender) {
      const amount = lines.reduce((s, l) => s + toMicro(l.amount), 0n);
      total += amount;
      senders.push({ senderId: id, senderName: (await this.store.senders.findById(id))?.name ?? id, lines, amount: formatMicro(amount) });
    }
    return { month, currency: this.config.notify.pricing.currency, senders, amount: formatMicro(total) };
  }

  // ---------------------------------------------------------------- provider reports

  /** Kannel's dlr-url call. The URL token proves we issued it for that attempt. */
  async kannelReport(query: Record<string, unknown>): Promise<void> {
    const p = this.config.notify.sms.provider;
    if (p.kind !== 'kannel') throw new ServiceError('NOT_FOUND', 'the Kannel SMS provider is not configured');
    const attemptId = typeof query.attempt === 'string' ? query.attempt : '';
    const check = attemptId ? verifyKannelDlrToken(p.dlrSecret, attemptId, query.token) : UrlTokenCheck.INVALID;
    if (check === UrlTokenCheck.EXPIRED) throw this.refused('kannel', 'CALLBACK_SIGNATURE_INVALID', 'the delivery report carries an expired token (KANNEL_DLR_TOKEN_LIFETIME_SECONDS)');
    if (check !== UrlTokenCheck.VALID) throw this.refused('kannel', 'CALLBACK_SIGNATURE_INVALID', 'the delivery report does not carry a valid token for this attempt');
    const status = Number(query.status);
    if (!Number.isInteger(status)) throw new ServiceError('MALFORMED_REQUEST', 'status must be a Kannel DLR status number');
    const mapped = kannelReportEvent(status);
    const known = await this.engine.report(attemptId, {
      event: mapped?.event,
      reason: mapped?.reason,
      source: 'kannel',
      raw: { dlrStatus: status, at: typeof query.at === 'string' ? query.at : null, reply: typeof query.reply === 'string' ? query.reply.slice(0, 200) : null },
    });
    if (!known) throw this.refused('kannel', 'NOT_FOUND', 'no such SMS attempt');
  }

  private refused(source: string, code: 'CALLBACK_SIGNATURE_INVALID' | 'NOT_FOUND', detail: string): ServiceError {
    this.log.warn({ source, code }, `provider report refused: ${detail}`);
    return new ServiceError(code, detail);
  }

  /** A GovApp receipt: signed body {pushId, installationId, event: DELIVERED|READ, at}. */
  async govappReceipt(rawBody: Uint8Array, signature: string | undefined): Promise<void> {
    const g = this.config.notify.govapp;
    if (g.kind !== 'http') throw new ServiceError('NOT_FOUND', 'the GovApp push provider is not configured');
    if (!verifyBodySignature(g.callbackSecret, signature, rawBody)) throw this.refused('govapp', 'CALLBACK_SIGNATURE_INVALID', 'the receipt signature (GovApp-Signature) is missing, wrong or too old');
    const r = parseJson(rawBody) as { pushId?: unknown; installationId?: unknown; event?: unknown; at?: unknown } | undefined;
    if (!r || typeof r.pushId !== 'string' || typeof r.installationId !== 'string' || (r.event !== 'DELIVERED' && r.event !== 'READ')) {
      throw new ServiceError('MALFORMED_REQUEST', 'expected {"pushId", "installationId", "event": "DELIVERED"|"READ", "at"}');
    }
    const known = await this.engine.report(r.pushId, { event: r.event, installationId: r.installationId, source: 'govapp', raw: { installationId: r.installationId, event: r.event, at: typeof r.at === 'string' ? r.at : null } });
    if (!known) throw this.refused('govapp', 'NOT_FOUND', 'no such push for this installation');
  }

  /** A report of the generic HTTP SMS aggregator: signed body {reference, status, reason}. */
  async httpSmsReport(rawBody: Uint8Array, signature: string | undefined): Promise<void> {
    const p = this.config.notify.sms.provider;
    if (p.kind !== 'http') throw new ServiceError('NOT_FOUND', 'the HTTP SMS provider is not configured');
    if (!verifyBodySignature(p.callbackSecret, signature, rawBody)) throw this.refused('sms-http', 'CALLBACK_SIGNATURE_INVALID', 'the report signature (Signature) is missing, wrong or too old');
    const r = parseJson(rawBody) as { reference?: unknown; status?: unknown; reason?: unknown } | undefined;
    if (!r || typeof r.reference !== 'string' || typeof r.status !== 'string') throw new ServiceError('MALFORMED_REQUEST', 'expected {"reference", "status": "ACCEPTED"|"DELIVERED"|"FAILED"}');
    const mapped = httpSmsReportEvent(r.status);
    const known = await this.engine.report(r.reference, { event: mapped?.event, reason: mapped?.reason, source: 'sms-http', raw: { status: r.status, reason: typeof r.reason === 'string' ? r.reason.slice(0, 200) : null } });
    if (!known) throw this.refused('sms-http', 'NOT_FOUND', 'no such SMS attempt');
  }

  /** For logs at start: which providers are in use. */
  describe(): Record<string, unknown> {
    return { strategies: this.strategies.names(), channels: [...this.channels.keys()], sms: this.config.notify.sms.provider.kind, govapp: this.config.notify.govapp.kind, callbackBase: this.callbackBaseUrl ?? null };
  }
}

function parseJson(raw: Uint8Array): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(Buffer.from(raw).toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Decimal string → millionths (exact). */
function toMicro(s: string): bigint {
  const [int, frac = ''] = s.split('.');
  return BigInt(int!) * 1_000_000n + BigInt((frac + '000000').slice(0, 6));
}

/** Millionths → decimal string with at least two decimals ("0.15", "1.234567"). */
function formatMicro(v: bigint): string {
  const int = v / 1_000_000n;
  const frac = (v % 1_000_000n).toString().padStart(6, '0').replace(/0+$/, '');
  return `${int}.${frac.padEnd(2, '0')}`;
}

/** Builds the notification service and its providers from the configuration. */
