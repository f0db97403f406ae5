/**
 * The outside services a campaign may deliver to, run in the harness (so that they outlive
 * every kill of the service and keep their own records for the checker), each behind a
 * cuttable proxy (down = connection refused):
 *
 *   - the remote e-Box simulator (dev/ebox-simulator): OAuth2, Idempotency-Key, latency and
 *     failures on demand; its publications are what the checker counts deposits by;
 *   - the GovApp backend and SMS aggregator simulators (dev/notification-simulators): what they
 *     received is what the checker counts notices by. Half the recipients have the GovApp
 *     (a push), the others a phone number only (an SMS).
 */
import { SIMULATOR_DEFAULT_CLIENT, SIMULATOR_DEFAULT_SCOPE, startEboxSimulator, type RunningEboxSimulator } from '../../dev/ebox-simulator/EboxSimulator.js';
import { GovAppSimulator } from '../../dev/notification-simulators/GovAppSimulator.js';
import { SmsSimulator } from '../../dev/notification-simulators/SmsSimulator.js';
import { newDevice } from '../helpers/notify.js';
import type { CheckOptions } from './checker.js';
import { CuttableProxy } from './proxy.js';

export interface RemoteEbox {
  sim: RunningEboxSimulator;
  proxy: CuttableProxy;
  /** the service's settings to deliver there */
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function remoteEbox(seed: number, citizens: string[], faults: { latencyMs?: number; jitterMs?: number } = {}): Promise<RemoteEbox> {
  const sim = await startEboxSimulator({ seed, ...faults, recipients: citizens.map((id) => ({ eboxType: 'citizen' as const, id, activated: true })) });
  const proxy = await CuttableProxy.forUrl(sim.url).start();
  return {
    sim,
    proxy,
    env: {
      EBOX_URL: proxy.rewrite(sim.url),
      EBOX_CLIENT_ID: SIMULATOR_DEFAULT_CLIENT.clientId,
      EBOX_CLIENT_SECRET: SIMULATOR_DEFAULT_CLIENT.clientSecret,
      EBOX_SCOPE: SIMULATOR_DEFAULT_SCOPE,
      EBOX_TIMEOUT_MS: '2000',
    },
    async close() {
      await proxy.close();
      await sim.close();
    },
  };
}

export const ADMIN_TOKEN = 'fault-campaign-admin-token-0123456789';

export interface NoticeProviders {
  govapp: GovAppSimulator;
  sms: SmsSimulator;
  govappProxy: CuttableProxy;
  smsProxy: CuttableProxy;
  /** the service's settings to notify through them (NOTIFY_CALLBACK_BASE_URL is the campaign's to add) */
  env: Record<string, string>;
  /** registers the recipients' contacts through the admin API of the service at `apiUrl` */
  contacts(apiUrl: string, citizens: string[]): Promise<void>;
  /** what they received, for the checker */
  records(): NonNullable<CheckOptions['providers']>;
  close(): Promise<void>;
}

export async function noticeProviders(seed: number): Promise<NoticeProviders> {
  const govappSecret = 'fault-campaign-govapp-callback-secret';
  const smsSecret = 'fault-campaign-sms-callback-secret';
  const govapp = new GovAppSimulator({ callbackSecret: govappSecret, deliveryDelayMs: 20 });
  const sms = new SmsSimulator({ callbackSecret: smsSecret, deliveryDelayMs: 20, seed });
  const govappProxy = await CuttableProxy.forUrl(await govapp.start()).start();
  const smsProxy = await CuttableProxy.forUrl(await sms.start()).start();
  return {
    govapp,
    sms,
    govappProxy,
    smsProxy,
    env: {
      ADMIN_TOKEN,
      GOVAPP_PUSH_URL: govappProxy.rewrite(govapp.url),
      GOVAPP_CALLBACK_SECRET: govappSecret,
      GOVAPP_TIMEOUT_MS: '2000',
      NOTIFY_SMS_PROVIDER: 'http',
      SMS_HTTP_URL: `${smsProxy.rewrite(sms.url)}/v1/sms`,
      SMS_HTTP_CALLBACK_SECRET: smsSecret,
      NOTIFY_SMS_TIMEOUT_MS: '2000',
    },
    async contacts(apiUrl, citizens) {
      for (const [i, id] of citizens.entries()) {
        await admin(apiUrl, 'PUT', `/v1/admin/contacts/citizen/${id}`, { phoneNumber: `+3247000${String(1000 + i)}`, language: 'nl' });
        if (i % 2 === 0) {
          const d = await newDevice(`phone-${i}`);
          await admin(apiUrl, 'POST', `/v1/admin/contacts/citizen/${id}/installations`, { id: d.id, pushToken: `token-${d.id}`, publicKey: d.publicJwk, deviceName: d.id, notificationsEnabled: true });
        }
      }
    },
    records: () => ({ pushes: [...govapp.pushes.values()], sms: [...sms.messages] }),
    async close() {
      await govappProxy.close();
      await smsProxy.close();
      await govapp.stop();
      await sms.stop();
    },
  };
}

async function admin(base: string, method: string, path: string, body: unknown): Promise<void> {
  const res = await fetch(base + path, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
}
