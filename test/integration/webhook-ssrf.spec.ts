/**
 * Webhooks reach inside (defect): a sender's webhook must not make the service connect to
 * the operator's own network — loopback, private, link-local, CGNAT, unspecified, IPv6
 * local ranges, IPv4 embedded in IPv6, or numeric IPv4 spellings of those — neither at
 * registration nor at delivery; an answer is read only a few KiB deep; and what the
 * sender sees in `callbacks[].lastError` is a class, never the OS's words.
 */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { expect } from 'chai';
import { createLogger } from '../../src/logger.js';
import { OutboundPolicy, type Resolver } from '../../src/net/OutboundPolicy.js';
import { webhookFailureClass, WebhookService } from '../../src/registered-mail/webhooks.js';
import { JobRunner } from '../../src/worker/JobRunner.js';
import { JOB_PAYLOADS } from '../../src/store/jobs.js';
import { onPostgres } from '../helpers/database.js';
import { metadata, pdfBytes, startTestService, submit, VALID_INSZ, waitForMessage, type TestService } from '../helpers/service.js';

const putWebhook = (svc: TestService, apiKey: string, url: string) =>
  fetch(`${svc.url}/v1/webhook`, { method: 'PUT', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ url }) });

function listen<T extends net.Server>(server: T): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function close(server: net.Server): Promise<void> {
  if ('closeAllConnections' in server) (server as http.Server).closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Submits one message (ACCEPTED then DEPOSITED: two webhook deliveries) and waits until both deliveries have ended. */
async function deliveriesOf(svc: TestService, apiKey: string): Promise<any[]> {
  const { id } = await (await submit(svc, apiKey, metadata(), [{ name: 'main', content: pdfBytes(300) }])).json();
  const m = await waitForMessage(svc, apiKey, id, (x) => x.callbacks.length === 2 && x.callbacks.every((c: any) => c.delivery === 'done' || c.delivery === 'dead'));
  return m.callbacks;
}

describe(`Webhooks reach inside: targets in the operator's network are refused (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, () => {
  describe('without an allow-list (the default)', () => {
    let svc: TestService;
    before(async () => {
      svc = await startTestService({ WEBHOOK_MAX_ATTEMPTS: '1' });
      await svc.newRecipient('citizen', VALID_INSZ);
    });
    after(async () => svc?.close());

    // Every form named in the defect report. WHATWG URL turns 2130706433, 0x7f000001,
    // 0177.0.0.1 and 0x7f.1 into 127.0.0.1; IPv6 literals keep their embedding.
    const refused = [
      'http://127.0.0.1/hook',
      'http://10.0.0.1/hook',
      'http://172.16.0.1/hook',
      'http://192.168.1.1/hook',
      'http://169.254.169.254/latest/meta-data/',
      'http://100.64.0.1/hook',
      'http://0.0.0.0/hook',
      'http://[::1]/hook',
      'http://[fe80::1]/hook',
      'http://[::ffff:127.0.0.1]/hook',
      'http://[::ffff:7f00:1]/hook',
      'http://2130706433/hook',
      'http://0x7f000001/hook',
      'http://0177.0.0.1/hook',
      'http://0x7f.1/hook',
      'http://[fc00::1]/hook',
      'http://[64:ff9b::7f00:1]/hook',
      'https://localhost:8443/hook',
      'http://[::]/hook',
      'http://[2002:7f00:1::]/hook',
      'http://[::7f00:1]/hook',
      'http://255.255.255.255/hook',
      'http://224.0.0.1/hook',
      // a name that does not resolve (RFC 6761 .invalid) is refused alike, so that a refusal
      // says nothing about which names the operator's resolver knows
      'http://no-such-host.invalid/hook',
    ];
    for (const url of refused) {
      it(`refuses ${url} at registration with WEBHOOK_TARGET_FORBIDDEN and keeps no webhook`, async () => {
        const sender = await svc.newSender('Probing sender');
        const res = await putWebhook(svc, sender.apiKey, url);
        expect(res.status).to.equal(422);
        expect(res.headers.get('content-type')).to.match(/^application\/problem\+json/);
        expect((await res.json()).code).to.equal('WEBHOOK_TARGET_FORBIDDEN');
        expect((await svc.rt.store.senders.findById(sender.id))?.webhookUrl).to.equal(null);
      });
    }

    it('accepts a public address on any port, and still answers WEBHOOK_INVALID for a malformed URL', async () => {
      const sender = await svc.newSender('Public sender');
      const ok = await putWebhook(svc, sender.apiKey, 'https://93.184.215.14:8443/hook');
      expect(ok.status).to.equal(200);
      expect((await ok.json()).url).to.equal('https://93.184.215.14:8443/hook');
      for (const bad of ['ftp://x', 'not a url', 'http://user:pw@93.184.215.14/']) {
        const res = await putWebhook(svc, sender.apiKey, bad);
        expect(res.status).to.equal(422);
        expect((await res.json()).code).to.equal('WEBHOOK_INVALID');
      }
    });

    it('refuses at connect time a loopback target stored before the allow-list was narrowed: dead at once, TARGET_FORBIDDEN, nothing reaches it', async () => {
      let connections = 0;
      const receiver = net.createServer((socket) => {
        connections++;
        socket.destroy();
      });
      const port = await listen(receiver);
      try {
        const sender = await svc.newSender('Sender registered under an older allow-list');
        // what a registration made while WEBHOOK_ALLOW_PRIVATE_TARGETS still held 127.0.0.0/8 left behind
        await svc.rt.store.senders.setWebhook(sender.id, `http://127.0.0.1:${port}/hook`, 'whsec_registered-earlier');
        const callbacks = await deliveriesOf(svc, sender.apiKey);
        for (const c of callbacks) expect(c).to.deep.include({ delivery: 'dead', attempts: 1, lastError: 'TARGET_FORBIDDEN' });
        expect(connections).to.equal(0);
      } finally {
        await close(receiver);
      }
    });
  });

  describe('with WEBHOOK_ALLOW_PRIVATE_TARGETS=127.0.0.0/8 (development receivers)', () => {
    let svc: TestService;
    before(async () => {
      svc = await startTestService({ WEBHOOK_ALLOW_PRIVATE_TARGETS: '127.0.0.0/8', WEBHOOK_MAX_ATTEMPTS: '1' });
      await svc.newRecipient('citizen', VALID_INSZ);
    });
    after(async () => svc?.close());

    it('the allow-list opens only what it names', async () => {
      const sender = await svc.newSender('Allow-listed sender');
      expect((await putWebhook(svc, sender.apiKey, 'http://127.0.0.1:9/hook')).status).to.equal(200);
      expect((await putWebhook(svc, sender.apiKey, 'http://[::ffff:127.0.0.1]:9/hook')).status).to.equal(200);
      for (const url of ['http://10.0.0.1/hook', 'http://[::1]/hook', 'http://169.254.169.254/']) {
        const res = await putWebhook(svc, sender.apiKey, url);
        expect((await res.json()).code, url).to.equal('WEBHOOK_TARGET_FORBIDDEN');
      }
    });

    it('reads at most a few KiB of an answer: a 200 MiB answer is cut off, not read whole', async () => {
      const TOTAL = 200 * 1024 * 1024;
      const answers: Array<{ written: number; complete: boolean }> = [];
      const receiver = http.createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          const answer = { written: 0, complete: false };
          answers.push(answer);
          const chunk = Buffer.alloc(64 * 1024, 0x61);
          let queued = 0;
          let closed = false;
          res.on('close', () => (closed = true));
          res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(TOTAL) });
          const pump = () => {
            while (!closed && queued < TOTAL) {
              queued += chunk.length;
              // counted once the kernel has taken it
              const more = res.write(chunk, (err) => {
                if (!err) answer.written += chunk.length;
              });
              if (!more) return void res.once('drain', pump);
            }
            if (!closed) res.end(() => (answer.complete = true));
          };
          pump();
        });
      });
      const port = await listen(receiver);
      try {
        const sender = await svc.newSender('Sender with a talkative receiver');
        expect((await putWebhook(svc, sender.apiKey, `http://127.0.0.1:${port}/hook`)).status).to.equal(200);
        const callbacks = await deliveriesOf(svc, sender.apiKey);
        for (const c of callbacks) expect(c).to.deep.include({ delivery: 'done', lastError: null });
        expect(answers).to.have.length(2);
        for (const a of answers) {
          expect(a.complete).to.equal(false);
          // what the kernel buffers on both ends of a loopback connection, not the answer
          expect(a.written).to.be.below(16 * 1024 * 1024);
        }
      } finally {
        await close(receiver);
      }
    });

    it('lastError is a class: a closed port is CONNECTION_FAILED, an HTTP 500 is HTTP_500, with no OS text', async () => {
      const probe = net.createServer();
      const closedPort = await listen(probe);
      await close(probe);
      const failing = http.createServer((req, res) => {
        req.resume();
        req.on('end', () => res.writeHead(500, { 'content-type': 'text/plain' }).end('ECONNREFUSED internal stack trace'));
      });
      const failingPort = await listen(failing);
      try {
        const a = await svc.newSender('Sender with a closed port');
        expect((await putWebhook(svc, a.apiKey, `http://127.0.0.1:${closedPort}/hook`)).status).to.equal(200);
        const b = await svc.newSender('Sender with a failing receiver');
        expect((await putWebhook(svc, b.apiKey, `http://127.0.0.1:${failingPort}/hook`)).status).to.equal(200);
        const closedPortCallbacks = await deliveriesOf(svc, a.apiKey);
        const failingCallbacks = await deliveriesOf(svc, b.apiKey);
        for (const c of closedPortCallbacks) expect(c).to.deep.include({ delivery: 'dead', lastError: 'CONNECTION_FAILED' });
        for (const c of failingCallbacks) expect(c).to.deep.include({ delivery: 'dead', lastError: 'HTTP_500' });
        // and the OpenAPI document describes them
        const doc = await (await fetch(`${svc.url}/openapi.json`)).json();
        const pattern = new RegExp(doc.components.schemas.Message.properties.callbacks.items.properties.lastError.pattern);
        for (const c of [...closedPortCallbacks, ...failingCallbacks]) expect(c.lastError).to.match(pattern);
      } finally {
        await close(failing);
      }
    });
  });

  describe('with a short WEBHOOK_TIMEOUT_MS', () => {
    let svc: TestService;
    before(async () => {
      svc = await startTestService({ WEBHOOK_ALLOW_PRIVATE_TARGETS: '127.0.0.1/32', WEBHOOK_MAX_ATTEMPTS: '1', WEBHOOK_TIMEOUT_MS: '300' });
      await svc.newRecipient('citizen', VALID_INSZ);
    });
    after(async () => svc?.close());

    it('lastError is TIMEOUT for a target that accepts the connection and never answers', async () => {
      const held: net.Socket[] = [];
      const tarpit = net.createServer((socket) => {
        held.push(socket);
        socket.resume();
      });
      const port = await listen(tarpit);
      try {
        const sender = await svc.newSender('Sender behind a tarpit');
        expect((await putWebhook(svc, sender.apiKey, `http://127.0.0.1:${port}/hook`)).status).to.equal(200);
        for (const c of await deliveriesOf(svc, sender.apiKey)) expect(c).to.deep.include({ delivery: 'dead', lastError: 'TIMEOUT' });
        expect(held.length).to.equal(2);
      } finally {
        for (const s of held) s.destroy();
        await close(tarpit);
      }
    });
  });

  describe('DNS rebinding: a name public at registration, loopback at delivery', () => {
    let svc: TestService;
    // no worker of the service's own: the test runs the webhook job with its own resolver
    before(async () => (svc = await startTestService({}, { worker: false })));
    after(async () => svc?.close());

    it('is refused at connect time, dead at once with TARGET_FORBIDDEN, and nothing reaches the loopback receiver', async () => {
      let connections = 0;
      const receiver = net.createServer((socket) => {
        connections++;
        socket.destroy();
      });
      const port = await listen(receiver);
      try {
        let answer = '93.184.215.14';
        const lookups: string[] = [];
        const resolve: Resolver = async (name) => {
          lookups.push(name);
          return name === 'hooks.rebinding.test' ? [{ address: answer, family: 4 }] : [];
        };
        const log = createLogger('silent');
        const webhooks = new WebhookService(svc.rt.store, { log, policy: new OutboundPolicy({ resolve }) });
        const sender = await svc.newSender('Rebinding sender');
        await webhooks.configure(sender.id, `http://hooks.rebinding.test:${port}/hook`);
        expect((await svc.rt.store.senders.findById(sender.id))?.webhookUrl).to.equal(`http://hooks.rebinding.test:${port}/hook`);

        answer = '127.0.0.1';
        await svc.rt.store.jobs.enqueue({
          type: 'webhook',
          dedupeKey: `webhook:rebinding-${sender.id}`,
          maxAttempts: 10,
          payload: { senderId: sender.id, messageId: 'm-1', status: 'ACCEPTED', evidenceId: 'e-1', evidenceType: 'SubmissionAcceptance', at: new Date().toISOString() },
        });
        const runner = new JobRunner(svc.rt.store, JOB_PAYLOADS, { webhook: webhooks.handler() }, { concurrency: 1, pollMs: 50, leaseMs: 60_000, backoff: { baseMs: 10, maxMs: 20 } }, log);
        await runner.drain();
        const job = (await svc.rt.store.jobs.list({ status: 'dead' })).find((j) => j.dedupeKey === `webhook:rebinding-${sender.id}`);
        expect(job).to.include({ attempts: 1, maxAttempts: 10 });
        expect(webhookFailureClass(job!.lastError)).to.equal('TARGET_FORBIDDEN');
        expect(lookups).to.deep.equal(['hooks.rebinding.test', 'hooks.rebinding.test']);
        expect(connections).to.equal(0);
      } finally {
        await close(receiver);
      }
    });
  });
});
