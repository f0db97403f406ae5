/**
 * /v1/notifications/batches: bulk sends (src/notifications/batches.ts). The body streams
 * into the service a row at a time (JSON lines or CSV); the answer, 202 with the batch,
 * follows the commit that queued its rows. The batch, its progress and its per-row results
 * are the sender's own: another sender's batch is 404.
 */
import type { Request, Response, Router } from 'express';
import { batchFormat, MAX_ROW_BYTES, openBatch, RateLimitedError, settingsFromQuery, type BatchSubmitted, type BatchView, type NotificationService } from '../../notifications/service.js';
import { ServiceError } from '../../domain/errors.js';
import { senderOf } from '../auth.js';
import { idempotencyKey } from '../idempotency.js';
import { setRateLimitHeaders } from './notifications.js';

export function batchJson(v: BatchView) {
  const b = v.batch;
  return {
    id: b.id,
    href: `/v1/notifications/batches/${b.id}`,
    rowsHref: `/v1/notifications/batches/${b.id}/rows`,
    status: v.status,
    format: b.format,
    strategy: b.strategy,
    template: b.template,
    rows: { total: b.rowsAccepted + b.rowsRefused, accepted: b.rowsAccepted, refused: b.rowsRefused },
    notifications: v.notifications,
    createdAt: b.createdAt,
    acceptedAt: b.acceptedAt,
  };
}

/** The request's bytes; a connection closed before the end is CLIENT_GONE (the batch is then discarded). */
async function* body(req: Request): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of req) yield chunk as Buffer;
  } catch (err) {
    throw new ServiceError('CLIENT_GONE', 'the client closed the connection before the batch was complete', { cause: err });
  }
  if (!req.complete) throw new ServiceError('CLIENT_GONE', 'the client closed the connection before the batch was complete');
}

export function batchRoutes(r: Router, notifications: NotificationService): void {
  r.post('/v1/notifications/batches', async (req: Request, res: Response) => {
    const format = batchFormat(req.get('content-type'));
    const sender = senderOf(res);
    const key = idempotencyKey(req);
    const settings = settingsFromQuery(req.query as Record<string, unknown>);
    const limits = { maxBytes: notifications.config.notify.batch.maxBytes, maxRowBytes: MAX_ROW_BYTES };
    let submitted: BatchSubmitted;
    try {
      submitted = await notifications.batches.submit(sender, await openBatch(format, body(req), settings, limits), key);
    } catch (err) {
      if (err instanceof RateLimitedError) {
        res.setHeader('Retry-After', String(err.rate.nextTokenSeconds));
        setRateLimitHeaders(res, err.rate);
      }
      // the rest of a refused body is not read: the connection closes after the answer
      if (!req.complete) res.setHeader('Connection', 'close');
      throw err;
    }
    if (submitted.rate) setRateLimitHeaders(res, submitted.rate);
    if (submitted.replayed) res.setHeader('Idempotent-Replayed', 'true');
    const view = await notifications.batches.get(sender, submitted.id);
    res.status(202).location(`/v1/notifications/batches/${submitted.id}`).json(batchJson(view));
  });

  r.get('/v1/notifications/batches/:id', async (req, res) => {
    res.json(batchJson(await notifications.batches.get(senderOf(res), req.params.id!)));
  });

  r.get('/v1/notifications/batches/:id/rows', async (req, res) => {
    const page = await notifications.batches.rows(senderOf(res), req.params.id!, req.query);
    res.json({
      items: page.items.map((i) => (i.result === 'accepted' ? { ...i, href: `/v1/notifications/${i.notificationId}` } : i)),
      nextCursor: page.nextCursor,
    });
  });
}
