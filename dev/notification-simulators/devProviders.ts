/**
 * The development defaults of the notification providers: with APP_ENV=development, no SMS
 * provider, no GOVAPP_PUSH_URL and DEV_SIMULATORS not turned off, the server runs the SMS
 * aggregator simulator and the GovApp backend simulator in-process on loopback ephemeral
 * ports and uses them as if configured with
 *
 *   NOTIFY_SMS_PROVIDER=http  SMS_HTTP_URL=<sms simulator>/v1/sms  SMS_HTTP_TOKEN, SMS_HTTP_CALLBACK_SECRET
 *   GOVAPP_PUSH_URL=<govapp simulator>  GOVAPP_PUSH_TOKEN, GOVAPP_CALLBACK_SECRET
 *
 * with tokens and callback secrets drawn at random on each start (held here and in the
 * returned configuration only). The simulators send their reports to the callback URL each
 * request names, which the service builds from its own base URL (NOTIFY_CALLBACK_BASE_URL,
 * HOST:PORT, or — with PORT=0 — the address it learns once listening).
 */
import { randomBytes } from 'node:crypto';
import { wantsDevProviders } from '../../src/app/devProviders.js';
import type { Config, NotifyConfig } from '../../src/config.js';
import { GovAppSimulator, type GovAppSimulatorOptions } from './GovAppSimulator.js';
import { SmsSimulator, type SmsSimulatorOptions } from './SmsSimulator.js';

export interface DevProviders {
  /** the configuration given, with its notify section pointed at the simulators */
  config: Config;
  urls: { sms: string; govapp: string };
  sms: SmsSimulator;
  govapp: GovAppSimulator;
  close(): Promise<void>;
}

export interface DevProvidersOptions {
  /** loopback address the simulators listen on */
  host?: string;
  sms?: Partial<Omit<SmsSimulatorOptions, 'callbackSecret' | 'token'>>;
  govapp?: Partial<Omit<GovAppSimulatorOptions, 'callbackSecret' | 'token'>>;
}

/** Provider timeouts of the simulated providers (the defaults of NOTIFY_SMS_TIMEOUT_MS and GOVAPP_TIMEOUT_MS). */
const TIMEOUT_MS = 10_000;

/**
 * Starts both simulators when the configuration asks for them (see wantsDevProviders) and
 * returns a new configuration that uses them; undefined otherwise. `config` is not changed.
 */
export async function startDevProviders(config: Config, options: DevProvidersOptions = {}): Promise<DevProviders | undefined> {
  if (!wantsDevProviders(config)) return undefined;
  const host = options.host ?? '127.0.0.1';
  const random = () => randomBytes(32).toString('base64url');
  const smsToken = random();
  const smsSecret = random();
  const govappToken = random();
  const govappSecret = random();
  const sms = new SmsSimulator({ latencyMs: 20, jitterMs: 80, deliveryDelayMs: 500, ...options.sms, token: smsToken, callbackSecret: smsSecret });
  const govapp = new GovAppSimulator({ latencyMs: 20, deliveryDelayMs: 300, readAfterMs: null, ...options.govapp, token: govappToken, callbackSecret: govappSecret });
  try {
    await sms.start(0, host);
    await govapp.start(0, host);
  } catch (err) {
    await Promise.allSettled([sms.stop(), govapp.stop()]);
    throw err;
  }
  const notify: NotifyConfig = {
    ...config.notify,
    sms: { ...config.notify.sms, provider: { kind: 'http', url: sms.sendUrl, token: smsToken, from: 'eBox', callbackSecret: smsSecret, timeoutMs: TIMEOUT_MS } },
    govapp: { kind: 'http', url: govapp.url, token: govappToken, callbackSecret: govappSecret, timeoutMs: TIMEOUT_MS },
  };
  let closed: Promise<void> | undefined;
  return {
    config: { ...config, notify },
    urls: { sms: sms.url, govapp: govapp.url },
    sms,
    govapp,
    close() {
      closed ??= Promise.allSettled([sms.stop(), govapp.stop()]).then(() => undefined);
      return closed;
    },
  };
}
