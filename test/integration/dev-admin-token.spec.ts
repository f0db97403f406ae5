/**
 * `npm start` in development without ADMIN_TOKEN: the server draws an admin token on its first
 * start, keeps it in $DATA_DIR/dev-admin-token (0600), says where in its log (never the token)
 * and the admin API answers it, across restarts. In production there is no default.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { TEST_CERTS_DIR } from '../helpers/paths.js';
import { freePort } from '../helpers/process.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
}

async function start(env: Record<string, string>): Promise<Started> {
  const port = await freePort();
  let out = '';
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/server.ts')], {
    cwd: ROOT,
    env: { ...process.env, ADMIN_TOKEN: '', ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', DEV_SIMULATORS: 'false', DEV_CERTS_DIR: TEST_CERTS_DIR },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}: ${out}`);
    if ((await fetch(`${url}/healthz`).catch(() => undefined))?.ok) return { child, url, output: () => out };
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`service did not start: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stop(s: Started): Promise<void> {
  if (s.child.exitCode !== null) return;
  const exited = new Promise((r) => s.child.once('exit', r));
  s.child.kill('SIGTERM');
  await exited;
}

const listSenders = (url: string, token: string) => fetch(`${url}/v1/admin/senders`, { headers: { authorization: `Bearer ${token}` } });

describe('development admin token', function () {
  this.timeout(120_000);
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-devadmin-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('development without ADMIN_TOKEN: drawn once into DATA_DIR/dev-admin-token (0600), logged by path only, answered, the same after a restart', async () => {
    const dataDir = path.join(dir, 'data');
    const env = { APP_ENV: 'development', DATA_DIR: dataDir };
    const first = await start(env);
    let token: string;
    try {
      const file = path.join(dataDir, 'dev-admin-token');
      token = fs.readFileSync(file, 'utf8').trim();
      expect(token).to.match(/^rma_[A-Za-z0-9_-]{43}$/);
      expect(fs.statSync(file).mode & 0o777).to.equal(0o600);
      const line = first.output().split('\n').find((l) => l.includes('development admin token'));
      expect(line, first.output()).to.be.a('string');
      expect(JSON.parse(line!).adminTokenFile).to.equal(file);
      expect(first.output()).to.not.contain(token);
      expect((await listSenders(first.url, token)).status).to.equal(200);
      expect((await listSenders(first.url, 'rma_not-the-token-at-all-0000')).status).to.equal(401);
    } finally {
      await stop(first);
    }
    const second = await start(env);
    try {
      expect(fs.readFileSync(path.join(dataDir, 'dev-admin-token'), 'utf8').trim()).to.equal(token);
      expect((await listSenders(second.url, token)).status).to.equal(200);
    } finally {
      await stop(second);
    }
  });

  it('an ADMIN_TOKEN given wins and no file is made; outside development there is no default', async () => {
    const given = await start({ APP_ENV: 'development', DATA_DIR: path.join(dir, 'given'), ADMIN_TOKEN: 'an-operator-chosen-token' });
    try {
      expect((await listSenders(given.url, 'an-operator-chosen-token')).status).to.equal(200);
      expect(fs.existsSync(path.join(dir, 'given', 'dev-admin-token'))).to.equal(false);
    } finally {
      await stop(given);
    }
    const prod = await start({ APP_ENV: 'test', DATA_DIR: path.join(dir, 'prod') });
    try {
      expect((await listSenders(prod.url, 'anything-at-all-long-enough')).status).to.equal(401);
      expect(fs.existsSync(path.join(dir, 'prod', 'dev-admin-token'))).to.equal(false);
      expect(prod.output()).to.not.contain('development admin token');
    } finally {
      await stop(prod);
    }
  });
});
