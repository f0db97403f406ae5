/**
 * Wires the service together from its configuration: database (migrated), blob store
 * (swept of what a crash left behind), sealing identity, time-stamping authority and
 * the use-case services. The HTTP app and the CLIs start from here.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import { insecureDefaults, type Config, type KeySource } from '../config.js';
import {
  ensureDevPki,
  HttpTimeStamper,
  loadSigningIdentity,
  LocalTimeStamper,
  TimeStampAuthority,
  type DevPkiPaths,
  type KeyAlgorithm,
  type SigningIdentity,
  type TimeStamper,
} from '../crypto/index.js';
import { migrateLatest, openDatabase } from '../store/database.js';
import { FsBlobStore } from '../store/FsBlobStore.js';
import { Store } from '../store/Store.js';
import { ConsultService } from './consult.js';
import { Sealer } from './sealing.js';
import { SubmissionService } from './submit.js';

export interface Runtime {
  config: Config;
  store: Store;
  blobs: FsBlobStore;
  sealer: Sealer;
  /** The built-in TSA, when no external TSA_URL is configured. */
  tsa?: TimeStampAuthority;
  submissions: SubmissionService;
  consult: ConsultService;
  /** Trust anchors for the dev PKI (root certificate file), when in use. */
  devPki?: DevPkiPaths;
  close(): Promise<void>;
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

async function identityFrom(source: KeySource, dev: () => Promise<DevPkiPaths>, which: 'seal' | 'tsa'): Promise<SigningIdentity> {
  if (source.kind === 'pem') return loadSigningIdentity({ keyFile: source.keyFile, certFile: source.certFile, chainFile: source.chainFile });
  if (source.kind === 'pkcs12') return loadSigningIdentity({ p12File: source.p12File, password: source.password });
  const paths = await dev();
  return which === 'seal'
    ? loadSigningIdentity({ keyFile: paths.sealKey, certFile: paths.sealCert, chainFile: paths.root })
    : loadSigningIdentity({ keyFile: paths.tsaKey, certFile: paths.tsaCert, chainFile: paths.root });
}

export async function createRuntime(config: Config, log: Logger): Promise<Runtime> {
  if (config.env !== 'development') {
    for (const w of insecureDefaults(config)) log.warn(`INSECURE DEFAULT IN ${config.env.toUpperCase()}: ${w}`);
  }
  let devPki: DevPkiPaths | undefined;
  const dev = async () => (devPki ??= await ensureDevPki(devPkiDir(config), config.keyAlgorithm));

  const identity = await identityFrom(config.sealing, dev, 'seal');
  let tsa: TimeStampAuthority | undefined;
  let timeStamper: TimeStamper;
  if (config.tsa.url) {
    timeStamper = new HttpTimeStamper(config.tsa.url, { timeoutMs: config.tsa.timeoutMs });
  } else {
    tsa = new TimeStampAuthority(await identityFrom(config.tsa.key, dev, 'tsa'), { policyOid: config.tsa.policyOid, accuracyMs: 1 });
    timeStamper = new LocalTimeStamper(tsa);
  }

  const db = openDatabase(config.database);
  try {
    await migrateLatest(db);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  const store = new Store(db);
  const blobs = new FsBlobStore(config.blobDir);
  await blobs.init();
  const swept = await blobs.sweep(await store.messages.allBlobKeys(), config.orphanGraceSeconds * 1000);
  if (swept.tempFiles + swept.orphans > 0) log.info(swept, 'removed unfinished uploads left by an earlier run');

  const sealer = new Sealer(identity, timeStamper);
  return {
    config,
    store,
    blobs,
    sealer,
    tsa,
    devPki,
    submissions: new SubmissionService(store, blobs, sealer, config),
    consult: new ConsultService(store),
    close: () => store.close(),
  };
}
