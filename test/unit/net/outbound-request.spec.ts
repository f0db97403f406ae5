/**
 * postWithinPolicy against real loopback servers: the peer is checked once connected and
 * before any request byte is written, redirects are not followed, an answer is read only
 * a few KiB deep, and failures come in three kinds.
 */
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { OutboundPolicy, TargetForbiddenError, UnresolvedHostError, type AddressClass, type Resolver } from '../../../src/net/OutboundPolicy.js';
import { OutboundRequestError, postWithinPolicy, type OutboundPostOptions } from '../../../src/net/OutboundRequest.js';
import { openssl } from '../../helpers/openssl.js';

function listen<T extends net.Server>(server: T): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function close(server: net.Server): Promise<void> {
  if ('closeAllConnections' in server) (server as http.Server).closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Names under .test answer what the test says; nothing reaches a real resolver. */
const names: Record<string, string> = { 'receiver.test': '127.0.0.1' };
const resolve: Resolver = async (name) => (names[name] ? [{ address: names[name]!, family: 4 }] : []);
const loopbackAllowed = new OutboundPolicy({ allow: ['127.0.0.1/32'], resolve });

/** Allows the first address it is asked about, refuses every later one: the peer changed between lookup and connect. */
class ChangesItsMind extends OutboundPolicy {
  calls = 0;
  override classify(address: string): AddressClass {
    const c = super.classify(address);
    return this.calls++ === 0 ? { ...c, allowed: true, allowListed: true } : { ...c, allowed: false, allowListed: false };
  }
}

const post = (url: string, options: Partial<OutboundPostOptions> = {}) =>
  postWithinPolicy(new URL(url), { policy: loopbackAllowed, headers: { 'content-type': 'application/json' }, body: '{"status":"ACCEPTED"}', timeoutMs: 10_000, maxAnswerBytes: 4096, ...options });

const failure = (p: Promise<unknown>) =>
  p.then(
    () => expect.fail('expected a failure'),
    (err: unknown) => {
      expect(err).to.be.instanceOf(OutboundRequestError);
      return err as OutboundRequestError;
    },
  );

describe('postWithinPolicy', () => {
  it('posts the body and returns the status and the peer address', async () => {
    let received = '';
    const server = http.createServer((req, res) => {
      req.on('data', (d) => (received += d));
      req.on('end', () => res.writeHead(204).end());
    });
    const port = await listen(server);
    try {
      expect(await post(`http://receiver.test:${port}/hook?x=1`)).to.deep.equal({ status: 204, answerBytes: 0, remoteAddress: '127.0.0.1' });
      expect(received).to.equal('{"status":"ACCEPTED"}');
    } finally {
      await close(server);
    }
  });

  it('checks the connected peer before writing a byte of the request (rebinding between lookup and connect)', async () => {
    let connections = 0;
    let bytes = 0;
    const server = net.createServer((socket) => {
      connections++;
      socket.on('data', (d) => (bytes += d.length));
      socket.on('error', () => undefined);
    });
    const port = await listen(server);
    try {
      const policy = new ChangesItsMind({ resolve });
      const err = await failure(post(`http://receiver.test:${port}/hook`, { policy }));
      expect(err.kind).to.equal('TARGET_FORBIDDEN');
      expect(err.cause).to.be.instanceOf(TargetForbiddenError);
      expect(policy.calls).to.equal(2); // once at lookup, once on the connected socket
      // the connection was made (so the refusal came from the socket check) and carried nothing
      await waitFor(() => connections === 1);
      expect(bytes).to.equal(0);
    } finally {
      await close(server);
    }
  });

  it('refuses an IP literal in a refused range before connecting', async () => {
    let connections = 0;
    const server = net.createServer((socket) => {
      connections++;
      socket.destroy();
    });
    const port = await listen(server);
    try {
      const closed = new OutboundPolicy({ resolve });
      for (const host of ['127.0.0.1', '[::ffff:127.0.0.1]', '2130706433']) {
        expect((await failure(post(`http://${host}:${port}/`, { policy: closed }))).kind, host).to.equal('TARGET_FORBIDDEN');
      }
      expect((await failure(post(`http://receiver.test:${port}/`, { policy: closed }))).kind).to.equal('TARGET_FORBIDDEN');
      expect(connections).to.equal(0);
    } finally {
      await close(server);
    }
  });

  it('reads at most a few KiB of a 200 MiB answer, then closes the connection', async () => {
    const TOTAL = 200 * 1024 * 1024;
    const answer = { written: 0, complete: false, closed: false };
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const chunk = Buffer.alloc(64 * 1024, 0x61);
        let queued = 0;
        res.on('close', () => (answer.closed = true));
        res.writeHead(200, { 'content-length': String(TOTAL) });
        const pump = () => {
          while (!answer.closed && queued < TOTAL) {
            queued += chunk.length;
            const more = res.write(chunk, (err) => {
              if (!err) answer.written += chunk.length;
            });
            if (!more) return void res.once('drain', pump);
          }
          if (!answer.closed) res.end(() => (answer.complete = true));
        };
        pump();
      });
    });
    const port = await listen(server);
    try {
      const result = await post(`http://receiver.test:${port}/`);
      expect(result.status).to.equal(200);
      // reading stops at the first socket read that reaches 4 KiB; one read is at most 64 KiB
      expect(result.answerBytes).to.be.at.least(1).and.at.most(4096 + 64 * 1024);
      await waitFor(() => answer.closed);
      expect(answer.complete).to.equal(false);
      expect(answer.written).to.be.below(16 * 1024 * 1024); // kernel buffers, not the answer
    } finally {
      await close(server);
    }
  });

  it('does not follow a redirect: a 3xx is a status', async () => {
    let followed = 0;
    const elsewhere = http.createServer((_req, res) => {
      followed++;
      res.writeHead(204).end();
    });
    const elsewherePort = await listen(elsewhere);
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(307, { location: `http://127.0.0.1:${elsewherePort}/` }).end());
    });
    const port = await listen(server);
    try {
      expect((await post(`http://receiver.test:${port}/`)).status).to.equal(307);
      expect(followed).to.equal(0);
    } finally {
      await close(server);
      await close(elsewhere);
    }
  });

  it('TIMEOUT when no answer comes in time; an answer whose body trickles keeps its status', async () => {
    const held: net.Socket[] = [];
    const tarpit = net.createServer((socket) => {
      held.push(socket);
      socket.resume();
    });
    const tarpitPort = await listen(tarpit);
    const trickle = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(502, { 'content-length': '1000' });
        res.write('x'); // and never the rest
      });
    });
    const tricklePort = await listen(trickle);
    try {
      const err = await failure(post(`http://receiver.test:${tarpitPort}/`, { timeoutMs: 200 }));
      expect(err.kind).to.equal('TIMEOUT');
      const result = await post(`http://receiver.test:${tricklePort}/`, { timeoutMs: 2000 });
      expect(result).to.include({ status: 502, answerBytes: 1 });
    } finally {
      for (const s of held) s.destroy();
      await close(tarpit);
      await close(trickle);
    }
  });

  it('CONNECTION_FAILED for a closed port, a name that does not resolve, a reset, an oversized head and a TLS failure alike', async () => {
    const probe = net.createServer();
    const closedPort = await listen(probe);
    await close(probe);
    const reset = net.createServer((socket) => socket.resetAndDestroy());
    const resetPort = await listen(reset);
    const bigHead = net.createServer((socket) => {
      socket.on('error', () => undefined);
      socket.once('data', () => socket.end(`HTTP/1.1 200 OK\r\nx-filler: ${'a'.repeat(64 * 1024)}\r\ncontent-length: 0\r\n\r\n`));
    });
    const bigHeadPort = await listen(bigHead);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-tls-'));
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    const made = await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-subj', '/CN=receiver.test', '-days', '1']);
    expect(made.code, made.stderr).to.equal(0);
    let tlsRequests = 0;
    const selfSigned = https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, (_req, res) => {
      tlsRequests++;
      res.writeHead(204).end();
    });
    const tlsPort = await listen(selfSigned);
    try {
      const kinds: Record<string, { kind: string; cause: unknown }> = {};
      for (const [name, url] of Object.entries({
        closed: `http://receiver.test:${closedPort}/`,
        unresolved: `http://nowhere.test:${closedPort}/`,
        reset: `http://receiver.test:${resetPort}/`,
        bigHead: `http://receiver.test:${bigHeadPort}/`,
        tls: `https://receiver.test:${tlsPort}/`,
      })) {
        const err = await failure(post(url));
        kinds[name] = { kind: err.kind, cause: err.cause };
      }
      for (const [name, { kind }] of Object.entries(kinds)) expect(kind, name).to.equal('CONNECTION_FAILED');
      expect(kinds.unresolved!.cause).to.be.instanceOf(UnresolvedHostError);
      expect(tlsRequests).to.equal(0);
    } finally {
      await close(reset);
      await close(bigHead);
      await close(selfSigned);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
}
