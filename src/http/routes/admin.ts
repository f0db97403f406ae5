/**
 * /v1/admin: operator endpoints, behind ADMIN_TOKEN (closed when it is not set):
 * the local e-Box's recipient registry, and the job queue with its dead letters.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { ServiceError } from '../../domain/errors.js';
import type { RecipientService } from '../../services/recipients.js';
import type { JobStatus } from '../../store/JobRepository.js';
import type { Store } from '../../store/Store.js';

const sha = (s: string) => createHash('sha256').update(s).digest();

export function adminRouter(deps: { adminToken?: string; recipients: RecipientService; store: Store }): Router {
  const r = Router();
  const expected = deps.adminToken ? sha(deps.adminToken) : undefined;
  r.use('/v1/admin', (req: Request, _res: Response, next: NextFunction) => {
    const m = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
    if (!expected || !m || !timingSafeEqual(sha(m[1]!), expected)) return next(new ServiceError('UNAUTHENTICATED', 'the admin token is required'));
    next();
  });

  r.post('/v1/admin/recipients', express.json({ limit: '8kb' }), async (req, res) => {
    const b = (req.body ?? {}) as { type?: unknown; id?: unknown; activated?: unknown; name?: unknown };
    if ((b.type !== 'citizen' && b.type !== 'enterprise') || typeof b.id !== 'string') throw new ServiceError('RECIPIENT_INVALID', 'send {"type": "citizen"|"enterprise", "id": "…", "activated": true}');
    const { recipient, token } = await deps.recipients.register(b.type, b.id, { activated: b.activated !== false, name: typeof b.name === 'string' ? b.name : undefined });
    res.status(201).json({ type: recipient.type, id: recipient.identifier, activated: recipient.eboxActivated, token });
  });

  r.patch('/v1/admin/recipients/:type/:id', express.json({ limit: '8kb' }), async (req, res) => {
    const type = req.params.type;
    if (type !== 'citizen' && type !== 'enterprise') throw new ServiceError('NOT_FOUND', 'no such recipient');
    const activated = (req.body as { activated?: unknown } | undefined)?.activated;
    if (typeof activated !== 'boolean') throw new ServiceError('RECIPIENT_INVALID', 'send {"activated": true|false}');
    await deps.recipients.setActivated(type, req.params.id!, activated);
    res.status(204).end();
  });

  r.get('/v1/admin/jobs', async (req, res) => {
    const status = req.query.status;
    if (status !== undefined && !['pending', 'running', 'done', 'dead'].includes(String(status))) throw new ServiceError('QUERY_INVALID', 'status must be pending, running, done or dead');
    const jobs = await deps.store.jobs.list({ status: status as JobStatus | undefined, limit: 500 });
    res.json({ items: jobs.map((j) => ({ id: j.id, type: j.type, messageId: j.messageId, status: j.status, attempts: j.attempts, maxAttempts: j.maxAttempts, runAt: j.runAt, lastError: j.lastError })) });
  });

  r.post('/v1/admin/jobs/:id/retry', async (req, res) => {
    const ok = await deps.store.jobs.retryDead(Number(req.params.id));
    if (!ok) throw new ServiceError('NOT_FOUND', 'no such dead job');
    res.status(204).end();
  });
  return r;
}
