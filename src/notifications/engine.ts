/**
 * The notification jobs and the state changes they (and provider reports) make.
 *
 *   notify.dispatch   strategy.start → one attempt per channel to send on (+ FALLBACK /
 *                     FAILED attempts for channels given up), a send job per attempt
 *   notify.send       channel.send through the provider → attempt SENT, usage counted;
 *                     a permanent refusal or a spent retry budget → attempt FAILED, and
 *                     strategy.failed may fall back to another channel (attempt FALLBACK);
 *                     a push SENT under a strategy that can fall back schedules
 *                     notify.delivery-check NOTIFY_PUSH_DELIVERY_TIMEOUT_MS later
 *   notify.delivery-check  the push is still only SENT (no device reported DELIVERED):
 *                     strategy.undelivered → attempt FALLBACK (PUSH_NOT_DELIVERED) and
 *                     the other channel's attempt; delivered, read or over: nothing.
 *                     A job row with a later run_at, not a timer: a restart loses nothing
 *   notify.evidence   the notification of a registered message reached SENT: seal the
 *                     NotificationForAcceptance evidence (outside the transaction; a TSA
 *                     outage only delays it) and record it
 *   notify.registered the registered-mail hook, enqueued with ContentConsignment: the
 *                     notice in the recipient's language, or "not notified: no contact"
 *
 * Every change happens in a transaction that first locks the notification row, applies
 * the attempt's state machine (NotificationStatus.ts: forward only, so reordered reports
 * are harmless), derives the notification's status from its attempts and, when that
 * changes, appends the history and — for a registered message — an event on the message.
 *
 * Sending is at-least-once: a crash after the provider accepted and before the commit
 * sends again on retry (the GovApp backend deduplicates on pushId; Kannel cannot).
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { NotificationDetails } from '../domain/EvidenceStatement.js';
import { canIssue } from '../domain/MessageLifecycle.js';
import { addressDigest } from './AddressDigest.js';
import type { ChannelName, DeviceTarget, NotificationChannel, NotificationContent, RecipientTargets } from './channels/Channel.js';
import { formatDate, type Language } from './content/Language.js';
import { REGISTERED_MAIL_TEMPLATE, renderContent } from './content/Templates.js';
import { advanceAttempt, hasBeenSent, isFinalAttempt, overallStatus, type AttemptEvent, type NotificationStatus } from './NotificationStatus.js';
import { ProviderError } from './providers/Provider.js';
import type { StrategyContext, StrategyDecision, StrategyRegistry, NotificationStrategy } from './Strategies.js';
import type { AttemptRecord, NotificationRecord } from '../store/NotificationRepository.js';
import type { MessageRecord } from '../domain/records.js';
import type { Repositories } from '../store/Repositories.js';
import { PermanentJobError, RetryLaterError, type JobContext, type JobHandlers } from '../worker/JobRunner.js';
import type { JobRecord, JobType } from '../store/jobs.js';
import { BULK_PRIORITY } from '../store/JobRepository.js';
import type { EvidenceService } from '../registered-mail/index.js';

export const NOTIFY_JOB = {
  dispatch: 'notify.dispatch',
  send: 'notify.send',
  deliveryCheck: 'notify.delivery-check',
  evidence: 'notify.evidence',
  registered: 'notify.registered',
} as const satisfies Record<string, JobType>;

/** The notification job types. */
export type NotifyJobType = (typeof NOTIFY_JOB)[keyof typeof NOTIFY_JOB];

/** Event types on a registered message's log, per notification status. */
export const MESSAGE_EVENT: Record<NotificationStatus, string> = {
  QUEUED: 'NotificationQueued',
  FALLBACK: 'NotificationFallback',
  SENT: 'NotificationSent',
  DELIVERED: 'NotificationDelivered',
  READ: 'NotificationRead',
  FAILED: 'NotificationFailed',
};

/**
 * The registered-mail hook: call inside the transaction that records ContentConsignment.
 * A recipient without a contact entry is not notified, and the log says so in the same
 * transaction; otherwise a job sends the notice.
 */
export async function enqueueRegisteredMailNotice(tx: Repositories, config: Config, message: Pick<MessageRecord, 'id' | 'recipientType' | 'recipientId'>): Promise<void> {
  if (!config.notify.registeredMailNotice) return;
  if (!(await tx.contacts.findByRecipient(message.recipientType, message.recipientId))) return appendNotSentNoContact(tx, message.id);
  await tx.jobs.enqueue({ type: NOTIFY_JOB.registered, messageId: message.id, dedupeKey: `notify-registered:${message.id}`, maxAttempts: config.notify.sendMaxAttempts, payload: { messageId: message.id } });
}

async function appendNotSentNoContact(tx: Repositories, messageId: string): Promise<void> {
  await tx.events.append({ messageId, type: 'NotificationNotSent', at: new Date().toISOString(), data: { reason: 'NO_CONTACT', detail: 'not notified: no contact entry for the recipient' } });
}

export interface EngineDeps {
  store: Repositories;
  config: Config;
  channels: Map<ChannelName, NotificationChannel>;
  strategies: StrategyRegistry;
  evidence: EvidenceService;
  log: Logger;
}

export interface ReportInput {
  event?: AttemptEvent;
  reason?: string;
  /** GovApp: the device the receipt is about */
  installationId?: string;
  source: string;
  raw: Record<string, unknown>;
}

const month = (d: Date) => d.toISOString().slice(0, 7);

export class NotificationEngine {
  /** emits 'changed' with a notification id after a status change has committed */
  readonly changes = new EventEmitter();

  constructor(private readonly deps: EngineDeps) {
    this.changes.setMaxListeners(0);
  }

  handlers(): Pick<JobHandlers, NotifyJobType> {
    return {
      [NOTIFY_JOB.dispatch]: { run: (job, ctx) => this.dispatch(job, ctx) },
      [NOTIFY_JOB.send]: { run: (job, ctx) => this.send(job, ctx), onDead: (job, err, tx) => this.sendDead(job, err, tx) },
      [NOTIFY_JOB.deliveryCheck]: { run: (job, ctx) => this.deliveryCheck(job, ctx) },
      [NOTIFY_JOB.evidence]: { run: (job, ctx) => this.sealEvidence(job, ctx) },
      [NOTIFY_JOB.registered]: { run: (job, ctx) => this.registeredMail(job, ctx) },
    };
  }

  private get store(): Repositories {
    return this.deps.store;
  }

  // ---------------------------------------------------------------- creation

  /** Records a new notification and queues its dispatch (inside the caller's transaction). */
  async create(tx: Repositories, n: NotificationRecord): Promise<void> {
    await tx.notifications.insert(n);
    await tx.notifications.appendEvent({ notificationId: n.id, attemptId: null, at: n.createdAt, kind: 'STATUS', status: 'QUEUED', channel: null, detail: { strategy: n.strategy } });
    await tx.jobs.enqueue({
      type: NOTIFY_JOB.dispatch,
      messageId: n.messageId ?? undefined,
      dedupeKey: `notify-dispatch:${n.id}`,
      maxAttempts: this.deps.config.notify.sendMaxAttempts,
      payload: { notificationId: n.id },
    });
    if (n.messageId) {
      await tx.events.append({ messageId: n.messageId, type: MESSAGE_EVENT.QUEUED, at: n.createdAt, data: { notificationId: n.id, strategy: n.strategy, language: n.language } });
    }
  }

  /** Checks and normalises the content for every channel the strategy may use. */
  prepareContent(strategy: NotificationStrategy, content: NotificationContent, transliterate: boolean): NotificationContent {
    let out = { ...content };
    for (const name of strategy.channels) {
      const channel = this.deps.channels.get(name);
      if (channel) out = { ...out, ...channel.prepare(out, { transliterate }) };
    }
    return out;
  }

  // ---------------------------------------------------------------- recipients

  /** Where the recipient can be reached now, from the directory (and the addressed number). */
  async targets(db: Repositories, n: NotificationRecord): Promise<RecipientTargets> {
    let phone: string | null = n.phone;
    let contactIds: string[] = [];
    if (n.recipientType && n.recipientId) {
      const contact = await db.contacts.findByRecipient(n.recipientType, n.recipientId);
      if (contact) {
        phone = contact.phone;
        contactIds = [contact.id];
      }
    } else if (n.phone) {
      contactIds = (await db.contacts.findByPhone(n.phone)).map((c) => c.id);
    }
    const devices: DeviceTarget[] = (await db.contacts.installations(contactIds)).map((i) => ({
      installationId: i.id,
      pushToken: i.pushToken,
      publicKey: i.publicKey,
      notificationsEnabled: i.notificationsEnabled,
    }));
    return { phone, devices };
  }

  private context(targets: RecipientTargets): StrategyContext {
    return {
      reachability: (channel) => this.deps.channels.get(channel)?.reachability(targets) ?? { ok: false, reason: 'PROVIDER_NOT_CONFIGURED' },
    };
  }

  // ---------------------------------------------------------------- jobs

  private async dispatch(job: JobRecord<'notify.dispatch'>, ctx: JobContext): Promise<void> {
    const id = job.payload.notificationId;
    const n = await this.store.notifications.find(id);
    if (!n) throw new PermanentJobError(`notification ${id} not found`);
    if ((await this.store.notifications.attempts(id)).length > 0 || n.status !== 'QUEUED') return;
    const strategy = this.deps.strategies.get(n.strategy);
    const targets = await this.targets(this.store, n);
    const changed = await this.store.transaction(async (tx) => {
      const locked = (await tx.notifications.lock(id))!;
      if ((await tx.notifications.attempts(id)).length > 0) {
        await ctx.complete(tx);
        return false;
      }
      if (!strategy) {
        await tx.notifications.setStatus(id, 'FAILED', 'STRATEGY_UNKNOWN');
        await this.statusEvent(tx, locked, 'FAILED', null, 'STRATEGY_UNKNOWN');
        await ctx.complete(tx);
        return true;
      }
      await this.applyDecision(tx, locked, strategy.start(this.context(targets)), targets);
      const c = await this.settle(tx, locked);
      await ctx.complete(tx);
      return c;
    });
    if (changed) this.changes.emit('changed', id);
  }

  private async send(job: JobRecord<'notify.send'>, ctx: JobContext): Promise<void> {
    const { attemptId } = job.payload;
    const attempt = await this.store.notifications.findAttempt(attemptId);
    if (!attempt) throw new PermanentJobError(`attempt ${attemptId} not found`);
    if (isFinalAttempt(attempt.status) || attempt.provider !== null) return;
    const n = (await this.store.notifications.find(attempt.notificationId))!;
    const channel = this.deps.channels.get(attempt.channel as ChannelName);
    if (!channel) throw new PermanentJobError(`PROVIDER_NOT_CONFIGURED: no channel ${attempt.channel}`, { cause: new ProviderError('PROVIDER_NOT_CONFIGURED', `no channel ${attempt.channel}`, true) });

    let result: { provider: string; providerRef?: string; units: number; targets: Record<string, unknown>; detail?: string };
    if (attempt.status !== 'QUEUED') {
      // a delivery report came before this job recorded the send (a crash in between): it was sent
      result = { provider: attempt.channel.toLowerCase(), units: attempt.channel === 'SMS' ? (n.smsParts ?? 1) : Math.max(1, deviceList(attempt.targets).length), targets: {} };
    } else {
      const targets = await this.targets(this.store, n);
      try {
        result = await channel.send({ attemptId, notificationId: n.id, content: contentOf(n), targets });
      } catch (err) {
        if (err instanceof ProviderError && err.permanent) throw new PermanentJobError(`${err.code}: ${err.message}`, { cause: err });
        // the provider's rate limit: the send waits its turn, no attempt spent
        if (err instanceof ProviderError && err.retryAfterMs !== undefined) throw new RetryLaterError(err.retryAfterMs, `${err.code}: ${err.message}`, { cause: err });
        throw err;
      }
    }
    const changed = await this.store.transaction(async (tx) => {
      const locked = (await tx.notifications.lock(n.id))!;
      const a = (await tx.notifications.findAttempt(attemptId))!;
      const targets = mergeTargets(a.targets, result.targets);
      await tx.notifications.updateAttempt(attemptId, { provider: result.provider, providerRef: result.providerRef ?? null, units: result.units, targets });
      // the one SENT entry of this attempt in the history, with what the provider answered
      // (none when a report already moved it to SENT or beyond: that report's entry stands)
      const sent = { source: 'send', provider: result.provider, providerRef: result.providerRef ?? null, units: result.units, answer: result.detail ?? null };
      await this.changeAttempt(tx, locked, { ...a, targets }, 'SENT', undefined, sent);
      await this.scheduleDeliveryCheck(tx, locked, attemptId);
      await tx.usage.add(n.senderId, month(new Date()), a.channel, result.units);
      const c = await this.settle(tx, locked);
      await ctx.complete(tx);
      return c;
    });
    if (changed) this.changes.emit('changed', n.id);
  }

  /**
   * A push just SENT: when its strategy can fall back (strategy.undelivered) and a wait is
   * configured, a delayed job looks again once the wait is over. The job is a row (run_at
   * in the future), so it survives a restart and runs in whichever worker is up then; its
   * dedupe key makes it one per attempt.
   */
  private async scheduleDeliveryCheck(tx: Repositories, n: NotificationRecord, attemptId: string): Promise<void> {
    const waitMs = this.deps.config.notify.pushDeliveryTimeoutMs;
    const a = (await tx.notifications.findAttempt(attemptId))!;
    if (waitMs === 0 || a.channel !== 'GOVAPP' || a.status !== 'SENT' || !this.deps.strategies.get(n.strategy)?.undelivered) return;
    await tx.jobs.enqueue({
      type: NOTIFY_JOB.deliveryCheck,
      messageId: n.messageId ?? undefined,
      dedupeKey: `notify-delivery-check:${attemptId}`,
      maxAttempts: this.deps.config.notify.sendMaxAttempts,
      runAt: new Date(Date.now() + waitMs),
      payload: { attemptId },
    });
  }

  /** The wait for the push's delivery is over: still only SENT → the strategy's fallback. */
  private async deliveryCheck(job: JobRecord<'notify.delivery-check'>, ctx: JobContext): Promise<void> {
    const { attemptId } = job.payload;
    const attempt = await this.store.notifications.findAttempt(attemptId);
    if (!attempt) throw new PermanentJobError(`attempt ${attemptId} not found`);
    const n = (await this.store.notifications.find(attempt.notificationId))!;
    const targets = await this.targets(this.store, n);
    const changed = await this.store.transaction(async (tx) => {
      const locked = (await tx.notifications.lock(n.id))!;
      const a = (await tx.notifications.findAttempt(attemptId))!;
      const strategy = this.deps.strategies.get(locked.strategy);
      // delivered or read in time, or already over: nothing to do
      const decision = a.status === 'SENT' ? strategy?.undelivered?.(this.context(targets), a.channel as ChannelName, 'PUSH_NOT_DELIVERED') : undefined;
      const given = decision?.fallback.find((f) => f.channel === a.channel);
      if (!decision || !given) {
        await ctx.complete(tx);
        return false;
      }
      const now = new Date().toISOString();
      await tx.notifications.updateAttempt(a.id, { status: 'FALLBACK', reason: given.reason });
      await tx.notifications.appendEvent({
        notificationId: n.id,
        attemptId: a.id,
        at: now,
        kind: 'ATTEMPT',
        status: 'FALLBACK',
        channel: a.channel,
        detail: { reason: given.reason, sentAt: a.sentAt, waitedMs: this.deps.config.notify.pushDeliveryTimeoutMs },
      });
      await this.applyDecision(tx, locked, decision, targets);
      const c = await this.settle(tx, locked);
      await ctx.complete(tx);
      return c;
    });
    if (changed) this.changes.emit('changed', n.id);
  }

  /** The send failed for good (or its retries are spent): FAILED, and let the strategy react. */
  private async sendDead(job: JobRecord<'notify.send'>, err: unknown, tx: Repositories): Promise<void> {
    const attempt = await tx.notifications.findAttempt(job.payload.attemptId);
    if (!attempt) return;
    const n = (await tx.notifications.lock(attempt.notificationId))!;
    const cause = err instanceof PermanentJobError ? err.cause : err;
    const reason = cause instanceof ProviderError ? (cause.permanent ? cause.code : 'PROVIDER_UNAVAILABLE') : 'PROVIDER_UNAVAILABLE';
    const detail = (cause instanceof Error ? cause.message : String(cause)).slice(0, 400);
    await this.changeAttempt(tx, n, attempt, 'FAILED', reason, { source: 'send', attempts: job.attempts, detail });
    await this.settle(tx, n);
  }

  private async sealEvidence(job: JobRecord<'notify.evidence'>, ctx: JobContext): Promise<void> {
    const id = job.payload.notificationId;
    const n = await this.store.notifications.find(id);
    if (!n?.messageId) throw new PermanentJobError(`notification ${id} has no registered message`);
    const message = await this.store.messages.findById(n.messageId);
    if (!message) throw new PermanentJobError(`message ${n.messageId} not found`);
    if (!canIssue(message.status, 'NotificationForAcceptance')) return;
    const attempts = await this.store.notifications.attempts(id);
    const sent = attempts.filter((a) => a.sentAt).sort((a, b) => a.sentAt!.localeCompare(b.sentAt!));
    const key = this.deps.config.evidence.addressDigestKey;
    const notification: NotificationDetails = {
      NotificationIdentifier: id,
      Deliveries: sent.flatMap((a) =>
        sentAddresses(a).map((address) => ({ Channel: a.channel as ChannelName, SentTime: new Date(a.sentAt!).toISOString(), AddressDigest: addressDigest(key, a.channel as ChannelName, address) })),
      ),
    };
    const prepared = await this.deps.evidence.prepare(message, 'NotificationForAcceptance', {
      eventTime: sent[0] ? new Date(sent[0].sentAt!) : new Date(),
      notification: notification.Deliveries.length > 0 ? notification : undefined,
    });
    await this.store.transaction(async (tx) => {
      await this.deps.evidence.record(tx, message, prepared, { eventData: { notificationId: id, channels: sent.map((a) => a.channel) } });
      await ctx.complete(tx);
    });
    this.deps.evidence.notifier.notify(message.id);
  }

  /** After ContentConsignment: tell the recipient, in the recipient's language. */
  private async registeredMail(job: JobRecord<'notify.registered'>, ctx: JobContext): Promise<void> {
    const { messageId } = job.payload;
    const message = await this.store.messages.findById(messageId);
    if (!message) throw new PermanentJobError(`message ${messageId} not found`);
    if (!canIssue(message.status, 'NotificationForAcceptance')) return;
    if ((await this.store.notifications.findByMessage(messageId)).length > 0) return;
    const contact = await this.store.contacts.findByRecipient(message.recipientType, message.recipientId);
    if (!contact) {
      // the contact was removed after the job was enqueued
      await this.store.transaction(async (tx) => {
        await appendNotSentNoContact(tx, messageId);
        await ctx.complete(tx);
      });
      return;
    }
    const config = this.deps.config;
    const sender = await this.store.senders.findById(message.senderId);
    const preferred = await this.store.notifications.senderDefaultStrategy(message.senderId);
    const strategyName = preferred && this.deps.strategies.get(preferred) ? preferred : config.notify.defaultStrategy;
    const strategy = this.deps.strategies.get(strategyName)!;
    const language = contact.language as Language;
    const subject = message.subject[language] ?? Object.values(message.subject).find((s) => typeof s === 'string' && s.length > 0) ?? '';
    const expiresAt = message.expiresAt ? new Date(message.expiresAt) : new Date(Date.now() + config.delivery.messageExpiryMs);
    const content = this.registeredMailContent(strategy, language, { sender: sender?.name ?? message.senderId, subject, expiresOn: formatDate(expiresAt, language, config.notify.timeZone) });
    const now = new Date().toISOString();
    const n: NotificationRecord = {
      id: randomUUID(),
      senderId: message.senderId,
      messageId,
      recipientType: message.recipientType,
      recipientId: message.recipientId,
      phone: null,
      strategy: strategyName,
      status: 'QUEUED',
      reason: null,
      batchId: null,
      batchRow: null,
      ...content,
      template: 'registered-mail',
      reference: message.senderReference,
      createdAt: now,
      updatedAt: now,
    };
    await this.store.transaction(async (tx) => {
      await this.create(tx, n);
      await ctx.complete(tx);
    });
  }

  /**
   * The registered-mail notice. The subject is the only free-length value: when the SMS
   * would need more parts than allowed, the subject in the SMS is shortened (ending in
   * "...", which is GSM-7) until it fits — the GovApp body and the e-Box keep it whole.
   * Never the rest of the text.
   */
  private registeredMailContent(strategy: NotificationStrategy, language: Language, values: { sender: string; subject: string; expiresOn: string }): NotificationContent {
    const parts = REGISTERED_MAIL_TEMPLATE.languages[language];
    const full = renderContent(parts, values);
    const render = (smsSubject: string): NotificationContent => {
      const sms = renderContent({ sms: parts.sms }, { ...values, subject: smsSubject }).sms ?? null;
      return { language, title: full.title ?? null, html: full.html ?? null, sms, smsEncoding: null, smsParts: null };
    };
    const attempt = (subject: string) => this.prepareContent(strategy, render(subject), this.deps.config.notify.sms.transliterate);
    try {
      return attempt(values.subject);
    } catch {
      const chars = [...values.subject];
      let lo = 0;
      let hi = chars.length - 1;
      let best: NotificationContent | undefined;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        try {
          best = attempt(chars.slice(0, mid).join('').trimEnd() + '...');
          lo = mid + 1;
        } catch {
          hi = mid - 1;
        }
      }
      // even without a subject it does not fit (a very long sender name): the SMS send will fail with SMS_TOO_LONG
      return best ?? render(values.subject);
    }
  }

  // ---------------------------------------------------------------- reports

  /** A provider's report about an attempt; false when the attempt is unknown. */
  async report(attemptId: string, input: ReportInput): Promise<boolean> {
    let changed = false;
    let notificationId = '';
    const known = await this.store.transaction(async (tx) => {
      const attempt = await tx.notifications.findAttempt(attemptId);
      if (!attempt) return false;
      notificationId = attempt.notificationId;
      if (input.installationId !== undefined && !deviceList(attempt.targets).some((d) => d.installationId === input.installationId)) return false;
      const n = (await tx.notifications.lock(attempt.notificationId))!;
      const a = (await tx.notifications.findAttempt(attemptId))!;
      await tx.notifications.appendEvent({ notificationId: n.id, attemptId, at: new Date().toISOString(), kind: 'RECEIPT', status: input.event ?? null, channel: a.channel, detail: { source: input.source, ...input.raw } });
      if (input.event) {
        let targets = a.targets;
        if (input.installationId !== undefined) targets = mergeTargets(a.targets, { devices: [{ installationId: input.installationId, status: input.event }] });
        await this.changeAttempt(tx, n, { ...a, targets }, input.event, input.reason, { source: input.source }, targets);
        changed = await this.settle(tx, n);
      }
      return true;
    });
    if (changed) this.changes.emit('changed', notificationId);
    return known;
  }

  // ---------------------------------------------------------------- state changes (inside a transaction)

  /** Applies `event` to an attempt; a failure asks the strategy what to do next. */
  private async changeAttempt(tx: Repositories, n: NotificationRecord, a: AttemptRecord, event: AttemptEvent, reason: string | undefined, detail: Record<string, unknown>, targets?: Record<string, unknown>): Promise<void> {
    let next = advanceAttempt(a.status, event);
    const now = new Date().toISOString();
    if (!next) {
      if (a.status === 'FALLBACK' && a.sentAt && (event === 'DELIVERED' || event === 'READ')) return this.lateReport(tx, n, a, event, now, targets);
      if (targets) await tx.notifications.updateAttempt(a.id, { targets });
      return;
    }
    let decision: StrategyDecision | undefined;
    if (next === 'FAILED') {
      const strategy = this.deps.strategies.get(n.strategy);
      if (strategy) {
        const t = await this.targets(tx, n);
        decision = strategy.failed(this.context(t), a.channel as ChannelName, reason ?? 'PROVIDER_REJECTED');
        if (decision.fallback.some((f) => f.channel === a.channel)) next = 'FALLBACK';
      }
    }
    await tx.notifications.updateAttempt(a.id, {
      status: next,
      reason: next === 'FAILED' || next === 'FALLBACK' ? (reason ?? 'PROVIDER_REJECTED') : a.reason,
      sentAt: next === 'SENT' || next === 'DELIVERED' || next === 'READ' ? (a.sentAt ?? now) : a.sentAt,
      deliveredAt: next === 'DELIVERED' || next === 'READ' ? (a.deliveredAt ?? now) : a.deliveredAt,
      readAt: next === 'READ' ? (a.readAt ?? now) : a.readAt,
      ...(targets ? { targets } : {}),
    });
    if (a.status === 'QUEUED' && (next === 'DELIVERED' || next === 'READ')) {
      // a report came before the send job recorded the provider's answer: the attempt was
      // sent, and its history says so once, before the report (the send job adds no other)
      await tx.notifications.appendEvent({ notificationId: n.id, attemptId: a.id, at: now, kind: 'ATTEMPT', status: 'SENT', channel: a.channel, detail: { source: 'report' } });
    }
    await tx.notifications.appendEvent({ notificationId: n.id, attemptId: a.id, at: now, kind: 'ATTEMPT', status: next, channel: a.channel, detail: { ...detail, ...(reason ? { reason } : {}) } });
    if (decision) await this.applyDecision(tx, n, decision, await this.targets(tx, n));
  }

  /**
   * A delivery or read report for an attempt that was sent and then given up for another
   * channel (a push delivered after its wait was over): the fallback stands — the attempt
   * stays FALLBACK and the other channel's message is not recalled — but the attempt
   * records when it was delivered (read), and the history shows it, once each.
   */
  private async lateReport(tx: Repositories, n: NotificationRecord, a: AttemptRecord, event: 'DELIVERED' | 'READ', now: string, targets: Record<string, unknown> | undefined): Promise<void> {
    const first = event === 'DELIVERED' ? a.deliveredAt === null : a.readAt === null;
    await tx.notifications.updateAttempt(a.id, {
      deliveredAt: a.deliveredAt ?? now,
      readAt: event === 'READ' ? (a.readAt ?? now) : a.readAt,
      ...(targets ? { targets } : {}),
    });
    if (first) await tx.notifications.appendEvent({ notificationId: n.id, attemptId: a.id, at: now, kind: 'ATTEMPT', status: event, channel: a.channel, detail: { reason: 'AFTER_FALLBACK' } });
  }

  /** Creates the attempts a strategy decided on (each channel at most once per notification). */
  private async applyDecision(tx: Repositories, n: NotificationRecord, d: StrategyDecision, targets: RecipientTargets): Promise<void> {
    const existing = new Set((await tx.notifications.attempts(n.id)).map((a) => a.channel));
    const now = new Date().toISOString();
    const add = async (channel: ChannelName, status: 'QUEUED' | 'FALLBACK' | 'FAILED', reason: string | null) => {
      if (existing.has(channel)) return;
      existing.add(channel);
      const id = randomUUID();
      const snapshot: Record<string, unknown> =
        channel === 'GOVAPP' ? { devices: targets.devices.filter((d) => d.notificationsEnabled).map((d) => ({ installationId: d.installationId, status: 'QUEUED' })) } : { phone: targets.phone };
      await tx.notifications.insertAttempt({
        id,
        notificationId: n.id,
        channel,
        status,
        reason,
        provider: null,
        providerRef: null,
        units: 0,
        targets: status === 'QUEUED' ? snapshot : {},
        sentAt: null,
        deliveredAt: null,
        readAt: null,
        createdAt: now,
        updatedAt: now,
      });
      await tx.notifications.appendEvent({ notificationId: n.id, attemptId: id, at: now, kind: 'ATTEMPT', status, channel, detail: reason ? { reason } : {} });
      if (status === 'QUEUED') {
        // a batch's sends yield to every other job, as its dispatch did
        await tx.jobs.enqueue({
          type: NOTIFY_JOB.send,
          messageId: n.messageId ?? undefined,
          dedupeKey: `notify-send:${id}`,
          maxAttempts: this.deps.config.notify.sendMaxAttempts,
          priority: n.batchId ? BULK_PRIORITY : 0,
          payload: { attemptId: id },
        });
      }
    };
    for (const c of d.send) await add(c, 'QUEUED', null);
    for (const f of d.fallback) await add(f.channel, 'FALLBACK', f.reason);
    for (const f of d.failed) await add(f.channel, 'FAILED', f.reason);
  }

  /** Derives the notification's status from its attempts; records a change. Returns whether it changed. */
  private async settle(tx: Repositories, n: NotificationRecord): Promise<boolean> {
    const attempts = await tx.notifications.attempts(n.id);
    const status = overallStatus(attempts);
    const reason =
      status === 'FAILED' || status === 'FALLBACK'
        ? attempts
            .filter((a) => isFinalAttempt(a.status))
            .map((a) => `${a.channel}:${a.reason ?? 'UNKNOWN'}`)
            .join(',')
        : null;
    const current = (await tx.notifications.find(n.id))!;
    if (current.status === status && current.reason === reason) return false;
    await tx.notifications.setStatus(n.id, status, reason);
    if (current.status === status) return false;
    const driving = attempts.find((a) => a.status === status) ?? null;
    if (hasBeenSent(status) && status !== 'SENT' && !hasBeenSent(current.status)) {
      // a delivery report came before the send job recorded its answer: what was delivered
      // was sent, and the history says so before it says delivered
      await this.statusEvent(tx, n, 'SENT', driving?.channel ?? null, null);
    }
    await this.statusEvent(tx, n, status, driving?.channel ?? null, reason);
    if (hasBeenSent(status) && !hasBeenSent(current.status) && n.messageId) {
      await tx.jobs.enqueue({ type: NOTIFY_JOB.evidence, messageId: n.messageId, dedupeKey: `notify-evidence:${n.id}`, maxAttempts: this.deps.config.worker.sealMaxAttempts, payload: { notificationId: n.id } });
    }
    return true;
  }

  private async statusEvent(tx: Repositories, n: NotificationRecord, status: NotificationStatus, channel: string | null, reason: string | null): Promise<void> {
    const at = new Date().toISOString();
    await tx.notifications.appendEvent({ notificationId: n.id, attemptId: null, at, kind: 'STATUS', status, channel, detail: reason ? { reason } : {} });
    if (n.messageId) await tx.events.append({ messageId: n.messageId, type: MESSAGE_EVENT[status], at, data: { notificationId: n.id, status, channel, ...(reason ? { reason } : {}) } });
  }
}

export function contentOf(n: NotificationRecord): NotificationContent {
  return { language: n.language, title: n.title, html: n.html, sms: n.sms, smsEncoding: n.smsEncoding, smsParts: n.smsParts };
}

interface DeviceState {
  installationId: string;
  status: string;
  reason?: string;
}

/** Where a sent attempt went: its phone number (SMS), or the installations the push was accepted for (GovApp). */
function sentAddresses(a: AttemptRecord): string[] {
  if (a.channel === 'SMS') return typeof a.targets.phone === 'string' ? [a.targets.phone] : [];
  return deviceList(a.targets)
    .filter((d) => d.status === 'SENT' || d.status === 'DELIVERED' || d.status === 'READ')
    .map((d) => d.installationId);
}

export function deviceList(targets: Record<string, unknown>): DeviceState[] {
  return Array.isArray(targets.devices) ? (targets.devices as DeviceState[]) : [];
}

/** Merges per-device states forward only (a late "SENT" never undoes a "DELIVERED"). */
function mergeTargets(current: Record<string, unknown>, incoming: Record<string, unknown>): Record<string, unknown> {
  const out = { ...current, ...incoming };
  if (incoming.devices === undefined) return out;
  const merged = new Map(deviceList(current).map((d) => [d.installationId, { ...d }]));
  for (const d of deviceList(incoming)) {
    const had = merged.get(d.installationId);
    if (!had) {
      merged.set(d.installationId, { ...d });
      continue;
    }
    const next = advanceAttempt(had.status as AttemptRecord['status'], d.status as AttemptEvent);
    if (next) merged.set(d.installationId, { ...had, ...d, status: next });
  }
  out.devices = [...merged.values()];
  return out;
}
