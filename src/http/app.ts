/**
 * The express application: routes, authentication, problem+json errors.
 *
 * Every answer carries helmet's defaults (`X-Content-Type-Options: nosniff`, a closed
 * Content-Security-Policy, no framing…) and `Cache-Control: no-store` — API answers carry
 * personal data or secrets (proofs, statuses, tokens shown once) and must not stay in a
 * cache — but for the public OpenAPI document. Authenticated routes pass the AuthGuard first:
 * an address that failed authentication too often is refused there.
 */
import express, { type Express, type RequestHandler } from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { ServiceError } from '../domain/errors.js';
import type { Runtime } from '../app/runtime.js';
import { requireToken } from './auth.js';
import { AuthGuard, GUARDED_PATHS } from './AuthGuard.js';
import { createMetrics } from './metrics.js';
import { openApiDocument } from './openapi.js';
import { problemHandler } from './problem.js';
import { adminRouter } from './admin.js';
import { eboxRouter } from './registered-mail/ebox.js';
import { messagesRouter } from './registered-mail/messages.js';
import { serveTsa } from './tsa.js';
import { notificationsRouter } from './notifications/notifications.js';
import { notificationsAdminRouter } from './notifications/admin.js';
import { pagesRouter } from './pages/index.js';

/** %00–%1F and %7F in a path */
const CONTROL_IN_PATH = /%(?:[01][0-9a-f]|7f)/i;

export interface AppOptions {
  /** the metrics registry to fill (one per process; created here when absent) */
  metrics?: Registry;
}

export function createApp(rt: Runtime, log: Logger, options: AppOptions = {}): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', rt.config.http.trustProxy);
  const metrics = options.metrics ?? createMetrics(rt.store, { missingDocuments: () => rt.blobSweep.missing, recordsPending: () => rt.records.pending() });
  const guard = new AuthGuard(rt.config.authThrottle, log, metrics);

  app.use(helmet({ strictTransportSecurity: rt.config.http.tls !== undefined }));
  app.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  // No resource is named with a control character, and PostgreSQL cannot even compare a
  // NUL: such a path (percent-encoded: Node refuses them raw) is not found, before any route
  // takes it as an id.
  app.use((req, _res, next) => next(CONTROL_IN_PATH.test(req.path) ? new ServiceError('NOT_FOUND', 'no such resource') : undefined));

  // liveness: this process answers (an orchestrator restarts it when not)
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  // readiness: its database answers and its blob store takes writes (503/507 with Retry-After when not)
  app.get('/readyz', async (_req, res) => {
    res.json({ status: 'ready', checks: await rt.readiness.check() });
  });
  app.get([...GUARDED_PATHS.metrics], guard.gate('metrics'), requireToken('metrics', rt.config.metrics.token, 'the metrics token (METRICS_TOKEN)'), metricsHandler(metrics));
  app.get('/openapi.json', (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.json(openApiDocument(rt.config));
  });
  if (rt.tsa && rt.config.tsa.serveHttp) serveTsa(app, rt.tsa);

  app.use([...GUARDED_PATHS.sender], guard.gate('sender'));
  app.use([...GUARDED_PATHS.recipient], guard.gate('recipient'));
  app.use([...GUARDED_PATHS.callback], guard.gate('callback'));
  app.use([...GUARDED_PATHS.admin], guard.gate('admin'), requireToken('admin', rt.config.adminToken, 'the admin token (ADMIN_TOKEN)'));
  app.use(
    messagesRouter({
      senders: rt.senders,
      submissions: rt.submissions,
      batches: rt.batches,
      consult: rt.consult,
      receipts: rt.receipts,
      records: rt.records,
      webhooks: rt.webhooks,
      notifier: rt.notifier,
      submitWaitMs: rt.config.submitWaitMs,
      log,
    }),
  );
  app.use(eboxRouter(rt.recipients, rt.receipts, rt.records));
  app.use(adminRouter({ recipients: rt.recipients, senders: rt.senders, jobs: rt.jobs, clerks: rt.pageSessions, defaultIssuer: rt.config.pages.oidc?.issuer }));
  app.use(notificationsRouter({ senders: rt.senders, notifications: rt.notifications, syncWaitMs: rt.config.notify.syncWaitMs }));
  app.use(notificationsAdminRouter({ contacts: rt.notifications.contacts, notifications: rt.notifications }));
  app.use(
    pagesRouter({
      sessions: rt.pageSessions,
      signin: rt.signin,
      recipients: rt.recipients,
      receipts: rt.receipts,
      console: rt.senderConsole,
      senders: rt.senders,
      webhooks: rt.webhooks,
      verify: { config: rt.config, ...(rt.devPki ? { devPkiRoot: rt.devPki.root } : {}) },
      log,
    }),
  );

  app.use((_req, _res, next) => next(new ServiceError('NOT_FOUND', 'no such resource')));
  app.use(problemHandler(log, guard));
  return app;
}

export function metricsHandler(metrics: Registry): RequestHandler {
  return async (_req, res) => {
    res.type(metrics.contentType).send(await metrics.metrics());
  };
}
