/**
 * The sender's console pages over HTTP (src/http/pages/console.ts), with page sessions made
 * by the session service as a sign-in makes them (the sign-in itself is tested in
 * pages-*.spec.ts and, through the browser, in test/e2e/console.spec.ts): a clerk of sender A
 * never reaches sender B's message, proof, receipt, bundle, key or webhook; a POST without
 * the session's CSRF token is refused; the filter round-trips through the form and the paging
 * links; proofs and the bundle download as sealed; API keys are shown once and revoked after
 * a confirmation; webhook refusals are form errors. Runs on SQLite, and on PostgreSQL with
 * TEST_DATABASE_URL.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { onPostgres } from '../helpers/database.js';
import { metadata, pdfBytes, startTestService, submit, VALID_INSZ, waitForMessage, type TestService } from '../helpers/service.js';

const ISSUER = 'http://127.0.0.1:9/';

describe(`The sender's console: pages (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, function () {
  this.timeout(120_000);
  let svc: TestService;
  let work: string;
  let a: { id: string; apiKey: string };
  let b: { id: string; apiKey: string };
  let cookieA: string;
  let cookieB: string;
  let cookieNobody: string;
  const ids: Record<string, string> = {};

  const get = (p: string, cookie?: string, headers: Record<string, string> = {}) => fetch(svc.url + p, { redirect: 'manual', headers: { ...(cookie ? { cookie } : {}), ...headers } });
  const post = (p: string, cookie: string | undefined, form: Record<string, string>) =>
    fetch(svc.url + p, { method: 'POST', redirect: 'manual', headers: { ...(cookie ? { cookie } : {}), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
  const csrfOf = async (cookie: string) => {
    const page = await (await get('/console/keys', cookie)).text();
    const m = /name="_csrf" value="([^"]+)"/.exec(page);
    expect(m, 'a CSRF field on the page').to.not.equal(null);
    return m![1]!;
  };
  const send = async (sender: { apiKey: string }, reference: string) => {
    const res = await submit(svc, sender.apiKey, metadata({ senderReference: reference }), [{ name: 'main', content: pdfBytes(1200, Object.keys(ids).length + 7) }]);
    expect(res.status).to.equal(201);
    const id = (await res.json()).id as string;
    await waitForMessage(svc, sender.apiKey, id, (m) => m.status === 'DEPOSITED');
    return id;
  };
  const rowIds = (page: string) => [...page.matchAll(/data-message-id="([^"]+)"/g)].map((m) => m[1]);

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-console-pages-'));
    svc = await startTestService({
      OIDC_ISSUER: ISSUER,
      OIDC_CLIENT_ID: 'registered-mail',
      OIDC_CLIENT_SECRET: 'console-pages-test-secret',
      WEBHOOK_ALLOW_PRIVATE_TARGETS: '127.0.0.1/32',
    });
    a = await svc.newSender('Sender A');
    b = await svc.newSender('Sender B');
    await svc.newRecipient('citizen', VALID_INSZ);
    await svc.rt.pageSessions.mapClerk(a.id, { issuer: ISSUER, subject: 'clerk-a', name: 'Alice' });
    await svc.rt.pageSessions.mapClerk(b.id, { issuer: ISSUER, subject: 'clerk-b', name: 'Bob' });
    cookieA = `rm_session=${await svc.rt.pageSessions.create({ issuer: ISSUER, subject: 'clerk-a', name: 'Alice', insz: null })}`;
    cookieB = `rm_session=${await svc.rt.pageSessions.create({ issuer: ISSUER, subject: 'clerk-b', name: 'Bob', insz: null })}`;
    cookieNobody = `rm_session=${await svc.rt.pageSessions.create({ issuer: ISSUER, subject: 'not-a-clerk', name: 'Nobody', insz: null })}`;
    ids.a1 = await send(a, 'FILE-1');
    ids.a2 = await send(a, 'FILE-2');
    ids.a3 = await send(a, 'FILE-1');
    ids.b1 = await send(b, 'FILE-1');
  });
  after(async () => {
    await svc?.close();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('sends someone not signed in to the sign-in, and refuses a person who is no clerk', async () => {
    const anon = await get('/console?reference=FILE-1');
    expect(anon.status).to.equal(303);
    expect(anon.headers.get('location')).to.equal(`/signin?next=${encodeURIComponent('/console?reference=FILE-1')}`);
    const nobody = await get('/console', cookieNobody);
    expect(nobody.status).to.equal(403);
    expect(nobody.headers.get('content-type')).to.match(/^text\/html/);
    expect(await nobody.text()).to.not.contain('FILE-1');
  });

  it('lists only the clerk\'s sender\'s messages; the filter round-trips through the form and the paging links', async () => {
    const res = await get('/console?reference=FILE-1&status=DEPOSITED', cookieA);
    expect(res.status).to.equal(200);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).to.contain("default-src 'none'");
    expect(csp).to.not.contain('unsafe-inline');
    const page = await res.text();
    expect(rowIds(page)).to.deep.equal([ids.a3, ids.a1]);
    expect(page).to.contain('id="f-reference" name="reference" type="text" maxlength="200" value="FILE-1"');
    expect(page).to.contain('<option value="DEPOSITED" selected>');
    expect(page).to.match(/<label for="f-status">/);
    // the bundle link carries the same filter
    expect(page).to.contain('href="/console/bundle?status=DEPOSITED&amp;reference=FILE-1"');
    expect(rowIds(await (await get('/console', cookieB)).text())).to.deep.equal([ids.b1]);

    // one row a page: the next link keeps the filter and continues after the row shown
    const first = await (await get('/console?reference=FILE-1&limit=1', cookieA)).text();
    expect(rowIds(first)).to.deep.equal([ids.a3]);
    const next = /<a href="([^"]+)" rel="next">/.exec(first)![1]!.replace(/&amp;/g, '&');
    expect(next).to.match(/^\/console\?reference=FILE-1&limit=1&cursor=/);
    const second = await (await get(next, cookieA)).text();
    expect(rowIds(second)).to.deep.equal([ids.a1]);
    expect(second).to.not.contain('rel="next"');
  });

  it('shows a malformed filter on the page (400) with the form kept', async () => {
    const res = await get('/console?from=2026-02-30&reference=X', cookieA);
    expect(res.status).to.equal(400);
    const page = await res.text();
    expect(page).to.contain('id="filter-error"');
    expect(page).to.contain('value="2026-02-30"');
    expect(rowIds(page)).to.deep.equal([]);
  });

  it('shows the usage of another month: previous and next links, none past this month; a malformed month is a 400 page', async () => {
    const now = new Date();
    const thisMonth = now.toISOString().slice(0, 7);
    const lastMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1)).toISOString().slice(0, 7);
    const current = await (await get('/console', cookieA)).text();
    expect(current).to.contain(`(${thisMonth})`);
    expect(current).to.contain(`href="/console?month=${lastMonth}">Previous month`);
    expect(current).to.not.contain('Next month');
    // a month long before these messages: none, and both links
    const past = await (await get('/console?month=2020-01', cookieA)).text();
    expect(past).to.contain('(2020-01)');
    expect(past).to.contain('Messages submitted: <strong>0</strong>');
    expect(past).to.contain('href="/console?month=2019-12">Previous month');
    expect(past).to.contain('href="/console?month=2020-02">Next month');
    const bad = await get('/console?month=2026-13', cookieA);
    expect(bad.status).to.equal(400);
    expect(await bad.text()).to.contain(`(${thisMonth})`);
  });

  it('shows a message\'s timeline and serves its proofs as sealed and as a receipt in the page\'s language', async () => {
    const res = await get(`/console/messages/${ids.a1}?lang=fr`, cookieA);
    expect(res.status).to.equal(200);
    const page = await res.text();
    expect(page).to.contain('<html lang="fr">');
    expect(page).to.contain('SubmissionAcceptance');
    expect(page).to.contain('ContentConsignment');
    const evidence = (await (await fetch(`${svc.url}/v1/messages/${ids.a1}/evidence`, { headers: { authorization: `Bearer ${a.apiKey}` } })).json()).items as Array<{ id: string; type: string }>;
    for (const e of evidence) {
      expect(page).to.contain(`href="/console/messages/${ids.a1}/proofs/${e.id}"`);
      const der = await get(`/console/messages/${ids.a1}/proofs/${e.id}`, cookieA);
      expect(der.status).to.equal(200);
      expect(der.headers.get('content-type')).to.match(/^application\/pkcs7-mime/);
      const api = await fetch(`${svc.url}/v1/messages/${ids.a1}/evidence/${e.id}`, { headers: { authorization: `Bearer ${a.apiKey}`, accept: 'application/pkcs7-mime' } });
      expect(Buffer.compare(Buffer.from(await der.arrayBuffer()), Buffer.from(await api.arrayBuffer()))).to.equal(0);
    }
    const pdf = await get(`/console/messages/${ids.a1}/proofs/${evidence[0]!.id}/receipt.pdf`, cookieA);
    expect(pdf.status).to.equal(200);
    expect(pdf.headers.get('content-type')).to.equal('application/pdf');
    // the language the page was switched to is remembered (cookie set by ?lang=)
    const setLang = res.headers.get('set-cookie') ?? '';
    expect(setLang).to.contain('rm_lang=fr');
    const pdfFr = await get(`/console/messages/${ids.a1}/proofs/${evidence[0]!.id}/receipt.pdf`, `${cookieA}; rm_lang=fr`);
    expect(pdfFr.headers.get('content-language')).to.equal('fr');
    expect(Buffer.from(await pdfFr.arrayBuffer()).subarray(0, 5).toString()).to.equal('%PDF-');
  });

  it('never lets a clerk of A reach B\'s message, proof, receipt or bundle', async () => {
    const bEvidence = (await (await fetch(`${svc.url}/v1/messages/${ids.b1}/evidence`, { headers: { authorization: `Bearer ${b.apiKey}` } })).json()).items as Array<{ id: string }>;
    for (const p of [`/console/messages/${ids.b1}`, `/console/messages/${ids.b1}/proofs/${bEvidence[0]!.id}`, `/console/messages/${ids.b1}/proofs/${bEvidence[0]!.id}/receipt.pdf`, `/console/messages/${ids.a1}/proofs/${bEvidence[0]!.id}`, `/console/messages/${randomUUID()}`]) {
      const res = await get(p, cookieA);
      expect(res.status, p).to.equal(404);
      expect(res.headers.get('content-type'), p).to.match(/^text\/html/);
    }
    // B's clerk does reach it
    expect((await get(`/console/messages/${ids.b1}`, cookieB)).status).to.equal(200);
    // A's bundle of reference FILE-1 holds A's messages only
    const res = await get('/console/bundle?reference=FILE-1', cookieA);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal('application/x-tar');
    expect(res.headers.get('content-disposition')).to.match(/^attachment; filename="proofs-\d{8}T\d{6}Z\.tar"$/);
    const tar = path.join(work, 'a.tar');
    fs.writeFileSync(tar, Buffer.from(await res.arrayBuffer()));
    const dir = path.join(work, 'a');
    fs.mkdirSync(dir);
    execFileSync('tar', ['-xf', tar, '-C', dir]);
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.messages.map((m: { id: string }) => m.id)).to.deep.equal([ids.a3, ids.a1]);
    for (const f of manifest.files) expect(createHash('sha256').update(fs.readFileSync(path.join(dir, f.path))).digest('hex')).to.equal(f.sha256);
    expect(fs.readdirSync(path.join(dir, 'proofs')).sort()).to.deep.equal([ids.a1, ids.a3].sort());
  });

  it('refuses a bundle past 500 messages on the list page (422)', async () => {
    await svc.rt.store.transaction(async (tx) => {
      for (let i = 0; i < 501; i++) {
        const at = new Date(Date.parse('2020-01-01T00:00:00.000Z') + i * 1000).toISOString();
        await tx.messages.insert({ id: randomUUID(), senderId: b.id, recipientType: 'citizen', recipientId: VALID_INSZ, subject: { en: 'x' }, senderReference: 'BULK', status: 'REJECTED', submittedAt: at, updatedAt: at, expiresAt: null, eboxMessageId: null, documentsPurgedAt: null }, []);
      }
    });
    const res = await get('/console/bundle?reference=BULK', cookieB);
    expect(res.status).to.equal(422);
    expect(res.headers.get('content-type')).to.match(/^text\/html/);
    expect(await res.text()).to.contain('id="filter-error"');
    // the same filter seen by A selects nothing of B's
    const tarA = await get('/console/bundle?reference=BULK', cookieA);
    expect(tarA.status).to.equal(200);
  });

  it('labels every control, scopes every header cell and has one h1 on each console page', async () => {
    const cred = (await svc.rt.senders.credentials(a.id))[0]!;
    for (const p of ['/console', '/console?reference=FILE-1', `/console/messages/${ids.a1}`, '/console/webhook', '/console/keys', `/console/keys/${cred.id}/revoke`]) {
      const page = await (await get(p, cookieA)).text();
      expect(page.match(/<h1[ >]/g), p).to.have.length(1);
      expect(page, p).to.match(/<html lang="(nl|fr|de|en)">/);
      expect(page, p).to.contain('class="skip" href="#main"');
      for (const control of page.match(/<(input|select|textarea)\b[^>]*>/g) ?? []) {
        if (/type="hidden"/.test(control)) continue;
        const id = /\bid="([^"]+)"/.exec(control)?.[1];
        expect(id, `${p}: ${control}`).to.be.a('string');
        expect(page, `${p}: label for ${id}`).to.contain(`<label for="${id}">`);
      }
      for (const th of page.match(/<th\b[^>]*>/g) ?? []) expect(th, p).to.match(/scope="(col|row)"/);
    }
  });

  it('refuses a POST without the session\'s CSRF token (403) and changes nothing', async () => {
    const before = (await svc.rt.senders.credentials(a.id)).length;
    const none = await post('/console/keys', cookieA, { name: 'no token' });
    expect(none.status).to.equal(403);
    expect(none.headers.get('content-type')).to.match(/^text\/html/);
    expect(await none.text()).to.contain('data-code="CSRF_REFUSED"');
    const wrong = await post('/console/keys', cookieA, { name: 'wrong token', _csrf: 'x'.repeat(43) });
    expect(wrong.status).to.equal(403);
    // B's token with A's session
    const other = await post('/console/keys', cookieA, { name: 'other token', _csrf: await csrfOf(cookieB) });
    expect(other.status).to.equal(403);
    const hook = await post('/console/webhook', cookieA, { url: 'http://127.0.0.1:1/hook' });
    expect(hook.status).to.equal(403);
    expect((await svc.rt.senders.credentials(a.id)).length).to.equal(before);
    expect((await svc.rt.senderConsole.settings(a.id)).webhookUrl).to.equal(null);
  });

  it('creates an API key shown once that works on the API, and revokes it after a confirmation', async () => {
    const csrf = await csrfOf(cookieA);
    const refused = await post('/console/keys', cookieA, { name: 'bad/name', _csrf: csrf });
    expect(refused.status).to.equal(422);
    expect(await refused.text()).to.contain('aria-invalid="true"');
    const created = await post('/console/keys', cookieA, { name: 'console key', _csrf: csrf });
    expect(created.status).to.equal(201);
    const key = /id="new-key" type="text" readonly size="60" value="(rmk_[^"]+)"/.exec(await created.text())![1]!;
    const api = (k: string) => fetch(`${svc.url}/v1/messages`, { headers: { authorization: `Bearer ${k}` } });
    expect((await api(key)).status).to.equal(200);
    const list = await (await get('/console/keys', cookieA)).text();
    expect(list).to.not.contain(key);
    const cred = (await svc.rt.senders.credentials(a.id)).find((c) => c.name === 'console key')!;
    expect(list).to.contain(`href="/console/keys/${cred.id}/revoke"`);
    const confirm = await get(`/console/keys/${cred.id}/revoke`, cookieA);
    expect(confirm.status).to.equal(200);
    expect(await confirm.text()).to.contain(`action="/console/keys/${cred.id}/revoke"`);
    // B's clerk can neither see nor revoke it
    expect((await get(`/console/keys/${cred.id}/revoke`, cookieB)).status).to.equal(404);
    expect((await post(`/console/keys/${cred.id}/revoke`, cookieB, { _csrf: await csrfOf(cookieB) })).status).to.equal(404);
    expect((await api(key)).status).to.equal(200);
    const revoked = await post(`/console/keys/${cred.id}/revoke`, cookieA, { _csrf: csrf });
    expect(revoked.status).to.equal(303);
    expect(revoked.headers.get('location')).to.equal('/console/keys?done=revoked');
    expect((await api(key)).status).to.equal(401);
    expect((await svc.rt.senders.credentials(a.id)).find((c) => c.id === cred.id)!.revokedAt).to.be.a('string');
  });

  it('sets the webhook with the API\'s rules: refusals are form errors, the secret is shown once, B\'s is untouched', async () => {
    const csrf = await csrfOf(cookieA);
    const bad = await post('/console/webhook', cookieA, { url: 'ftp://example.org/', _csrf: csrf });
    expect(bad.status).to.equal(422);
    expect(await bad.text()).to.contain('id="webhook-error"');
    const forbidden = await post('/console/webhook', cookieA, { url: 'http://10.1.2.3/hook', _csrf: csrf });
    expect(forbidden.status).to.equal(422);
    expect(await forbidden.text()).to.contain('aria-invalid="true"');
    expect((await svc.rt.senderConsole.settings(a.id)).webhookUrl).to.equal(null);
    const ok = await post('/console/webhook', cookieA, { url: 'http://127.0.0.1:1/hook', _csrf: csrf });
    expect(ok.status).to.equal(200);
    const secret = /id="webhook-secret" type="text" readonly value="(whsec_[^"]+)"/.exec(await ok.text())![1]!;
    const sender = await svc.rt.store.senders.findById(a.id);
    expect(sender!.webhookUrl).to.equal('http://127.0.0.1:1/hook');
    expect(sender!.webhookSecret).to.equal(secret);
    const view = await (await get('/console/webhook', cookieA)).text();
    expect(view).to.contain('http://127.0.0.1:1/hook');
    expect(view).to.not.contain(secret);
    expect((await svc.rt.store.senders.findById(b.id))!.webhookUrl).to.equal(null);
    expect(await (await get('/console/webhook', cookieB)).text()).to.not.contain('127.0.0.1:1/hook');
    // removing asks first: a link to a page that names the address, with the form that removes it
    expect(view).to.contain('href="/console/webhook/remove"');
    const confirm = await get('/console/webhook/remove', cookieA);
    expect(confirm.status).to.equal(200);
    const confirmPage = await confirm.text();
    expect(confirmPage).to.contain('<code>http://127.0.0.1:1/hook</code>');
    expect(confirmPage).to.contain('action="/console/webhook/remove"');
    expect((await svc.rt.store.senders.findById(a.id))!.webhookUrl, 'not removed by the page that asks').to.equal('http://127.0.0.1:1/hook');
    expect((await post('/console/webhook/remove', cookieA, {})).status, 'without the CSRF token').to.equal(403);
    const removed = await post('/console/webhook/remove', cookieA, { _csrf: csrf });
    expect(removed.status).to.equal(200);
    expect((await svc.rt.store.senders.findById(a.id))!.webhookUrl).to.equal(null);
    // nothing left to remove: the page goes back to the webhook's
    const none = await get('/console/webhook/remove', cookieA);
    expect(none.status).to.equal(303);
  });
});
