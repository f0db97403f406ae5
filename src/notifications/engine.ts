/**
 * The notification jobs and the state changes they (and provider reports) make.
 *
 *   notify.dispatch   strategy.start → one attempt per channel to send on (+ FALLBACK /
 *                     FAILED attempts for channels given up), a send job per attempt.
 *                     A SCHEDULED notification's dispatch job has run_at = its sendAt;
 *                     dispatch makes it QUEUED (or EXPIRED, its validity over)
 *   notify.send       first, in a transaction: an attempt cancelled or expired meanwhile →
 *                     nothing; validity over → attempt EXPIRED; an SMS in the sender's
 *                     quiet hours (recipient's local time, QuietHours.ts) → deferred: the
 *                     attempt records deferredUntil and a new send job runs then; else
 *                     the attempt is marked handed over (no longer cancellable). Then
 *                     channel.send through the provider → attempt SENT, usage counted;
 *                     a permanent refusal or a spent retry budget → attempt FAILED, and
 *                     strategy.failed may fall back to another channel (attempt FALLBACK);
 *                     a push SENT under a strategy that can fall back schedules
 *                     notify.delivery-check NOTIFY_PUSH_DELIVERY_TIMEOUT_MS later
 *   notify.delivery-check  the push is still only SENT (no device reported DELIVERED):
 *                     strategy.undelivered → attempt FALLBACK (PUSH_NOT_DELIVERED) and
 *                     the other channel's attempt; delivered, read or over: nothing.
 *                     A job row with a later run_at, not a timer: a restart loses nothing
 *   notify.expire     at validUntil (a delayed job): attempts not handed to a provider →
 *                     EXPIRED (VALIDITY_ELAPSED); a notification without any yet → EXPIRED
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
import { newRowId } from '../domain/RowId.js';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { NotificationDetails } from '../domain/EvidenceStatement.js';
import { canIssue } from '../domain/MessageLifecycle.js';
import { addressDigest } from './AddressDigest.js';
import type { ChannelName, DeviceTarget, NotificationChannel, NotificationContent, RecipientTargets } from './channels/Channel.js';
import { chooseLanguage, formatDate, isLanguage, type Language } from './content/Language.js';
import { REGISTERED_MAIL_TEMPLATE, renderContent } from './content/Templates.js';
import { advanceAttempt, hasBeenSent, isFinalAttempt, isFinalNotification, overallStatus, type AttemptEvent, type NotificationStatus } from './NotificationStatus.js';
import { quietUntil, recipientTimeZone } from './QuietHours.js';
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
  expire: 'notify.expire',
} as const satisfies Record<string, JobType>;

/** The notification job types. */
export type NotifyJobType = (typeof NOTIFY_JOB)[keyof typeof NOTIFY_JOB];

/** Event types on a registered message's log, per notification status. */
export const MESSAGE_EVENT: Record<NotificationStatus, string> = {
  SCHEDULED: 'NotificationScheduled',
  QUEUED: 'NotificationQueued',
  FALLBACK: 'NotificationFallback',
  SENT: 'NotificationSent',
  DELIVERED: 'NotificationDelivered',
  READ: 'NotificationRead',
  FAILED: 'NotificationFailed',
  CANCELLED: 'NotificationCancelled',
  EXPIRED: 'NotificationExpired',
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
  /** the time (epoch ms) for validity and quiet hours; Date.now by default */
  clock?: () => number;
}

/** Why an attempt's send is not carried out now. */
type Gate = { kind: 'go' } | { kind: 'done' } | { kind: 'deferred'; until: string };

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
    if (deps.clock) this.clock = deps.clock;
  }

  handlers(): Pick<JobHandlers, NotifyJobType> {
    return {
      [NOTIFY_JOB.dispatch]: { run: (job, ctx) => this.dispatch(job, ctx) },
      [NOTIFY_JOB.send]: { run: (job, ctx) => this.send(job, ctx), onDead: (job, err, tx) => this.sendDead(job, err, tx) },
      [NOTIFY_JOB.deliveryCheck]: { run: (job, ctx) => this.deliveryCheck(job, ctx) },
      [NOTIFY_JOB.evidence]: { run: (job, ctx) => this.sealEvidence(job, ctx) },
      [NOTIFY_JOB.registered]: { run: (job, ctx) => this.registeredMail(job, ctx) },
      [NOTIFY_JOB.expire]: { run: (job, ctx) => this.expire(job, ctx) },
    };
  }

  /**
   * The time (epoch ms) validity and quiet hours are judged by: the system clock unless the
   * deps gave another; a test sets a fixed one to put the service in a given night.
   */
  clock: () => number = Date.now;

  private now(): number {
    return this.clock();
  }

  /** Whether the notification's validity is over at `now`. */
  private elapsed(n: NotificationRecord, now = this.now()): boolean {
    return n.validUntil !== null && Date.parse(n.validUntil) <= now;
  }

  private get store(): Repositories {
    return this.deps.store;
  }

  // ---------------------------------------------------------------- creation

  /**
   * Records a new notification and queues its dispatch (inside the caller's transaction):
   * at once when QUEUED, at its sendAt when SCHEDULED (a job row with that run_at: a restart
   * loses nothing); with a validUntil, the expiry job at that time. `messageEvent`: more to
   * say in a registered message's NotificationQueued event.
   */
  async create(tx: Repositories, n: NotificationRecord, messageEvent: Record<string, unknown> = {}): Promise<void> {
    await tx.notifications.insert(n);
    const detail: Record<string, unknown> = { strategy: n.strategy, ...(n.sendAt ? { sendAt: n.sendAt } : {}), ...(n.validUntil ? { validUntil: n.validUntil } : {}) };
    await tx.notifications.appendEvent({ notificationId: n.id, attemptId: null, at: n.createdAt, kind: 'STATUS', status: n.status, channel: null, detail });
    await tx.jobs.enqueue({
      type: NOTIFY_JOB.dispatch,
      messageId: n.messageId ?? undefined,
      dedupeKey: `notify-dispatch:${n.id}`,
      maxAttempts: this.deps.config.notify.sendMaxAttempts,
      ...(n.status === 'SCHEDULED' && n.sendAt ? { runAt: new Date(n.sendAt) } : {}),
      payload: { notificationId: n.id },
    });
    if (n.validUntil) {
      await tx.jobs.enqueue({
        type: NOTIFY_JOB.expire,
        messageId: n.messageId ?? undefined,
        dedupeKey: `notify-expire:${n.id}`,
        maxAttempts: this.deps.config.notify.sendMaxAttempts,
        runAt: new Date(n.validUntil),
        payload: { notificationId: n.id },
      });
    }
    if (n.messageId) {
      await tx.events.append({ messageId: n.messageId, type: MESSAGE_EVENT[n.status], at: n.createdAt, data: { notificationId: n.id, strategy: n.strategy, language: n.language, ...messageEvent } });
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
    const smsOptedOut = phone !== null && (await db.inbound.isOptedOut(phone, n.senderId));
    const devices: DeviceTarget[] = (await db.contacts.installations(contactIds)).map((i) => ({
      installationId: i.id,
      pushToken: i.pushToken,
      publicKey: i.publicKey,
      notificationsEnabled: i.notificationsEnabled,
    }));
    return { phone, devices, smsOptedOut };
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
    if ((await this.store.notifications.attempts(id)).length > 0 || (n.status !== 'QUEUED' && n.status !== 'SCHEDULED')) return;
    const strategy = this.deps.strategies.get(n.strategy);
    const targets = await this.targets(this.store, n);
    const changed = await this.store.transaction(async (tx) => {
      const locked = (await tx.notifications.lock(id))!;
      // cancelled or expired since, or dispatched by another run
      if ((await tx.notifications.attempts(id)).length > 0 || (locked.status !== 'QUEUED' && locked.status !== 'SCHEDULED')) {
        await ctx.complete(tx);
        return false;
      }
      if (this.elapsed(locked)) {
        await tx.notifications.setStatus(id, 'EXPIRED', 'VALIDITY_ELAPSED');
        await this.statusEvent(tx, locked, 'EXPIRED', null, 'VALIDITY_ELAPSED');
        await ctx.complete(tx);
        return true;
      }
      if (locked.status === 'SCHEDULED') {
        // its sendAt has come
        await tx.notifications.setStatus(id, 'QUEUED', null);
        await this.statusEvent(tx, locked, 'QUEUED', null, null);
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
    if (attempt.status === 'QUEUED') {
      const gate = await this.gate(job, ctx, n, attemptId);
      if (gate.kind !== 'go') return;
    }

    let result: { provider: string; providerRef?: string; units: number; targets: Record<string, unknown>; detail?: string };
    if (attempt.status !== 'QUEUED') {
      // a delivery report came before this job recorded the send (a crash in between): it was sent
      result = { provider: attempt.channel.toLowerCase(), units: attempt.channel === 'SMS' ? (n.smsParts ?? 1) : Math.max(1, deviceList(attempt.targets).length), targets: {} };
    } else {
      const targets = await this.targets(this.store, n);
      try {
        const smsFrom = attempt.channel === 'SMS' ? ((await this.store.inbound.senderOverrides(n.senderId)).smsSenderId ?? undefined) : undefined;
        result = await channel.send({ attemptId, notificationId: n.id, content: contentOf(n), targets, ...(smsFrom ? { smsFrom } : {}) });
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
      // which sender's SMS the number received last: a reply from it is that sender's (inbound.ts)
      if (a.channel === 'SMS' && typeof targets.phone === 'string') {
        await tx.inbound.recordSend({ attemptId, notificationId: n.id, senderId: n.senderId, phone: targets.phone, sentAt: new Date().toISOString() });
      }
      const c = await this.settle(tx, locked);
      await ctx.complete(tx);
      return c;
    });
    if (changed) this.changes.emit('changed', n.id);
  }

  /**
   * Before the provider is called: in one transaction with the notification locked, the
   * attempt cancelled or expired meanwhile (nothing to do), its validity over (EXPIRED),
   * an SMS in the sender's quiet hours in the recipient's time zone (deferred: this job is
   * done and a send job is enqueued for the end of the quiet hours, the attempt shows
   * deferredUntil), or handed over: from this commit on, the sender can no longer cancel
   * (the provider may have it even if this worker dies before recording its answer).
   */
  private async gate(job: JobRecord<'notify.send'>, ctx: JobContext, n: NotificationRecord, attemptId: string): Promise<Gate> {
    const quiet = await this.store.notifications.senderQuietHours(n.senderId);
    let zone: string | undefined;
    if (quiet) {
      const contact = n.recipientType && n.recipientId ? await this.store.contacts.findByRecipient(n.recipientType, n.recipientId) : n.phone ? (await this.store.contacts.findByPhone(n.phone))[0] : undefined;
      const a = await this.store.notifications.findAttempt(attemptId);
      const phone = (typeof a?.targets.phone === 'string' ? a.targets.phone : null) ?? contact?.phone ?? n.phone;
      zone = recipientTimeZone(contact?.timeZone, phone, this.deps.config.notify.timeZone);
    }
    let changed = false;
    const gate = await this.store.transaction(async (tx): Promise<Gate> => {
      const locked = (await tx.notifications.lock(n.id))!;
      const a = (await tx.notifications.findAttempt(attemptId))!;
      if (isFinalAttempt(a.status)) {
        // cancelled or expired meanwhile
        await ctx.complete(tx);
        return { kind: 'done' };
      }
      // a report already came: record the send
      if (a.status !== 'QUEUED') return { kind: 'go' };
      const now = this.now();
      // also a retry (the provider failed before): nothing goes out once the validity is over
      if (this.elapsed(locked, now)) {
        await this.endAttempt(tx, locked, a, 'EXPIRED', 'VALIDITY_ELAPSED', { source: 'send' });
        changed = await this.settle(tx, locked);
        await ctx.complete(tx);
        return { kind: 'done' };
      }
      // handed over by an earlier run of this job (it failed or its answer was lost): send again
      if (a.handedOverAt !== null) return { kind: 'go' };
      const until = quiet && zone && a.channel === 'SMS' ? quietUntil(now, zone, quiet) : undefined;
      // already deferred to this very end: the end has come, even if this worker's clock
      // says it is a moment early (clocks of several workers differ a little)
      if (until !== undefined && a.deferredUntil !== new Date(until).toISOString()) {
        const at = new Date(until).toISOString();
        await tx.notifications.updateAttempt(a.id, { deferredUntil: at });
        await tx.notifications.appendEvent({ notificationId: n.id, attemptId: a.id, at: new Date(now).toISOString(), kind: 'ATTEMPT', status: 'QUEUED', channel: a.channel, detail: { reason: 'QUIET_HOURS', deferredUntil: at } });
        await tx.jobs.enqueue({ type: NOTIFY_JOB.send, messageId: n.messageId ?? undefined, dedupeKey: `notify-send:${a.id}:${at}`, maxAttempts: job.maxAttempts, runAt: new Date(until), payload: { attemptId: a.id } });
        await ctx.complete(tx);
        changed = true;
        return { kind: 'deferred', until: at };
      }
      await tx.notifications.updateAttempt(a.id, { handedOverAt: new Date(now).toISOString() });
      return { kind: 'go' };
    });
    if (changed) this.changes.emit('changed', n.id);
    return gate;
  }

  /** An attempt not handed to a provider ends: CANCELLED or EXPIRED, with its history entry. */
  private async endAttempt(tx: Repositories, n: NotificationRecord, a: AttemptRecord, status: 'CANCELLED' | 'EXPIRED', reason: string, detail: Record<string, unknown>): Promise<void> {
    await tx.notifications.updateAttempt(a.id, { status, reason });
    await tx.notifications.appendEvent({ notificationId: n.id, attemptId: a.id, at: new Date().toISOString(), kind: 'ATTEMPT', status, channel: a.channel, detail: { ...detail, reason } });
  }

  /** validUntil has come: what was not handed to a provider is EXPIRED. */
  private async expire(job: JobRecord<'notify.expire'>, ctx: JobContext): Promise<void> {
    const id = job.payload.notificationId;
    const changed = await this.store.transaction(async (tx) => {
      const n = await tx.notifications.lock(id);
      if (!n) throw new PermanentJobError(`notification ${id} not found`);
      let c = false;
      if (!isFinalNotification(n.status) && this.elapsed(n)) {
        const attempts = await tx.notifications.attempts(id);
        if (attempts.length === 0) {
          await tx.notifications.setStatus(id, 'EXPIRED', 'VALIDITY_ELAPSED');
          await this.statusEvent(tx, n, 'EXPIRED', null, 'VALIDITY_ELAPSED');
          c = true;
        } else {
          for (const a of attempts) if (a.status === 'QUEUED' && a.handedOverAt === null) await this.endAttempt(tx, n, a, 'EXPIRED', 'VALIDITY_ELAPSED', { source: 'expiry' });
          c = await this.settle(tx, n);
        }
      }
      await ctx.complete(tx);
      return c;
    });
    if (changed) this.changes.emit('changed', id);
  }

  /**
   * The sender cancels: possible while nothing was handed to a provider (SCHEDULED, QUEUED,
   * an SMS deferred by quiet hours). Every attempt still QUEUED becomes CANCELLED, the
   * notification CANCELLED; the jobs still pending find nothing to do. Cancelling a
   * CANCELLED notification again changes nothing. Returns 'cancelled' | 'unchanged', or
   * why not: 'not-found' (not the sender's), 'not-cancellable'.
   */
  async cancel(id: string, senderId: string): Promise<'cancelled' | 'unchanged' | 'not-found' | { notCancellable: string }> {
    const outcome = await this.store.transaction(async (tx) => {
      const n = await tx.notifications.lock(id);
      if (!n || n.senderId !== senderId) return 'not-found' as const;
      if (n.status === 'CANCELLED') return 'unchanged' as const;
      if (n.messageId) return { notCancellable: 'the notice of a registered message is part of its delivery and cannot be cancelled' };
      if (isFinalNotification(n.status)) return { notCancellable: `the notification is already ${n.status}` };
      const attempts = await tx.notifications.attempts(id);
      // sent (even if given up since), or in the provider's hands (its outcome not known yet);
      // an attempt the provider refused (FAILED, FALLBACK never sent) told nobody
      const handed = attempts.find((a) => a.sentAt !== null || hasBeenSent(a.status as NotificationStatus) || (a.status === 'QUEUED' && a.handedOverAt !== null));
      if (handed) return { notCancellable: `the ${handed.channel} attempt was already handed to its provider (${handed.status})` };
      for (const a of attempts) if (a.status === 'QUEUED') await this.endAttempt(tx, n, a, 'CANCELLED', 'CANCELLED_BY_SENDER', { source: 'sender' });
      if (attempts.length === 0 || !(await this.settle(tx, n))) {
        // nothing dispatched yet, or attempts that all had failed or fallen back already
        await tx.notifications.setStatus(id, 'CANCELLED', 'CANCELLED_BY_SENDER');
        await this.statusEvent(tx, n, 'CANCELLED', null, 'CANCELLED_BY_SENDER');
      }
      return 'cancelled' as const;
    });
    if (outcome === 'cancelled') this.changes.emit('changed', id);
    return outcome;
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
      // delivered or read in time, or already over: nothing to do; nor once the
      // notification's validity is over (no fallback is sent then: the push stays SENT)
      const decision = a.status === 'SENT' && !this.elapsed(locked) ? strategy?.undelivered?.(this.context(targets), a.channel as ChannelName, 'PUSH_NOT_DELIVERED') : undefined;
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
    const { language, subject, subjectLanguage } = noticeLanguage(contact.language, message.subject, config.notify.defaultLanguage);
    const expiresAt = message.expiresAt ? new Date(message.expiresAt) : new Date(Date.now() + config.delivery.messageExpiryMs);
    const content = this.registeredMailContent(strategy, language, { sender: sender?.name ?? message.senderId, subject, expiresOn: formatDate(expiresAt, language, config.notify.timeZone) });
    const now = new Date().toISOString();
    const n: NotificationRecord = {
      id: newRowId(),
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
      // the notice of a registered message: at once, and no validity (its own expiry is the message's)
      sendAt: null,
      validUntil: null,
      createdAt: now,
      updatedAt: now,
    };
    await this.store.transaction(async (tx) => {
      await this.create(tx, n, { subjectLanguage: subjectLanguage ?? null });
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
    const add = async (channel: ChannelName, status: 'QUEUED' | 'FALLBACK' | 'FAILED' | 'EXPIRED', reason: string | null) => {
      if (existing.has(channel)) return;
      existing.add(channel);
      const id = newRowId();
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
        deferredUntil: null,
        handedOverAt: null,
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
    // a fallback decided once the validity is over is not sent
    const late = this.elapsed(n);
    for (const c of d.send) await add(c, late ? 'EXPIRED' : 'QUEUED', late ? 'VALIDITY_ELAPSED' : null);
    for (const f of d.fallback) await add(f.channel, 'FALLBACK', f.reason);
    for (const f of d.failed) await add(f.channel, 'FAILED', f.reason);
  }

  /** Derives the notification's status from its attempts; records a change. Returns whether it changed. */
  private async settle(tx: Repositories, n: NotificationRecord): Promise<boolean> {
    const attempts = await tx.notifications.attempts(n.id);
    const status = overallStatus(attempts);
    const reason = statusReason(status, attempts);
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

/**
 * The registered-mail notice's language, and the subject to quote in it. The notice is in
 * the recipient's language, always: what it must get across — a registered letter from
 * this sender waits, and until when — is the service's own text, and the recipient must
 * understand it to act in time. The subject is the sender's text, quoted as written: in the
 * recipient's language when the sender gave it, otherwise in the first language of the
 * recipient's fallback chain (content/Language.ts) in which it is given — the one the
 * recipient most likely reads (a German-speaking Belgian gets the French subject before the
 * Dutch one; a Danish reader the English one). docs/notification-languages.md.
 */
export function noticeLanguage(preferred: string, subjects: Partial<Record<string, string>>, dflt: Language): { language: Language; subject: string; subjectLanguage: string | undefined } {
  const language = isLanguage(preferred) ? preferred : dflt;
  const given = (l: string) => typeof subjects[l] === 'string' && subjects[l]!.length > 0;
  // a subject only in a language without a pack (none today: every e-Box language has one) is still quoted
  const subjectLanguage = chooseLanguage(language, given) ?? Object.keys(subjects).find(given);
  return { language, subject: subjectLanguage ? subjects[subjectLanguage]! : '', subjectLanguage };
}

/**
 * The notification's reason for its status: VALIDITY_ELAPSED (EXPIRED), CANCELLED_BY_SENDER
 * (CANCELLED), CHANNEL:REASON of each attempt given up (FAILED, FALLBACK), else none.
 */
function statusReason(status: NotificationStatus, attempts: AttemptRecord[]): string | null {
  if (status === 'EXPIRED') return 'VALIDITY_ELAPSED';
  if (status === 'CANCELLED') return 'CANCELLED_BY_SENDER';
  if (status !== 'FAILED' && status !== 'FALLBACK') return null;
  return attempts
    .filter((a) => isFinalAttempt(a.status))
    .map((a) => `${a.channel}:${a.reason ?? 'UNKNOWN'}`)
    .join(',');
}

export function contentOf(n: NotificationRecord): NotificationContent {
  return { language: n.language as Language, title: n.title, html: n.html, sms: n.sms, smsEncoding: n.smsEncoding, smsParts: n.smsParts };
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
