/**
 * /v1/notifications: a sender's short messages (GovApp push / SMS by strategy), their
 * status, the sender's default strategy and usage. /v1/callbacks/*: the providers'
 * delivery reports and receipts, authenticated by their URL token or body signature (no
 * sender key).
 */
import express, { Router, type Request, type Response } from 'express';
import { ServiceError } from '../../domain/errors.js';
import {
  GOVAPP_SIGNATURE_HEADER,
  isSettled,
  RateLimitedError,
  type NotificationDetails,
  type NotificationRecord,
  type NotificationService,
  type RateLimitState,
  type SenderSettings,
  type Submitted,
} from '../../notifications/service.js';
import type { SenderService } from '../../access/senders.js';
import { requireSender, senderOf } from '../auth.js';
import { idempotencyKey } from '../idempotency.js';
import { jsonBody } from '../json.js';
import { respondAsync } from '../prefer.js';
import { batchRoutes } from './batches.js';

export interface NotificationsDeps {
  senders: SenderService;
  notifications: NotificationService;
  syncWaitMs: number;
}

export function notificationJson(d: NotificationDetails) {
  const n = d.notification;
  const fellBack = d.attempts.find((a) => a.status === 'FALLBACK');
  const to = fellBack ? d.attempts.find((a) => a.channel !== fellBack.channel && a.status !== 'FALLBACK') : undefined;
  return {
    id: n.id,
    href: `/v1/notifications/${n.id}`,
    status: n.status,
    reason: n.reason,
    strategy: n.strategy,
    language: n.language,
    channel: d.attempts.find((a) => a.status === n.status)?.channel ?? null,
    fallback: fellBack ? { from: fellBack.channel, to: to?.channel ?? null, reason: fellBack.reason } : null,
    recipient: n.recipientType && n.recipientId ? { type: n.recipientType, id: n.recipientId } : null,
    phoneNumber: n.phone,
    messageId: n.messageId,
    reference: n.reference,
    template: n.template,
    batch: n.batchId !== null ? { id: n.batchId, row: n.batchRow, href: `/v1/notifications/batches/${n.batchId}` } : null,
    sms: n.sms !== null ? { encoding: n.smsEncoding, parts: n.smsParts } : null,
    sendAt: n.sendAt,
    validUntil: n.validUntil,
    attempts: d.attempts.map((a) => ({
      id: a.id,
      channel: a.channel,
      status: a.status,
      reason: a.reason,
      provider: a.provider,
      units: a.units,
      sentAt: a.sentAt,
      deliveredAt: a.deliveredAt,
      readAt: a.readAt,
      deferredUntil: a.deferredUntil,
    })),
    history: d.events
      .filter((e) => e.kind !== 'RECEIPT')
      .map((e) => ({ at: e.at, scope: e.kind === 'STATUS' ? 'notification' : 'attempt', status: e.status, channel: e.channel, reason: typeof e.detail.reason === 'string' ? e.detail.reason : null })),
    createdAt: n.createdAt,
    updatedAt: n.updatedAt,
  };
}

/** A notification in the sender's listing: what it is and where it stands (GET its href for attempts and history). */
export function notificationSummary(n: NotificationRecord) {
  return {
    id: n.id,
    href: `/v1/notifications/${n.id}`,
    status: n.status,
    reason: n.reason,
    strategy: n.strategy,
    recipient: n.recipientType && n.recipientId ? { type: n.recipientType, id: n.recipientId } : null,
    phoneNumber: n.phone,
    messageId: n.messageId,
    reference: n.reference,
    template: n.template,
    sendAt: n.sendAt,
    validUntil: n.validUntil,
    createdAt: n.createdAt,
    updatedAt: n.updatedAt,
  };
}

function settingsJson(deps: NotificationsDeps, s: SenderSettings) {
  return {
    defaultStrategy: s.defaultStrategy,
    quietHours: s.quietHours,
    strategies: deps.notifications.strategies.names().map((name) => ({ name, description: deps.notifications.strategies.get(name)!.description })),
  };
}

/**
 * A query parameter given at most once. Given twice it is refused rather than ignored: an
 * ignored filter answers with every notification, which is not what was asked.
 */
function singleQueryValue(req: Request, name: string): string | undefined {
  const v = Object.hasOwn(req.query, name) ? req.query[name] : undefined;
  if (v === undefined || typeof v === 'string') return v;
  throw new ServiceError('QUERY_INVALID', `give ${name} once`);
}

const LIST_FILTERS = ['status', 'reference', 'createdFrom', 'createdTo', 'phoneNumber', 'recipientType', 'recipientId', 'limit', 'cursor'] as const;

/** The policy's name in the RateLimit header fields. */
export const RATE_LIMIT_POLICY = 'notifications';

/**
 * The sender's token bucket in the header fields of draft-ietf-httpapi-ratelimit-headers-10
 * (Structured Field lists): `RateLimit-Policy: "notifications";q=<burst>;w=<seconds to refill
 * from empty>` — a sender that keeps to q requests per w seconds is never refused — and
 * `RateLimit: "notifications";r=<whole tokens left>;t=<seconds until one more>`.
 */
export function setRateLimitHeaders(res: Response, rate: RateLimitState): void {
  res.setHeader('RateLimit-Policy', `"${RATE_LIMIT_POLICY}";q=${rate.burst};w=${rate.windowSeconds}`);
  res.setHeader('RateLimit', `"${RATE_LIMIT_POLICY}";r=${rate.remaining};t=${rate.nextTokenSeconds}`);
}

function rawBody(req: Request): Buffer {
  return Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
}

export function notificationsRouter(deps: NotificationsDeps): Router {
  const r = Router();
  r.use('/v1/notifications', requireSender(deps.senders));

  r.get('/v1/notifications/settings', async (_req, res) => {
    res.json(settingsJson(deps, await deps.notifications.settings(senderOf(res).id)));
  });

  r.put('/v1/notifications/settings', jsonBody('4kb'), async (req, res) => {
    res.json(settingsJson(deps, await deps.notifications.updateSettings(senderOf(res).id, req.body)));
  });

  r.get('/v1/notifications', async (req, res) => {
    const unknown = Object.keys(req.query).filter((k) => !(LIST_FILTERS as readonly string[]).includes(k));
    if (unknown.length > 0) throw new ServiceError('QUERY_INVALID', `unknown query parameter(s): ${unknown.join(', ')}; filters are ${LIST_FILTERS.join(', ')}`);
    const query = Object.fromEntries(LIST_FILTERS.map((k) => [k, singleQueryValue(req, k)]).filter(([, v]) => v !== undefined)) as Record<string, string>;
    const page = await deps.notifications.list(senderOf(res), query);
    const nextQuery = new URLSearchParams({ ...query, ...(page.cursor ? { cursor: page.cursor } : {}) });
    res.json({ items: page.items.map(notificationSummary), next: page.cursor ? `/v1/notifications?${nextQuery}` : null });
  });

  r.get('/v1/notifications/usage', async (req, res) => {
    res.json(await deps.notifications.usage(req.query.month, senderOf(res).id));
  });

  r.post('/v1/notifications', jsonBody('128kb'), async (req, res) => {
    if (!req.is('application/json')) throw new ServiceError('UNSUPPORTED_MEDIA_TYPE', 'send the notification as application/json');
    const sender = senderOf(res);
    const key = idempotencyKey(req);
    let submitted: Submitted;
    try {
      submitted = await deps.notifications.submit(sender, req.body, key);
    } catch (err) {
      if (err instanceof RateLimitedError) {
        res.setHeader('Retry-After', String(err.rate.nextTokenSeconds));
        setRateLimitHeaders(res, err.rate);
      }
      throw err;
    }
    if (submitted.rate) setRateLimitHeaders(res, submitted.rate);
    // a replay answers as the first request would now: the notification as it is, 201 once its send status is known
    const id = submitted.id;
    if (submitted.replayed) res.setHeader('Idempotent-Replayed', 'true');
    const async = respondAsync(req, res);
    let details = await deps.notifications.details(sender, id);
    // a scheduled notification is answered at once: nothing happens before its sendAt
    if (!async && details.notification.status !== 'SCHEDULED') {
      await deps.notifications.waitForOutcome(id, deps.syncWaitMs);
      details = await deps.notifications.details(sender, id);
    }
    res
      .status(!async && isSettled(details.notification.status) ? 201 : 202)
      .location(`/v1/notifications/${id}`)
      .json(notificationJson(details));
  });

  // the SMS phones sent back to this sender's SMS (own only), oldest first from `cursor`
  r.get('/v1/notifications/replies', async (req, res) => {
    res.json(await deps.notifications.inbound.replies(senderOf(res).id, req.query.cursor, req.query.limit));
  });

  batchRoutes(r, deps.notifications);

  r.get('/v1/notifications/:id', async (req, res) => {
    res.json(notificationJson(await deps.notifications.details(senderOf(res), req.params.id!)));
  });

  r.delete('/v1/notifications/:id', async (req, res) => {
    res.json(notificationJson(await deps.notifications.cancel(senderOf(res), req.params.id!)));
  });

  r.get('/v1/callbacks/kannel', async (req, res) => {
    await deps.notifications.kannelReport(req.query as Record<string, unknown>);
    res.status(204).end();
  });

  // Kannel's sms-service get-url: an SMS a phone sent (docs/kannel.md)
  r.get('/v1/callbacks/kannel/inbound', async (req, res) => {
    // the query as Kannel wrote it: the text's bytes are read by its coding, not as UTF-8
    const url = req.originalUrl;
    await deps.notifications.kannelInbound(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '');
    res.status(204).end();
  });

  r.post('/v1/callbacks/govapp', express.raw({ type: () => true, limit: '16kb' }), async (req, res) => {
    await deps.notifications.govappReceipt(rawBody(req), req.get(GOVAPP_SIGNATURE_HEADER));
    res.status(204).end();
  });

  r.post('/v1/callbacks/sms-http/inbound', express.raw({ type: () => true, limit: '32kb' }), async (req, res) => {
    await deps.notifications.httpSmsInbound(rawBody(req), req.get('signature'));
    res.status(204).end();
  });

  r.post('/v1/callbacks/sms-http', express.raw({ type: () => true, limit: '16kb' }), async (req, res) => {
    await deps.notifications.httpSmsReport(rawBody(req), req.get('signature'));
    res.status(204).end();
  });

  return r;
}
