/**
 * /verify in Chromium against the real service: a letter is submitted through the API, its
 * proof downloaded, and the page checks it in the browser — genuine, tampered, with the wrong
 * document — in several languages, by keyboard, and saved to a file opened by file://. After
 * the page has loaded it makes no request at all.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { BrowserContext, Page } from 'playwright-core';
import { parseSignedData } from '../../src/crypto/SignedData.js';
import { ensurePages, ROOT } from '../helpers/build.js';
import { lowContrast, recordRequests, screenshot, startBrowser, tabTo, type TestBrowser } from '../helpers/browser.js';
import { firstProof, metadata, pdfBytes, startTestService, submit, VALID_INSZ, waitForMessage, type TestService } from '../helpers/service.js';

/** The offset of `needle` in `haystack` (the first), or -1. */
function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** The proof with one bit of its SignerInfo's signature value flipped (its last octet: still DER). */
function flipSignature(proof: Uint8Array): Uint8Array {
  const signature = parseSignedData(proof).signerInfos[0]!.signature;
  const at = indexOf(proof, signature);
  expect(at, 'the signature value in the proof').to.be.greaterThan(0);
  const out = new Uint8Array(proof);
  out[at + signature.length - 1]! ^= 0x01;
  return out;
}


describe('e2e: verification in the browser (/verify)', function () {
  this.timeout(120_000);
  let svc: TestService;
  let browser: TestBrowser;
  let work: string;
  const files = { proof: '', tampered: '', document: '', wrong: '' };

  before(async () => {
    await ensurePages();
    svc = await startTestService();
    browser = await startBrowser();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-verify-'));
    const sender = await svc.newSender('Verification institution');
    await svc.newRecipient('citizen', VALID_INSZ);
    const letter = pdfBytes(6_000, 11);
    const res = await submit(svc, sender.apiKey, metadata(), [{ name: 'main', content: letter, fileName: 'letter.pdf' }]);
    expect(res.status).to.equal(201);
    const { id } = await res.json();
    await waitForMessage(svc, sender.apiKey, id, (m) => m.status === 'DEPOSITED');
    const proof = await firstProof(svc, sender.apiKey, id);
    files.proof = path.join(work, 'proof.p7s');
    files.tampered = path.join(work, 'tampered.p7s');
    files.document = path.join(work, 'letter.pdf');
    files.wrong = path.join(work, 'other.pdf');
    fs.writeFileSync(files.proof, proof);
    fs.writeFileSync(files.tampered, flipSignature(proof));
    fs.writeFileSync(files.document, letter);
    fs.writeFileSync(files.wrong, pdfBytes(6_000, 12));
  });
  after(async () => {
    await browser?.close();
    await svc?.close();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  async function open(locale = 'en-GB', url = `${svc.url}/verify`): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.context({ locale });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    const answer = await page.goto(url);
    if (url.startsWith('http')) expect(answer?.status()).to.equal(200);
    await page.waitForSelector('#published table, #published p');
    expect(errors, 'no script error and no CSP violation').to.deep.equal([]);
    return { context, page };
  }

  async function verdict(page: Page): Promise<{ indication: string; sub?: string; failed: Array<{ check: string; outcome: string }> }> {
    // the result of the last choice: the live region no longer busy
    await page.waitForSelector('#result[aria-busy="false"] #indication');
    return page.evaluate(() => ({
      indication: document.getElementById('indication')!.dataset.indication!,
      sub: document.getElementById('sub-indication')?.textContent ?? undefined,
      failed: Array.from(document.querySelectorAll<HTMLElement>('#checks tr[data-passed="false"]')).map((tr) => ({ check: tr.dataset.check!, outcome: tr.querySelector('td')!.textContent! })),
    }));
  }

  /** Chooses files; each change starts a verification (the page is busy until the last one ends: verdict waits). */
  async function choose(page: Page, proof: string, documents: string[] = []): Promise<void> {
    await page.setInputFiles('#documents', documents);
    await page.setInputFiles('#proof', proof);
  }

  it('serves one self-contained page: its CSP in the header and in a meta element, by hashes, no connection', async () => {
    const res = await fetch(`${svc.url}/verify`);
    expect(res.status).to.equal(200);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).to.include("connect-src 'none'").and.include("form-action 'none'").and.include("default-src 'none'");
    expect(csp).to.match(/script-src 'sha256-[A-Za-z0-9+/=]+'/).and.match(/style-src 'sha256-[A-Za-z0-9+/=]+'/);
    expect(csp).not.to.include('unsafe');
    const html = await res.text();
    expect(csp).to.match(/; frame-ancestors 'none'$/);
    // the same policy in the page, for the saved copy (frame-ancestors is for the header only)
    expect(html).to.include(`<meta http-equiv="Content-Security-Policy" content="${csp.replace(/; frame-ancestors 'none'$/, '').replace(/"/g, '&quot;')}">`);
    expect(html).not.to.match(/<script[^>]+src=|<link[^>]+href=/);
    // the published anchors: the development PKI's root the proofs chain to
    const anchors = JSON.parse(/<script type="application\/json" id="published-anchors">([^<]*)<\/script>/.exec(html)![1]!);
    expect(anchors).to.deep.equal([fs.readFileSync(svc.rootPem, 'utf8').replace(/\r/g, '')].map((p: string) => p.trim() + '\n'));
    // the language: ?lang=, else Accept-Language, else the browser's own (no choice made here)
    expect(html).to.include('<html lang="en">');
    expect(await (await fetch(`${svc.url}/verify?lang=de`)).text()).to.include('<html lang="de" data-lang="de">');
    expect(await (await fetch(`${svc.url}/verify`, { headers: { 'accept-language': 'en-US;q=0.5, fr-BE, *;q=0.1' } })).text()).to.include('<html lang="fr" data-lang="fr">');
    expect(await (await fetch(`${svc.url}/verify?lang=xx`, { headers: { 'accept-language': 'es' } })).text()).to.include('<html lang="en">');
  });

  it('genuine proof and its document: TOTAL_PASSED, and no request at all after the load', async () => {
    const { context, page } = await open();
    const recorder = recordRequests(page);
    await choose(page, files.proof, [files.document]);
    const v = await verdict(page);
    expect(v.indication).to.equal('TOTAL_PASSED');
    expect(v.failed).to.deep.equal([]);
    expect(await page.locator('#checks tr[data-check="DOCUMENT_DIGEST"][data-passed="true"]').count()).to.equal(1);
    expect(await page.textContent('#anchors-used')).to.equal('The published trust anchors of this page.');
    await screenshot(page, 'verify-passed-en');
    recorder.stop();
    expect(recorder.requests).to.deep.equal([]);
    await context.close();
  });

  it('a flipped byte in the signature value: TOTAL_FAILED, the SIGNATURE line named (SIG_CRYPTO_FAILURE)', async () => {
    const { context, page } = await open();
    const recorder = recordRequests(page);
    await choose(page, files.tampered, [files.document]);
    const v = await verdict(page);
    expect(v.indication).to.equal('TOTAL_FAILED');
    expect(v.sub).to.equal('SIG_CRYPTO_FAILURE');
    expect(v.failed.map((f) => f.check)).to.include('SIGNATURE');
    expect(v.failed.find((f) => f.check === 'SIGNATURE')!.outcome).to.equal('failed: SIG_CRYPTO_FAILURE');
    await screenshot(page, 'verify-tampered-en');
    expect(recorder.requests).to.deep.equal([]);
    await context.close();
  });

  it('the wrong document: TOTAL_FAILED / HASH_FAILURE on DOCUMENT_DIGEST', async () => {
    const { context, page } = await open();
    await choose(page, files.proof, [files.wrong]);
    const v = await verdict(page);
    expect(v).to.deep.include({ indication: 'TOTAL_FAILED', sub: 'HASH_FAILURE' });
    expect(v.failed).to.deep.equal([{ check: 'DOCUMENT_DIGEST', outcome: 'failed: HASH_FAILURE' }]);
    await context.close();
  });

  it('the browser language decides, and the switch changes the report\'s words without a request', async () => {
    const { context, page } = await open('nl-BE');
    expect(await page.getAttribute('html', 'lang')).to.equal('nl');
    expect(await page.textContent('h1')).to.equal('Een bewijs controleren');
    const recorder = recordRequests(page);
    await choose(page, files.proof, [files.document]);
    await verdict(page);
    expect(await page.textContent('#indication')).to.equal('Geldig (TOTAL_PASSED)');
    expect(await page.textContent('#checks tr[data-check="SIGNATURE"] th')).to.equal('Handtekeningwaarde (SIGNATURE)');
    await page.click('button[data-lang="fr"]');
    expect(await page.getAttribute('html', 'lang')).to.equal('fr');
    expect(await page.textContent('#indication')).to.equal('Valide (TOTAL_PASSED)');
    expect(await page.textContent('#checks tr[data-check="SIGNATURE"] th')).to.equal('Valeur de la signature (SIGNATURE)');
    await page.click('button[data-lang="de"]');
    expect(await page.textContent('#indication')).to.equal('Gültig (TOTAL_PASSED)');
    expect(await page.textContent('h1')).to.equal('Einen Nachweis prüfen');
    await screenshot(page, 'verify-passed-de');
    expect(recorder.requests).to.deep.equal([]);
    await context.close();
  });

  it('keyboard only: the skip link, then Tab to the labelled file inputs; the result in a live region', async () => {
    const { context, page } = await open();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.className)).to.equal('skip');
    await tabTo(page, '#proof');
    expect(await page.evaluate(() => (document.getElementById('proof') as HTMLInputElement).labels?.[0]?.textContent)).to.equal('Proof (.p7s, as the service serves it)');
    await page.locator(':focus').setInputFiles(files.proof);
    expect((await verdict(page)).indication).to.equal('TOTAL_PASSED');
    await tabTo(page, '#documents');
    await page.locator(':focus').setInputFiles([files.wrong]);
    expect((await verdict(page)).sub).to.equal('HASH_FAILURE');
    expect(await page.getAttribute('#result', 'aria-live')).to.equal('polite');
    expect(await page.getAttribute('#result', 'role')).to.equal('status');
    expect(await page.locator('h1').count()).to.equal(1);
    await context.close();
  });

  it('text contrast is at least 4.5:1 on every element with text of the report and the page', async () => {
    const { context, page } = await open();
    await choose(page, files.tampered, [files.wrong]);
    await verdict(page);
    expect(await lowContrast(page)).to.deep.equal([]);
    await context.close();
  });

  it('a file too large to be a proof is not read: FORMAT_FAILURE on DER_ENCODING, as the CLI says', async () => {
    const big = path.join(work, 'video.p7s');
    fs.writeFileSync(big, '');
    fs.truncateSync(big, 16 * 1024 * 1024 + 1);
    const { context, page } = await open();
    await choose(page, big);
    const v = await verdict(page);
    expect(v).to.deep.include({ indication: 'TOTAL_FAILED', sub: 'FORMAT_FAILURE' });
    expect(v.failed).to.deep.equal([{ check: 'DER_ENCODING', outcome: 'failed: FORMAT_FAILURE' }]);
    expect(await page.textContent('#checks tr[data-check="DER_ENCODING"] td.detail')).to.equal('the file is 16.0 MiB; a proof is at most 16.0 MiB, so this is not one');
    await context.close();
  });

  it('a drop on the drop zone sorts the files: the proof, the documents, the anchors', async () => {
    const { context, page } = await open();
    const recorder = recordRequests(page);
    const dropped = [
      { name: 'proof.p7s', b64: fs.readFileSync(files.proof).toString('base64') },
      { name: 'letter.pdf', b64: fs.readFileSync(files.document).toString('base64') },
      { name: 'root.pem', b64: fs.readFileSync(svc.rootPem).toString('base64') },
    ];
    await page.evaluate((list) => {
      const dt = new DataTransfer();
      for (const f of list) dt.items.add(new File([Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))], f.name));
      document.getElementById('drop')!.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, dropped);
    const v = await verdict(page);
    expect(v.indication).to.equal('TOTAL_PASSED');
    expect(await page.evaluate(() => ['proof', 'documents', 'anchors'].map((id) => Array.from((document.getElementById(id) as HTMLInputElement).files!).map((f) => f.name)))).to.deep.equal([['proof.p7s'], ['letter.pdf'], ['root.pem']]);
    expect(await page.textContent('#anchors-used')).to.equal('Your own trust anchors.');
    expect(await page.locator('#checks tr[data-check="DOCUMENT_DIGEST"][data-passed="true"]').count()).to.equal(1);
    expect(recorder.requests).to.deep.equal([]);
    await context.close();
  });

  it('the user\'s own trust anchors: another root makes the chain fail, and the report says which anchors were used', async () => {
    const { context, page } = await open();
    await page.setInputFiles('#anchors', path.join(ROOT, 'test/fixtures/verify/other-root.pem'));
    await choose(page, files.proof, [files.document]);
    const v = await verdict(page);
    expect(v.indication).to.equal('INDETERMINATE');
    expect(v.failed.map((f) => f.check)).to.include('CERTIFICATE_CHAIN');
    expect(await page.textContent('#anchors-used')).to.equal('Your own trust anchors.');
    await context.close();
  });

  it('in Chromium\'s WebCrypto, every key algorithm the service seals with: the fixtures of P-256, P-384, RSA-2048, RSA-3072 against their roots', async () => {
    const fixtures = path.join(ROOT, 'test/fixtures/verify');
    const { context, page } = await open();
    for (const [proof, root] of [
      ['service-passed.p7s', 'root.pem'],
      ['service-passed-p384.p7s', 'root-p384.pem'],
      ['service-passed-rsa2048.p7s', 'root-rsa2048.pem'],
      ['service-passed-rsa3072.p7s', 'root-rsa3072.pem'],
    ] as const) {
      await page.setInputFiles('#anchors', path.join(fixtures, root));
      await choose(page, path.join(fixtures, proof), [path.join(fixtures, 'letter.pdf')]);
      const v = await verdict(page);
      expect(v, proof).to.deep.equal({ indication: 'TOTAL_PASSED', sub: undefined, failed: [] });
      await choose(page, path.join(fixtures, proof), [path.join(fixtures, 'letter-altered.pdf')]);
      expect((await verdict(page)).sub, proof).to.equal('HASH_FAILURE');
    }
    await context.close();
  });

  it('saved to a file and opened by file://: the same verdicts, with the anchors it was served with', async () => {
    const html = await (await fetch(`${svc.url}/verify`)).text();
    const saved = path.join(work, 'verify-saved.html');
    fs.writeFileSync(saved, html);
    const { context, page } = await open('en-GB', `file://${saved}`);
    const recorder = recordRequests(page);
    expect(await page.locator('#published td.mono').count()).to.equal(1);
    await choose(page, files.proof, [files.document]);
    expect((await verdict(page)).indication).to.equal('TOTAL_PASSED');
    await choose(page, files.tampered);
    expect((await verdict(page)).sub).to.equal('SIG_CRYPTO_FAILURE');
    await choose(page, files.proof, [files.wrong]);
    expect((await verdict(page)).sub).to.equal('HASH_FAILURE');
    await screenshot(page, 'verify-offline-file');
    expect(recorder.requests).to.deep.equal([]);
    await context.close();
  });
});
