/**
 * The development defaults' simulated providers (an SMS aggregator and a GovApp backend, in
 * dev/notification-simulators). They are not part of the product: the production build
 * (`npm run build`) does not contain them, and the service loads them only in development,
 * through a dynamic import of the development build (`npm run build:dev`, what `npm start`
 * runs) or of the sources (`npm run dev`).
 */
import type { Logger } from 'pino';
import type { Config } from '../config.js';

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

/** Where the simulators are, beside this file in dist/ or in the sources (a non-literal import keeps them out of the production build). */
const MODULE = new URL('../../dev/notification-simulators/devProviders.js', import.meta.url).href;

/**
 * Starts the simulators when the configuration asks for them, and returns a configuration
 * that uses them; undefined when it does not ask, or when this build does not contain them
 * (said in the log).
 */
export async function startDevProviders(config: Config, log: Logger): Promise<DevProviders | undefined> {
  if (!wantsDevProviders(config)) return undefined;
  let dev: DevProvidersModule;
  try {
    dev = (await import(MODULE)) as DevProvidersModule;
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    log.warn('development simulators are not in this build (npm run build:dev builds them): no SMS or GovApp provider is configured');
    return undefined;
  }
  return dev.startDevProviders(config);
}
