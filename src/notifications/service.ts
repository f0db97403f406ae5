/**
 * Short-message notifications, offered to senders on their own (POST /v1/notifications)
 * and used by the registered-mail hook: submission (validation, rate limit, content
 * checked for every channel the strategy may use), status queries, the senders' default
 * strategy, usage and its price, and the providers' reports. The jobs and state changes
 * are in engine.ts; the providers are built from the configuration in src/app/notifications.ts.
 */
import { createHash, randomUUID } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { ServiceError } from '../domain/errors.js';
import { isValidRecipientId, normaliseIdentifier, type RecipientType } from '../domain/identifiers.js';
import { UrlTokenCheck, verifyBodySignature } from './CallbackSignature.js';
import type { ChannelName, NotificationChannel, NotificationContent } from './channels/Channel.js';
import { isLanguage, type Language } from './content/Language.js';
import { BUILTIN_TEMPLATES, builtinTemplate, pickLanguage, renderContent, TemplateError, type ContentParts, type ContentSet } from './content/Templates.js';
import { isSettled } from './NotificationStatus.js';
import { checkMobileNumber } from './PhoneNumber.js';
import { httpSmsReportEvent } from './providers/HttpSmsGateway.js';
import { kannelReportEvent, verifyKannelDlrToken } from './providers/KannelSmsGateway.js';
import type { StrategyRegistry } from './Strategies.js';
import type { AttemptRecord, NotificationEventRecord, NotificationRecord } from '../store/NotificationRepository.js';
import type { SenderRecord } from '../domain/records.js';
import type { Repositories } from '../store/Repositories.js';
import type { JobHandlers } from '../worker/JobRunner.js';
import type { NotifyJobType } from './engine.js';
import { ContactService } from './contacts.js';
import { NotificationBatches } from './batches.js';
import type { NotificationEngine } from './engine.js';

export { enqueueRegisteredMailNotice } from './engine.js';
// what the HTTP layer needs of src/notifications, so that it depends on this service only
export { isSettled, NOTIFICATION_STATUSES, ATTEMPT_STATUSES } from './NotificationStatus.js';
export { GOVAPP_SIGNATURE_HEADER } from './providers/HttpPushGateway.js';
export { BUILTIN_TEMPLATES } from './content/Templates.js';
export { BUILTIN_STRATEGY_NAMES } from './Strategies.js';
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
}

export class NotificationService {
  private callbackBaseUrl: string | undefined;
  /** the contact directory */
  readonly contacts: ContactService;
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
    this.contacts = new ContactService(store, config);
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
    const requestHash = createHash('sha256').update(canonicalize(input)!).digest('hex');
    if (idempotencyKey !== undefined) {
      const replay = await this.replay(sender, idempotencyKey, requestHash);
      if (replay) return replay;
    }
    let contactLanguage: Language | undefined;
    if (input.recipient) {
      contactLanguage = (await this.store.contacts.findByRecipient(input.recipient.type, input.recipient.id))?.language;
    } else if (input.phone) {
      contactLanguage = (await this.store.contacts.findByPhone(input.phone))[0]?.language;
    }
    const n = this.build(sender, input, { defaultStrategy: await this.defaultStrategy(sender.id), contactLanguage, batch: null });
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
        const replay = await this.replay(sender, idempotencyKey, requestHash).catch((e: unknown) => {
          if (e instanceof ServiceError && e.code === 'IDEMPOTENCY_KEY_REUSED') throw e;
          return undefined;
        });
        if (replay) return replay;
      }
      throw err;
    }
    return { id: n.id, replayed: false, ...(rate ? { rate } : {}) };
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
    context: { defaultStrategy: string; contactLanguage: Language | undefined; batch: { id: string; row: number } | null },
    now: string = new Date().toISOString(),
  ): NotificationRecord {
    const strategyName = input.strategy ?? context.defaultStrategy;
    const strategy = this.strategies.get(strategyName)!;
    const wanted = input.language ?? context.contactLanguage ?? this.config.notify.defaultLanguage;
    const set: ContentSet = input.template ? builtinTemplate(input.template)!.languages : input.content!;
    const language = pickLanguage(set, wanted);
    if (!language) throw new ServiceError('NOTIFICATION_INVALID', 'content must give a text in at least one of nl, fr, de, en');
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
      id: randomUUID(),
      senderId: sender.id,
      messageId: null,
      recipientType: input.recipient?.type ?? null,
      recipientId: input.recipient?.id ?? null,
      phone: input.phone ?? null,
      strategy: strategyName,
      status: 'QUEUED',
      reason: null,
      ...content,
      template: input.template ?? null,
      reference: input.reference ?? null,
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
    const known = ['recipient', 'phoneNumber', 'strategy', 'language', 'template', 'content', 'values', 'reference', 'smsTransliterate'];
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
      if (!isLanguage(b.language)) throw invalid('language must be nl, fr, de or en');
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
        if (!isLanguage(lang)) throw invalid(`content language "${lang}" is not one of nl, fr, de, en`);
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
    return out;
  }

  /**
   * The sender's token bucket (NOTIFY_RATE_LIMIT_BURST tokens at most, NOTIFY_RATE_LIMIT_PER_MINUTE
   * added a minute), kept in the database: every API process on it shares the bucket.
   * Takes a token or throws RATE_LIMITED; undefined when there is no limit. A batch
   * (batches.ts) takes one token, as a single request does.
   */
  async takeToken(senderId: string): Promise<RateLimitState | undefined> {
    const { rateLimitPerMinute: perMinute, rateLimitBurst: burst } = this.config.notify;
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

  async defaultStrategy(senderId: string): Promise<string> {
    const s = await this.store.notifications.senderDefaultStrategy(senderId);
    return s && this.strategies.get(s) ? s : this.config.notify.defaultStrategy;
  }

  async setDefaultStrategy(senderId: string, strategy: unknown): Promise<string> {
    if (typeof strategy !== 'string' || !this.strategies.get(strategy)) throw new ServiceError('NOTIFICATION_INVALID', `defaultStrategy must be one of ${this.strategies.names().join(', ')}`);
    await this.store.notifications.setSenderDefaultStrategy(senderId, strategy);
    return strategy;
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
