/**
 * Sign-in to the pages with OpenID Connect, against the development provider
 * (dev/oidc-provider) run in the test, with a plain HTTP client that follows redirects and
 * posts the provider's interaction form: the session cookie, what the database keeps, the
 * checks of the callback (state, nonce, PKCE, replay, the browser's own attempt), CSRF,
 * sign-out, idle and absolute expiry, citizens and clerks, the operator's clerk mapping
 * (admin API and CLI). SQLite, or PostgreSQL with TEST_DATABASE_URL.
 */
import { execFile } from 'node:child_process';
import http from 'node:http';
import { promisify } from 'node:util';
import { expect } from 'chai';
import express from 'express';
import { createLogger } from '../../src/logger.js';
import { pageErrorHandler } from '../../src/http/pages/errors.js';
import { SIGNIN_STARTS } from '../../src/http/pages/signin.js';
import { loadSession, requireClerk } from '../../src/http/pages/session.js';
import { callbackUrl, DEV_CITIZEN, DEV_CLERK, formOf, NOBODY_ACCOUNT, OIDC_CLIENT_ID, PageClient, sha256hex, signIn, startPagesWorld, type PagesWorld } from '../helpers/pages.js';
import { startTestService } from '../helpers/service.js';

const run = promisify(execFile);
const ADMIN = 'admin-token-for-pages-0123456789';

describe('pages: sign-in with OpenID Connect', function () {
  this.timeout(60_000);
  let w: PagesWorld;
  const db = () => w.svc.rt.store.db;
  const admin = (method: string, path: string, json?: unknown) =>
    fetch(`${w.svc.url}${path}`, { method, headers: { authorization: `Bearer ${ADMIN}`, ...(json ? { 'content-type': 'application/json' } : {}) }, body: json ? JSON.stringify(json) : undefined });

  before(async () => {
    w = await startPagesWorld({ ADMIN_TOKEN: ADMIN, SESSION_IDLE_SECONDS: '600', SESSION_MAX_SECONDS: '3600' });
  });
  after(async () => {
    await w?.close();
  });

  it('signs a citizen in: a new session cookie (HttpOnly, Secure, SameSite=Lax, Path=/), only its SHA-256 in the database, back to the page asked for', async () => {
    const c = new PageClient();
    const page = await signIn(c, w, DEV_CITIZEN, '/ebox');
    expect(page.status).to.equal(200);
    expect(new URL(page.url).pathname).to.equal('/ebox');
    expect(page.body).to.include('Test Citizen');
    const cookie = c.cookie('rm_session')!;
    expect(cookie, 'session cookie').to.not.equal(undefined);
    const attrs = cookie.line.split(';').map((a) => a.trim().toLowerCase());
    expect(attrs).to.include.members(['httponly', 'secure', 'samesite=lax', 'path=/']);
    expect(attrs.some((a) => a.startsWith('max-age') || a.startsWith('expires'))).to.equal(false);
    const rows = await db()('page_sessions').select();
    const mine = rows.find((r: any) => r.id_hash === sha256hex(cookie.value));
    expect(mine, 'the row of the session').to.not.equal(undefined);
    expect(mine.insz).to.equal(DEV_CITIZEN.insz);
    expect(mine.subject).to.equal(DEV_CITIZEN.sub);
    expect(JSON.stringify(rows)).not.to.include(cookie.value);
    // the attempt is gone, its cookie cleared
    expect(await db()('signin_attempts').select()).to.have.length(0);
    expect(c.cookie('rm_signin')).to.equal(undefined);
    // the sign-in form's page allows the provider as a form target, and nothing else beyond the site
    const signinPage = await c.request(`${w.svc.url}/signin?again=1`);
    expect(signinPage.headers.get('content-security-policy')).to.equal(`default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self' ${new URL(w.idp.issuer).origin}; frame-ancestors 'none'; base-uri 'none'`);
  });

  it('a next that leaves the site goes to the landing page instead', async () => {
    const c = new PageClient();
    const page = await signIn(c, w, DEV_CITIZEN, 'https://evil.example/x');
    expect(new URL(page.url).origin).to.equal(w.svc.url);
    expect(new URL(page.url).pathname).to.equal('/');
    const again = await signIn(new PageClient(), w, DEV_CITIZEN, '//evil.example/x');
    expect(new URL(again.url).origin).to.equal(w.svc.url);
  });

  it('a page for a signed-in person sends anyone else to /signin?next=<page>', async () => {
    const c = new PageClient();
    const hop = await c.request(`${w.svc.url}/ebox?lang=fr`);
    expect(hop.status).to.equal(303);
    expect(hop.headers.get('location')).to.equal(`/signin?next=${encodeURIComponent('/ebox?lang=fr')}`);
    const unknown = await c.request(`${w.svc.url}/ebox`, { headers: { cookie: `rm_session=${'A'.repeat(43)}` } });
    expect(unknown.status).to.equal(303);
  });

  it('refuses a callback whose state is not the attempt\'s', async () => {
    const c = new PageClient();
    const cb = await callbackUrl(c, w, DEV_CITIZEN, '/ebox', (u) => u.searchParams.set('state', 'not-the-state-of-this-attempt'));
    expect(cb.searchParams.get('state')).to.equal('not-the-state-of-this-attempt');
    const page = await c.request(cb.href);
    expect(page.status).to.equal(400);
    expect(page.body).to.include('data-code="SIGNIN_FAILED"');
    expect(c.cookie('rm_session')).to.equal(undefined);
  });

  it('refuses an ID token whose nonce is not the attempt\'s', async () => {
    const c = new PageClient();
    const cb = await callbackUrl(c, w, DEV_CITIZEN, '/', (u) => u.searchParams.set('nonce', 'another-nonce-0123456789abcdefghijklmnop'));
    const page = await c.request(cb.href);
    expect(page.status).to.equal(400);
    expect(page.body).to.include('data-code="SIGNIN_FAILED"');
    expect(c.cookie('rm_session')).to.equal(undefined);
  });

  it('refuses a code whose PKCE challenge was not made from the attempt\'s verifier', async () => {
    const c = new PageClient();
    const cb = await callbackUrl(c, w, DEV_CITIZEN, '/', (u) => u.searchParams.set('code_challenge', 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'));
    const page = await c.request(cb.href);
    expect(page.status).to.equal(400);
    expect(page.body).to.include('data-code="SIGNIN_FAILED"');
    expect(c.cookie('rm_session')).to.equal(undefined);
  });

  it('refuses a replayed callback, and a callback in a browser that did not start the sign-in', async () => {
    const c = new PageClient();
    const cb = await callbackUrl(c, w, DEV_CITIZEN);
    const attempt = c.cookie('rm_signin')!;
    expect(attempt).to.not.equal(undefined);
    // another browser (an attacker's link): no attempt of its own
    const other = new PageClient();
    const refused = await other.request(cb.href);
    expect(refused.status).to.equal(400);
    expect(other.cookie('rm_session')).to.equal(undefined);
    // the browser that started it: signed in
    const ok = await c.request(cb.href);
    expect(ok.status).to.equal(303);
    expect(c.cookie('rm_session')).to.not.equal(undefined);
    // the same callback again, even with the attempt's cookie put back
    const replay = new PageClient();
    replay.setCookie({ name: 'rm_signin', value: attempt.value, origin: attempt.origin, path: attempt.path });
    const again = await replay.request(cb.href);
    expect(again.status).to.equal(400);
    expect(again.body).to.include('data-code="SIGNIN_FAILED"');
    expect(replay.cookie('rm_session')).to.equal(undefined);
  });

  it('CSRF: a POST without the session\'s token is refused (403 CSRF_REFUSED, an HTML page), the session stays', async () => {
    const c = new PageClient();
    await signIn(c, w, DEV_CITIZEN, '/ebox');
    for (const form of [{}, { _csrf: 'wrong' }, { _csrf: '' }] as Array<Record<string, string>>) {
      const page = await c.request(`${w.svc.url}/signout`, { form });
      expect(page.status).to.equal(403);
      expect(page.headers.get('content-type')).to.match(/^text\/html/);
      expect(page.body).to.include('data-code="CSRF_REFUSED"');
    }
    expect((await c.request(`${w.svc.url}/ebox`)).status).to.equal(200);
    // the sign-in form too: its token is bound to a cookie of the browser's
    const stranger = new PageClient();
    const refused = await stranger.request(`${w.svc.url}/signin`, { form: { next: '/' } });
    expect(refused.status).to.equal(403);
    expect(refused.body).to.include('data-code="CSRF_REFUSED"');
  });

  it('sign-out deletes the session: its row, its cookie; the old cookie no longer works', async () => {
    const c = new PageClient();
    const page = await signIn(c, w, DEV_CITIZEN, '/ebox');
    const id = c.cookie('rm_session')!.value;
    const form = formOf(page, '/signout');
    const out = await c.request(form.action, { form: form.fields });
    expect(out.status).to.equal(303);
    expect(c.cookie('rm_session')).to.equal(undefined);
    expect(await db()('page_sessions').where({ id_hash: sha256hex(id) }).first()).to.equal(undefined);
    const stale = await new PageClient().request(`${w.svc.url}/ebox`, { headers: { cookie: `rm_session=${id}` } });
    expect(stale.status).to.equal(303);
    expect(stale.headers.get('location')).to.match(/^\/signin\?next=/);
    // then the provider's own session (RP-initiated logout), and back to the service's root
    const end = new URL(out.headers.get('location')!);
    expect(end.origin).to.equal(new URL(w.idp.issuer).origin);
    expect(end.searchParams.get('client_id')).to.equal(OIDC_CLIENT_ID);
    expect(end.searchParams.get('post_logout_redirect_uri')).to.equal(`${w.svc.url}/`);
    const question = await c.request(end.href);
    const logout = formOf(question, /\/session\/end\/confirm$/);
    const back = await c.follow(logout.action, { form: { ...logout.fields, logout: 'yes' } });
    expect(back.url).to.equal(`${w.svc.url}/`);
    expect(back.status).to.equal(200);
  });

  it('after sign-out, the next sign-in at the same browser asks the provider who it is; without the provider\'s logout it would not', async () => {
    const c = new PageClient();
    await signIn(c, w, DEV_CITIZEN, '/ebox');
    // the service's session alone ends (its cookie dropped): the provider still knows the person
    c.cookies.splice(c.cookies.findIndex((k) => k.name === 'rm_session'), 1);
    const start = formOf(await c.follow(`${w.svc.url}/signin?next=/ebox`), '/signin');
    const silent = await c.follow(start.action, { form: start.fields });
    expect(new URL(silent.url).pathname, 'signed in again without a question').to.equal('/ebox');
    expect(silent.body).to.include('Test Citizen');
    // a full sign-out: the service's session, then the provider's
    const out = await c.request(`${w.svc.url}/signout`, { form: formOf(silent, '/signout').fields });
    const question = await c.request(new URL(out.headers.get('location')!).href);
    const logout = formOf(question, /\/session\/end\/confirm$/);
    await c.follow(logout.action, { form: { ...logout.fields, logout: 'yes' } });
    // the next person is asked who they are
    const page = await signIn(c, w, DEV_CLERK, '/');
    expect(page.body).not.to.include('Test Citizen');
    expect(page.body).to.include('Test Clerk');
  });

  it('idle expiry and absolute expiry end a session (its row deleted)', async () => {
    for (const expire of [
      { last_seen_at: new Date(Date.now() - 601_000).toISOString() }, // idle longer than SESSION_IDLE_SECONDS
      { expires_at: new Date(Date.now() - 1000).toISOString() }, // past SESSION_MAX_SECONDS, however recently used
    ]) {
      const c = new PageClient();
      await signIn(c, w, DEV_CITIZEN, '/ebox');
      const hash = sha256hex(c.cookie('rm_session')!.value);
      expect((await c.request(`${w.svc.url}/ebox`)).status).to.equal(200);
      await db()('page_sessions').where({ id_hash: hash }).update(expire);
      const hop = await c.request(`${w.svc.url}/ebox`);
      expect(hop.status, JSON.stringify(expire)).to.equal(303);
      expect(hop.headers.get('location')).to.equal('/signin?next=%2Febox');
      expect(await db()('page_sessions').where({ id_hash: hash }).first()).to.equal(undefined);
      expect(c.cookie('rm_session')).to.equal(undefined);
    }
    const row = await db()('page_sessions').first();
    expect(Date.parse(row.expires_at) - Date.parse(row.created_at)).to.equal(3600_000);
  });

  it('a person whose ID token carries no INSZ has no e-Box (403 page)', async () => {
    const c = new PageClient();
    const page = await signIn(c, w, NOBODY_ACCOUNT, '/ebox');
    expect(page.status).to.equal(403);
    expect(page.body).to.include('data-code="FORBIDDEN"');
  });

  it('a clerk: refused until the operator maps them to a sender (admin API), at once when unmapped; the landing page shows what each may open', async () => {
    // a page that needs a clerk, as /console is mounted
    const app = express();
    app.use(loadSession(w.svc.rt.pageSessions));
    app.get('/console', requireClerk, (_req, res) => void res.json(res.locals.clerk));
    app.use(pageErrorHandler(createLogger('silent')));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const consoleUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/console`;
    try {
      const c = new PageClient();
      const landing = await signIn(c, w, DEV_CLERK, '/');
      expect(landing.body).not.to.include('href="/console"');
      expect(landing.body).not.to.include('href="/ebox"');
      const session = `rm_session=${c.cookie('rm_session')!.value}`;
      const refused = await fetch(consoleUrl, { headers: { cookie: session } });
      expect(refused.status).to.equal(403);
      expect(await refused.text()).to.include('data-code="FORBIDDEN"');

      const sender = await w.svc.newSender('Clerk\'s sender');
      const mapped = await admin('POST', `/v1/admin/senders/${sender.id}/clerks`, { subject: DEV_CLERK.sub, name: 'The clerk' });
      expect(mapped.status).to.equal(201);
      expect(await mapped.json()).to.deep.include({ issuer: w.idp.issuer, subject: DEV_CLERK.sub, senderId: sender.id, name: 'The clerk' });
      const allowed = await fetch(consoleUrl, { headers: { cookie: session } });
      expect(allowed.status).to.equal(200);
      expect(await allowed.json()).to.deep.equal({ senderId: sender.id, senderName: 'Clerk\'s sender', subject: DEV_CLERK.sub, name: DEV_CLERK.name });
      expect((await c.request(`${w.svc.url}/`)).body).to.include('href="/console"');

      const list = await (await admin('GET', `/v1/admin/senders/${sender.id}/clerks`)).json();
      expect(list.items.map((x: any) => x.subject)).to.deep.equal([DEV_CLERK.sub]);
      const other = await w.svc.newSender('Another sender');
      expect((await admin('POST', `/v1/admin/senders/${other.id}/clerks`, { subject: DEV_CLERK.sub })).status).to.equal(409);
      expect((await admin('POST', `/v1/admin/senders/${sender.id}/clerks`, { subject: '' })).status).to.equal(422);
      expect((await admin('POST', `/v1/admin/senders/${sender.id}/clerks`, { subject: 'x', issuer: 'ftp://idp' })).status).to.equal(422);
      expect((await admin('DELETE', `/v1/admin/senders/${sender.id}/clerks?subject=${DEV_CLERK.sub}`)).status).to.equal(204);
      expect((await fetch(consoleUrl, { headers: { cookie: session } })).status).to.equal(403);
      expect((await admin('DELETE', `/v1/admin/senders/${sender.id}/clerks?subject=${DEV_CLERK.sub}`)).status).to.equal(404);
    } finally {
      server.close();
    }
  });

  it('one person may be citizen and clerk: the landing page offers both', async () => {
    const sender = await w.svc.newSender('Both');
    await w.svc.rt.pageSessions.mapClerk(sender.id, { issuer: w.idp.issuer, subject: DEV_CITIZEN.sub });
    const c = new PageClient();
    const landing = await signIn(c, w, DEV_CITIZEN, '/');
    expect(landing.body).to.include('href="/ebox"');
    expect(landing.body).to.include('href="/console"');
    await w.svc.rt.pageSessions.unmapClerk(sender.id, w.idp.issuer, DEV_CITIZEN.sub);
  });

  it('clerk:map CLI: add, list, remove, with the issuer of OIDC_ISSUER by default', async () => {
    const sender = await w.svc.newSender('CLI sender');
    const env = { ...process.env, ...w.svc.env };
    const cli = (...args: string[]) => run('npx', ['tsx', 'scripts/clerk-map.ts', ...args], { env });
    const added = JSON.parse((await cli('--json', 'add', '--sender', sender.id, '--subject', 'cli-clerk', '--name', 'CLI clerk')).stdout);
    expect(added).to.deep.include({ issuer: w.idp.issuer, subject: 'cli-clerk', senderId: sender.id, name: 'CLI clerk' });
    expect(await w.svc.rt.pageSessions.clerks(sender.id)).to.have.length(1);
    const listed = JSON.parse((await cli('--json', 'list', '--sender', sender.id)).stdout);
    expect(listed.map((x: any) => x.subject)).to.deep.equal(['cli-clerk']);
    await cli('remove', '--sender', sender.id, '--subject', 'cli-clerk');
    expect(await w.svc.rt.pageSessions.clerks(sender.id)).to.have.length(0);
    const failed = await cli('remove', '--sender', sender.id, '--subject', 'cli-clerk').then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(failed?.code).to.equal(1);
    expect(failed?.stderr).to.include('NOT_FOUND');
  });

  it('an address that starts too many sign-ins is refused (429 RATE_LIMITED, Retry-After, an HTML page); another address is not', async () => {
    const c = new PageClient();
    const form = formOf(await c.follow(`${w.svc.url}/signin`), '/signin');
    const cookie = c.cookies.map((k) => `${k.name}=${k.value}`).join('; ');
    const body = new URLSearchParams(form.fields).toString();
    // from 127.0.0.2 (a loopback address of its own): the other tests' address keeps its count
    const start = (localAddress: string) =>
      new Promise<{ status: number; retryAfter?: string; body: string }>((resolve, reject) => {
        const req = http.request(`${w.svc.url}/signin`, { method: 'POST', localAddress, headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (d: Buffer) => chunks.push(d));
          res.on('end', () => resolve({ status: res.statusCode!, retryAfter: res.headers['retry-after'], body: Buffer.concat(chunks).toString('utf8') }));
        });
        req.on('error', reject);
        req.end(body);
      });
    for (let i = 0; i < SIGNIN_STARTS; i++) expect((await start('127.0.0.2')).status, `start ${i + 1}`).to.equal(303);
    const refused = await start('127.0.0.2');
    expect(refused.status).to.equal(429);
    expect(Number(refused.retryAfter)).to.be.within(1, 600);
    expect(refused.body).to.include('data-code="RATE_LIMITED"');
    expect((await start('127.0.0.3')).status).to.equal(303);
  });
});

describe('pages: without an identity provider', function () {
  this.timeout(60_000);
  it('outside development, only the landing page and /verify are there: /ebox and /signin are not found (an HTML page)', async () => {
    const svc = await startTestService();
    try {
      const landing = await fetch(`${svc.url}/`);
      expect(landing.status).to.equal(200);
      const body = await landing.text();
      expect(body).to.include('href="/verify"');
      expect(body).not.to.include('href="/ebox"');
      for (const p of ['/ebox', '/signin', '/signin/callback', '/console']) {
        const res = await fetch(`${svc.url}${p}`, { redirect: 'manual' });
        expect(res.status, p).to.equal(404);
        expect(res.headers.get('content-type'), p).to.match(/^text\/html/);
      }
      // the API's own 404 stays problem+json
      const api = await fetch(`${svc.url}/v1/nothing`);
      expect(api.headers.get('content-type')).to.match(/^application\/problem\+json/);
    } finally {
      await svc.close();
    }
  });
});
