/**
 * The fixtures of the access suite: a running service and every party it knows, built
 * through the service's own API the way an operator, two senders and two recipients would.
 *
 * "main" profile — the service over TLS with client certificates (mutual TLS for senders),
 * ADMIN_TOKEN and METRICS_TOKEN, the SMS aggregator and GovApp simulators as providers, and:
 *  - sender A: an API key and a registered client certificate; a revoked key, an expired key,
 *    a revoked certificate, a registered certificate the client CA did not issue; a key the
 *    admin revokes and one the admin rotates in the matrix; a webhook; message M1 to R1 with
 *    every proof (acceptance, consignment, handover: R1 opened it) and M2 to R1 not yet
 *    opened; an SMS notification to A's own phone number and a GovApp push to R1's device;
 *  - sender B: an API key; a webhook that fails, whose delivery is the dead job of the matrix;
 *  - recipients R1 (A's messages are addressed to R1; a revoked token and a current one), R2,
 *    and R4, R5, R6 that the admin's token and activation operations act on; R1's contact
 *    entry with two GovApp installations, and a contact entry the admin deletes;
 *  - an address blocked after repeated authentication failures.
 * "kannel" profile — a plain HTTP service whose SMS provider is Kannel (an HTTP endpoint in
 * this test plays Kannel's sendsms interface and records the dlr-url the service gives it),
 * with the same credentials but the certificates, for the Kannel delivery report route.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { GovAppSimulator } from '../../dev/notification-simulators/GovAppSimulator.js';
import { SMS_SIMULATOR_SEND_PATH, SmsSimulator } from '../../dev/notification-simulators/SmsSimulator.js';
import { signBody } from '../../src/notifications/CallbackSignature.js';
import { kannelInboundToken } from '../../src/notifications/providers/KannelSmsGateway.js';
import { eventually, insz, newDevice } from '../helpers/notify.js';
import { openssl } from '../helpers/openssl.js';
import { pdfBytes, startTestService, type TestService } from '../helpers/service.js';
import { Addresses, Client, type Answer, type TlsIdentity } from './client.js';

export const ADMIN_TOKEN = 'access-suite-admin-token-0123456789';
export const METRICS_TOKEN = 'access-suite-metrics-token-0123456789';
/** failures per address before it is blocked; each case comes from an address of its own */
export const AUTH_FAILURE_LIMIT = 5;
/** a recipient nobody registered: where the matrix's own submissions go (rejected, sealed) */
export const NOBODY = insz(300);
/** a number no party owns: where the matrix's own notifications go */
export const NOBODY_PHONE = '+32470999000';

export type Profile = 'main' | 'kannel';

export interface Recipient {
  insz: string;
  token: string;
}

export interface World {
  profile: Profile;
  svc: TestService;
  client: Client;
  addresses: Addresses;
  /** the OpenAPI document the service serves */
  doc: any;
  keys: { A: string; B: string; revoked: string; expired: string };
  senders: { A: string; B: string; nameA: string };
  /** client certificates (main profile) */
  tls?: { A: TlsIdentity; revoked: TlsIdentity; untrusted: TlsIdentity; unregistered: TlsIdentity };
  R1: Recipient & { revokedToken: string };
  R2: Recipient;
  /** provider callback secrets, for the routes the profile configures */
  callbackSecrets: { sms?: string; govapp?: string };
  /** address blocked by the AuthGuard */
  blockedAddress: string;
  /** what no one but its owner may see: name → value */
  secrets: Map<string, string>;
  /** main profile resources */
  main?: MainResources;
  /** kannel profile resources */
  kannel?: { attemptA: string; tokenA: string; tokenB: string; inboundToken: string };
  tsaQuery: Buffer;
  receiverUrl?: string;
  /** a request with a fresh client address */
  call(method: string, urlPath: string, options?: CallOptions): Promise<Answer>;
  /** a request that must succeed; its JSON answer */
  ok(method: string, urlPath: string, options?: CallOptions): Promise<any>;
  close(): Promise<void>;
}

export interface MainResources {
  keyToRevoke: { id: string; key: string };
  /** a clerk of A's (an identity provider's issuer and subject), for the operator to unmap */
  clerkToRemove: { issuer: string; subject: string };
  keyToRotate: { id: string; key: string };
  R4: Recipient;
  R5: Recipient;
  R6: Recipient;
  contactToDelete: string;
  installation: string;
  installationToDelete: string;
  devicePublicKey: unknown;
  M1: { id: string; entry: string; handover: string };
  M2: { id: string; entry: string };
  /** a batch of A's (POST /v1/messages/batches) */
  batch: string;
  sms: { notification: string; attempt: string };
  push: { notification: string; attempt: string };
  /** A's SMS scheduled a day ahead: what only A can cancel */
  scheduled: string;
  /** A's batch of one row (POST /v1/notifications/batches) */
  notificationBatch: string;
  deadJob: number;
  /** a number that answered STOP ALL (an all-senders opt-out the operator can lift) */
  optedOutPhone: string;
}

export interface CallOptions {
  bearer?: string;
  json?: unknown;
  body?: Buffer;
  contentType?: string;
  tls?: TlsIdentity;
  address?: string;
}

const SMS_SECRET = 'access-suite-sms-callback-secret-0123';
const GOVAPP_SECRET = 'access-suite-govapp-callback-secret-01';
const KANNEL_SECRET = 'access-suite-kannel-dlr-secret-0123456';
const random = (n = 8) => randomBytes(n).toString('hex');

/** Polls until `probe` holds, bounded. */
async function until(what: string, probe: () => Promise<boolean>): Promise<void> {
  await eventually(what, async () => ((await probe()) ? true : undefined), 30_000);
}

export async function buildWorld(profile: Profile): Promise<World> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-access-'));
  const closers: Array<() => Promise<void> | void> = [() => fs.rmSync(dir, { recursive: true, force: true })];
  const close = async () => {
    for (const c of closers.reverse()) await c();
  };
  try {
    return await (profile === 'main' ? buildMain(dir, closers, close) : buildKannel(dir, closers, close));
  } catch (err) {
    await close();
    throw err;
  }
}

type Closers = Array<() => Promise<void> | void>;

async function start(env: Record<string, string>, closers: Closers, ca?: Buffer): Promise<{ svc: TestService; client: Client }> {
  const svc = await startTestService({
    ADMIN_TOKEN,
    METRICS_TOKEN,
    TRUST_PROXY: 'loopback',
    AUTH_FAILURE_LIMIT: String(AUTH_FAILURE_LIMIT),
    AUTH_FAILURE_WINDOW_SECONDS: '3600',
    AUTH_BLOCK_SECONDS: '3600',
    ...env,
  });
  closers.push(() => svc.close());
  const client = new Client(svc.url, ca);
  closers.push(() => client.close());
  return { svc, client };
}

function caller(client: Client, addresses: Addresses) {
  const call = (method: string, urlPath: string, o: CallOptions = {}): Promise<Answer> => {
    const headers: Array<[string, string]> = [['x-forwarded-for', o.address ?? addresses.next()]];
    if (o.bearer) headers.push(['authorization', `Bearer ${o.bearer}`]);
    let body = o.body;
    if (o.json !== undefined) {
      body = Buffer.from(JSON.stringify(o.json));
      headers.push(['content-type', 'application/json']);
    } else if (o.contentType) headers.push(['content-type', o.contentType]);
    return client.send({ method, path: urlPath, headers, body, tls: o.tls });
  };
  const ok = async (method: string, urlPath: string, o: CallOptions = {}): Promise<any> => {
    const a = await call(method, urlPath, o);
    if (a.status < 200 || a.status > 299) throw new Error(`${method} ${urlPath}: ${a.status} ${a.body.toString('utf8')}`);
    return a.body.length > 0 && /json/.test(String(a.headers['content-type'])) ? JSON.parse(a.body.toString('utf8')) : undefined;
  };
  return { call, ok };
}

/** Senders A and B (with revoked and expiring keys of A) and recipients R1 (with a revoked token) and R2. */
async function parties(ok: World['ok'], call: World['call']) {
  const admin = { bearer: ADMIN_TOKEN };
  const nameA = `Institution A ${random(4)}`;
  const A = await ok('POST', '/v1/admin/senders', { ...admin, json: { name: nameA } });
  const B = await ok('POST', '/v1/admin/senders', { ...admin, json: { name: `Institution B ${random(4)}` } });
  const revoked = await ok('POST', `/v1/admin/senders/${A.id}/credentials`, { ...admin, json: { name: 'revoked' } });
  await ok('DELETE', `/v1/admin/senders/${A.id}/credentials/${revoked.credential.id}`, admin);
  const expired = await ok('POST', `/v1/admin/senders/${A.id}/credentials`, { ...admin, json: { name: 'expiring', expiresAt: new Date(Date.now() + 1500).toISOString() } });

  const R1 = { insz: insz(101), token: '', revokedToken: '' };
  R1.revokedToken = (await ok('POST', '/v1/admin/recipients', { ...admin, json: { type: 'citizen', id: R1.insz } })).token;
  await ok('DELETE', `/v1/admin/recipients/citizen/${R1.insz}/token`, admin);
  R1.token = (await ok('POST', `/v1/admin/recipients/citizen/${R1.insz}/token`, admin)).token;
  const R2 = { insz: insz(102), token: (await ok('POST', '/v1/admin/recipients', { ...admin, json: { type: 'citizen', id: insz(102) } })).token };

  const waitExpired = () => until('the expiring key to be refused', async () => (await call('GET', '/v1/messages', { bearer: expired.apiKey })).status === 401);
  return { A, B, nameA, revokedKey: revoked.apiKey as string, expiredKey: expired.apiKey as string, R1, R2, waitExpired };
}

/** Fails authentication from one address until the AuthGuard blocks it. */
async function block(call: World['call'], address: string): Promise<void> {
  for (let i = 0; i < AUTH_FAILURE_LIMIT; i++) {
    const a = await call('GET', '/v1/messages', { bearer: `rmk_${random(16)}`, address });
    if (a.status !== 401) throw new Error(`blocking ${address}: expected 401, got ${a.status}`);
  }
  const a = await call('GET', '/v1/messages', { bearer: `rmk_${random(16)}`, address });
  if (a.status !== 429) throw new Error(`blocking ${address}: expected 429 once blocked, got ${a.status}`);
}

async function tsaQuery(dir: string): Promise<Buffer> {
  const data = path.join(dir, 'stamped.txt');
  fs.writeFileSync(data, 'a document to time-stamp\n');
  const q = await openssl(['ts', '-query', '-data', data, '-sha256', '-cert']);
  if (q.code !== 0) throw new Error(`openssl ts -query: ${q.stderr}`);
  return q.stdout;
}

function commonSecrets(p: Awaited<ReturnType<typeof parties>>): Map<string, string> {
  return new Map<string, string>([
    ['A sender id', p.A.id],
    ['A name', p.nameA],
    ['A key', p.A.apiKey],
    ['A credential id', p.A.credential.id],
    ['A revoked key', p.revokedKey],
    ['A expired key', p.expiredKey],
    ['B key', p.B.apiKey],
    ['R1 INSZ', p.R1.insz],
    ['R1 token', p.R1.token],
    ['R1 revoked token', p.R1.revokedToken],
    ['R2 token', p.R2.token],
    ['admin token', ADMIN_TOKEN],
    ['metrics token', METRICS_TOKEN],
  ]);
}

// ------------------------------------------------------------------------------ main

async function makeCert(dir: string, name: string, subject: string, issuer?: string, extra: string[] = []): Promise<void> {
  const f = (n: string) => path.join(dir, n);
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f(`${name}.key`)];
  const check = (r: { code: number; stderr: string }) => {
    if (r.code !== 0) throw new Error(`openssl (${name}): ${r.stderr}`);
  };
  if (!issuer) {
    check(await openssl(['req', '-x509', ...key, '-out', f(`${name}.pem`), '-subj', subject, '-days', '2', ...extra]));
  } else {
    check(await openssl(['req', ...key, '-out', f(`${name}.csr`), '-subj', subject]));
    fs.writeFileSync(f(`${name}.ext`), 'extendedKeyUsage=clientAuth\n');
    // a random serial of its own: certificates issued at once by one CA (Promise.all below)
    // raced on a shared serial file (-CAcreateserial), and one read it half written
    const serial = `0x${randomBytes(16).toString('hex')}`;
    check(await openssl(['x509', '-req', '-in', f(`${name}.csr`), '-CA', f(`${issuer}.pem`), '-CAkey', f(`${issuer}.key`), '-set_serial', serial, '-out', f(`${name}.pem`), '-days', '2', '-extfile', f(`${name}.ext`)]));
  }
  fs.chmodSync(f(`${name}.key`), 0o600);
}

/** An HTTP receiver for webhooks: 204 on /hook…, 500 on /fail…. */
async function webhookReceiver(closers: Closers): Promise<string> {
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(req.url?.startsWith('/fail') ? 500 : 204).end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  closers.push(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export function multipart(metadata: unknown, document: Uint8Array): { body: Buffer; contentType: string } {
  const boundary = `access-${random(12)}`;
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="metadata"\r\nContent-Type: application/json\r\n\r\n${JSON.stringify(metadata)}\r\n`),
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="main"; filename="main.pdf"\r\nContent-Type: application/pdf\r\n\r\n`),
    Buffer.from(document),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}

/** A batch as multipart: the manifest (a JSON array of rows), then one file part per document. */
export function multipartBatch(rows: unknown[], documents: Array<{ name: string; bytes: Uint8Array }>): { body: Buffer; contentType: string } {
  const boundary = `access-${random(12)}`;
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="manifest"\r\nContent-Type: application/json\r\n\r\n${JSON.stringify(rows)}\r\n`),
    ...documents.flatMap((d) => [Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${d.name}"; filename="${d.name}"\r\nContent-Type: application/pdf\r\n\r\n`), Buffer.from(d.bytes), Buffer.from('\r\n')]),
    Buffer.from(`--${boundary}--\r\n`),
  ]);
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}

async function buildMain(dir: string, closers: Closers, close: () => Promise<void>): Promise<World> {
  await makeCert(dir, 'server', '/CN=127.0.0.1', undefined, ['-addext', 'subjectAltName=IP:127.0.0.1']);
  await makeCert(dir, 'clientca', '/CN=Access suite client CA');
  await Promise.all([
    makeCert(dir, 'a', '/CN=Sender A application', 'clientca'),
    makeCert(dir, 'a-revoked', '/CN=Sender A old application', 'clientca'),
    makeCert(dir, 'unregistered', '/CN=Unregistered application', 'clientca'),
    makeCert(dir, 'rogue', '/CN=Sender A application (self-signed)'),
  ]);
  const file = (n: string) => path.join(dir, n);
  const identity = (name: string): TlsIdentity => ({ name, cert: fs.readFileSync(file(`${name}.pem`)), key: fs.readFileSync(file(`${name}.key`)) });

  // the providers: the project's SMS aggregator and GovApp simulators. The service is given
  // no callback base URL, so they send no reports of their own: the matrix sends them.
  const sms = new SmsSimulator({ callbackSecret: SMS_SECRET, token: 'access-sms-token' });
  const smsUrl = await sms.start();
  closers.push(() => sms.stop());
  const govapp = new GovAppSimulator({ callbackSecret: GOVAPP_SECRET, token: 'access-govapp-token' });
  const govappUrl = await govapp.start();
  closers.push(() => govapp.stop());
  const receiverUrl = await webhookReceiver(closers);

  const { svc, client } = await start(
    {
      TLS_CERT_FILE: file('server.pem'),
      TLS_KEY_FILE: file('server.key'),
      TLS_CLIENT_CA_FILE: file('clientca.pem'),
      WEBHOOK_ALLOW_PRIVATE_TARGETS: '127.0.0.0/8',
      WEBHOOK_MAX_ATTEMPTS: '1',
      NOTIFY_SMS_PROVIDER: 'http',
      SMS_HTTP_URL: `${smsUrl}${SMS_SIMULATOR_SEND_PATH}`,
      SMS_HTTP_TOKEN: 'access-sms-token',
      SMS_HTTP_CALLBACK_SECRET: SMS_SECRET,
      GOVAPP_PUSH_URL: govappUrl,
      GOVAPP_PUSH_TOKEN: 'access-govapp-token',
      GOVAPP_CALLBACK_SECRET: GOVAPP_SECRET,
    },
    closers,
    fs.readFileSync(file('server.pem')),
  );
  const addresses = new Addresses();
  const { call, ok } = caller(client, addresses);
  const admin = { bearer: ADMIN_TOKEN };
  const doc = await ok('GET', '/openapi.json');
  const tsa = await tsaQuery(dir);

  const p = await parties(ok, call);
  const { A, B, R1, R2 } = p;
  const secrets = commonSecrets(p);

  // A's certificates: registered; registered then revoked; registered but not issued by the client CA
  const certOf = (n: string) => fs.readFileSync(file(`${n}.pem`), 'utf8');
  const certA = await ok('POST', `/v1/admin/senders/${A.id}/credentials`, { ...admin, json: { kind: 'tls_client_certificate', name: 'application', certificate: certOf('a') } });
  const certRevoked = await ok('POST', `/v1/admin/senders/${A.id}/credentials`, { ...admin, json: { kind: 'tls_client_certificate', name: 'old application', certificate: certOf('a-revoked') } });
  await ok('DELETE', `/v1/admin/senders/${A.id}/credentials/${certRevoked.credential.id}`, admin);
  await ok('POST', `/v1/admin/senders/${A.id}/credentials`, { ...admin, json: { kind: 'tls_client_certificate', name: 'rogue', certificate: certOf('rogue') } });
  secrets.set('A certificate credential id', certA.credential.id);
  const keyToRevoke = await ok('POST', `/v1/admin/senders/${A.id}/credentials`, { ...admin, json: { name: 'to revoke' } });
  const keyToRotate = await ok('POST', `/v1/admin/senders/${A.id}/credentials`, { ...admin, json: { name: 'to rotate' } });
  secrets.set('A key to revoke', keyToRevoke.apiKey);
  const clerkToRemove = { issuer: 'https://idp.example', subject: 'clerk-to-remove' };
  await ok('POST', `/v1/admin/senders/${A.id}/clerks`, { ...admin, json: { ...clerkToRemove, name: 'Clerk to remove' } });
  secrets.set('A key to rotate', keyToRotate.apiKey);

  const recipient = async (n: number): Promise<Recipient> => ({ insz: insz(n), token: (await ok('POST', '/v1/admin/recipients', { ...admin, json: { type: 'citizen', id: insz(n) } })).token });
  const R4 = await recipient(104);
  const R5 = await recipient(105);
  const R6 = await recipient(106);

  // R1's contact entry, with two GovApp installations; another contact the admin deletes
  const phoneR1 = '+32470111222';
  const phoneA = '+32470333444';
  const device = await newDevice(`inst-${random(6)}`);
  const deviceToDelete = await newDevice(`inst-${random(6)}`);
  await ok('PUT', `/v1/admin/contacts/citizen/${R1.insz}`, { ...admin, json: { phoneNumber: phoneR1, language: 'nl' } });
  for (const d of [device, deviceToDelete]) {
    await ok('POST', `/v1/admin/contacts/citizen/${R1.insz}/installations`, { ...admin, json: { id: d.id, pushToken: `push-${d.id}`, publicKey: d.publicJwk, deviceName: d.id } });
  }
  const contactToDelete = insz(107);
  await ok('PUT', `/v1/admin/contacts/citizen/${contactToDelete}`, { ...admin, json: { phoneNumber: '+32470555666', language: 'fr' } });
  secrets.set('R1 phone', phoneR1);
  secrets.set('A phone', phoneA);
  secrets.set('R1 installation', device.id);
  secrets.set('R1 push token', `push-${device.id}`);

  // webhooks: A's answers, B's fails (its one delivery becomes a dead letter)
  const hookA = `${receiverUrl}/hook-a-${random(6)}`;
  const webhookA = await ok('PUT', '/v1/webhook', { bearer: A.apiKey, json: { url: hookA } });
  await ok('PUT', '/v1/webhook', { bearer: B.apiKey, json: { url: `${receiverUrl}/fail-b` } });
  secrets.set('A webhook', hookA.slice(receiverUrl.length));
  secrets.set('A webhook secret', webhookA.secret);

  // A's messages to R1, and one of B's
  const submit = async (key: string, meta: Record<string, unknown>) => {
    const m = multipart({ documents: [{ httpPartName: 'main', isMainContent: true }], ...meta }, pdfBytes(2000, 7));
    return ok('POST', '/v1/messages', { bearer: key, body: m.body, contentType: m.contentType });
  };
  const subject = () => ({ nl: `Beslissing ${random(6)}`, fr: `Décision ${random(6)}` });
  const s1 = subject();
  const s2 = subject();
  const M1 = await submit(A.apiKey, { recipient: { type: 'citizen', id: R1.insz }, subject: s1, senderReference: `REF-A-${random(6)}` });
  const M2 = await submit(A.apiKey, { recipient: { type: 'citizen', id: R1.insz }, subject: s2, senderReference: `REF-A-${random(6)}` });
  await submit(B.apiKey, { recipient: { type: 'citizen', id: NOBODY }, subject: { nl: 'B' } });
  const batchReference = `REF-A-BATCH-${random(6)}`;
  const batchBody = multipartBatch([{ recipient: { type: 'citizen', id: NOBODY }, subject: { nl: 'Batch' }, senderReference: batchReference, documents: [{ file: 'batch-1.pdf', isMainContent: true }] }], [{ name: 'batch-1.pdf', bytes: pdfBytes(900, 8) }]);
  const batch = await ok('POST', '/v1/messages/batches', { bearer: A.apiKey, body: batchBody.body, contentType: batchBody.contentType });
  secrets.set('A batch reference', batchReference);
  const messageOf = async (id: string) => ok('GET', `/v1/messages/${id}`, { bearer: A.apiKey });
  // deposited, and R1 told (R1 has a contact entry): the notice's proof is sealed before R1 opens M1
  for (const m of [M1, M2]) {
    await until(`message ${m.id} deposited and its notice sent`, async () => {
      const full = await messageOf(m.id);
      return full.status === 'DEPOSITED' && full.evidence.some((e: any) => e.type === 'NotificationForAcceptance');
    });
  }
  const mailbox = (await ok('GET', '/v1/ebox/messages', { bearer: R1.token })).items as any[];
  const entryOf = (s: { nl: string }) => mailbox.find((e) => e.subject.nl === s.nl).id as string;
  const entry1 = entryOf(s1);
  const entry2 = entryOf(s2);
  await ok('GET', `/v1/ebox/messages/${entry1}/documents/0`, { bearer: R1.token });
  let handover = '';
  await until('the handover proof of M1', async () => {
    handover = (await messageOf(M1.id)).evidence.find((e: any) => e.type === 'ContentHandover')?.id ?? '';
    return handover !== '';
  });
  // every proof so far in a time-stamped tree: their evidence records are served
  await svc.rt.records.enterPending();
  for (const [name, m, s] of [['M1', M1, s1], ['M2', M2, s2]] as const) {
    const full = await messageOf(m.id);
    secrets.set(`${name} id`, m.id);
    secrets.set(`${name} subject`, s.nl);
    secrets.set(`${name} senderReference`, full.senderReference);
    full.evidence.forEach((e: any, i: number) => secrets.set(`${name} evidence ${i}`, e.id));
  }
  secrets.set('M1 mailbox entry', entry1);
  secrets.set('M2 mailbox entry', entry2);

  // A's notifications: an SMS to A's own number, a push to R1's device
  const sent = async (body: unknown) => {
    const n = await ok('POST', '/v1/notifications', { bearer: A.apiKey, json: body });
    await until(`notification ${n.id} sent`, async () => (await ok('GET', `/v1/notifications/${n.id}`, { bearer: A.apiKey })).attempts.some((a: any) => a.status === 'SENT'));
    const full = await ok('GET', `/v1/notifications/${n.id}`, { bearer: A.apiKey });
    return { notification: n.id as string, attempt: full.attempts.find((a: any) => a.status === 'SENT').id as string };
  };
  const smsA = await sent({ phoneNumber: phoneA, strategy: 'SMS_ONLY', content: { nl: { sms: `Afspraak ${random(4)}` } } });
  const pushA = await sent({ recipient: { type: 'citizen', id: R1.insz }, strategy: 'GOVAPP_ONLY', content: { nl: { title: 'Bericht', html: '<p>Bericht</p>' } } });
  secrets.set('A SMS notification', smsA.notification);
  secrets.set('A SMS attempt', smsA.attempt);
  secrets.set('A push notification', pushA.notification);
  secrets.set('A push attempt', pushA.attempt);
  const scheduledA = (await ok('POST', '/v1/notifications', { bearer: A.apiKey, json: { phoneNumber: phoneA, strategy: 'SMS_ONLY', content: { nl: { sms: `Later ${random(4)}` } }, sendAt: new Date(Date.now() + 86_400_000).toISOString() } })).id as string;
  secrets.set('A scheduled notification', scheduledA);
  // A's phone answers A's SMS (a reply only A reads); a number that received no SMS answers
  // STOP ALL (an opt-out from every sender), as the aggregator passes them on, signed
  const inbound = async (m: Record<string, string>) => {
    const body = Buffer.from(JSON.stringify(m));
    const a = await client.send({ method: 'POST', path: '/v1/callbacks/sms-http/inbound', headers: [['x-forwarded-for', addresses.next()], ['content-type', 'application/json'], ['signature', signBody(SMS_SECRET, body)]], body });
    if (a.status !== 204) throw new Error(`inbound SMS: ${a.status} ${a.text}`);
  };
  const replyText = `Bedankt ${random(6)}`;
  await inbound({ id: `access-reply-${random(8)}`, from: phoneA, to: 'eBox', text: replyText });
  secrets.set('A reply', replyText);
  const optedOutPhone = '+32470999222';
  await inbound({ id: `access-stop-${random(8)}`, from: optedOutPhone, to: 'eBox', text: 'STOP ALL' });
  const batchA = await ok('POST', '/v1/notifications/batches?template=document-available&strategy=SMS_ONLY', { bearer: A.apiKey, body: Buffer.from(`phoneNumber,values.subject\n${phoneA}, Brief ${random(4)}\n`), contentType: 'text/csv' });
  secrets.set('A batch', batchA.id as string);
  // the registered-mail notices of M1 and M2 are A's too
  const notices = await svc.rt.store.db('notifications').whereIn('message_id', [M1.id, M2.id]).select('id');
  if (notices.length !== 2) throw new Error(`expected the notices of M1 and M2, found ${notices.length}`);
  notices.forEach((r: any, i: number) => secrets.set(`A notice ${i}`, r.id));

  let deadJob = 0;
  await until("B's webhook delivery to be a dead letter", async () => {
    const dead = (await ok('GET', '/v1/admin/jobs?status=dead', admin)).items as any[];
    deadJob = dead[0]?.id ?? 0;
    return deadJob > 0;
  });

  await p.waitExpired();
  const blockedAddress = '203.0.113.99';
  await block(call, blockedAddress);

  return {
    profile: 'main',
    svc,
    client,
    addresses,
    doc,
    keys: { A: A.apiKey, B: B.apiKey, revoked: p.revokedKey, expired: p.expiredKey },
    senders: { A: A.id, B: B.id, nameA: p.nameA },
    tls: { A: identity('a'), revoked: identity('a-revoked'), untrusted: identity('rogue'), unregistered: identity('unregistered') },
    R1,
    R2,
    callbackSecrets: { sms: SMS_SECRET, govapp: GOVAPP_SECRET },
    blockedAddress,
    secrets,
    main: {
      keyToRevoke: { id: keyToRevoke.credential.id, key: keyToRevoke.apiKey },
      clerkToRemove,
      keyToRotate: { id: keyToRotate.credential.id, key: keyToRotate.apiKey },
      R4,
      R5,
      R6,
      contactToDelete,
      installation: device.id,
      installationToDelete: deviceToDelete.id,
      devicePublicKey: device.publicJwk,
      M1: { id: M1.id, entry: entry1, handover },
      M2: { id: M2.id, entry: entry2 },
      batch: batch.id,
      sms: smsA,
      push: pushA,
      scheduled: scheduledA,
      notificationBatch: batchA.id as string,
      deadJob,
      optedOutPhone,
    },
    tsaQuery: tsa,
    receiverUrl,
    call,
    ok,
    close,
  };
}

// ------------------------------------------------------------------------------ kannel

/** Kannel's sendsms interface as the service uses it: answers "0: Accepted for delivery" and keeps each request's dlr-url. */
async function kannelSendsms(closers: Closers): Promise<{ url: string; dlrUrls: Map<string, string> }> {
  const dlrUrls = new Map<string, string>();
  const server = createServer((req, res) => {
    const q = new URL(req.url ?? '/', 'http://kannel').searchParams;
    const to = q.get('to');
    const dlr = q.get('dlr-url');
    if (to && dlr) dlrUrls.set(to, dlr);
    req.resume();
    res.writeHead(202, { 'content-type': 'text/plain' }).end('0: Accepted for delivery');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  closers.push(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/cgi-bin/sendsms`, dlrUrls };
}

async function buildKannel(dir: string, closers: Closers, close: () => Promise<void>): Promise<World> {
  const kannel = await kannelSendsms(closers);
  const { svc, client } = await start(
    { NOTIFY_SMS_PROVIDER: 'kannel', KANNEL_SENDSMS_URL: kannel.url, KANNEL_USERNAME: 'access', KANNEL_PASSWORD: 'access-password', KANNEL_DLR_SECRET: KANNEL_SECRET },
    closers,
  );
  // Kannel calls back the dlr-url the service gives it: the service must know its own URL
  svc.rt.notifications.setCallbackBaseUrl(svc.url);
  const addresses = new Addresses();
  const { call, ok } = caller(client, addresses);
  const doc = await ok('GET', '/openapi.json');
  const p = await parties(ok, call);
  const secrets = commonSecrets(p);

  const smsVia = async (key: string, phone: string) => {
    const n = await ok('POST', '/v1/notifications', { bearer: key, json: { phoneNumber: phone, strategy: 'SMS_ONLY', content: { nl: { sms: `Afspraak ${random(4)}` } } } });
    await until(`Kannel to receive the SMS to ${phone}`, async () => kannel.dlrUrls.has(phone));
    const dlr = new URL(kannel.dlrUrls.get(phone)!);
    return { notification: n.id as string, attempt: dlr.searchParams.get('attempt')!, token: dlr.searchParams.get('token')! };
  };
  const smsA = await smsVia(p.A.apiKey, '+32470333444');
  const smsB = await smsVia(p.B.apiKey, '+32470777888');
  secrets.set('A phone', '+32470333444');
  secrets.set('A SMS notification', smsA.notification);
  secrets.set('A SMS attempt', smsA.attempt);
  secrets.set('A SMS dlr token', smsA.token);

  await p.waitExpired();
  const blockedAddress = '203.0.113.98';
  await block(call, blockedAddress);
  return {
    profile: 'kannel',
    svc,
    client,
    addresses,
    doc,
    keys: { A: p.A.apiKey, B: p.B.apiKey, revoked: p.revokedKey, expired: p.expiredKey },
    senders: { A: p.A.id, B: p.B.id, nameA: p.nameA },
    R1: p.R1,
    R2: p.R2,
    callbackSecrets: {},
    blockedAddress,
    secrets,
    kannel: { attemptA: smsA.attempt, tokenA: smsA.token, tokenB: smsB.token, inboundToken: kannelInboundToken(KANNEL_SECRET) },
    tsaQuery: await tsaQuery(dir),
    call,
    ok,
    close,
  };
}
