/**
 * Credentials: senders' keys rotated and revoked (admin API and CLI), recipients' tokens
 * withdrawn, guessing throttled per address and logged, /metrics behind its own token.
 */
import { expect } from 'chai';
import { onPostgres } from '../helpers/database.js';
import { runScript } from '../helpers/process.js';
import { metadata, pdfBytes, startTestService, submit, VALID_INSZ, type TestService } from '../helpers/service.js';

const ADMIN = 'admin-token-for-tests-0123456789';
const METRICS = 'metrics-token-for-tests-012345678';

function admin(svc: TestService, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${svc.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

const asSender = (svc: TestService, key: string, extra: Record<string, string> = {}) => fetch(`${svc.url}/v1/messages`, { headers: { authorization: `Bearer ${key}`, ...extra } });

describe(`credentials cannot be rotated or revoked (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, () => {
  let svc: TestService;
  before(async () => {
    svc = await startTestService({ ADMIN_TOKEN: ADMIN, AUTH_FAILURE_LIMIT: '1000' });
  });
  after(async () => svc?.close());

  it('a sender created through the admin API has a named first key, listed without its secret', async () => {
    const res = await admin(svc, 'POST', '/v1/admin/senders', { name: 'Rotating institution' });
    expect(res.status).to.equal(201);
    const created = await res.json();
    expect(created.credential).to.include({ kind: 'api_key', name: 'default', state: 'active', lastUsedAt: null, revokedAt: null });
    expect((await asSender(svc, created.apiKey)).status).to.equal(200);
    const list = await (await admin(svc, 'GET', `/v1/admin/senders/${created.id}/credentials`)).json();
    expect(list.items).to.have.length(1);
    expect(JSON.stringify(list)).to.not.contain(created.apiKey);
    expect(created.apiKey.startsWith(list.items[0].hint.replace('…', ''))).to.equal(true);
  });

  it('several named keys work side by side; revoking one refuses it at once and leaves the other', async () => {
    const { id, apiKey: first } = await (await admin(svc, 'POST', '/v1/admin/senders', { name: 'Two keys' })).json();
    const issued = await (await admin(svc, 'POST', `/v1/admin/senders/${id}/credentials`, { name: 'batch jobs' })).json();
    expect(issued.credential).to.include({ name: 'batch jobs', state: 'active' });
    expect((await asSender(svc, first)).status).to.equal(200);
    expect((await asSender(svc, issued.apiKey)).status).to.equal(200);

    expect((await admin(svc, 'DELETE', `/v1/admin/senders/${id}/credentials/${issued.credential.id}`)).status).to.equal(204);
    expect((await asSender(svc, issued.apiKey)).status).to.equal(401);
    expect((await asSender(svc, first)).status).to.equal(200);
    const list = (await (await admin(svc, 'GET', `/v1/admin/senders/${id}/credentials`)).json()).items;
    expect(list.find((c: any) => c.id === issued.credential.id)).to.include({ state: 'revoked' });
    expect(list.find((c: any) => c.name === 'default').lastUsedAt, 'last use recorded').to.be.a('string');
  });

  it('rotation without grace refuses the old key at once; with grace the old key works until it expires', async () => {
    const { id, apiKey: old, credential } = await (await admin(svc, 'POST', '/v1/admin/senders', { name: 'Rotation' })).json();
    const rotated = await (await admin(svc, 'POST', `/v1/admin/senders/${id}/credentials/${credential.id}/rotate`, {})).json();
    expect(rotated.previous).to.include({ state: 'revoked' });
    expect(rotated.credential).to.include({ name: 'default', state: 'active' });
    expect((await asSender(svc, old)).status).to.equal(401);
    expect((await asSender(svc, rotated.apiKey)).status).to.equal(200);

    const again = await (await admin(svc, 'POST', `/v1/admin/senders/${id}/credentials/${rotated.credential.id}/rotate`, { graceSeconds: 2 })).json();
    expect(again.previous.expiresAt).to.be.a('string');
    expect((await asSender(svc, rotated.apiKey)).status, 'old key within its grace').to.equal(200);
    expect((await asSender(svc, again.apiKey)).status).to.equal(200);
    const deadline = Date.now() + 20_000;
    while ((await asSender(svc, rotated.apiKey)).status !== 401) {
      expect(Date.now(), 'the old key should stop working when its grace ends').to.be.below(deadline);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect((await asSender(svc, again.apiKey)).status).to.equal(200);
  });

  it('a key issued with an expiry stops working then; a past expiry or a bad name is refused', async () => {
    const { id } = await (await admin(svc, 'POST', '/v1/admin/senders', { name: 'Expiring' })).json();
    const past = await admin(svc, 'POST', `/v1/admin/senders/${id}/credentials`, { name: 'x', expiresAt: '2020-01-01T00:00:00Z' });
    expect(past.status).to.equal(422);
    expect((await past.json()).code).to.equal('CREDENTIAL_INVALID');
    const bad = await admin(svc, 'POST', `/v1/admin/senders/${id}/credentials`, { name: '<script>' });
    expect((await bad.json()).code).to.equal('CREDENTIAL_INVALID');
    const soon = await (await admin(svc, 'POST', `/v1/admin/senders/${id}/credentials`, { name: 'short-lived', expiresAt: new Date(Date.now() + 1500).toISOString() })).json();
    expect((await asSender(svc, soon.apiKey)).status).to.equal(200);
    const deadline = Date.now() + 20_000;
    while ((await asSender(svc, soon.apiKey)).status !== 401) {
      expect(Date.now()).to.be.below(deadline);
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  it('a revocation made by the CLI (another process) holds at once in the running service', async () => {
    const { id, apiKey, credential } = await (await admin(svc, 'POST', '/v1/admin/senders', { name: 'CLI revoked' })).json();
    expect((await asSender(svc, apiKey)).status).to.equal(200);
    const out = JSON.parse(await runScript('scripts/credentials.ts', ['--json', 'revoke', '--sender', id, '--credential', credential.id], svc.env));
    expect(out.state).to.equal('revoked');
    expect((await asSender(svc, apiKey)).status).to.equal(401);

    const issued = JSON.parse(await runScript('scripts/credentials.ts', ['--json', 'key:create', '--sender', id, '--name', 'from cli'], svc.env));
    expect((await asSender(svc, issued.apiKey)).status).to.equal(200);
    const rotated = JSON.parse(await runScript('scripts/credentials.ts', ['--json', 'key:rotate', '--sender', id, '--credential', issued.credential.id], svc.env));
    expect((await asSender(svc, issued.apiKey)).status).to.equal(401);
    expect((await asSender(svc, rotated.apiKey)).status).to.equal(200);
    const listed = JSON.parse(await runScript('scripts/credentials.ts', ['--json', 'keys', '--sender', id], svc.env));
    expect(listed.map((c: any) => c.state).sort()).to.deep.equal(['active', 'revoked', 'revoked']);
  });

  it("a recipient's e-Box token can be withdrawn and replaced, through the admin API and the CLI", async () => {
    const token = await svc.newRecipient('citizen', VALID_INSZ);
    const ebox = (t: string) => fetch(`${svc.url}/v1/ebox/messages`, { headers: { authorization: `Bearer ${t}` } });
    expect((await ebox(token)).status).to.equal(200);
    expect((await admin(svc, 'DELETE', `/v1/admin/recipients/citizen/${VALID_INSZ}/token`)).status).to.equal(204);
    expect((await ebox(token)).status).to.equal(401);
    const issued = await (await admin(svc, 'POST', `/v1/admin/recipients/citizen/${VALID_INSZ}/token`)).json();
    expect((await ebox(issued.token)).status).to.equal(200);
    const cli = JSON.parse(await runScript('scripts/credentials.ts', ['--json', 'recipient-token:issue', '--type', 'citizen', '--id', VALID_INSZ], svc.env));
    expect((await ebox(issued.token)).status, 'replaced').to.equal(401);
    expect((await ebox(cli.token)).status).to.equal(200);
    await runScript('scripts/credentials.ts', ['recipient-token:revoke', '--type', 'citizen', '--id', VALID_INSZ], svc.env);
    expect((await ebox(cli.token)).status).to.equal(401);
    expect((await admin(svc, 'DELETE', '/v1/admin/recipients/citizen/00000000000/token')).status).to.equal(404);
  });

  it('a revoked key submits nothing', async () => {
    const { id, apiKey, credential } = await (await admin(svc, 'POST', '/v1/admin/senders', { name: 'Revoked submitter' })).json();
    await admin(svc, 'DELETE', `/v1/admin/senders/${id}/credentials/${credential.id}`);
    const res = await submit(svc, apiKey, metadata(), [{ name: 'main', content: pdfBytes(100) }]);
    expect(res.status).to.equal(401);
    expect((await res.json()).code).to.equal('UNAUTHENTICATED');
  });
});

describe(`no defence against credential guessing (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, () => {
  let svc: TestService;
  const log: string[] = [];
  before(async () => {
    svc = await startTestService({ ADMIN_TOKEN: ADMIN, METRICS_TOKEN: METRICS, AUTH_FAILURE_LIMIT: '5', AUTH_FAILURE_WINDOW_SECONDS: '60', AUTH_BLOCK_SECONDS: '120', TRUST_PROXY: 'loopback' }, { log });
  });
  after(async () => svc?.close());

  /** requests as if from `address`, through a trusted proxy on loopback */
  const from = (address: string, path: string, credential?: string) =>
    fetch(`${svc.url}${path}`, { headers: { 'x-forwarded-for': address, ...(credential ? { authorization: `Bearer ${credential}` } : {}) } });

  for (const [realm, path, wrong] of [
    ['sender', '/v1/messages', 'rmk_guess'],
    ['recipient', '/v1/ebox/messages', 'rbx_guess'],
    ['admin', '/v1/admin/jobs', 'admin-guess-0123456789'],
    ['metrics', '/metrics', 'metrics-guess-0123456789'],
  ] as const) {
    it(`${realm}: wrong credentials from one address are answered 401, then 429 with Retry-After, even for a right one; logged without the credential`, async () => {
      const address = `203.0.113.${realm.length * 10}`;
      for (let i = 0; i < 5; i++) {
        const res = await from(address, path, `${wrong}${i}`);
        expect(res.status, `attempt ${i + 1}`).to.equal(401);
        expect((await res.json()).code).to.equal('UNAUTHENTICATED');
      }
      const blocked = await from(address, path, `${wrong}x`);
      expect(blocked.status).to.equal(429);
      expect((await blocked.json()).code).to.equal('RATE_LIMITED');
      expect(Number(blocked.headers.get('retry-after'))).to.be.within(1, 120);
      const right = realm === 'sender' ? (await svc.newSender()).apiKey : realm === 'admin' ? ADMIN : realm === 'metrics' ? METRICS : await svc.newRecipient('enterprise', '0403019261').catch(() => 'rbx_none');
      expect((await from(address, path, right)).status, 'a right credential from a blocked address').to.equal(429);
      expect((await from('198.51.100.7', path, right)).status, 'another address is not blocked').to.equal(200);

      const lines = log.map((l) => JSON.parse(l)).filter((l) => l.msg === 'authentication failed' && l.realm === realm && l.address === address);
      expect(lines).to.have.length(5);
      expect(lines[0]).to.include({ level: 40, reason: 'unknown' });
      expect(log.join('\n')).to.not.contain(`${wrong}0`);
    });
  }

  it('counts failures by realm and reason in /metrics', async () => {
    const text = await (await from('192.0.2.200', '/metrics', METRICS)).text();
    expect(text).to.match(/registered_mail_auth_failures_total\{realm="sender",reason="unknown"\} 5/);
    expect(text).to.match(/registered_mail_auth_failures_total\{realm="admin",reason="unknown"\} 5/);
    expect(text).to.match(/registered_mail_auth_throttled_total\{realm="sender"\} [1-9]/);
  });

  it('without a trusted proxy, X-Forwarded-For does not let a guesser pose as other addresses', async () => {
    const direct = await startTestService({ AUTH_FAILURE_LIMIT: '3' });
    try {
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${direct.url}/v1/messages`, { headers: { 'x-forwarded-for': `198.18.0.${i}`, authorization: 'Bearer rmk_wrong' } });
        expect(res.status).to.equal(401);
      }
      const res = await fetch(`${direct.url}/v1/messages`, { headers: { 'x-forwarded-for': '198.18.0.99', authorization: 'Bearer rmk_wrong' } });
      expect(res.status).to.equal(429);
    } finally {
      await direct.close();
    }
  });
});

describe('/metrics is open to anyone', () => {
  it('is closed without METRICS_TOKEN, and needs its own token (not the admin one) when set', async () => {
    const closed = await startTestService({ ADMIN_TOKEN: ADMIN });
    try {
      expect((await fetch(`${closed.url}/metrics`)).status).to.equal(401);
      expect((await fetch(`${closed.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).status).to.equal(401);
    } finally {
      await closed.close();
    }
    const open = await startTestService({ ADMIN_TOKEN: ADMIN, METRICS_TOKEN: METRICS });
    try {
      expect((await fetch(`${open.url}/metrics`)).status).to.equal(401);
      expect((await fetch(`${open.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).status).to.equal(401);
      const ok = await fetch(`${open.url}/metrics`, { headers: { authorization: `Bearer ${METRICS}` } });
      expect(ok.status).to.equal(200);
      expect(await ok.text()).to.contain('registered_mail_jobs');
    } finally {
      await open.close();
    }
  });
});
