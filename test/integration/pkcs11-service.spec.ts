/**
 * The service with no private key file at all: the sealing key and the built-in TSA's key
 * are in a SoftHSM2 token (SEAL_PKCS11_* / TSA_PKCS11_*). Proofs come out and OpenSSL accepts
 * them; /readyz reports the keys; a lost session makes the sealing job fail once and retry,
 * nothing lost, and the log says so; a token whose keys are gone makes /readyz answer 503
 * SIGNING_KEY_UNAVAILABLE. A wrong PIN is a configuration error naming the variable.
 *
 * Fails, never skips, without SoftHSM2 (test/helpers/softhsm.ts).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../src/config.js';
import { createRuntime } from '../../src/app/runtime.js';
import { createLogger } from '../../src/logger.js';
import { generateDevPkiOnToken, type DevTokenPki } from '../../src/crypto/index.js';
import { onPostgres } from '../helpers/database.js';
import { openssl } from '../helpers/openssl.js';
import { metadata, pdfBytes, startTestService, submit, VALID_INSZ, waitForMessage, type TestService } from '../helpers/service.js';
import { closeAllSessions, softHsm, type SoftHsm, type Token } from '../helpers/softhsm.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

function tokenEnv(token: Token, pki: DevTokenPki): Record<string, string> {
  return {
    SEAL_PKCS11_MODULE: token.module,
    SEAL_PKCS11_TOKEN_LABEL: token.tokenLabel,
    SEAL_PKCS11_KEY_LABEL: pki.sealKeyLabel,
    SEAL_PKCS11_PIN_FILE: token.pinFile,
    TSA_PKCS11_MODULE: token.module,
    TSA_PKCS11_TOKEN_LABEL: token.tokenLabel,
    TSA_PKCS11_KEY_LABEL: pki.tsaKeyLabel,
    TSA_PKCS11_PIN_FILE: token.pinFile,
    TSA_CERT_FILE: pki.tsaCert,
    TSA_CHAIN_FILE: pki.root,
  };
}

describe(`the service with its keys in a PKCS#11 token (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, function () {
  this.timeout(60_000);
  let hsm: SoftHsm;
  let token: Token;
  let pki: DevTokenPki;
  let svc: TestService;
  let devCerts: string;
  /** another token, for the wrong PIN: this process is logged in to the first one (PKCS#11 logins are per application) */
  let other: Token;
  let otherPki: DevTokenPki;
  const log: string[] = [];

  before(async () => {
    hsm = await softHsm();
    token = await hsm.initToken();
    devCerts = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-no-keys-'));
    pki = await generateDevPkiOnToken(token, 'ECDSA-P256', path.join(devCerts, 'token-pki'));
    // made before the service opens its sessions: SoftHSM2 may not list a token another process makes while this one has sessions open
    other = await hsm.initToken();
    otherPki = await generateDevPkiOnToken(other, 'ECDSA-P256', path.join(devCerts, 'other-pki'));
    svc = await startTestService({ ...tokenEnv(token, pki), DEV_CERTS_DIR: devCerts, SUBMIT_WAIT_MS: '5000' }, { log, logLevel: 'info' });
    await svc.newRecipient('citizen', VALID_INSZ);
  });
  after(async () => {
    await svc?.close();
    fs.rmSync(devCerts, { recursive: true, force: true });
  });

  it('seals with the token keys: OpenSSL accepts the proofs, /readyz reports the keys, and no private key file exists', async () => {
    expect(svc.config.sealing.kind).to.equal('pkcs11');
    expect(svc.rt.sealer.mode, 'a token key seals in the main thread with asynchronous signatures').to.equal('in-thread');
    const { apiKey } = await svc.newSender('HSM sender');
    const res = await submit(svc, apiKey, metadata({ senderReference: 'HSM-1' }), [{ name: 'main', content: pdfBytes(3000, 7) }]);
    expect(res.status).to.be.oneOf([201, 202]);
    const { id } = await res.json();
    const m = await waitForMessage(svc, apiKey, id, (x) => x.status === 'DEPOSITED');
    for (const e of m.evidence as Array<{ id: string; type: string }>) {
      const der = new Uint8Array(await (await fetch(`${svc.url}/v1/messages/${id}/evidence/${e.id}`, { headers: { authorization: `Bearer ${apiKey}` } })).arrayBuffer());
      const file = path.join(devCerts, `${e.type}.p7s`);
      fs.writeFileSync(file, der);
      const r = await openssl(['cms', '-verify', '-cades', '-binary', '-inform', 'DER', '-in', file, '-CAfile', pki.root, '-out', path.join(devCerts, 'out.txt')]);
      expect(r.code, `${e.type}: ${r.stderr}`).to.equal(0);
    }
    const ready = await fetch(`${svc.url}/readyz`);
    expect(ready.status).to.equal(200);
    expect((await ready.json()).checks ?? {}).to.deep.include({ signingKeys: 'ok' });
    // the development PKI was never generated: no key file anywhere under DEV_CERTS_DIR
    const files = fs.readdirSync(devCerts, { recursive: true }).map(String);
    expect(files.filter((f) => f.endsWith('.key'))).to.deep.equal([]);
  });

  it("POST /tsa answers with the token's TSA key: openssl ts -verify accepts the reply", async () => {
    const data = path.join(devCerts, 'data.txt');
    fs.writeFileSync(data, 'data to time-stamp\n');
    const tsq = path.join(devCerts, 'q.tsq');
    expect((await openssl(['ts', '-query', '-data', data, '-sha256', '-cert', '-out', tsq])).code).to.equal(0);
    const res = await fetch(`${svc.url}/tsa`, { method: 'POST', headers: { 'content-type': 'application/timestamp-query' }, body: fs.readFileSync(tsq) });
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal('application/timestamp-reply');
    const tsr = path.join(devCerts, 'r.tsr');
    fs.writeFileSync(tsr, new Uint8Array(await res.arrayBuffer()));
    const verified = await openssl(['ts', '-verify', '-queryfile', tsq, '-in', tsr, '-CAfile', pki.root, '-untrusted', pki.tsaCert]);
    expect(verified.code, verified.stderr).to.equal(0);
    expect(verified.stdout.toString()).to.contain('Verification: OK');
  });

  it('a lost session: the sealing job fails once, is retried and seals; the log says the key was unavailable and signs again', async () => {
    closeAllSessions(token.module, token.tokenLabel);
    const { apiKey } = await svc.newSender('HSM sender 2');
    const res = await submit(svc, apiKey, metadata({ senderReference: 'HSM-2' }), [{ name: 'main', content: pdfBytes(3000, 8) }]);
    const { id } = await res.json();
    const m = await waitForMessage(svc, apiKey, id, (x) => x.status === 'DEPOSITED');
    expect(m.evidence.map((e: any) => e.type)).to.deep.equal(['SubmissionAcceptance', 'ContentConsignment']);
    const lines = log.map((l) => JSON.parse(l) as { msg: string });
    expect(lines.some((l) => /sealing key in the PKCS#11 token is unavailable: CKR_SESSION_HANDLE_INVALID/.test(l.msg)), log.join('\n')).to.equal(true);
    expect(lines.some((l) => /sealing key in the PKCS#11 token signs again/.test(l.msg))).to.equal(true);
    const dead = await svc.rt.store.jobs.list({ status: 'dead' });
    expect(dead).to.deep.equal([]);
  });

  it('a wrong PIN is a configuration error naming SEAL_PKCS11_PIN_FILE', async () => {
    const wrong = path.join(devCerts, 'wrong.pin');
    fs.writeFileSync(wrong, '999999\n', { mode: 0o600 });
    const config = loadConfig({ ...tokenEnv(other, otherPki), SEAL_PKCS11_PIN_FILE: wrong, APP_ENV: 'test', DATA_DIR: path.join(devCerts, 'data'), DEV_CERTS_DIR: devCerts });
    let failed: unknown;
    const rt = await createRuntime(config, createLogger('silent')).catch((err: unknown) => (failed = err));
    if (!failed) await (rt as { close(): Promise<void> }).close();
    expect(failed).to.be.instanceOf(ConfigError);
    expect((failed as ConfigError).variable).to.equal('SEAL_PKCS11_PIN_FILE');
    expect((failed as Error).message).to.match(/^SEAL_PKCS11_PIN_FILE: the token refuses the PIN/);
  });

  it('the server refuses to start with a key the token does not hold: configuration error naming SEAL_PKCS11_KEY_LABEL, exit 1', async () => {
    const env = { ...process.env, ...tokenEnv(other, otherPki), SEAL_PKCS11_KEY_LABEL: 'no-such-key', APP_ENV: 'test', PORT: '0', DATA_DIR: path.join(devCerts, 'cli-data'), DEV_CERTS_DIR: devCerts };
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/server.ts')], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    clearTimeout(timer);
    expect(code, stderr).to.equal(1);
    expect(stderr).to.contain('configuration error: SEAL_PKCS11_KEY_LABEL: no private key with label "no-such-key" on the token');
  });

  it('a token whose keys are gone: /readyz answers 503 SIGNING_KEY_UNAVAILABLE', async () => {
    await hsm.softhsmUtil(['--delete-token', '--token', token.tokenLabel]);
    const res = await fetch(`${svc.url}/readyz`);
    expect(res.status).to.equal(503);
    expect(res.headers.get('retry-after')).to.equal('10');
    const body = await res.json();
    expect(body.code).to.equal('SIGNING_KEY_UNAVAILABLE');
    expect(body.detail).to.equal('a signing key in the PKCS#11 token does not sign');
    expect(await svc.rt.readiness.check().catch((err: { extensions: unknown }) => err.extensions)).to.deep.equal({ checks: { database: 'ok', storage: 'ok', signingKeys: 'unavailable' } });
  });
});
