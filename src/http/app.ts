/**
 * The express application: routes, authentication, problem+json errors.
 */
import express, { type Express } from 'express';
import type { Logger } from 'pino';
import { ServiceError } from '../domain/errors.js';
import type { Runtime } from '../services/runtime.js';
import { createMetrics } from './metrics.js';
import { openApiDocument } from './openapi.js';
import { problemHandler } from './problem.js';
import { adminRouter } from './routes/admin.js';
import { eboxRouter } from './routes/ebox.js';
import { messagesRouter } from './routes/messages.js';
import { serveTsa } from './routes/tsa.js';
import { notificationsRouter } from './routes/notifications.js';
import { notificationsAdminRouter } from './routes/notificationsAdmin.js';

export function createApp(rt: Runtime, log: Logger): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const metrics = createMetrics(rt.store);

  app.get('/healthz', async (_req, res) => {
    await rt.store.ping();
    res.json({ status: 'ok' });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.contentType).send(await metrics.metrics());
  });
  app.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument(rt.config));
  });
  if (rt.tsa && rt.config.tsa.serveHttp) serveTsa(app, rt.tsa);
  app.use(
    messagesRouter({
      store: rt.store,
      submissions: rt.submissions,
      consult: rt.consult,
      webhooks: rt.webhooks,
      notifier: rt.notifier,
      submitWaitMs: rt.config.submitWaitMs,
      log,
    }),
  );
  app.use(eboxRouter(rt.recipients));
  app.use(adminRouter({ adminToken: rt.config.adminToken, recipients: rt.recipients, store: rt.store }));
  app.use(notificationsRouter({ store: rt.store, notifications: rt.notifications, syncWaitMs: rt.config.notify.syncWaitMs }));
  app.use(notificationsAdminRouter({ adminToken: rt.config.adminToken, contacts: rt.notifications.contacts, notifications: rt.notifications }));

  app.use((_req, _res, next) => next(new ServiceError('NOT_FOUND', 'no such resource')));
  app.use(problemHandler(log));
  return app;
}
