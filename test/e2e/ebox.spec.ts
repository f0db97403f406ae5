/**
 * The citizen's e-Box in Chromium, by keyboard only: sign in through the development OpenID
 * provider as the test citizen, see the letter, open it, download its document — after which
 * the sender reads the ContentHandover proof through its API — switch language (nl, fr, de)
 * and sign out, of the service and of the provider. No page may break its
 * Content-Security-Policy or reach beyond the service and the provider. Screenshots under test-artifacts/screenshots (two of them are in docs/images).
 */
import fs from 'node:fs';
import { expect } from 'chai';
import type { BrowserContext, Page } from 'playwright-core';
import { lowContrast, recordRequests, screenshot, startBrowser, tabTo, type TestBrowser } from '../helpers/browser.js';
import { DEV_CITIZEN, startPagesWorld, type PagesWorld } from '../helpers/pages.js';
import { metadata, pdfBytes, submit, waitForMessage } from '../helpers/service.js';

describe('e2e: the citizen\'s e-Box in Chromium', function () {
  this.timeout(180_000);
  let w: PagesWorld;
  let browser: TestBrowser;
  let context: BrowserContext;
  let page: Page;
  let sender: { id: string; apiKey: string };
  let messageId: string;
  const letterPdf = pdfBytes(20_000, 7);
  const problems: string[] = [];

  before(async () => {
    w = await startPagesWorld();
    sender = await w.svc.newSender('City of Leuven');
    await w.svc.newRecipient('citizen', DEV_CITIZEN.insz!);
    const res = await submit(w.svc, sender.apiKey, metadata({ subject: { nl: 'Uw parkeervergunning', fr: 'Votre permis de stationnement', de: 'Ihre Parkgenehmigung', en: 'Your parking permit' } }), [
      { name: 'main', content: letterPdf, fileName: 'parking-permit.pdf' },
    ]);
    messageId = (await res.json()).id;
    await waitForMessage(w.svc, sender.apiKey, messageId, (m) => m.status === 'DEPOSITED');
    browser = await startBrowser();
    context = await browser.context({ locale: 'en-GB' });
    page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`${m.text()} (${m.location().url})`);
    });
    page.on('pageerror', (e) => problems.push(e.message));
  });
  after(async () => {
    await browser?.close();
    await w?.close();
  });

  const press = async (selector: string) => {
    await tabTo(page, selector);
    await page.keyboard.press('Enter');
  };

  it('signs in through the provider, sees and opens the letter, downloads the document: the sender gets the handover proof', async () => {
    const requests = recordRequests(page);
    await page.goto(`${w.svc.url}/ebox`);
    expect(new URL(page.url()).pathname).to.equal('/signin');
    // the skip link comes first
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.className)).to.equal('skip');
    await screenshot(page, 'pages-signin');
    await press('form[action="/signin"] button[type="submit"]');
    await page.waitForURL(/\/interaction\//);
    await press(`button[value="${DEV_CITIZEN.sub}"]`);
    await page.waitForURL((u) => u.pathname === '/ebox');
    expect(await page.locator('h1').count()).to.equal(1);
    expect(await page.locator('h1').textContent()).to.equal('My e-Box');
    expect(await page.locator('tbody tr').count()).to.equal(1);
    expect(await page.locator('tbody tr th[scope="row"]').textContent()).to.equal('Your parking permit');
    expect(await page.locator('.state').textContent()).to.equal('New');
    await screenshot(page, 'ebox-list');

    await press('tbody a[href^="/ebox/"]');
    await page.waitForURL(/\/ebox\/[0-9a-f-]{36}$/);
    expect(await page.locator('h1').textContent()).to.equal('Your parking permit');
    await screenshot(page, 'ebox-letter');
    const download = page.waitForEvent('download');
    await press('a[href$="/documents/0"]');
    const file = await (await download).path();
    expect(Buffer.from(fs.readFileSync(file)).equals(Buffer.from(letterPdf))).to.equal(true);

    const consulted = await waitForMessage(w.svc, sender.apiKey, messageId, (m) => m.evidence.some((e: { type: string }) => e.type === 'ContentHandover'));
    expect(consulted.status).to.equal('CONSULTED');
    await page.reload();
    expect(await page.locator('.state').textContent()).to.equal('Opened');
    expect(await page.locator('tbody th[scope="row"]', { hasText: 'Received by you' }).count()).to.equal(1);
    requests.stop();
    const origins = new Set(requests.requests.map((r) => new URL(r.url).origin));
    expect([...origins].sort()).to.deep.equal([w.svc.url, new URL(w.idp.issuer).origin].sort());
  });

  it('text contrast is at least 4.5:1 on the e-Box and on a letter', async () => {
    await page.goto(`${w.svc.url}/ebox`);
    expect(await lowContrast(page), '/ebox').to.deep.equal([]);
    await page.goto(`${w.svc.url}${await page.getAttribute('tbody a[href^="/ebox/"]', 'href')}`);
    expect(await lowContrast(page), 'a letter').to.deep.equal([]);
  });

  it('switches language by keyboard (nl, fr, de), the choice kept from page to page', async () => {
    for (const [lang, heading, documents] of [
      ['nl', 'Uw parkeervergunning', 'Documenten'],
      ['fr', 'Votre permis de stationnement', 'Documents'],
      ['de', 'Ihre Parkgenehmigung', 'Dokumente'],
    ] as const) {
      await press(`a[hreflang="${lang}"]`);
      await page.waitForURL((u) => u.searchParams.get('lang') === lang);
      expect(await page.getAttribute('html', 'lang')).to.equal(lang);
      expect(await page.locator('h1').textContent()).to.equal(heading);
      expect(await page.locator('h2').first().textContent()).to.equal(documents);
      await screenshot(page, `ebox-letter-${lang}`);
    }
    await page.goto(`${w.svc.url}/ebox`);
    expect(await page.getAttribute('html', 'lang')).to.equal('de');
    expect(await page.locator('h1').textContent()).to.equal('Meine e-Box');
    await screenshot(page, 'ebox-list-de');
  });

  it('signs out by keyboard, of the service and of the provider; the next sign-in asks who it is', async () => {
    await press('form[action="/signout"] button');
    // the provider asks to end its own session too; its "yes" has the focus
    await page.waitForURL((u) => u.origin === new URL(w.idp.issuer).origin);
    await screenshot(page, 'pages-signout-provider');
    if (!(await page.evaluate(() => document.activeElement?.getAttribute('value') === 'yes'))) await tabTo(page, 'button[value="yes"]');
    await page.keyboard.press('Enter');
    await page.waitForURL((u) => u.origin === w.svc.url && u.pathname === '/');
    await page.goto(`${w.svc.url}/ebox`);
    expect(new URL(page.url()).pathname).to.equal('/signin');
    await press('form[action="/signin"] button[type="submit"]');
    await page.waitForURL(/\/interaction\//);
  });

  it('no page broke its Content-Security-Policy or failed a script', () => {
    expect(problems).to.deep.equal([]);
  });
});
