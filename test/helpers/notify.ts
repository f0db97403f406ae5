/**
 * Helpers for the notification tests: device key pairs, the service with a GovApp
 * simulator and/or a fake HTTP SMS aggregator on loopback, API calls, bounded polling.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { signBody } from '../../src/notifications/CallbackSignature.js';
import { GovAppSimulator, type GovAppSimulatorOptions } from '../../dev/notification-simulators/GovAppSimulator.js';
import { startTestService, type TestService, type TestServiceOptions } from './service.js';

export const ADMIN_TOKEN = 'admin-token-for-notify-tests-0123';
export const GOVAPP_SECRET = 'govapp-callback-secret-for-tests';
export const SMS_HTTP_SECRET = 'sms-http-callback-secret-for-tests';
export const KANNEL_SECRET = 'kannel-dlr-secret-for-the-tests';

export interface Device {
  id: string;
  publicJwk: JWK;
  privateKey: CryptoKey;
}

export async function newDevice(id: string): Promise<Device> {
  const { publicKey, privateKey } = await generateKeyPair('ECDH-ES+A256KW', { crv: 'P-256', extractable: true });
  return { id, publicJwk: await exportJWK(publicKey), privateKey };
}

/** A fake commercial SMS aggregator speaking the generic HTTP contract (HttpSmsGateway.ts). */
export class FakeAggregator {
  private server: Server | undefined;
  url = '';
  readonly requests: Array<Record<string, any>> = [];
  /** answer 503 to this many requests first */
  failFirst = 0;
  /** answer 503 to every request */
  down = false;
  /** numbers answered 400 INVALID_NUMBER */
  readonly invalidNumbers = new Set<string>();

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
        this.requests.push(body);
        const send = (status: number, value: unknown) => void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
        if (this.down || this.failFirst > 0) {
          if (this.failFirst > 0) this.failFirst--;
          send(503, { code: 'UNAVAILABLE' });
        } else if (this.invalidNumbers.has(body.to)) {
          send(400, { code: 'INVALID_NUMBER' });
        } else {
          send(200, { id: `agg-${this.requests.length}` });
        }
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', () => resolve()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/sms`;
    return this.url;
  }

  /** POSTs a signed delivery report to the callback URL the service gave. */
  async report(reference: string, status: 'ACCEPTED' | 'DELIVERED' | 'FAILED', secret = SMS_HTTP_SECRET): Promise<number> {
    const req = this.requests.find((r) => r.reference === reference);
    if (!req?.callbackUrl) throw new Error(`no request with reference ${reference} and a callbackUrl`);
    const body = JSON.stringify({ reference, status });
    const res = await fetch(req.callbackUrl, { method: 'POST', headers: { 'content-type': 'application/json', signature: signBody(secret, body) }, body });
    await res.arrayBuffer();
    return res.status;
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

export interface NotifyService {
  svc: TestService;
  sim?: GovAppSimulator;
  aggregator?: FakeAggregator;
  close(): Promise<void>;
}

/**
 * The real service with its GovApp push adapter pointed at a simulator and (unless
 * `sms: false`) its SMS adapter at a fake HTTP aggregator; providers call back to the
 * service's loopback URL.
 */
export async function startNotifyService(
  options: {
    env?: Record<string, string>;
    /** a simulator's options, or a running simulator (kept running by close), or none */
    sim?: Partial<GovAppSimulatorOptions> | GovAppSimulator | false;
    sms?: boolean | FakeAggregator;
    service?: TestServiceOptions;
  } = {},
): Promise<NotifyService> {
  const env: Record<string, string> = { ADMIN_TOKEN, NOTIFY_SYNC_WAIT_MS: '10000' };
  let sim: GovAppSimulator | undefined;
  let aggregator: FakeAggregator | undefined;
  const ownSim = !(options.sim instanceof GovAppSimulator);
  const ownAggregator = !(options.sms instanceof FakeAggregator);
  if (options.sim instanceof GovAppSimulator) {
    sim = options.sim;
    env.GOVAPP_PUSH_URL = sim.url;
    env.GOVAPP_CALLBACK_SECRET = GOVAPP_SECRET;
  } else if (options.sim !== false) {
    sim = new GovAppSimulator({ callbackSecret: GOVAPP_SECRET, ...(options.sim ?? {}) });
    env.GOVAPP_PUSH_URL = await sim.start();
    env.GOVAPP_CALLBACK_SECRET = GOVAPP_SECRET;
  }
  if (options.sms !== false) {
    aggregator = options.sms instanceof FakeAggregator ? options.sms : new FakeAggregator();
    env.NOTIFY_SMS_PROVIDER = 'http';
    env.SMS_HTTP_URL = aggregator.url || (await aggregator.start());
    env.SMS_HTTP_CALLBACK_SECRET = SMS_HTTP_SECRET;
  }
  const svc = await startTestService({ ...env, ...(options.env ?? {}) }, options.service);
  svc.rt.notifications.setCallbackBaseUrl(svc.url);
  return {
    svc,
    sim,
    aggregator,
    async close() {
      if (ownSim) await sim?.stop();
      if (ownAggregator) await aggregator?.stop();
      await svc.close();
    },
  };
}

export function admin(svc: { url: string }, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(svc.url + path, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

export async function adminOk(svc: { url: string }, method: string, path: string, body?: unknown): Promise<any> {
  const res = await admin(svc, method, path, body);
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** A contact: number, language, and devices (each with notifications on unless listed in `off`). */
export async function addContact(svc: { url: string }, recipientId: string, opts: { phone?: string | null; language?: string; devices?: Device[]; off?: string[] } = {}): Promise<void> {
  await adminOk(svc, 'PUT', `/v1/admin/contacts/citizen/${recipientId}`, { phoneNumber: opts.phone === undefined ? '+32470123456' : opts.phone, language: opts.language ?? 'nl' });
  for (const d of opts.devices ?? []) {
    await adminOk(svc, 'POST', `/v1/admin/contacts/citizen/${recipientId}/installations`, { id: d.id, pushToken: `token-${d.id}`, publicKey: d.publicJwk, deviceName: d.id, notificationsEnabled: !(opts.off ?? []).includes(d.id) });
  }
}

export function postNotification(svc: { url: string }, apiKey: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${svc.url}/v1/notifications`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

export async function getNotification(svc: { url: string }, apiKey: string, id: string): Promise<any> {
  const res = await fetch(`${svc.url}/v1/notifications/${id}`, { headers: { authorization: `Bearer ${apiKey}` } });
  if (res.status !== 200) throw new Error(`GET notification ${id}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** Polls the notification until `until` holds (bounded). */
export async function waitForNotification(svc: { url: string }, apiKey: string, id: string, until: (n: any) => boolean, timeoutMs = 20_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let last: any;
  while (Date.now() < deadline) {
    last = await getNotification(svc, apiKey, id);
    if (until(last)) return last;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`notification ${id} did not reach the expected state; last: ${JSON.stringify({ status: last?.status, attempts: last?.attempts })}`);
}

/** Polls any condition (bounded). */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export const SMS_TEXT = { nl: { title: 'Herinnering', html: '<p>Uw afspraak is <b>morgen</b>.</p>', sms: 'Uw afspraak is morgen om 10:00.' } };

/** A valid INSZ/NISS (born 30/07/1985) with serial `n` (1–997): distinct recipients per test. */
export function insz(n: number): string {
  const body = `850730${String(n).padStart(3, '0')}`;
  return body + String(97 - Number(BigInt(body) % 97n)).padStart(2, '0');
}
