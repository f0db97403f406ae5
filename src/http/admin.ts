/**
 * /v1/admin: operator endpoints, mounted behind ADMIN_TOKEN (src/http/app.ts; closed when
 * it is not set): senders and their credentials (API keys and client certificates: issue,
 * rotate, revoke), the local e-Box's recipient registry and recipients' access tokens, and
 * the job queue with its dead letters.
 */
import { Router } from 'express';
import { ServiceError } from '../domain/errors.js';
import type { RecipientService } from '../registered-mail/recipients.js';
import type { SenderService } from '../access/senders.js';
import type { Clerk, PageSessionService } from '../access/pageSessions.js';
import type { JobAdmin } from '../worker/JobAdmin.js';
import { jsonBody } from './json.js';
import { credentialJson } from './views.js';

export interface AdminDeps {
  recipients: RecipientService;
  senders: SenderService;
  jobs: JobAdmin;
  /** the clerks of senders: identities of the identity provider mapped to a sender */
  clerks: PageSessionService;
  /** the issuer a clerk mapping names when the request names none (OIDC_ISSUER) */
  defaultIssuer?: string;
}

function clerkJson(c: Clerk) {
  return { issuer: c.issuer, subject: c.subject, senderId: c.senderId, name: c.name, createdAt: c.createdAt };
}

function recipientType(raw: string | undefined): 'citizen' | 'enterprise' {
  if (raw !== 'citizen' && raw !== 'enterprise') throw new ServiceError('NOT_FOUND', 'no such recipient');
  return raw;
}

export function adminRouter(deps: AdminDeps): Router {
  const r = Router();
  const json = jsonBody('64kb');

  r.post('/v1/admin/senders', json, async (req, res) => {
    const name = (req.body as { name?: unknown } | undefined)?.name;
    if (typeof name !== 'string') throw new ServiceError('SENDER_INVALID', 'send {"name": "…"}');
    const { sender, credential, apiKey } = await deps.senders.create(name);
    res.status(201).json({ id: sender.id, name: sender.name, createdAt: sender.createdAt, credential: credentialJson(credential), apiKey });
  });

  r.get('/v1/admin/senders', async (_req, res) => {
    const senders = await deps.senders.list();
    res.json({ items: senders.map((s) => ({ id: s.id, name: s.name, createdAt: s.createdAt })) });
  });

  r.get('/v1/admin/senders/:id/credentials', async (req, res) => {
    res.json({ items: (await deps.senders.credentials(req.params.id!)).map(credentialJson) });
  });

  r.post('/v1/admin/senders/:id/credentials', json, async (req, res) => {
    const b = (req.body ?? {}) as { kind?: unknown; name?: unknown; expiresAt?: unknown; certificate?: unknown };
    if (b.kind === 'api_key' || b.kind === undefined) {
      const { credential, apiKey } = await deps.senders.issueApiKey(req.params.id!, b.name, b.expiresAt);
      return void res.status(201).json({ credential: credentialJson(credential), apiKey });
    }
    if (b.kind === 'tls_client_certificate') {
      const credential = await deps.senders.registerCertificate(req.params.id!, b.name, b.certificate);
      return void res.status(201).json({ credential: credentialJson(credential) });
    }
    throw new ServiceError('CREDENTIAL_INVALID', 'kind must be "api_key" or "tls_client_certificate"');
  });

  r.post('/v1/admin/senders/:id/credentials/:credentialId/rotate', json, async (req, res) => {
    const grace = (req.body as { graceSeconds?: unknown } | undefined)?.graceSeconds;
    const { credential, apiKey, previous } = await deps.senders.rotateApiKey(req.params.id!, req.params.credentialId!, grace ?? 0);
    res.status(201).json({ credential: credentialJson(credential), apiKey, previous: credentialJson(previous) });
  });

  r.delete('/v1/admin/senders/:id/credentials/:credentialId', async (req, res) => {
    await deps.senders.revoke(req.params.id!, req.params.credentialId!);
    res.status(204).end();
  });

  r.post('/v1/admin/recipients', json, async (req, res) => {
    const b = (req.body ?? {}) as { type?: unknown; id?: unknown; activated?: unknown; name?: unknown };
    if ((b.type !== 'citizen' && b.type !== 'enterprise') || typeof b.id !== 'string') throw new ServiceError('RECIPIENT_INVALID', 'send {"type": "citizen"|"enterprise", "id": "…", "activated": true}');
    const { recipient, token } = await deps.recipients.register(b.type, b.id, { activated: b.activated !== false, name: typeof b.name === 'string' ? b.name : undefined });
    res.status(201).json({ type: recipient.type, id: recipient.identifier, activated: recipient.eboxActivated, token });
  });

  r.patch('/v1/admin/recipients/:type/:id', json, async (req, res) => {
    const type = recipientType(req.params.type);
    const activated = (req.body as { activated?: unknown } | undefined)?.activated;
    if (typeof activated !== 'boolean') throw new ServiceError('RECIPIENT_INVALID', 'send {"activated": true|false}');
    await deps.recipients.setActivated(type, req.params.id!, activated);
    res.status(204).end();
  });

  r.post('/v1/admin/recipients/:type/:id/token', async (req, res) => {
    const token = await deps.recipients.issueToken(recipientType(req.params.type), req.params.id!);
    res.status(201).json({ token });
  });

  r.delete('/v1/admin/recipients/:type/:id/token', async (req, res) => {
    await deps.recipients.revokeToken(recipientType(req.params.type), req.params.id!);
    res.status(204).end();
  });

  r.get('/v1/admin/senders/:id/clerks', async (req, res) => {
    res.json({ items: (await deps.clerks.clerks(req.params.id!)).map(clerkJson) });
  });

  r.post('/v1/admin/senders/:id/clerks', json, async (req, res) => {
    const b = (req.body ?? {}) as { issuer?: unknown; subject?: unknown; name?: unknown };
    const issuer = b.issuer ?? deps.defaultIssuer;
    if (issuer === undefined) throw new ServiceError('CLERK_INVALID', 'issuer is required: no identity provider is configured (OIDC_ISSUER)');
    const clerk = await deps.clerks.mapClerk(req.params.id!, { issuer, subject: b.subject, name: b.name });
    res.status(201).json(clerkJson(clerk));
  });

  r.delete('/v1/admin/senders/:id/clerks', async (req, res) => {
    const issuer = req.query.issuer ?? deps.defaultIssuer;
    if (typeof issuer !== 'string') throw new ServiceError('CLERK_INVALID', 'issuer (one, in the query) is required: no identity provider is configured (OIDC_ISSUER)');
    if (typeof req.query.subject !== 'string') throw new ServiceError('CLERK_INVALID', 'subject (one, in the query) is required');
    await deps.clerks.unmapClerk(req.params.id!, issuer, req.query.subject);
    res.status(204).end();
  });

  r.get('/v1/admin/jobs', async (req, res) => {
    const status = req.query.status;
    res.json({ items: await deps.jobs.list(status === undefined ? undefined : String(status)) });
  });

  r.post('/v1/admin/jobs/:id/retry', async (req, res) => {
    await deps.jobs.retry(req.params.id!);
    res.status(204).end();
  });
  return r;
}
