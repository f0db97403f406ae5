/**
 * The sender's console in Debian's Chromium, by keyboard only (Tab and Enter, typing in
 * fields): sign in as the development provider's test clerk, filter the messages, open a
 * message's timeline, download a proof (its bytes are the proof's, and OpenSSL reads it as
 * CMS), download the bundle of the selection (tar, manifest SHA-256s), create an API key
 * (it works on the API) and revoke it (then it is refused), switch the language. Screenshots
 * under test-artifacts/screenshots (console-*.png). Fails without Chromium or OpenSSL.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { BrowserContext, Page } from 'playwright-core';
import { lowContrast, recordRequests, screenshot, startBrowser, tabTo, type TestBrowser } from '../helpers/browser.js';
import { DEV_CLERK, startPagesWorld, type PagesWorld } from '../helpers/pages.js';
import { metadata, pdfBytes, submit, waitForMessage, VALID_INSZ, type TestService } from '../helpers/service.js';

describe('The sender\'s console in Chromium (keyboard only)', function () {
  this.timeout(180_000);
  let world: PagesWorld;
  let svc: TestService;
  let browser: TestBrowser;
  let context: BrowserContext;
  let page: Page;
  let recorded: ReturnType<typeof recordRequests>;
  let work: string;
  let sender: { id: string; apiKey: string };
  const ids: string[] = [];

  const press = async (selector: string, max = 80) => {
    await tabTo(page, selector, max);
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.keyboard.press('Enter')]);
  };
  const download = async (selector: string, max = 80) => {
    await tabTo(page, selector, max);
    const [d] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
    const file = path.join(work, d.suggestedFilename());
    await d.saveAs(file);
    return file;
  };
  const api = (key: string) => fetch(`${svc.url}/v1/messages`, { headers: { authorization: `Bearer ${key}` } });

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-console-e2e-'));
    world = await startPagesWorld();
    svc = world.svc;
    sender = await svc.newSender('Development sender');
    await svc.rt.pageSessions.mapClerk(sender.id, { issuer: world.idp.issuer, subject: DEV_CLERK.sub, name: DEV_CLERK.name });
    await svc.newRecipient('citizen', VALID_INSZ);
    for (const reference of ['FILE-1', 'FILE-2', 'FILE-1']) {
      const res = await submit(svc, sender.apiKey, metadata({ senderReference: reference, subject: { en: `Decision ${reference}`, nl: `Beslissing ${reference}` } }), [{ name: 'main', content: pdfBytes(2000, ids.length + 3) }]);
      expect(res.status).to.equal(201);
      const id = (await res.json()).id as string;
      await waitForMessage(svc, sender.apiKey, id, (m) => m.status === 'DEPOSITED');
      ids.push(id);
    }
    browser = await startBrowser();
    context = await browser.context({ locale: 'en-GB' });
    page = await context.newPage();
    recorded = recordRequests(page);
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await world?.close();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('signs in as the test clerk through the development provider and lands on the console', async () => {
    await page.goto(`${svc.url}/console`);
    expect(new URL(page.url()).pathname).to.equal('/signin');
    await press('main form button[type="submit"]', 20);
    expect(page.url().startsWith(world.idp.issuer)).to.equal(true);
    await press(`button[value="${DEV_CLERK.sub}"]`, 20);
    expect(new URL(page.url()).pathname).to.equal('/console');
    expect(await page.textContent('h1')).to.equal('Sender console');
    expect(await page.locator('tr[data-message-id]').count()).to.equal(3);
  });

  it('filters by reference with the form and opens a message\'s timeline', async () => {
    await tabTo(page, '#f-reference');
    await page.keyboard.type('FILE-1');
    await press('form.filters button[type="submit"]', 20);
    expect(new URL(page.url()).searchParams.get('reference')).to.equal('FILE-1');
    const rows = await page.locator('tr[data-message-id]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-message-id')));
    expect(rows).to.deep.equal([ids[2], ids[0]]);
    expect(await page.inputValue('#f-reference')).to.equal('FILE-1');
    await screenshot(page, 'console-list');
    await press(`a[href="/console/messages/${ids[0]}"]`);
    expect(new URL(page.url()).pathname).to.equal(`/console/messages/${ids[0]}`);
    expect(await page.locator('tr[data-evidence-id] th').allTextContents()).to.deep.equal(['SubmissionAcceptance', 'ContentConsignment']);
    await screenshot(page, 'console-message');
  });

  it('downloads a proof whose bytes are the proof\'s, which OpenSSL reads as CMS', async () => {
    const evidenceId = await page.locator('tr[data-evidence-id]').first().getAttribute('data-evidence-id');
    const file = await download(`a[href="/console/messages/${ids[0]}/proofs/${evidenceId}"]`);
    const bytes = fs.readFileSync(file);
    const fromApi = Buffer.from(await (await fetch(`${svc.url}/v1/messages/${ids[0]}/evidence/${evidenceId}`, { headers: { authorization: `Bearer ${sender.apiKey}`, accept: 'application/pkcs7-mime' } })).arrayBuffer());
    expect(Buffer.compare(bytes, fromApi)).to.equal(0);
    const printed = execFileSync('openssl', ['cms', '-cmsout', '-inform', 'DER', '-in', file, '-print'], { encoding: 'utf8' });
    expect(printed).to.contain('signedData');
  });

  it('downloads the bundle of the filtered selection: a tar whose manifest names each proof\'s SHA-256', async () => {
    await press('a[href="/console"]', 20);
    await tabTo(page, '#f-reference');
    await page.keyboard.type('FILE-1');
    await press('form.filters button[type="submit"]', 20);
    const file = await download('a[href^="/console/bundle"]');
    const dir = path.join(work, 'bundle');
    fs.mkdirSync(dir);
    execFileSync('tar', ['-xf', file, '-C', dir]);
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.messages.map((m: { id: string }) => m.id)).to.deep.equal([ids[2], ids[0]]);
    expect(manifest.files).to.have.length(4);
    for (const f of manifest.files) expect(createHash('sha256').update(fs.readFileSync(path.join(dir, f.path))).digest('hex')).to.equal(f.sha256);
  });

  it('creates an API key that works on the API, and revokes it after a confirmation', async () => {
    await press('a[href="/console/keys"]', 20);
    await tabTo(page, '#key-name');
    await page.keyboard.type('e2e key');
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.keyboard.press('Enter')]);
    const key = await page.inputValue('#new-key');
    expect(key).to.match(/^rmk_/);
    await screenshot(page, 'console-key-created');
    expect((await api(key)).status).to.equal(200);
    await press('main a[href="/console/keys"]', 20);
    expect(await page.content()).to.not.contain(key);
    const id = await page.locator('tr[data-credential-id]', { hasText: 'e2e key' }).getAttribute('data-credential-id');
    await press(`a[href="/console/keys/${id}/revoke"]`);
    await press('main form button[type="submit"]', 20);
    expect(new URL(page.url()).search).to.equal('?done=revoked');
    expect(await page.locator(`tr[data-credential-id="${id}"] td`).nth(4).textContent()).to.equal('Revoked');
    expect((await api(key)).status).to.equal(401);
  });

  it('switches the language with the header\'s links (nl, fr, de) and keeps it', async () => {
    for (const [lang, title] of [['nl', 'API-sleutels'], ['fr', 'Clés API'], ['de', 'API-Schlüssel']] as const) {
      await press(`a[hreflang="${lang}"]`, 20);
      expect(await page.getAttribute('html', 'lang')).to.equal(lang);
      expect(await page.textContent('h1')).to.equal(title);
    }
    await screenshot(page, 'console-keys-de');
    await press('a[href="/console"]', 20);
    expect(await page.getAttribute('html', 'lang')).to.equal('de');
    expect(await page.textContent('h1')).to.equal('Absenderkonsole');
  });

  it('text contrast is at least 4.5:1 on every console page', async () => {
    for (const p of ['/console', `/console/messages/${ids[0]}`, '/console/webhook', '/console/keys']) {
      await page.goto(`${svc.url}${p}`);
      expect(await page.locator('h1').count(), p).to.equal(1);
      expect(await lowContrast(page), p).to.deep.equal([]);
    }
  });

  it('made no request but to the service and the identity provider', () => {
    recorded.stop();
    const origins = new Set(recorded.requests.map((r) => new URL(r.url).origin));
    expect(recorded.requests.length).to.be.greaterThan(10);
    expect([...origins].sort()).to.deep.equal([new URL(svc.url).origin, new URL(world.idp.issuer).origin].sort());
  });
});
