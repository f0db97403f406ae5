/**
 * The development defaults of the notification providers: startDevProviders in-process
 * (when it starts the simulators, the configuration it returns, fresh secrets per start),
 * and the real server started as `npm start` starts it — APP_ENV unset, PORT=0, a fresh
 * DATA_DIR — sending SMS_ONLY and GOVAPP_FIRST notifications that reach DELIVERED through the
 * in-process simulators' receipts to the service's own callback URLs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { loadConfig } from '../../src/config.js';
import { startDevProviders } from '../../dev/notification-simulators/devProviders.js';
import { wantsDevProviders } from '../../src/app/devProviders.js';
import { createTestDatabase, onPostgres, type TestDatabase } from '../helpers/database.js';
import { ADMIN_TOKEN, addContact, insz, newDevice, postNotification, SMS_TEXT, waitForNotification } from '../helpers/notify.js';
import { TEST_CERTS_DIR } from '../helpers/paths.js';
import { runScript } from '../helpers/process.js';
import { FAST_WORKER_ENV } from '../helpers/service.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

describe('development providers: startDevProviders', () => {
  it('starts both simulators only in development, unless turned off or a provider is configured', async () => {
    expect(wantsDevProviders(loadConfig({}))).to.equal(true);
    expect(wantsDevProviders(loadConfig({ DEV_SIMULATORS: 'false' }))).to.equal(false);
    expect(wantsDevProviders(loadConfig({ APP_ENV: 'test' }))).to.equal(false);
    expect(wantsDevProviders(loadConfig({ APP_ENV: 'production', DEV_SIMULATORS: 'true' }))).to.equal(false);
    expect(wantsDevProviders(loadConfig({ NOTIFY_SMS_PROVIDER: 'http', SMS_HTTP_URL: 'http://127.0.0.1:1/sms', SMS_HTTP_CALLBACK_SECRET: 'x'.repeat(16) }))).to.equal(false);
    expect(wantsDevProviders(loadConfig({ GOVAPP_PUSH_URL: 'http://127.0.0.1:1', GOVAPP_CALLBACK_SECRET: 'x'.repeat(16) }))).to.equal(false);
    expect(await startDevProviders(loadConfig({ APP_ENV: 'test' }))).to.equal(undefined);
  });

  it('returns a new configuration pointed at the simulators, with fresh secrets each start', async () => {
    const config = loadConfig({ PORT: '0' });
    const before = JSON.stringify(config);
    const a = (await startDevProviders(config))!;
    const b = (await startDevProviders(config))!;
    try {
      expect(JSON.stringify(config), 'the given configuration is unchanged').to.equal(before);
      const sms = a.config.notify.sms.provider;
      const govapp = a.config.notify.govapp;
      if (sms.kind !== 'http' || govapp.kind !== 'http') throw new Error('expected http providers');
      expect(sms.url).to.equal(`${a.urls.sms}/v1/sms`);
      expect(govapp.url).to.equal(a.urls.govapp);
      expect(a.urls.sms).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(sms.callbackSecret).to.have.length.greaterThanOrEqual(32);
      expect(govapp.callbackSecret).to.have.length.greaterThanOrEqual(32);
      const other = b.config.notify;
      if (other.sms.provider.kind !== 'http' || other.govapp.kind !== 'http') throw new Error('expected http providers');
      expect(other.sms.provider.callbackSecret).not.to.equal(sms.callbackSecret);
      expect(other.govapp.callbackSecret).not.to.equal(govapp.callbackSecret);
      expect(new Set([sms.callbackSecret, sms.token, govapp.callbackSecret, govapp.token]).size).to.equal(4);
      expect({ ...a.config, notify: config.notify }).to.deep.equal(config);
      // the simulators answer, and want their token
      const res = await fetch(sms.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(res.status).to.equal(401);
      expect((await fetch(`${a.urls.sms}/messages`)).status).to.equal(200);
      expect((await fetch(`${a.urls.govapp}/_sim/pushes`)).status).to.equal(200);
    } finally {
      await a.close();
      await b.close();
    }
    await a.close();
    const closed = await fetch(`${a.urls.sms}/messages`).then(
      () => 'answered',
      () => 'refused',
    );
    expect(closed).to.equal('refused');
  });
});

/** The service's own variables, removed from the inherited environment so its defaults apply. */
const SERVICE_VARIABLES = /^(APP_ENV|DEV_SIMULATORS|NOTIFY_|SMS_HTTP_|GOVAPP_|KANNEL_|EBOX_|TSA_URL|DATABASE_URL|DATA_DIR|BLOB_DIR|HOST|PORT|LOG_LEVEL|ADMIN_TOKEN)/;

interface Server {
  child: ChildProcess;
  url: string;
  lines: () => Array<Record<string, any>>;
  output: () => string;
}

/** Starts src/cli/server.ts as `npm run dev` does, on PORT=0; ready once it logs where it listens. */
async function startServer(env: Record<string, string>): Promise<Server> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !SERVICE_VARIABLES.test(k)));
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/server.ts')], { cwd: ROOT, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const lines = () =>
    out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, any>);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const listening = lines().find((l) => typeof l.msg === 'string' && l.msg.startsWith('registered-mail listening on '));
    if (listening) return { child, url: `http://127.0.0.1:${listening.port}`, lines, output: () => out };
    if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}: ${out}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`service did not start: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function stopServer(s: Server): Promise<number | null> {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return s.child.exitCode;
  const exited = new Promise<number | null>((r) => s.child.once('exit', (code) => r(code)));
  s.child.kill('SIGTERM');
  const timer = setTimeout(() => s.child.kill('SIGKILL'), 20_000);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

describe(`development providers: the server on its defaults (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, function () {
  this.timeout(180_000);
  let dataDir: string;
  let db: TestDatabase;
  let env: Record<string, string>;
  let server: Server | undefined;
  let apiKey: string;
  let simulators: { sms: string; govapp: string };
  const WITH_APP = insz(301);
  const SMS_ONLY = insz(302);

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-devproviders-'));
    db = await createTestDatabase(dataDir);
    // no APP_ENV, no provider: the development defaults; PORT=0: the callback base is learnt at listen
    env = { DATA_DIR: dataDir, DATABASE_URL: db.url, DEV_CERTS_DIR: TEST_CERTS_DIR, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ADMIN_TOKEN, ...FAST_WORKER_ENV };
    apiKey = JSON.parse(await runScript('scripts/create-sender.ts', ['--name', 'Dev sender', '--json'], { ...env, APP_ENV: 'development' })).apiKey;
    server = await startServer(env);
    const line = server.lines().find((l) => l.smsSimulator !== undefined);
    expect(line, server.output()).to.not.equal(undefined);
    simulators = { sms: line!.smsSimulator, govapp: line!.govappSimulator };
    await addContact(server, WITH_APP, { phone: '+32470000301', language: 'fr', devices: [await newDevice('dev-phone')] });
    await runScript('scripts/contacts.ts', ['set', '--type', 'citizen', '--id', SMS_ONLY, '--phone', '+32470000302', '--language', 'nl'], { ...env, APP_ENV: 'development' });
  });
  after(async () => {
    if (server) await stopServer(server);
    await db?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function send(strategy: string, recipientId: string): Promise<any> {
    const res = await postNotification(server!, apiKey, { recipient: { type: 'citizen', id: recipientId }, strategy, content: { ...SMS_TEXT, fr: { title: 'Rappel', html: '<p>Demain.</p>', sms: 'Votre rendez-vous est demain.' } } });
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).to.be.oneOf([201, 202]);
    return body;
  }

  it('logs one line naming the simulators, on loopback, and no secret', () => {
    const named = server!.lines().filter((l) => l.smsSimulator !== undefined);
    expect(named).to.have.length(1);
    expect(simulators.sms).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(simulators.govapp).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
    for (const l of server!.lines()) {
      for (const key of Object.keys(l)) expect(key, JSON.stringify(l)).not.to.match(/secret|token/i);
    }
  });

  it('SMS_ONLY: the SMS simulator takes the message and its receipt makes it DELIVERED', async () => {
    const n = await waitForNotification(server!, apiKey, (await send('SMS_ONLY', SMS_ONLY)).id, (x) => x.status === 'DELIVERED', 30_000);
    expect(n.channel).to.equal('SMS');
    const attempt = n.attempts.find((a: any) => a.channel === 'SMS');
    expect(attempt.status).to.equal('DELIVERED');
    const listed = (await (await fetch(`${simulators.sms}/messages?reference=${attempt.id}`)).json()) as { items: any[]; reports: any[] };
    expect(listed.items.map((m) => m.to)).to.deep.equal(['+32470000302']);
    expect(listed.items[0].callbackUrl).to.equal(`${server!.url}/v1/callbacks/sms-http`);
    expect(listed.reports.map((r) => [r.status, r.outcome])).to.deep.equal([['DELIVERED', 204]]);
  });

  it('GOVAPP_FIRST with the app: the GovApp simulator delivers the push and its receipt makes it DELIVERED', async () => {
    const n = await waitForNotification(server!, apiKey, (await send('GOVAPP_FIRST', WITH_APP)).id, (x) => x.status === 'DELIVERED', 30_000);
    expect(n.channel).to.equal('GOVAPP');
    expect(n.fallback).to.equal(null);
    const sim = (await (await fetch(`${simulators.govapp}/_sim/pushes`)).json()) as { items: any[]; receipts: any[] };
    const push = sim.items.find((p) => p.messageId === n.id);
    expect(push.devices.map((d: any) => d.installationId)).to.deep.equal(['dev-phone']);
    expect(push.callbackUrl).to.equal(`${server!.url}/v1/callbacks/govapp`);
    expect(sim.receipts.filter((r) => r.pushId === push.pushId).map((r) => [r.event, r.outcome])).to.deep.equal([['DELIVERED', 204]]);
  });

  it('GOVAPP_FIRST without the app: falls back to the simulated SMS, DELIVERED by its receipt', async () => {
    const n = await waitForNotification(server!, apiKey, (await send('GOVAPP_FIRST', SMS_ONLY)).id, (x) => x.status === 'DELIVERED', 30_000);
    expect(n.channel).to.equal('SMS');
    expect(n.fallback).to.deep.include({ from: 'GOVAPP', to: 'SMS', reason: 'APP_NOT_INSTALLED' });
    const attempt = n.attempts.find((a: any) => a.channel === 'SMS');
    const listed = (await (await fetch(`${simulators.sms}/messages?reference=${attempt.id}`)).json()) as { reports: any[] };
    expect(listed.reports.map((r) => r.status)).to.deep.equal(['DELIVERED']);
  });

  it('stops the simulators with the service on SIGTERM', async () => {
    expect(await stopServer(server!)).to.equal(0);
    const answered = await fetch(`${simulators.sms}/messages`).then(
      () => true,
      () => false,
    );
    expect(answered).to.equal(false);
  });

  it('DEV_SIMULATORS=false: no simulator, and an SMS has no provider to go to', async () => {
    server = await startServer({ ...env, DEV_SIMULATORS: 'false' });
    expect(server.lines().filter((l) => l.smsSimulator !== undefined)).to.have.length(0);
    const n = await waitForNotification(server, apiKey, (await send('SMS_ONLY', SMS_ONLY)).id, (x) => x.status === 'FAILED', 30_000);
    expect(n.attempts.every((a: any) => a.status === 'FAILED')).to.equal(true);
  });
});
