/**
 * The development defaults' simulated providers (an SMS aggregator and a GovApp backend, in
 * dev/notification-simulators). They are not part of the product: the production build
 * (`npm run build`) does not contain them, and the service loads them only in development,
 * through a dynamic import of the development build (`npm run build:dev`, what `npm start`
 * runs) or of the sources (`npm run dev`).
 */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Runtime } from './runtime.js';

export interface DevProviders {
  /** the configuration given, with its notify section pointed at the simulators */
  config: Config;
  urls: { sms: string; govapp: string };
  close(): Promise<void>;
}

interface DevProvidersModule {
  startDevProviders(config: Config): Promise<DevProviders | undefined>;
}

/** Whether the configuration asks for the in-process simulators. */
export function wantsDevProviders(config: Config): boolean {
  // devSimulators is false outside development (src/config.ts)
  return config.devSimulators && config.notify.sms.provider.kind === 'none' && config.notify.govapp.kind === 'none';
}

/**
 * A development module of dev/ (in the development build or the sources); undefined, said in
 * the log with `absent`, when this build does not contain it (the production build leaves dev/
 * out). A non-literal import keeps it out of the production build.
 */
async function importDev<T>(url: string, log: Logger, absent: string): Promise<T | undefined> {
  try {
    return (await import(url)) as T;
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    log.warn(absent);
    return undefined;
  }
}

/** Where the simulators are, beside this file in dist/ or in the sources (a non-literal import keeps them out of the production build). */
const MODULE = new URL('../../dev/notification-simulators/devProviders.js', import.meta.url).href;

/**
 * Starts the simulators when the configuration asks for them, and returns a configuration
 * that uses them; undefined when it does not ask, or when this build does not contain them
 * (said in the log).
 */
export async function startDevProviders(config: Config, log: Logger): Promise<DevProviders | undefined> {
  if (!wantsDevProviders(config)) return undefined;
  const dev = await importDev<DevProvidersModule>(MODULE, log, 'development simulators are not in this build (npm run build:dev builds them): no SMS or GovApp provider is configured');
  if (!dev) return undefined;
  return dev.startDevProviders(config);
}

interface DevPkiPublisherModule {
  startDevPkiPublisher(config: Config): Promise<{ config: Config; url: string; close(): Promise<void> } | { reason: string }>;
}

const PUBLISHER_MODULE = new URL('../../dev/pki-publisher/start.js', import.meta.url).href;

/** Whether the configuration asks for the development PKI's publisher: development, proofs with revocation data, the development sealing key. */
export function wantsDevPkiPublisher(config: Config): boolean {
  return config.env === 'development' && config.revocation.mode !== 'off' && config.sealing.kind === 'dev';
}

/**
 * The configuration of a development process in which the publisher does not run (another
 * role than `all`, a build without dev/, its port taken): the development default `crl` would
 * make every proof wait for revocation data no one serves, so such a process seals CAdES-B-T.
 * Undefined when nothing changes — SEAL_REVOCATION set by hand keeps its mode, as in production.
 */
export function revocationWithoutPublisher(config: Config): Config | undefined {
  if (!wantsDevPkiPublisher(config) || config.revocation.modeSet) return undefined;
  return { ...config, revocation: { ...config.revocation, mode: 'off' } };
}

/**
 * Starts the development PKI's publisher (dev/pki-publisher: the root's CRL where the
 * development certificates' distribution point names it) when the configuration asks for it,
 * and returns a configuration whose CRL fetcher may reach it; undefined when it does not ask,
 * when this build lacks it, or when the development PKI names a URL it cannot serve (said in
 * the log: sealing then waits for revocation data, SEAL_REVOCATION=off seals without).
 */
export async function startDevPkiPublisher(config: Config, log: Logger): Promise<{ config: Config; url: string; close(): Promise<void> } | undefined> {
  if (!wantsDevPkiPublisher(config)) return undefined;
  const dev = await importDev<DevPkiPublisherModule>(
    PUBLISHER_MODULE,
    log,
    'the development PKI publisher is not in this build (npm run build:dev builds it): the CRL of the development PKI is not served, proofs wait for it (SEAL_REVOCATION=off seals without)',
  );
  if (!dev) return undefined;
  const started = await dev.startDevPkiPublisher(config);
  if ('reason' in started) {
    log.warn(`development PKI publisher not started: ${started.reason}; proofs wait for revocation data (SEAL_REVOCATION=off seals without)`);
    return undefined;
  }
  return started;
}

interface DevOidcModule {
  startDevOidc(config: Config): Promise<StartedDevOidc | { reason: string }>;
}

/** The development OpenID provider, started (dev/oidc-provider/start.ts). */
export interface StartedDevOidc {
  config: Config;
  issuer: string;
  /** the service's redirect URI, once it knows where it listens */
  allowRedirectUri(uri: string): void;
  /** makes sure of the Development sender (its API key in a file), the test clerk mapped to it and the test citizen's e-Box */
  seed(rt: Runtime): Promise<{ senderId: string; apiKeyFile: string }>;
  close(): Promise<void>;
}

const OIDC_MODULE = new URL('../../dev/oidc-provider/start.js', import.meta.url).href;

/** Whether the configuration asks for the development OpenID provider: development, no OIDC_ISSUER. */
export function wantsDevOidc(config: Config): boolean {
  return config.env === 'development' && config.pages.devOidc !== undefined && config.pages.oidc === undefined;
}

/**
 * Starts the development OpenID provider (dev/oidc-provider) when the configuration asks for
 * it, and returns a configuration that signs in with it; undefined when it does not ask, when
 * this build lacks it or when its port is taken (said in the log: the pages then have no
 * sign-in, the API is unchanged).
 */
export async function startDevOidc(config: Config, log: Logger): Promise<StartedDevOidc | undefined> {
  if (!wantsDevOidc(config)) return undefined;
  const dev = await importDev<DevOidcModule>(OIDC_MODULE, log, 'the development OpenID provider is not in this build (npm run build:dev builds it): the pages have no sign-in (set OIDC_ISSUER)');
  if (!dev) return undefined;
  const started = await dev.startDevOidc(config);
  if ('reason' in started) {
    log.warn(`development OpenID provider not started: ${started.reason}; the pages have no sign-in (DEV_OIDC_PORT picks another port, OIDC_ISSUER another provider)`);
    return undefined;
  }
  return started;
}
