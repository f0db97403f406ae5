/**
 * Wires the service together from its configuration: database (migrated), blob store
 * (swept of what a crash left behind), sealing identity, time-stamping authority, e-Box
 * adapter, the use-case services, and the job runner with its handlers. The HTTP app,
 * the worker and the CLIs start from here.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import { insecureDefaults, type Config, type KeySource } from '../config.js';
import {
  DEV_OCSP_URL,
  ensureDevPki,
  HttpTimeStamper,
  loadSigningIdentity,
  LocalTimeStamper,
  TimeStampAuthority,
  type DevPkiOptions,
  type DevPkiPaths,
  type KeyAlgorithm,
  type Pkcs11Signer,
  type Signer,
  type SigningIdentity,
  type DigestTimeStamper,
} from '../crypto/index.js';
import type { EboxAdapter } from '../registered-mail/ebox/EboxAdapter.js';
import { HttpEboxAdapter } from '../registered-mail/ebox/HttpEboxAdapter.js';
import { LocalEbox } from '../registered-mail/ebox/LocalEbox.js';
import { OutboundPolicy } from '../net/OutboundPolicy.js';
import type { BlobStore } from '../store/BlobStore.js';
import type { Repositories } from '../store/Repositories.js';
import { JobAdmin } from '../worker/JobAdmin.js';
import { JobRunner, type JobHandlers } from '../worker/JobRunner.js';
import { JOB_PAYLOADS } from '../store/jobs.js';
import { ConsultService } from '../registered-mail/consult.js';
import { ConsoleService } from '../registered-mail/console.js';
import { DeliveryService, JOB } from '../registered-mail/delivery.js';
import { EvidenceNotifier, EvidenceService } from '../registered-mail/evidence.js';
import { MaintenanceService } from '../registered-mail/maintenance.js';
import { EvidenceRecordService } from '../registered-mail/records.js';
import { ReceiptService } from '../registered-mail/receipts.js';
import { RecipientService } from '../registered-mail/recipients.js';
import { sweepBlobs, type BlobSweepReport } from '../store/BlobSweep.js';
import { FsBlobStore } from '../store/FsBlobStore.js';
import { PgSignalListener, SIGNAL } from '../store/PgSignals.js';
import { ReadinessService } from './readiness.js';
import { openStore } from './store.js';
import { Sealer } from '../registered-mail/sealing.js';
import { CrlFetcher, LongTermSealing, OcspFetcher } from '../registered-mail/revocation.js';
import { SenderService } from '../access/senders.js';
import { PageSessionService } from '../access/pageSessions.js';
import { OidcSignin } from '../access/oidc.js';
import { SubmissionService } from '../registered-mail/intake.js';
import { BatchService } from '../registered-mail/batches.js';
import { WebhookService } from '../registered-mail/webhooks.js';
import type { NotificationService } from '../notifications/service.js';
import { buildNotifications } from './notifications.js';
import { openTokenKey } from './tokenKeys.js';

/** what a first-proof signal may carry (PgSignals): a message id */
const MESSAGE_ID = /^[0-9a-f-]{36}$/i;

export interface Runtime {
  config: Config;
  log: Logger;
  store: Repositories;
  blobs: BlobStore;
  sealer: Sealer;
  timeStamper: DigestTimeStamper;
  /** The built-in TSA, when no external TSA_URL is configured. */
  tsa?: TimeStampAuthority;
  ebox: EboxAdapter;
  notifier: EvidenceNotifier;
  submissions: SubmissionService;
  /** batches of registered messages (POST /v1/messages/batches) */
  batches: BatchService;
  consult: ConsultService;
  /** what the sender's console (/console) reads: filtered messages, timelines, usage, bundles */
  senderConsole: ConsoleService;
  delivery: DeliveryService;
  maintenance: MaintenanceService;
  /** RFC 4998 evidence records of the proofs and checkpoints */
  records: EvidenceRecordService;
  webhooks: WebhookService;
  recipients: RecipientService;
  /** PDF receipts of the proofs, signed on request */
  receipts: ReceiptService;
  /** senders and their credentials */
  senders: SenderService;
  /** the pages' sessions and the clerks of senders */
  pageSessions: PageSessionService;
  /** sign-in with OpenID Connect, when an identity provider is configured (config.pages.oidc) */
  signin?: OidcSignin;
  /** short-message notifications (GovApp push, SMS) and the contact directory */
  notifications: NotificationService;
  runner: JobRunner;
  /** the job queue as the operator sees it */
  jobs: JobAdmin;
  /** Whether the database and the blob store can take work now (GET /readyz). */
  readiness: ReadinessService;
  /** What the blob sweep at start found (documents missing: an alarm). */
  blobSweep: BlobSweepReport;
  /** The dev PKI files, when in use (its root.pem is the trust anchor of the proofs). */
  devPki?: DevPkiPaths;
  /** Starts the job runner and the periodic scheduler in this process. */
  startWorker(): void;
  close(): Promise<void>;
}

/** How a development PKI is made for this configuration: its certificates name the publisher's OCSP responder only for SEAL_REVOCATION=ocsp (DevPki.ts). */
export function devPkiOptions(config: Config): DevPkiOptions {
  return config.revocation.mode === 'ocsp' ? { ocspUrl: DEV_OCSP_URL } : {};
}

const DEV_DIR_NAMES: Record<KeyAlgorithm, string> = {
  'ECDSA-P256': 'p256',
  'ECDSA-P384': 'p384',
  'RSA-2048': 'rsa2048',
  'RSA-3072': 'rsa3072',
};

export function devPkiDir(config: Config): string {
  return path.join(config.devCertsDir, DEV_DIR_NAMES[config.keyAlgorithm]);
}

async function identityFrom(source: KeySource, dev: () => Promise<DevPkiPaths>, which: 'seal' | 'tsa', tokenKeys: Pkcs11Signer[], log: Logger): Promise<SigningIdentity | Signer> {
  if (source.kind === 'pkcs11') {
    const signer = await openTokenKey(source, which === 'seal' ? 'SEAL' : 'TSA', log);
    tokenKeys.push(signer);
    return signer;
  }
  if (source.kind === 'pem') return loadSigningIdentity({ keyFile: source.keyFile, certFile: source.certFile, chainFile: source.chainFile });
  if (source.kind === 'pkcs12') return loadSigningIdentity({ p12File: source.p12File, password: source.password });
  const paths = await dev();
  return which === 'seal'
    ? loadSigningIdentity({ keyFile: paths.sealKey, certFile: paths.sealCert, chainFile: paths.root })
    : loadSigningIdentity({ keyFile: paths.tsaKey, certFile: paths.tsaCert, chainFile: paths.root });
}

/** A temp file older than this cannot belong to an upload in progress: twice the longest a request may take. */
export function tempFileMaxAgeMs(config: Config): number {
  return 2 * config.http.requestTimeoutMs;
}

/**
 * The time-stamping the configuration names: the TSA at TSA_URL, or the built-in TSA with
 * its key (in a PKCS#11 token, in a file, or the development PKI's when none is configured).
 * `close` closes a token key it opened (those it puts in `tokenKeys`, when given, are the
 * caller's to close).
 */
export async function createTimeStamping(
  config: Config,
  options: { log: Logger; dev?: () => Promise<DevPkiPaths>; tokenKeys?: Pkcs11Signer[] },
): Promise<{ timeStamper: DigestTimeStamper; tsa?: TimeStampAuthority; tsaChain: readonly Uint8Array[]; close(): Promise<void> }> {
  const tokenKeys = options.tokenKeys ?? [];
  const close = async () => {
    if (!options.tokenKeys) await Promise.all(tokenKeys.map((k) => k.close()));
  };
  if (config.tsa.url) return { timeStamper: new HttpTimeStamper(config.tsa.url, { timeoutMs: config.tsa.timeoutMs }), tsaChain: [], close };
  const dev = options.dev ?? (() => ensureDevPki(devPkiDir(config), config.keyAlgorithm, devPkiOptions(config)));
  const identity = await identityFrom(config.tsa.key, dev, 'tsa', tokenKeys, options.log);
  const tsa = new TimeStampAuthority(identity, { policyOid: config.tsa.policyOid, accuracyMs: 1 });
  return { timeStamper: new LocalTimeStamper(tsa), tsa, tsaChain: identity.chain, close };
}

/**
 * Receipts signed as the service signs them (the sealing key, the configured TSA), for a
 * process that does not run the service: the export CLI. `close` closes token keys it opened.
 */
export async function createReceipts(config: Config, options: { log: Logger }): Promise<{ receipts: ReceiptService; close(): Promise<void> }> {
  const dev = () => ensureDevPki(devPkiDir(config), config.keyAlgorithm, devPkiOptions(config));
  const tokenKeys: Pkcs11Signer[] = [];
  const close = async () => void (await Promise.all(tokenKeys.map((k) => k.close())));
  try {
    const identity = await identityFrom(config.sealing, dev, 'seal', tokenKeys, options.log);
    const { timeStamper } = await createTimeStamping(config, { log: options.log, dev, tokenKeys });
    const sealer = new Sealer(identity, timeStamper, { threads: 0 });
    return { receipts: new ReceiptService(sealer), close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The Sealer options that make proofs CAdES-B-LT, when SEAL_REVOCATION asks for it (docs/revocation.md). */
export function longTermSealing(config: Config, log: Logger, tsaChain: readonly Uint8Array[] = []): { longTerm?: LongTermSealing; extraCertificates?: readonly Uint8Array[] } {
  if (config.revocation.mode === 'off') return {};
  const policy = new OutboundPolicy({ allow: config.revocation.allowPrivateTargets });
  const options = { policy, timeoutMs: config.revocation.timeoutMs, maxBytes: config.revocation.maxBytes, log };
  const source = config.revocation.mode === 'ocsp' ? ({ kind: 'ocsp', fetcher: new OcspFetcher(options) } as const) : ({ kind: 'crl', fetcher: new CrlFetcher(options) } as const);
  log.info(
    { revocation: config.revocation.mode, allowPrivateTargets: config.revocation.allowPrivateTargets },
    `proofs carry revocation data (CAdES-B-LT): ${config.revocation.mode === 'ocsp' ? 'OCSP answers from the certificates\' responders' : 'CRLs from the certificates\' distribution points'}`,
  );
  return { longTerm: new LongTermSealing(source), extraCertificates: tsaChain };
}

export async function createRuntime(config: Config, log: Logger): Promise<Runtime> {
  if (config.env !== 'development') {
    for (const w of insecureDefaults(config)) log.warn(`INSECURE DEFAULT IN ${config.env.toUpperCase()}: ${w}`);
  }
  let devPki: DevPkiPaths | undefined;
  const dev = async () => (devPki ??= await ensureDevPki(devPkiDir(config), config.keyAlgorithm, devPkiOptions(config)));

  const tokenKeys: Pkcs11Signer[] = [];
  const closeTokenKeys = () => Promise.all(tokenKeys.map((k) => k.close()));
  let identity: SigningIdentity | Signer;
  let tsa: TimeStampAuthority | undefined;
  let timeStamper: DigestTimeStamper;
  let tsaChain: readonly Uint8Array[];
  try {
    identity = await identityFrom(config.sealing, dev, 'seal', tokenKeys, log);
    ({ timeStamper, tsa, tsaChain } = await createTimeStamping(config, { log, dev, tokenKeys }));
  } catch (err) {
    await closeTokenKeys();
    throw err;
  }

  const { repositories: store, blobs } = await openStore(config, { log });
  await blobs.init();
  const blobSweep = await sweepBlobs(store, blobs, { tempMaxAgeMs: tempFileMaxAgeMs(config), log });
  // uploaded ZIPs of batches wait in a local folder while they are read, whatever store keeps the documents
  const archives = new FsBlobStore(path.join(config.dataDir, 'archives'));
  await archives.init();
  await archives.sweepTempFiles(tempFileMaxAgeMs(config));

  const ebox: EboxAdapter =
    config.ebox.kind === 'http'
      ? new HttpEboxAdapter({
          baseUrl: config.ebox.url,
          clientId: config.ebox.clientId,
          clientSecret: config.ebox.clientSecret,
          scope: config.ebox.scope,
          messageTypeId: config.ebox.messageTypeId,
          senderApplicationId: config.ebox.senderApplicationId,
          timeoutMs: config.ebox.timeoutMs,
        })
      : new LocalEbox(store);

  const sealer = new Sealer(identity, timeStamper, { threads: config.worker.sealThreads, log, ...longTermSealing(config, log, tsaChain) });
  const notifier = new EvidenceNotifier();
  notifier.setMaxListeners(0);
  const evidence = new EvidenceService(store, sealer, config, notifier);
  const delivery = new DeliveryService(store, blobs, ebox, evidence, config);
  const records = new EvidenceRecordService(store, timeStamper, config, log);
  const maintenance = new MaintenanceService(store, blobs, ebox, timeStamper, config, log, records);
  const webhooks = new WebhookService(store, { log, policy: new OutboundPolicy({ allow: config.webhook.allowPrivateTargets }), timeoutMs: config.webhook.timeoutMs });
  if (config.webhook.allowPrivateTargets.length > 0) log.warn({ allow: config.webhook.allowPrivateTargets }, 'WEBHOOK_ALLOW_PRIVATE_TARGETS: sender webhooks may reach these private ranges');
  const notifications = buildNotifications(config, store, evidence, log);
  const runner = new JobRunner(
    store,
    JOB_PAYLOADS,
    { ...delivery.handlers(), ...maintenance.handlers(), [JOB.webhook]: webhooks.handler(), ...notifications.handlers() } satisfies JobHandlers,
    {
      concurrency: config.worker.concurrency,
      pollMs: config.worker.pollMs,
      leaseMs: config.worker.leaseMs,
      backoff: { baseMs: config.worker.backoffBaseMs, maxMs: config.worker.backoffMaxMs },
    },
    log,
  );
  const submissions = new SubmissionService(store, blobs, config, delivery);
  const recipients = new RecipientService(store, blobs, config);
  const pageSessions = new PageSessionService(store, config.pages);
  const signin = config.pages.oidc ? new OidcSignin(config.pages.oidc, config.pages.publicUrl, pageSessions, log) : undefined;

  let scheduler: NodeJS.Timeout | undefined;
  let scheduling: Promise<void> = Promise.resolve();
  let workerStarted = false;
  // PostgreSQL: processes wake each other (a job enqueued, a first proof) instead of waiting for a poll
  const signals =
    config.database.client === 'postgres'
      ? new PgSignalListener(
          config.database.connectionString,
          (channel, payload) => {
            if (channel === SIGNAL.jobs) {
              if (workerStarted) runner.poke();
            } else if (MESSAGE_ID.test(payload)) notifier.notify(payload);
          },
          log,
        )
      : undefined;
  await signals?.start();
  return {
    config,
    log,
    store,
    blobs,
    sealer,
    timeStamper,
    tsa,
    ebox,
    notifier,
    submissions,
    batches: new BatchService(store, submissions, config, archives),
    consult: new ConsultService(store),
    senderConsole: new ConsoleService(store),
    delivery,
    maintenance,
    records,
    webhooks,
    recipients,
    receipts: new ReceiptService(sealer),
    senders: new SenderService(store),
    pageSessions,
    signin,
    notifications,
    runner,
    jobs: new JobAdmin(store),
    blobSweep,
    readiness: new ReadinessService(store, blobs, Math.min(config.intake.maxDocumentBytes, 64 * 1024 * 1024), tokenKeys),
    devPki,
    startWorker() {
      if (workerStarted) return;
      workerStarted = true;
      // Jobs enqueued in this process are inserted claimed by this runner and handed to it
      // when their transaction commits: no poll, no claim round trip. At start, the runner
      // takes back the jobs of worker processes that are gone (a crash before this start).
      runner.adoptLocalJobs();
      runner.start();
      const tick = () => {
        scheduling = maintenance.schedule().catch((err) => log.error({ err }, 'scheduling periodic jobs failed'));
      };
      tick();
      scheduler = setInterval(tick, Math.max(50, Math.min(...maintenance.tasks().map((t) => t.intervalMs)) / 2));
      scheduler.unref();
    },
    async close() {
      if (scheduler) clearInterval(scheduler);
      await scheduling;
      // ends the hand-over of new jobs, lets running ones finish, gives back what it has not started
      await runner.stop();
      // objects of intakes that failed in an outage: looked at once more while the database is open
      await submissions.close();
      await signals?.close();
      await sealer.close();
      await closeTokenKeys();
      await store.close();
    },
  };
}
