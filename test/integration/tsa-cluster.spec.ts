/**
 * The standalone TSA server (src/cli/tsa.ts): TSA_PROCESSES processes answer POST /tsa on
 * one port; every reply verifies with `openssl ts -verify`; a process that dies is replaced
 * while the others answer; SIGTERM stops them all with exit code 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { openssl } from '../helpers/openssl.js';
import { TEST_CERTS_DIR } from '../helpers/paths.js';
import { freePort } from '../helpers/process.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

interface LogLine {
  msg?: string;
  worker?: number;
  [k: string]: unknown;
}

describe('standalone TSA on every core', function () {
  this.timeout(120_000);
  let dir: string;
  let child: ChildProcess;
  let out = '';
  let url: string;
  const logs = (): LogLine[] =>
    out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as LogLine);
  const listening = () => logs().filter((l) => l.msg === 'tsa process listening');

  async function until(what: string, ok: () => boolean, ms = 60_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!ok()) {
      if (child.exitCode !== null) throw new Error(`tsa exited with ${child.exitCode}: ${out}`);
      if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms: ${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function timeStamp(i: number): Promise<void> {
    const data = path.join(dir, `data-${i}.txt`);
    fs.writeFileSync(data, `document ${i}\n`);
    const query = path.join(dir, `q-${i}.tsq`);
    const reply = path.join(dir, `r-${i}.tsr`);
    expect((await openssl(['ts', '-query', '-data', data, '-sha256', '-cert', '-out', query])).code).to.equal(0);
    // a fresh connection each time, so the primary hands it to the next process
    const res = await fetch(`${url}/tsa`, { method: 'POST', headers: { 'content-type': 'application/timestamp-query', connection: 'close' }, body: fs.readFileSync(query) });
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal('application/timestamp-reply');
    fs.writeFileSync(reply, new Uint8Array(await res.arrayBuffer()));
    const certs = path.join(TEST_CERTS_DIR, 'p256');
    const verified = await openssl(['ts', '-verify', '-queryfile', query, '-in', reply, '-CAfile', path.join(certs, 'root.pem'), '-untrusted', path.join(certs, 'tsa.pem')]);
    expect(verified.stdout.toString() + verified.stderr, `reply ${i}`).to.include('Verification: OK');
  }

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-tsa-cluster-'));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/tsa.ts')], {
      cwd: ROOT,
      env: { ...process.env, APP_ENV: 'test', LOG_LEVEL: 'info', DATA_DIR: path.join(dir, 'data'), DEV_CERTS_DIR: TEST_CERTS_DIR, KEY_ALGORITHM: 'ECDSA-P256', HOST: '127.0.0.1', PORT: String(port), TSA_PROCESSES: '2' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    await until('two processes listening', () => logs().some((l) => typeof l.msg === 'string' && l.msg.startsWith('tsa listening on ')));
  });
  after(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers from TSA_PROCESSES processes on one port, every reply valid for OpenSSL', async () => {
    const workers = new Set(listening().map((l) => l.worker));
    expect(workers.size).to.equal(2);
    expect(workers.has(child.pid)).to.equal(false);
    await Promise.all(Array.from({ length: 12 }, (_, i) => timeStamp(i)));
    // not a time-stamp request: problem+json, as the service answers
    const wrong = await fetch(`${url}/tsa`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' });
    expect(wrong.status).to.equal(415);
    expect(wrong.headers.get('content-type')).to.match(/^application\/problem\+json/);
    expect((await fetch(`${url}/nothing`)).status).to.equal(404);
    expect((await fetch(`${url}/healthz`)).status).to.equal(200);
  });

  it('replaces a process that dies, and answers all along', async () => {
    const [first] = listening();
    process.kill(first!.worker!, 'SIGKILL');
    // Until the primary has seen the process exit, it may still hand it a new connection,
    // which is then reset (Node's cluster): a client retries that one. Once it has, the
    // other process answers while the new one starts.
    await until('the primary sees the process die', () => logs().some((l) => l.msg === 'tsa process died: starting another' && l.worker === first!.worker));
    await timeStamp(100);
    await until('a replacement listening', () => listening().length === 3);
    await Promise.all(Array.from({ length: 6 }, (_, i) => timeStamp(200 + i)));
  });

  it('stops every process on SIGTERM and exits 0', async () => {
    const workers = listening()
      .map((l) => l.worker!)
      .filter((pid) => {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      });
    expect(workers).to.have.length(2);
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).to.equal(0);
    for (const pid of workers) expect(() => process.kill(pid, 0), `process ${pid}`).to.throw();
    expect(logs().some((l) => l.msg === 'tsa stopped')).to.equal(true);
  });

  it('stops with exit code 1, instead of starting processes again and again, when they cannot listen', async () => {
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      let log = '';
      const p = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/tsa.ts')], {
        cwd: ROOT,
        env: { ...process.env, APP_ENV: 'test', LOG_LEVEL: 'info', DATA_DIR: path.join(dir, 'data2'), DEV_CERTS_DIR: TEST_CERTS_DIR, HOST: '127.0.0.1', PORT: String(port), TSA_PROCESSES: '2' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      p.stdout!.on('data', (d) => (log += d));
      p.stderr!.on('data', (d) => (log += d));
      const code = await new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
      expect(code, log).to.equal(1);
      expect(log).to.include('tsa process died at start: stopping');
    } finally {
      taken.close();
    }
  });
});
