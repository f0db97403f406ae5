/** The service's start, loaded by its entry point (server.ts), which says what it does. */
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import { parseArgs } from 'node:util';
import express from 'express';
import { loadConfig } from '../config.js';
import { createApp, metricsHandler } from '../http/app.js';
import { createMetrics } from '../http/metrics.js';
import { createHttpServer, listen, type HttpServer } from '../http/server.js';
import { createLogger } from '../logger.js';
import { revocationWithoutPublisher, startDevOidc, startDevPkiPublisher, startDevProviders, wantsDevProviders, type DevProviders } from '../app/devProviders.js';
import { createRuntime } from '../app/runtime.js';
import { devAdminToken } from '../access/devAdminToken.js';

type Role = 'all' | 'api' | 'worker';

/** Starts the service; resolves once it is up (listening, or its worker running). */
export async function main(): Promise<void> {
  const { values } = parseArgs({ options: { role: { type: 'string', default: 'all' } } });
  const role = values.role as Role;
  if (!['all', 'api', 'worker'].includes(role)) {
    console.error('usage: server [--role all|api|worker]');
    process.exit(3);
  }
  // a ConfigError is told and exits 1 by the entry point (server.ts), as one found later
  let config = loadConfig();
  const log = createLogger(config.logLevel);
  // development without ADMIN_TOKEN: a token kept in the data folder, so the admin API answers
  const admin = role === 'worker' ? undefined : devAdminToken(config);
  if (admin) {
    config = admin.config;
    const shown = path.relative(process.cwd(), admin.file).startsWith('..') ? admin.file : path.relative(process.cwd(), admin.file);
    log.info({ adminTokenFile: admin.file, created: admin.created }, `development admin token (ADMIN_TOKEN is not set) in ${shown}: ADMIN_TOKEN=$(cat ${shown})`);
  }
  // development defaults: simulated SMS aggregator and GovApp backend, in this process
  let dev: DevProviders | undefined;
  if (role === 'all') {
    dev = await startDevProviders(config, log);
    if (dev) {
      config = dev.config;
      log.info(
        { smsSimulator: dev.urls.sms, govappSimulator: dev.urls.govapp },
        `development simulators: SMS aggregator ${dev.urls.sms} (GET /messages; POST /inbound {"from", "text"}: a phone answers), GovApp backend ${dev.urls.govapp} (GET /_sim/pushes); DEV_SIMULATORS=false turns them off`,
      );
    }
  } else if (wantsDevProviders(config)) {
    log.info({ role }, 'development simulators run with --role all only: no SMS or GovApp provider is configured');
  }
  // development: the development PKI's CRL served where its certificates point (SEAL_REVOCATION=crl)
  let publisher: Awaited<ReturnType<typeof startDevPkiPublisher>>;
  if (role === 'all') {
    publisher = await startDevPkiPublisher(config, log);
    if (publisher) {
      config = publisher.config;
      log.info({ crl: publisher.url }, `development PKI publisher: the root's CRL at ${publisher.url}`);
    }
  }
  // The development default (crl) needs the publisher: without it (another role, a build
  // without dev/, its port taken) proofs would wait for ever, so they are sealed CAdES-B-T.
  // SEAL_REVOCATION=crl set by hand keeps waiting for revocation data, as in production.
  const withoutPublisher = publisher ? undefined : revocationWithoutPublisher(config);
  if (withoutPublisher) {
    config = withoutPublisher;
    log.warn({ role }, 'the development PKI publisher does not run in this process: proofs are sealed CAdES-B-T, without revocation data (SEAL_REVOCATION=crl waits for it instead)');
  }
  // development without OIDC_ISSUER: the development OpenID provider signs people in to the pages
  const devOidc = role === 'worker' ? undefined : await startDevOidc(config, log);
  if (devOidc) config = devOidc.config;
  const rt = await createRuntime(config, log);
  const devPeople = devOidc ? await devOidc.seed(rt) : undefined;
  if (role === 'worker') rt.startWorker();
  let server: HttpServer | undefined;
  let metricsServer: HttpServer | undefined;
  let stopping = false;
  /** responses under way, told to close their connection when the service stops */
  const answering = new Set<ServerResponse>();
  const metrics = createMetrics(rt.store, { missingDocuments: () => rt.blobSweep.missing, recordsPending: () => rt.records.pending() });
  if (config.metrics.port !== undefined) {
    // /metrics alone, without a token, on a listener of its own (loopback by default)
    const metricsApp = express();
    metricsApp.disable('x-powered-by');
    metricsApp.get('/metrics', metricsHandler(metrics));
    metricsServer = await createHttpServer(metricsApp, { ...config.http, tls: undefined });
    const metricsPort = await listen(metricsServer, config.metrics.port, config.metrics.host);
    log.info({ host: config.metrics.host, port: metricsPort }, `metrics on http://${urlHost(config.metrics.host)}:${metricsPort}/metrics`);
  }
  if (role !== 'worker') {
    const app = createApp(rt, log, { metrics });
    // server.close() only stops new connections: a client on keep-alive would be served for as
    // long as it kept sending, and the runtime never closed. Once stopping, every answer closes
    // its connection, and a connection left idle is closed as soon as its answer is out.
    const s: HttpServer = await createHttpServer((req, res) => {
      if (stopping) res.setHeader('connection', 'close');
      answering.add(res);
      res.once('close', () => answering.delete(res));
      res.once('finish', () => {
        if (stopping) setImmediate(() => s.closeIdleConnections());
      });
      void app(req, res);
    }, config.http);
    server = s;
    const port = await listen(s, config.port, config.host);
    const scheme = config.http.tls ? 'https' : 'http';
    // PORT=0: the callback base is known only now; the worker starts after, so every
    // provider request names it
    if (!config.notify.callbackBaseUrl) rt.notifications.setCallbackBaseUrl(`${scheme}://${urlHost(config.host)}:${port}`);
    // PUBLIC_URL unset (development): the identity provider sends people back to this address
    rt.signin?.setPublicUrl(`${scheme}://${urlHost(config.host)}:${port}`);
    const publicUrl = config.pages.publicUrl ?? `${scheme}://${urlHost(config.host)}:${port}`;
    devOidc?.allowRedirectUri(`${publicUrl}/signin/callback`);
    if (role === 'all') rt.startWorker();
    log.info(
      { role, port, host: config.host, database: config.database.client, tsa: config.tsa.url ?? 'built-in', ebox: rt.ebox.name, keyAlgorithm: config.keyAlgorithm, trustAnchor: rt.devPki?.root },
      `registered-mail listening on ${scheme}://${config.host}:${port}`,
    );
    log.info(
      { pages: { ebox: `${publicUrl}/ebox`, console: `${publicUrl}/console`, verify: `${publicUrl}/verify` }, signIn: rt.signin ? rt.signin.issuer : 'not configured' },
      rt.signin
        ? `pages: ${publicUrl}/ebox (citizens), ${publicUrl}/console (senders' clerks), ${publicUrl}/verify; sign in with ${rt.signin.issuer}${devOidc ? ' — the development provider: choose "Test citizen" (INSZ 85073003328, an activated e-Box) or "Test clerk" (of the "Development sender")' : ''}`
        : `pages: ${publicUrl}/verify (no sign-in: OIDC_ISSUER is not set, so /ebox and /console are off)`,
    );
    if (devPeople) {
      const shown = path.relative(process.cwd(), devPeople.apiKeyFile).startsWith('..') ? devPeople.apiKeyFile : path.relative(process.cwd(), devPeople.apiKeyFile);
      log.info({ senderId: devPeople.senderId, apiKeyFile: devPeople.apiKeyFile }, `Development sender ${devPeople.senderId}: its API key is in ${shown} (send the test citizen a letter: README, "Pages")`);
    }
  } else {
    log.info({ role, database: config.database.client, ebox: rt.ebox.name, workerId: rt.runner.workerId }, 'registered-mail worker running');
  }

  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    let failed = false;
    const finish = () =>
      void rt
        .close()
        .catch((err) => {
          failed = true;
          log.error({ err }, 'error while closing');
        })
        .then(() => dev?.close())
        .then(() => publisher?.close())
        .then(() => devOidc?.close())
        .finally(() => {
          if (!failed) log.info({ shutdown: 'complete' }, 'stopped: requests answered, jobs finished or handed back, database closed');
          process.exit(failed ? 1 : 0);
        });
    metricsServer?.close();
    if (server) {
      for (const res of answering) if (!res.headersSent) res.setHeader('connection', 'close');
      server.close(finish); // no new connections; idle ones are closed now
    } else {
      finish();
    }
    setTimeout(() => {
      log.error({ shutdown: 'timeout' }, 'did not stop within 10 s: exiting; jobs under way go back to the queue when their lease expires');
      process.exit(1);
    }, 10_000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/** The host part of a URL to this process: loopback for a wildcard address, brackets for IPv6. */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
