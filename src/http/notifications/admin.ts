/**
 * /v1/admin/contacts, /v1/admin/opt-outs, /v1/admin/senders/{id}/notifications and
 * /v1/admin/notifications: the operator manages the contact directory (mobile number,
 * language, GovApp installations with their public keys, the numbers' opt-outs), each
 * sender's SMS sender ID and rate limit, and reads the usage of every sender. Behind ADMIN_TOKEN, like the rest of /v1/admin.
 */
import { Router } from 'express';
import type { NotificationService } from '../../notifications/service.js';
import type { ContactService } from '../../notifications/contacts.js';
import { jsonBody } from '../json.js';

/** Mounted behind the admin authentication of /v1/admin (src/http/app.ts). */
export function notificationsAdminRouter(deps: { contacts: ContactService; notifications: NotificationService }): Router {
  const r = Router();
  const json = jsonBody('16kb');

  r.put('/v1/admin/contacts/:type/:id', json, async (req, res) => {
    const { created, contact } = await deps.contacts.put(req.params.type, req.params.id, req.body);
    res.status(created ? 201 : 200).json(contact);
  });

  r.get('/v1/admin/contacts/:type/:id', async (req, res) => {
    res.json(await deps.contacts.get(req.params.type, req.params.id));
  });

  r.delete('/v1/admin/contacts/:type/:id', async (req, res) => {
    await deps.contacts.remove(req.params.type, req.params.id);
    res.status(204).end();
  });

  r.post('/v1/admin/contacts/:type/:id/installations', json, async (req, res) => {
    const installation = await deps.contacts.addInstallation(req.params.type, req.params.id, req.body);
    res.status(201).json(installation);
  });

  r.patch('/v1/admin/contacts/:type/:id/installations/:installationId', json, async (req, res) => {
    res.json(await deps.contacts.updateInstallation(req.params.type, req.params.id, req.params.installationId!, req.body));
  });

  r.delete('/v1/admin/contacts/:type/:id/installations/:installationId', async (req, res) => {
    await deps.contacts.removeInstallation(req.params.type, req.params.id, req.params.installationId!);
    res.status(204).end();
  });

  // a number's opt-outs (STOP answered to a sender, or STOP ALL); the operator can lift one
  r.get('/v1/admin/opt-outs/:phoneNumber', async (req, res) => {
    res.json(await deps.notifications.inbound.optOuts(req.params.phoneNumber));
  });

  r.delete('/v1/admin/opt-outs/:phoneNumber/:scope', async (req, res) => {
    await deps.notifications.inbound.removeOptOut(req.params.phoneNumber, req.params.scope);
    res.status(204).end();
  });

  // a sender's SMS sender ID and rate limit
  r.get('/v1/admin/senders/:id/notifications', async (req, res) => {
    res.json(await deps.notifications.senderSettings.get(req.params.id));
  });

  r.put('/v1/admin/senders/:id/notifications', json, async (req, res) => {
    res.json(await deps.notifications.senderSettings.put(req.params.id, req.body));
  });

  r.get('/v1/admin/notifications/usage', async (req, res) => {
    res.json(await deps.notifications.usage(req.query.month));
  });

  return r;
}
