/**
 * The service's configuration: one typed object, read from environment variables and
 * validated at start. A bad value throws a ConfigError naming the variable; the CLI
 * prints it and exits non-zero. Defaults are the embedded development set-up: SQLite
 * under ./data, the built-in TSA, the development PKI under ./certs-dev, port 8080.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { parseCidr } from './net/OutboundPolicy.js';

export type AppEnv = 'development' | 'test' | 'production';
export type KeyAlgorithmName = 'ECDSA-P256' | 'ECDSA-P384' | 'RSA-2048' | 'RSA-3072';

export type DatabaseConfig =
  | { client: 'sqlite'; filename: string }
  | { client: 'postgres'; connectionString: string; /** connections of the pool (DATABASE_POOL_MAX) */ poolMax: number };

export type KeySource =
  | { kind: 'dev' }
  | { kind: 'pem'; keyFile: string; certFile: string; chainFile?: string }
  | { kind: 'pkcs12'; p12File: string; password: string }
  | Pkcs11KeySource;

/**
 * A key in a PKCS#11 token (an HSM): the module, the token (label or slot ID), the key (label
 * and/or id, hex), the file holding the user PIN; the certificate from `certFile` or, when
 * absent, from the token; `sessions` signatures at once.
 */
export interface Pkcs11KeySource {
  kind: 'pkcs11';
  module: string;
  tokenLabel?: string;
  slot?: number;
  keyLabel?: string;
  keyId?: string;
  pinFile: string;
  certFile?: string;
  chainFile?: string;
  sessions: number;
}

/** The variable behind each PKCS#11 setting, for start-up errors (`SEAL_` or `TSA_` before it). */
export const PKCS11_VARIABLES = {
  module: 'PKCS11_MODULE',
  token: 'PKCS11_TOKEN_LABEL',
  slot: 'PKCS11_SLOT',
  keyLabel: 'PKCS11_KEY_LABEL',
  keyId: 'PKCS11_KEY_ID',
  pinFile: 'PKCS11_PIN_FILE',
  certFile: 'CERT_FILE',
  chainFile: 'CHAIN_FILE',
  sessions: 'PKCS11_SESSIONS',
} as const;

export interface Config {
  env: AppEnv;
  host: string;
  port: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  dataDir: string;
  blobDir: string;
  /** where document bytes live: files under blobDir (the default) or the PostgreSQL database */
  blobStore: 'filesystem' | 'postgres';
  database: DatabaseConfig;
  devCertsDir: string;
  keyAlgorithm: KeyAlgorithmName;
  sealing: KeySource;
  /**
   * Revocation data in every proof (CAdES-B-LT, docs/revocation.md): `crl` fetches the CRLs of
   * the sealing and TSA certificates from their distribution points after the time-stamp,
   * `ocsp` asks their OCSP responders (AIA id-ad-ocsp), and writes the answers, with both
   * certification paths, into the proof; `off` seals CAdES-B-T.
   */
  revocation: {
    mode: 'crl' | 'ocsp' | 'off';
    /** Whether SEAL_REVOCATION was set: the development default (`crl`) yields to `off` where the development PKI publisher does not run. */
    modeSet: boolean;
    timeoutMs: number;
    maxBytes: number;
    /** CIDRs the CRL and OCSP fetchers may reach although inside a private range (the development publisher on loopback) */
    allowPrivateTargets: string[];
  };
  tsa: {
    /** External RFC 3161 URL; when absent the built-in TSA is used. */
    url?: string;
    timeoutMs: number;
    key: KeySource;
    policyOid: string;
    /** Serve the built-in TSA at POST /tsa. */
    serveHttp: boolean;
    /** processes of the standalone TSA server (src/cli/tsa.ts), all on one port */
    processes: number;
  };
  evidence: {
    policyOid: string;
    issuerName: string;
    /** HMAC-SHA256 key of the address digests in NotificationForAcceptance (EVIDENCE_ADDRESS_DIGEST_KEY) */
    addressDigestKey: string;
    /** true when addressDigestKey is the development default */
    addressDigestKeyIsDefault: boolean;
  };
  intake: { maxDocumentBytes: number; maxDocuments: number; allowedMediaTypes: string[]; maxMetadataBytes: number };
  /**
   * POST /v1/messages/batches: rows per batch, bytes per upload (the multipart body or the
   * ZIP archive; a ZIP's documents once inflated too), bytes of the manifest, and the
   * largest inflated/compressed ratio a ZIP entry may have (zip bombs). Each row's documents
   * keep the limits of `intake`.
   */
  batch: { maxRows: number; maxBytes: number; maxManifestBytes: number; zipMaxRatio: number };
  /** How long POST /v1/messages waits for the proof of dispatch before answering 202. */
  submitWaitMs: number;
  /**
   * Where POST /v1/messages seals a letter's first proof: `intake` before the message
   * commits, written in the intake's own transaction (the `accept` job only when that could
   * not be done in time); `job` always by the `accept` job once the message has committed.
   */
  submitSeal: 'intake' | 'job';
  worker: {
    concurrency: number;
    pollMs: number;
    /** a claimed job's lease; the worker's heartbeat renews it every third of it (README: Processes) */
    leaseMs: number;
    backoffBaseMs: number;
    backoffMaxMs: number;
    /** attempts for jobs that need the TSA: a long outage must not lose a proof */
    sealMaxAttempts: number;
    depositMaxAttempts: number;
    webhookMaxAttempts: number;
    /** worker threads sealing proofs (compiled build only; 0: seal in the main thread); default: cores − 1, at least 1 */
    sealThreads: number;
    /** how often expiry, retention and e-Box event scans run */
    maintenanceIntervalMs: number;
    checkpointIntervalMs: number;
  };
  /** RFC 4998 evidence records (docs/evidence-records.md, "In the service") */
  records: {
    /** how often pending proofs and checkpoints are entered into a new tree (the delay before a proof has its record) */
    intervalMs: number;
    /** the most leaves one tree takes; more pending leaves make more trees in the same run */
    treeMaxLeaves: number;
    /** a tree is renewed when its last token's TSA certificate expires within this time */
    renewBeforeMs: number;
    /** how often trees due for renewal are looked for */
    renewIntervalMs: number;
    /** the hash of new trees; a record whose last chain uses another is renewed into it (hash-tree renewal) */
    hashAlgorithm: 'SHA-256' | 'SHA-384' | 'SHA-512';
  };
  delivery: {
    /** a deposited message not opened within this time gets ContentHandoverFailure */
    messageExpiryMs: number;
    /** document bytes are purged this long after submission; evidence and events stay */
    documentRetentionMs: number;
  };
  ebox:
    | { kind: 'local' }
    | { kind: 'http'; url: string; clientId: string; clientSecret: string; scope?: string; messageTypeId: string; senderApplicationId: string; timeoutMs: number };
  /** Bearer token for /v1/admin (recipients, jobs); the admin API is closed without it. */
  adminToken?: string;
  /** The HTTP server's own limits, TLS and the proxies it trusts. */
  http: HttpConfig;
  /** Failed authentications allowed per client address before it is refused for a while. */
  authThrottle: { failures: number; windowSeconds: number; blockSeconds: number };
  /**
   * /metrics: behind `token` (Bearer) on the main listener, and/or served without a token
   * on a listener of its own (`port`, on `host`); closed when neither is set.
   */
  metrics: { token?: string; host: string; port?: number };
  /** Short-message notifications (GovApp push, SMS): see NotifyConfig. */
  notify: NotifyConfig;
  /**
   * Development only: when no SMS provider and no GovApp backend are configured, the server
   * runs the SMS aggregator and GovApp simulators in-process and uses them
   * (dev/notification-simulators/devProviders.ts). Always false outside development.
   */
  devSimulators: boolean;
  /** The pages for people and their sign-in with OpenID Connect (docs/pages.md). */
  pages: PagesConfig;
  /** Sender webhooks (docs/webhooks.md). */
  webhook: {
    /** CIDRs webhooks may reach although private, loopback…; empty in every environment unless set */
    allowPrivateTargets: string[];
    /** the whole exchange with a sender's receiver */
    timeoutMs: number;
  };
}

export interface HttpConfig {
  /** express `trust proxy`: false, a hop count, or addresses/CIDRs/loopback|linklocal|uniquelocal */
  trustProxy: false | number | string[];
  /** time allowed to receive a request's headers (slow-header attacks) */
  headersTimeoutMs: number;
  /** time allowed to receive a whole request, body included */
  requestTimeoutMs: number;
  /** a connection with no bytes moving for this long is closed */
  idleTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxConnections: number;
  /** TLS termination by the service itself; mutual TLS for senders with `clientCaFile` */
  tls?: { certFile: string; keyFile: string; clientCaFile?: string };
}

export type NotifyStrategyName = 'GOVAPP_FIRST' | 'GOVAPP_ONLY' | 'SMS_ONLY' | 'SMS_AND_GOVAPP';
/** The notification languages (the language packs of src/notifications/content/languages; a unit test keeps the two lists equal). */
export const NOTIFY_LANGUAGES = ['nl', 'fr', 'de', 'en', 'da'] as const;
export type NotifyLanguage = (typeof NOTIFY_LANGUAGES)[number];

export interface NotifyConfig {
  defaultStrategy: NotifyStrategyName;
  defaultLanguage: NotifyLanguage;
  /** how long POST /v1/notifications waits for the send status before answering 202 */
  syncWaitMs: number;
  /** token bucket per sender: tokens added per minute (0: no limit) */
  rateLimitPerMinute: number;
  /** token bucket per sender: the most it holds, i.e. requests in a burst (default: a minute's worth) */
  rateLimitBurst: number;
  sendMaxAttempts: number;
  /**
   * a push the GovApp backend accepted but that no device reported DELIVERED within this
   * time falls back to SMS, once, where the strategy has SMS after GovApp (GOVAPP_FIRST);
   * 0: no fallback for an undelivered push (it stays SENT until a report comes)
   */
  pushDeliveryTimeoutMs: number;
  /** public base URL providers call back (delivery reports, receipts); derived from HOST/PORT when unset */
  callbackBaseUrl?: string;
  /** the recipient's time zone (quiet hours, dates in texts) when neither the contact nor the number's country tells it */
  timeZone: string;
  /**
   * a notification without validUntil expires this long after it was due (sendAt, or its
   * creation): not handed to a provider by then, it is EXPIRED (VALIDITY_ELAPSED)
   */
  defaultValiditySeconds: number;
  sms: {
    /** never more than the Kannel sendsms-user's max-messages */
    maxParts: number;
    transliterate: boolean;
    provider:
      | { kind: 'none' }
      | { kind: 'kannel'; sendsmsUrl: string; username: string; password: string; from: string; smsc?: string; dlrSecret: string; dlrTokenLifetimeSeconds: number; timeoutMs: number }
      | { kind: 'http'; url: string; token?: string; from?: string; callbackSecret: string; timeoutMs: number };
  };
  govapp: { kind: 'none' } | { kind: 'http'; url: string; token?: string; callbackSecret: string; timeoutMs: number };
  /** unit prices as decimal strings (NemSMS: 0.05 DKK per message) */
  pricing: { currency: string; smsPart: string; push: string };
  /** notify the recipient of a registered message after ContentConsignment */
  registeredMailNotice: boolean;
  /** a reply is attributed to the sender whose SMS the number received last, at most this many days before */
  inboundAttributionDays: number;
  /** POST /v1/notifications/batches: the most rows and bytes one batch may have */
  batch: { maxRows: number; maxBytes: number };
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** Policy OIDs under the UUID arc 2.25 (ITU-T X.667), which needs no registration. */
export const DEFAULT_EVIDENCE_POLICY_OID = '2.25.207873870924118063405925183359524853025';
export const DEFAULT_TSA_POLICY_OID = '2.25.207873870924118063405925183359524853026';

const DEFAULT_MEDIA_TYPES = [
  'application/pdf',
  'application/xml',
  'text/xml',
  'text/plain',
  'image/png',
  'image/jpeg',
  'image/tiff',
  'application/vnd.oasis.opendocument.text',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
];

function str(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function int(env: Env, name: string, dflt: number, min: number, max: number): number {
  const raw = str(env, name);
  if (raw === undefined) return dflt;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `expected a whole number, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], dflt: T): T {
  const raw = str(env, name);
  if (raw === undefined) return dflt;
  if (!(allowed as readonly string[]).includes(raw)) throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${raw}"`);
  return raw as T;
}

function bool(env: Env, name: string, dflt: boolean): boolean {
  const raw = str(env, name);
  if (raw === undefined) return dflt;
  if (['1', 'true', 'yes', 'on'].includes(raw.toLowerCase())) return true;
  if (['0', 'false', 'no', 'off'].includes(raw.toLowerCase())) return false;
  throw new ConfigError(name, `expected true or false, got "${raw}"`);
}

function oid(env: Env, name: string, dflt: string): string {
  const raw = str(env, name) ?? dflt;
  if (!/^[0-2](\.(0|[1-9]\d*))+$/.test(raw)) throw new ConfigError(name, `not a dotted OID: "${raw}"`);
  return raw;
}

function database(env: Env, dataDir: string): DatabaseConfig {
  const raw = str(env, 'DATABASE_URL');
  if (raw === undefined) return { client: 'sqlite', filename: path.join(dataDir, 'registered-mail.sqlite') };
  if (/^postgres(ql)?:\/\//.test(raw)) {
    try {
      new URL(raw);
    } catch {
      throw new ConfigError('DATABASE_URL', 'not a valid postgres:// URL');
    }
    return { client: 'postgres', connectionString: raw, poolMax: int(env, 'DATABASE_POOL_MAX', 10, 1, 1000) };
  }
  if (raw.startsWith('sqlite:')) {
    const file = raw.replace(/^sqlite:(\/\/)?/, '');
    if (file === '') throw new ConfigError('DATABASE_URL', 'sqlite: URL names no file');
    return { client: 'sqlite', filename: path.resolve(file) };
  }
  throw new ConfigError('DATABASE_URL', 'expected postgres://… or sqlite:PATH');
}

function pkcs11KeySource(env: Env, prefix: 'SEAL' | 'TSA', module: string): Pkcs11KeySource {
  const v = (k: keyof typeof PKCS11_VARIABLES) => `${prefix}_${PKCS11_VARIABLES[k]}`;
  for (const other of [`${prefix}_KEY_FILE`, `${prefix}_P12_FILE`]) {
    if (str(env, other) !== undefined) throw new ConfigError(other, `give either ${v('module')} or ${other}, not both: the key is in the token`);
  }
  const tokenLabel = str(env, v('token'));
  const slotRaw = str(env, v('slot'));
  if ((tokenLabel === undefined) === (slotRaw === undefined)) throw new ConfigError(v('token'), `give the token by ${v('token')} or by ${v('slot')} (one of them) with ${v('module')}`);
  const slot = slotRaw === undefined ? undefined : int(env, v('slot'), 0, 0, Number.MAX_SAFE_INTEGER);
  const keyLabel = str(env, v('keyLabel'));
  const keyId = str(env, v('keyId'));
  if (keyLabel === undefined && keyId === undefined) throw new ConfigError(v('keyLabel'), `required with ${v('module')} (or ${v('keyId')})`);
  if (keyId !== undefined && !/^([0-9a-fA-F]{2})+$/.test(keyId)) throw new ConfigError(v('keyId'), `expected the CKA_ID in hexadecimal, got "${keyId}"`);
  const pinFile = str(env, v('pinFile'));
  if (pinFile === undefined) throw new ConfigError(v('pinFile'), `required with ${v('module')}: a file holding the user PIN, mode 0600`);
  const certFile = str(env, `${prefix}_CERT_FILE`);
  const chainFile = str(env, `${prefix}_CHAIN_FILE`);
  return {
    kind: 'pkcs11',
    module: path.resolve(module),
    ...(tokenLabel !== undefined ? { tokenLabel } : {}),
    ...(slot !== undefined ? { slot } : {}),
    ...(keyLabel !== undefined ? { keyLabel } : {}),
    ...(keyId !== undefined ? { keyId: keyId.toLowerCase() } : {}),
    pinFile: path.resolve(pinFile),
    ...(certFile !== undefined ? { certFile: path.resolve(certFile) } : {}),
    ...(chainFile !== undefined ? { chainFile: path.resolve(chainFile) } : {}),
    sessions: int(env, v('sessions'), 4, 1, 256),
  };
}

function keySource(env: Env, prefix: 'SEAL' | 'TSA'): KeySource {
  const pkcs11Module = str(env, `${prefix}_${PKCS11_VARIABLES.module}`);
  if (pkcs11Module !== undefined) return pkcs11KeySource(env, prefix, pkcs11Module);
  const keyFile = str(env, `${prefix}_KEY_FILE`);
  const certFile = str(env, `${prefix}_CERT_FILE`);
  const p12File = str(env, `${prefix}_P12_FILE`);
  if (p12File) {
    if (keyFile || certFile) throw new ConfigError(`${prefix}_P12_FILE`, `give either ${prefix}_P12_FILE or ${prefix}_KEY_FILE/${prefix}_CERT_FILE, not both`);
    const password = env[`${prefix}_P12_PASSWORD`];
    if (password === undefined) throw new ConfigError(`${prefix}_P12_PASSWORD`, `required with ${prefix}_P12_FILE`);
    return { kind: 'pkcs12', p12File: path.resolve(p12File), password };
  }
  if (keyFile || certFile) {
    if (!keyFile) throw new ConfigError(`${prefix}_KEY_FILE`, `required with ${prefix}_CERT_FILE`);
    if (!certFile) throw new ConfigError(`${prefix}_CERT_FILE`, `required with ${prefix}_KEY_FILE`);
    const chainFile = str(env, `${prefix}_CHAIN_FILE`);
    return { kind: 'pem', keyFile: path.resolve(keyFile), certFile: path.resolve(certFile), chainFile: chainFile && path.resolve(chainFile) };
  }
  return { kind: 'dev' };
}

function eboxConfig(env: Env): Config['ebox'] {
  const url = str(env, 'EBOX_URL');
  if (url === undefined) return { kind: 'local' };
  try {
    new URL(url);
  } catch {
    throw new ConfigError('EBOX_URL', 'not a valid URL');
  }
  const need = (name: string) => {
    const v = str(env, name);
    if (v === undefined) throw new ConfigError(name, 'required with EBOX_URL');
    return v;
  };
  return {
    kind: 'http',
    url,
    clientId: need('EBOX_CLIENT_ID'),
    clientSecret: need('EBOX_CLIENT_SECRET'),
    scope: str(env, 'EBOX_SCOPE'),
    messageTypeId: str(env, 'EBOX_MESSAGE_TYPE_ID') ?? 'registered-mail',
    senderApplicationId: str(env, 'EBOX_SENDER_APPLICATION_ID') ?? 'registered-mail',
    timeoutMs: int(env, 'EBOX_TIMEOUT_MS', 30_000, 100, 600_000),
  };
}

/** The identity provider the pages sign people in with (OpenID Connect, authorization code + PKCE). */
export interface OidcConfig {
  /** OIDC_ISSUER: its discovery document is at <issuer>/.well-known/openid-configuration */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** the ID token claim holding a citizen's INSZ/NISS (OIDC_INSZ_CLAIM, default `insz`) */
  inszClaim: string;
  /** CIDRs the requests to the provider may reach although private (the development provider on loopback) */
  allowPrivateTargets: string[];
}

export interface PagesConfig {
  /** undefined: no sign-in (pages that need a person are not mounted) */
  oidc?: OidcConfig;
  /**
   * PUBLIC_URL: where people reach the service; the redirect URI is <PUBLIC_URL>/signin/callback.
   * Unset (development and tests only): the address the service listens on, known once it listens.
   */
  publicUrl?: string;
  sessionIdleSeconds: number;
  sessionMaxSeconds: number;
  /** development only: the OpenID provider of dev/oidc-provider on DEV_OIDC_PORT, when no OIDC_ISSUER is set */
  devOidc?: { port: number };
}

function readSecretFile(name: string, file: string): string {
  try {
    return readFileSync(path.resolve(file), 'utf8').trim();
  } catch (err) {
    throw new ConfigError(name, `cannot read ${file}: ${(err as Error).message}`);
  }
}

function pagesConfig(env: Env, appEnv: AppEnv): PagesConfig {
  const issuerRaw = str(env, 'OIDC_ISSUER');
  const publicUrl = str(env, 'PUBLIC_URL') === undefined ? undefined : httpUrl(env, 'PUBLIC_URL', '').replace(/\/+$/, '');
  const idle = int(env, 'SESSION_IDLE_SECONDS', 30 * 60, 10, 86_400);
  const max = int(env, 'SESSION_MAX_SECONDS', 8 * 3600, 10, 30 * 86_400);
  if (max < idle) throw new ConfigError('SESSION_MAX_SECONDS', 'must not be shorter than SESSION_IDLE_SECONDS');
  const base = { publicUrl, sessionIdleSeconds: idle, sessionMaxSeconds: max };
  if (issuerRaw === undefined) {
    for (const v of ['OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET', 'OIDC_CLIENT_SECRET_FILE']) {
      if (str(env, v) !== undefined) throw new ConfigError('OIDC_ISSUER', `required with ${v}`);
    }
    return appEnv === 'development' ? { ...base, devOidc: { port: int(env, 'DEV_OIDC_PORT', 8078, 0, 65535) } } : base;
  }
  const issuer = httpUrl(env, 'OIDC_ISSUER', '');
  if (appEnv === 'production' && !issuer.startsWith('https:')) throw new ConfigError('OIDC_ISSUER', 'must be https in production');
  if (appEnv === 'production' && !publicUrl?.startsWith('https:')) throw new ConfigError('PUBLIC_URL', 'required with OIDC_ISSUER in production, and https (the session cookie is Secure)');
  const clientId = str(env, 'OIDC_CLIENT_ID');
  if (clientId === undefined) throw new ConfigError('OIDC_CLIENT_ID', 'required with OIDC_ISSUER');
  const secretFile = str(env, 'OIDC_CLIENT_SECRET_FILE');
  const secretValue = str(env, 'OIDC_CLIENT_SECRET');
  if (secretFile !== undefined && secretValue !== undefined) throw new ConfigError('OIDC_CLIENT_SECRET_FILE', 'give either OIDC_CLIENT_SECRET or OIDC_CLIENT_SECRET_FILE, not both');
  const clientSecret = secretFile !== undefined ? readSecretFile('OIDC_CLIENT_SECRET_FILE', secretFile) : secretValue;
  if (clientSecret === undefined || clientSecret.length === 0) throw new ConfigError('OIDC_CLIENT_SECRET', 'required with OIDC_ISSUER (or OIDC_CLIENT_SECRET_FILE)');
  const inszClaim = str(env, 'OIDC_INSZ_CLAIM') ?? 'insz';
  if (!/^[A-Za-z0-9_.:-]{1,100}$/.test(inszClaim)) throw new ConfigError('OIDC_INSZ_CLAIM', 'a claim name: letters, digits, _ . : -');
  return { ...base, oidc: { issuer, clientId, clientSecret, inszClaim, allowPrivateTargets: cidrList(env, 'OIDC_ALLOW_PRIVATE_TARGETS') } };
}

function httpUrl(env: Env, name: string, required: string): string {
  const raw = str(env, name);
  if (raw === undefined) throw new ConfigError(name, `required ${required}`);
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError(name, 'not a valid URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ConfigError(name, 'must be http(s)');
  return raw;
}

/** Development only (a loud warning elsewhere): anyone with the source can try every number against it. */
export const DEV_ADDRESS_DIGEST_KEY = 'development-address-digest-key-not-secret-0123456789';

function addressDigestKey(env: Env): string {
  const raw = str(env, 'EVIDENCE_ADDRESS_DIGEST_KEY');
  if (raw === undefined) return DEV_ADDRESS_DIGEST_KEY;
  if (raw.length < 32) throw new ConfigError('EVIDENCE_ADDRESS_DIGEST_KEY', 'must be at least 32 characters (e.g. openssl rand -base64 32)');
  return raw;
}

function secret(env: Env, name: string, required: string): string {
  const raw = str(env, name);
  if (raw === undefined) throw new ConfigError(name, `required ${required}`);
  if (raw.length < 16) throw new ConfigError(name, 'must be at least 16 characters');
  return raw;
}

function price(env: Env, name: string): string {
  const raw = str(env, name) ?? '0';
  if (!/^\d{1,9}(\.\d{1,6})?$/.test(raw)) throw new ConfigError(name, `expected a decimal price such as 0.05, got "${raw}"`);
  return raw;
}

function notifyConfig(env: Env, host: string, port: number): NotifyConfig {
  const smsKind = oneOf(env, 'NOTIFY_SMS_PROVIDER', ['none', 'kannel', 'http'] as const, 'none');
  const smsTimeoutMs = int(env, 'NOTIFY_SMS_TIMEOUT_MS', 10_000, 100, 300_000);
  let provider: NotifyConfig['sms']['provider'] = { kind: 'none' };
  if (smsKind === 'kannel') {
    const with_ = 'with NOTIFY_SMS_PROVIDER=kannel';
    const username = str(env, 'KANNEL_USERNAME');
    if (username === undefined) throw new ConfigError('KANNEL_USERNAME', `required ${with_}`);
    const password = env.KANNEL_PASSWORD;
    if (password === undefined || password === '') throw new ConfigError('KANNEL_PASSWORD', `required ${with_}`);
    provider = {
      kind: 'kannel',
      sendsmsUrl: httpUrl(env, 'KANNEL_SENDSMS_URL', with_),
      username,
      password,
      from: str(env, 'KANNEL_FROM') ?? 'eBox',
      smsc: str(env, 'KANNEL_SMSC'),
      dlrSecret: secret(env, 'KANNEL_DLR_SECRET', with_),
      // a delivery report may come days after the send (a phone switched off); after this it is refused
      dlrTokenLifetimeSeconds: int(env, 'KANNEL_DLR_TOKEN_LIFETIME_SECONDS', 7 * 86_400, 60, 90 * 86_400),
      timeoutMs: smsTimeoutMs,
    };
  } else if (smsKind === 'http') {
    const with_ = 'with NOTIFY_SMS_PROVIDER=http';
    provider = { kind: 'http', url: httpUrl(env, 'SMS_HTTP_URL', with_), token: str(env, 'SMS_HTTP_TOKEN'), from: str(env, 'SMS_HTTP_FROM'), callbackSecret: secret(env, 'SMS_HTTP_CALLBACK_SECRET', with_), timeoutMs: smsTimeoutMs };
  }
  const govappUrl = str(env, 'GOVAPP_PUSH_URL');
  const govapp: NotifyConfig['govapp'] =
    govappUrl === undefined
      ? { kind: 'none' }
      : {
          kind: 'http',
          url: httpUrl(env, 'GOVAPP_PUSH_URL', ''),
          token: str(env, 'GOVAPP_PUSH_TOKEN'),
          callbackSecret: secret(env, 'GOVAPP_CALLBACK_SECRET', 'with GOVAPP_PUSH_URL'),
          timeoutMs: int(env, 'GOVAPP_TIMEOUT_MS', 10_000, 100, 300_000),
        };
  const callbackBaseUrl = str(env, 'NOTIFY_CALLBACK_BASE_URL') === undefined ? (port === 0 ? undefined : `http://${host}:${port}`) : httpUrl(env, 'NOTIFY_CALLBACK_BASE_URL', '');
  const timeZone = str(env, 'NOTIFY_TIME_ZONE') ?? 'Europe/Brussels';
  try {
    new Intl.DateTimeFormat('en', { timeZone });
  } catch {
    throw new ConfigError('NOTIFY_TIME_ZONE', `not an IANA time zone: "${timeZone}"`);
  }
  const currency = str(env, 'NOTIFY_PRICE_CURRENCY') ?? 'EUR';
  if (!/^[A-Z]{3}$/.test(currency)) throw new ConfigError('NOTIFY_PRICE_CURRENCY', `expected an ISO 4217 code such as EUR or DKK, got "${currency}"`);
  const rateLimitPerMinute = int(env, 'NOTIFY_RATE_LIMIT_PER_MINUTE', 600, 0, 1_000_000);
  return {
    defaultStrategy: oneOf(env, 'NOTIFY_DEFAULT_STRATEGY', ['GOVAPP_FIRST', 'GOVAPP_ONLY', 'SMS_ONLY', 'SMS_AND_GOVAPP'] as const, 'GOVAPP_FIRST'),
    defaultLanguage: oneOf(env, 'NOTIFY_DEFAULT_LANGUAGE', NOTIFY_LANGUAGES, 'nl'),
    syncWaitMs: int(env, 'NOTIFY_SYNC_WAIT_MS', 10_000, 0, 120_000),
    rateLimitPerMinute,
    rateLimitBurst: int(env, 'NOTIFY_RATE_LIMIT_BURST', Math.max(1, rateLimitPerMinute), 1, 1_000_000),
    sendMaxAttempts: int(env, 'NOTIFY_SEND_MAX_ATTEMPTS', 8, 1, 10_000),
    pushDeliveryTimeoutMs: int(env, 'NOTIFY_PUSH_DELIVERY_TIMEOUT_MS', 600_000, 0, 7 * 24 * 3_600_000),
    callbackBaseUrl: callbackBaseUrl?.replace(/\/+$/, ''),
    timeZone,
    defaultValiditySeconds: int(env, 'NOTIFY_DEFAULT_VALIDITY_SECONDS', 86_400, 60, 90 * 86_400),
    sms: { maxParts: int(env, 'NOTIFY_SMS_MAX_PARTS', 3, 1, 255), transliterate: bool(env, 'NOTIFY_SMS_TRANSLITERATE', false), provider },
    govapp,
    pricing: { currency, smsPart: price(env, 'NOTIFY_PRICE_SMS_PART'), push: price(env, 'NOTIFY_PRICE_PUSH') },
    registeredMailNotice: bool(env, 'NOTIFY_REGISTERED_MAIL', true),
    inboundAttributionDays: int(env, 'NOTIFY_INBOUND_ATTRIBUTION_DAYS', 30, 1, 365),
    batch: {
      maxRows: int(env, 'NOTIFY_BATCH_MAX_ROWS', 100_000, 1, 1_000_000),
      maxBytes: int(env, 'NOTIFY_BATCH_MAX_BYTES', 64 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    },
  };
}

/** Comma-separated CIDRs (`127.0.0.0/8,::1/128`; a bare address is a single-address range), each normalised. */
function cidrList(env: Env, name: string): string[] {
  const raw = str(env, name);
  if (raw === undefined) return [];
  return raw
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '')
    .map((e) => {
      try {
        const [address, bits] = parseCidr(e);
        return `${address.toString()}/${bits}`;
      } catch {
        throw new ConfigError(name, `not an IP address or CIDR range: "${e}"`);
      }
    });
}

const PROXY_KEYWORDS = ['loopback', 'linklocal', 'uniquelocal'];

function trustProxy(env: Env): HttpConfig['trustProxy'] {
  const raw = str(env, 'TRUST_PROXY');
  if (raw === undefined || ['false', '0', 'no', 'off'].includes(raw.toLowerCase())) return false;
  if (/^\d{1,2}$/.test(raw)) return Number(raw);
  const entries = raw.split(',').map((e) => e.trim()).filter(Boolean);
  for (const e of entries) {
    if (PROXY_KEYWORDS.includes(e)) continue;
    try {
      parseCidr(e);
    } catch {
      throw new ConfigError('TRUST_PROXY', `expected a hop count, or addresses, CIDRs and ${PROXY_KEYWORDS.join('/')} separated by commas; got "${e}"`);
    }
  }
  return entries;
}

function httpConfig(env: Env): HttpConfig {
  const certFile = str(env, 'TLS_CERT_FILE');
  const keyFile = str(env, 'TLS_KEY_FILE');
  const clientCaFile = str(env, 'TLS_CLIENT_CA_FILE');
  if ((certFile === undefined) !== (keyFile === undefined)) throw new ConfigError(certFile ? 'TLS_KEY_FILE' : 'TLS_CERT_FILE', 'TLS_CERT_FILE and TLS_KEY_FILE go together');
  if (clientCaFile && !certFile) throw new ConfigError('TLS_CLIENT_CA_FILE', 'mutual TLS needs TLS_CERT_FILE and TLS_KEY_FILE');
  const headersTimeoutMs = int(env, 'HTTP_HEADERS_TIMEOUT_MS', 15_000, 1000, 600_000);
  const requestTimeoutMs = int(env, 'HTTP_REQUEST_TIMEOUT_MS', 300_000, 1000, 86_400_000);
  if (requestTimeoutMs < headersTimeoutMs) throw new ConfigError('HTTP_REQUEST_TIMEOUT_MS', 'must be at least HTTP_HEADERS_TIMEOUT_MS');
  return {
    trustProxy: trustProxy(env),
    headersTimeoutMs,
    requestTimeoutMs,
    idleTimeoutMs: int(env, 'HTTP_IDLE_TIMEOUT_MS', 30_000, 1000, 3_600_000),
    keepAliveTimeoutMs: int(env, 'HTTP_KEEP_ALIVE_TIMEOUT_MS', 5_000, 0, 600_000),
    maxConnections: int(env, 'HTTP_MAX_CONNECTIONS', 1024, 1, 1_000_000),
    tls: certFile && keyFile ? { certFile: path.resolve(certFile), keyFile: path.resolve(keyFile), clientCaFile: clientCaFile && path.resolve(clientCaFile) } : undefined,
  };
}

export function loadConfig(env: Env = process.env): Config {
  const appEnv = oneOf(env, 'APP_ENV', ['development', 'test', 'production'] as const, 'development');
  const dataDir = path.resolve(str(env, 'DATA_DIR') ?? './data');
  const tsaUrl = str(env, 'TSA_URL') === undefined ? undefined : httpUrl(env, 'TSA_URL', '');
  const mediaTypes = str(env, 'ALLOWED_MEDIA_TYPES');
  const config: Config = {
    env: appEnv,
    host: str(env, 'HOST') ?? '127.0.0.1',
    port: int(env, 'PORT', 8080, 0, 65535),
    logLevel: oneOf(env, 'LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, appEnv === 'test' ? 'silent' : 'info'),
    dataDir,
    blobDir: path.resolve(str(env, 'BLOB_DIR') ?? path.join(dataDir, 'blobs')),
    database: database(env, dataDir),
    blobStore: oneOf(env, 'BLOB_STORE', ['filesystem', 'postgres'] as const, 'filesystem'),
    devCertsDir: path.resolve(str(env, 'DEV_CERTS_DIR') ?? './certs-dev'),
    keyAlgorithm: oneOf(env, 'KEY_ALGORITHM', ['ECDSA-P256', 'ECDSA-P384', 'RSA-2048', 'RSA-3072'] as const, 'ECDSA-P256'),
    sealing: keySource(env, 'SEAL'),
    revocation: {
      // development: the development PKI's publisher serves the CRL (npm start); tests and
      // production: off unless asked (a production CA's distribution points must be reachable)
      mode: oneOf(env, 'SEAL_REVOCATION', ['crl', 'ocsp', 'off'] as const, appEnv === 'development' ? 'crl' : 'off'),
      modeSet: (env.SEAL_REVOCATION ?? '') !== '',
      timeoutMs: int(env, 'SEAL_REVOCATION_TIMEOUT_MS', 10_000, 100, 300_000),
      maxBytes: int(env, 'SEAL_REVOCATION_MAX_BYTES', 10 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
      allowPrivateTargets: cidrList(env, 'SEAL_REVOCATION_ALLOW_PRIVATE_TARGETS'),
    },
    tsa: {
      url: tsaUrl,
      timeoutMs: int(env, 'TSA_TIMEOUT_MS', 10_000, 100, 300_000),
      key: keySource(env, 'TSA'),
      policyOid: oid(env, 'TSA_POLICY_OID', DEFAULT_TSA_POLICY_OID),
      serveHttp: bool(env, 'TSA_SERVE_HTTP', true),
      processes: int(env, 'TSA_PROCESSES', availableParallelism(), 1, 256),
    },
    evidence: {
      policyOid: oid(env, 'EVIDENCE_POLICY_OID', DEFAULT_EVIDENCE_POLICY_OID),
      issuerName: str(env, 'ISSUER_NAME') ?? 'Registered Mail Trust Service (development)',
      addressDigestKey: addressDigestKey(env),
      addressDigestKeyIsDefault: str(env, 'EVIDENCE_ADDRESS_DIGEST_KEY') === undefined,
    },
    intake: {
      maxDocumentBytes: int(env, 'MAX_DOCUMENT_BYTES', 50 * 1024 * 1024, 1, Number.MAX_SAFE_INTEGER),
      maxDocuments: int(env, 'MAX_DOCUMENTS', 6, 1, 100),
      allowedMediaTypes: mediaTypes ? mediaTypes.split(',').map((t) => t.trim().toLowerCase()).filter(Boolean) : DEFAULT_MEDIA_TYPES,
      maxMetadataBytes: int(env, 'MAX_METADATA_BYTES', 64 * 1024, 1024, 10 * 1024 * 1024),
    },
    batch: {
      maxRows: int(env, 'BATCH_MAX_ROWS', 1000, 1, 10_000),
      maxBytes: int(env, 'BATCH_MAX_BYTES', 1024 * 1024 * 1024, 1024, Number.MAX_SAFE_INTEGER),
      maxManifestBytes: int(env, 'BATCH_MAX_MANIFEST_BYTES', 8 * 1024 * 1024, 1024, 256 * 1024 * 1024),
      zipMaxRatio: int(env, 'BATCH_ZIP_MAX_RATIO', 100, 2, 10_000),
    },
    submitWaitMs: int(env, 'SUBMIT_WAIT_MS', 10_000, 0, 120_000),
    submitSeal: oneOf(env, 'SUBMIT_SEAL', ['intake', 'job'] as const, 'intake'),
    worker: {
      concurrency: int(env, 'WORKER_CONCURRENCY', 32, 1, 256),
      pollMs: int(env, 'WORKER_POLL_MS', 500, 10, 60_000),
      leaseMs: int(env, 'JOB_LEASE_MS', 15_000, 1000, 3_600_000),
      backoffBaseMs: int(env, 'JOB_BACKOFF_BASE_MS', 1000, 1, 3_600_000),
      backoffMaxMs: int(env, 'JOB_BACKOFF_MAX_MS', 300_000, 1, 86_400_000),
      sealMaxAttempts: int(env, 'SEAL_MAX_ATTEMPTS', 10_000, 1, 1_000_000),
      depositMaxAttempts: int(env, 'DEPOSIT_MAX_ATTEMPTS', 12, 1, 10_000),
      webhookMaxAttempts: int(env, 'WEBHOOK_MAX_ATTEMPTS', 10, 1, 10_000),
      sealThreads: int(env, 'SEAL_THREADS', Math.max(1, availableParallelism() - 1), 0, 64),
      maintenanceIntervalMs: int(env, 'MAINTENANCE_INTERVAL_MS', 10_000, 10, 86_400_000),
      checkpointIntervalMs: int(env, 'CHECKPOINT_INTERVAL_MS', 300_000, 10, 86_400_000),
    },
    records: {
      intervalMs: int(env, 'RECORD_INTERVAL_MS', 5_000, 10, 86_400_000),
      treeMaxLeaves: int(env, 'RECORD_TREE_MAX_LEAVES', 16_384, 1, 1_048_576),
      renewBeforeMs: int(env, 'RECORD_RENEW_BEFORE_MS', 180 * 86_400_000, 60_000, 10 * 365 * 86_400_000),
      renewIntervalMs: int(env, 'RECORD_RENEW_INTERVAL_MS', 3_600_000, 10, 86_400_000),
      hashAlgorithm: oneOf(env, 'RECORD_HASH_ALGORITHM', ['SHA-256', 'SHA-384', 'SHA-512'] as const, 'SHA-256'),
    },
    delivery: {
      messageExpiryMs: int(env, 'MESSAGE_EXPIRY_SECONDS', 30 * 86_400, 1, 10 * 365 * 86_400) * 1000,
      documentRetentionMs: int(env, 'DOCUMENT_RETENTION_SECONDS', 913 * 86_400, 1, 100 * 365 * 86_400) * 1000,
    },
    ebox: eboxConfig(env),
    notify: notifyConfig(env, str(env, 'HOST') ?? '127.0.0.1', int(env, 'PORT', 8080, 0, 65535)),
    devSimulators: bool(env, 'DEV_SIMULATORS', true) && appEnv === 'development',
    pages: pagesConfig(env, appEnv),
    http: httpConfig(env),
    authThrottle: {
      failures: int(env, 'AUTH_FAILURE_LIMIT', 20, 0, 1_000_000),
      windowSeconds: int(env, 'AUTH_FAILURE_WINDOW_SECONDS', 60, 1, 86_400),
      blockSeconds: int(env, 'AUTH_BLOCK_SECONDS', 300, 1, 86_400),
    },
    metrics: { host: '127.0.0.1' },
    webhook: {
      allowPrivateTargets: cidrList(env, 'WEBHOOK_ALLOW_PRIVATE_TARGETS'),
      timeoutMs: int(env, 'WEBHOOK_TIMEOUT_MS', 10_000, 100, 300_000),
    },
  };
  const adminToken = str(env, 'ADMIN_TOKEN');
  if (adminToken !== undefined && adminToken.length < 16) throw new ConfigError('ADMIN_TOKEN', 'must be at least 16 characters');
  config.adminToken = adminToken;
  const metricsToken = str(env, 'METRICS_TOKEN');
  if (metricsToken !== undefined && metricsToken.length < 16) throw new ConfigError('METRICS_TOKEN', 'must be at least 16 characters');
  const metricsPort = str(env, 'METRICS_PORT') === undefined ? undefined : int(env, 'METRICS_PORT', 0, 0, 65535);
  config.metrics = { token: metricsToken, host: str(env, 'METRICS_HOST') ?? '127.0.0.1', port: metricsPort };
  for (const t of config.intake.allowedMediaTypes) {
    if (t !== '*/*' && !/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(t)) throw new ConfigError('ALLOWED_MEDIA_TYPES', `not a media type: "${t}"`);
  }
  if (config.blobStore === 'postgres' && config.database.client !== 'postgres') throw new ConfigError('BLOB_STORE', 'postgres keeps the documents in the database: set DATABASE_URL to a postgres:// URL');
  return config;
}

/** The insecure defaults in force, for a loud warning outside development. */
export function insecureDefaults(config: Config): string[] {
  const out: string[] = [];
  if (config.sealing.kind === 'dev') out.push('sealing key is the development PKI (certs-dev)');
  if (!config.tsa.url && config.tsa.key.kind === 'dev') out.push('built-in TSA uses the development PKI (certs-dev)');
  if (config.evidence.addressDigestKeyIsDefault) out.push('address digests in NotificationForAcceptance use the development key (EVIDENCE_ADDRESS_DIGEST_KEY)');
  return out;
}
