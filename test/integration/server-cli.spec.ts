import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ensureDevPki } from '../../src/crypto/index.js';
import { TEST_CERTS_DIR } from '../helpers/paths.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

function runServer(env: Record<string, string>, args: string[] = []): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/server.ts'), ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('server start-up', () => {
  it('refuses a bad configuration value, naming the variable, with a non-zero exit', async () => {
    for (const [env, variable] of [
      [{ PORT: 'eighty' }, 'PORT'],
      [{ DATABASE_URL: 'mysql://db' }, 'DATABASE_URL'],
      [{ SEAL_KEY_FILE: '/nonexistent.pem' }, 'SEAL_CERT_FILE'],
    ] as const) {
      const r = await runServer(env);
      expect(r.code, r.stderr).to.equal(1);
      expect(r.stderr).to.contain(`configuration error: ${variable}`);
    }
  });

  it('refuses a sealing key file that group or others can read', async () => {
    const pki = await ensureDevPki(path.join(TEST_CERTS_DIR, 'p256'), 'ECDSA-P256');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-keyperm-'));
    try {
      const key = path.join(dir, 'seal.key');
      fs.copyFileSync(pki.sealKey, key);
      fs.chmodSync(key, 0o644);
      const r = await runServer({ SEAL_KEY_FILE: key, SEAL_CERT_FILE: pki.sealCert, SEAL_CHAIN_FILE: pki.root, DATA_DIR: dir, DEV_CERTS_DIR: TEST_CERTS_DIR, APP_ENV: 'test' });
      expect(r.code).to.equal(1);
      expect(r.stderr).to.contain('KEY_FILE_PERMISSIONS');
      expect(r.stderr).to.contain(key);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a data folder that group or others can read (DATA_PERMISSIONS), naming it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-dataperm-'));
    try {
      fs.chmodSync(dir, 0o755);
      const r = await runServer({ DATA_DIR: dir, DEV_CERTS_DIR: TEST_CERTS_DIR, APP_ENV: 'test', PORT: '0' });
      expect(r.code, r.stderr).to.equal(1);
      expect(r.stderr).to.contain('DATA_PERMISSIONS');
      expect(r.stderr).to.contain(dir);
      expect(fs.readdirSync(dir), 'nothing written into it').to.deep.equal([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an unknown role with a usage error', async () => {
    const r = await runServer({}, ['--role', 'boss']);
    expect(r.code).to.equal(3);
    expect(r.stderr).to.contain('usage');
  });
});
