/**
 * PDF receipts over HTTP, as the sender and the recipient get them: the language asked
 * (`?lang=`, Accept-Language, else the subject's first language), the sender's own messages
 * only and the recipient's own e-Box only, 503 with Retry-After while the TSA is down (and a
 * receipt once it is back), and receipts in the audit bundle with `export --receipts`, which
 * `verify --dir` still accepts. Runs on SQLite, and on PostgreSQL with TEST_DATABASE_URL.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { runCli } from '../helpers/cli.js';
import { onPostgres } from '../helpers/database.js';
import { startHttpTsa, type HttpTsa } from '../helpers/http-tsa.js';
import { nssTrusting, pdfdetach, pdfsig, pdfText } from '../helpers/pdf.js';
import { insz } from '../helpers/notify.js';
import { metadata, pdfBytes, startTestService, submit, VALID_INSZ, waitForMessage, type TestService } from '../helpers/service.js';

describe(`PDF receipts over HTTP (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, function () {
  this.timeout(240_000);
  let svc: TestService;
  let tsaServer: HttpTsa;
  let tsaDown = false;
  let work: string;
  let sender: { id: string; apiKey: string };
  let other: { id: string; apiKey: string };
  let recipientToken: string;
  let otherRecipientToken: string;
  let messageId: string;
  let entryId: string;
  let evidence: Array<{ id: string; type: string; href: string; receipt: string }>;
  const startedAt = new Date(Date.now() - 60_000).toISOString();

  const get = (url: string, token: string, headers: Record<string, string> = {}) => fetch(svc.url + url, { headers: { authorization: `Bearer ${token}`, ...headers } });

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-receipts-http-'));
    // an external TSA the test can take down: receipts are signed with a fresh time-stamp
    tsaServer = await startHttpTsa((res) => tsaDown && Boolean(res.writeHead(503, { 'retry-after': '1' }).end('down for maintenance')));
    svc = await startTestService({ TSA_URL: tsaServer.url, CHECKPOINT_INTERVAL_MS: '3600000' });
    sender = await svc.newSender('Receipt sender');
    other = await svc.newSender('Other sender');
    recipientToken = await svc.newRecipient('citizen', VALID_INSZ);
    otherRecipientToken = await svc.newRecipient('citizen', insz(702));

    const res = await submit(svc, sender.apiKey, metadata({ subject: { fr: 'Votre décision', nl: 'Uw beslissing' } }), [{ name: 'main', content: pdfBytes(3000, 3) }]);
    expect(res.status).to.equal(201);
    messageId = (await res.json()).id;
    const deposited = await waitForMessage(svc, sender.apiKey, messageId, (m) => m.status === 'DEPOSITED');
    entryId = deposited.eboxMessageId;
    evidence = (await (await get(`/v1/messages/${messageId}/evidence`, sender.apiKey)).json()).items;
    expect(evidence.map((e) => e.type)).to.include.members(['SubmissionAcceptance', 'ContentConsignment']);
  });
  after(async () => {
    await svc?.close();
    await tsaServer?.close();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  async function receiptOf(url: string, token: string, headers: Record<string, string> = {}): Promise<{ res: Response; pdf: Buffer; text: string }> {
    const res = await get(url, token, headers);
    const pdf = Buffer.from(await res.arrayBuffer());
    if (res.status !== 200) return { res, pdf, text: pdf.toString('utf8') };
    const file = path.join(work, `r-${Math.random().toString(36).slice(2)}.pdf`);
    fs.writeFileSync(file, pdf);
    return { res, pdf, text: (await pdfText(file)).replace(/\s+/g, ' ') };
  }

  it('serves the sender a receipt in the language asked: ?lang=, else Accept-Language, else the subject\'s first language (nl, fr, de, en)', async () => {
    const url = evidence[0]!.receipt;
    const asked = await receiptOf(`${url}?lang=de`, sender.apiKey, { 'accept-language': 'fr' });
    expect(asked.res.status).to.equal(200);
    expect(asked.res.headers.get('content-type')).to.equal('application/pdf');
    expect(asked.res.headers.get('content-language')).to.equal('de');
    expect(asked.res.headers.get('vary')).to.match(/Accept-Language/i);
    expect(asked.res.headers.get('content-disposition')).to.equal(`attachment; filename="SubmissionAcceptance-${evidence[0]!.id}.de.pdf"`);
    expect(asked.res.headers.get('cache-control')).to.contain('no-store');
    expect(asked.pdf.subarray(0, 5).toString()).to.equal('%PDF-');
    expect(asked.text).to.contain('Versandnachweis');

    const negotiated = await receiptOf(url, sender.apiKey, { 'accept-language': 'en-GB,en;q=0.9,nl;q=0.5' });
    expect(negotiated.res.headers.get('content-language')).to.equal('en');
    expect(negotiated.text).to.contain('Proof of dispatch');

    // none asked: the first language of nl, fr, de, en the subject is given in
    const byDefault = await receiptOf(url, sender.apiKey);
    expect(byDefault.res.headers.get('content-language')).to.equal('nl');
    expect(byDefault.text).to.contain('Bewijs van verzending');
    expect(byDefault.text).to.contain('Uw beslissing');
    // a language the service has not: the default, not an error
    expect((await receiptOf(url, sender.apiKey, { 'accept-language': 'ja' })).res.headers.get('content-language')).to.equal('nl');
  });

  it('refuses a language it has not, or one given twice, with QUERY_INVALID', async () => {
    for (const q of ['lang=it', 'lang=', 'lang=NL', 'lang=nl&lang=fr']) {
      const res = await get(`${evidence[0]!.receipt}?${q}`, sender.apiKey);
      expect(res.status, q).to.equal(400);
      expect(res.headers.get('content-type')).to.match(/^application\/problem\+json/);
      expect((await res.json()).code, q).to.equal('QUERY_INVALID');
    }
  });

  it("answers another sender's, an unknown or a malformed proof with 404, and no credential with 401", async () => {
    expect((await get(evidence[0]!.receipt, other.apiKey)).status).to.equal(404);
    expect((await get(`/v1/messages/${messageId}/evidence/00000000-0000-4000-8000-000000000000/receipt.pdf`, sender.apiKey)).status).to.equal(404);
    expect((await get(`/v1/messages/${messageId}/evidence/not-a-uuid/receipt.pdf`, sender.apiKey)).status).to.equal(404);
    expect((await fetch(svc.url + evidence[0]!.receipt)).status).to.equal(401);
  });

  it('gives the recipient the proofs of its own messages, as DER and as receipts, and nobody else\'s', async () => {
    const list = await get(`/v1/ebox/messages/${entryId}/evidence`, recipientToken);
    expect(list.status).to.equal(200);
    const items = (await list.json()).items as Array<{ id: string; type: string; href: string; receipt: string; sha256: string }>;
    expect(items.map((i) => i.id)).to.deep.equal(evidence.map((e) => e.id));
    for (const i of items) {
      expect(i.href).to.equal(`/v1/ebox/messages/${entryId}/evidence/${i.id}`);
      expect(i.receipt).to.equal(`${i.href}/receipt.pdf`);
    }
    const der = await get(items[1]!.href, recipientToken);
    expect(der.status).to.equal(200);
    expect(der.headers.get('content-type')).to.match(/^application\/pkcs7-mime/);
    const senderCopy = Buffer.from(await (await get(evidence[1]!.href, sender.apiKey)).arrayBuffer());
    expect(Buffer.compare(Buffer.from(await der.arrayBuffer()), senderCopy)).to.equal(0);

    const receipt = await receiptOf(`${items[1]!.receipt}?lang=fr`, recipientToken);
    expect(receipt.res.status).to.equal(200);
    expect(receipt.text).to.contain('Preuve de dépôt dans l’e-Box');
    const file = path.join(work, 'ebox-receipt.pdf');
    fs.writeFileSync(file, receipt.pdf);
    const nss = await nssTrusting(svc.rootPem);
    try {
      const report = await pdfsig(file, nss.dir);
      expect(report.signatureValidation, report.text).to.equal('Signature is Valid.');
    } finally {
      nss.close();
    }
    expect(Buffer.compare((await pdfdetach(file))[0]!.bytes, senderCopy)).to.equal(0);

    // another recipient, the sender's key, no credential
    for (const url of [`/v1/ebox/messages/${entryId}/evidence`, items[1]!.href, items[1]!.receipt]) {
      expect((await get(url, otherRecipientToken)).status, url).to.equal(404);
      expect((await get(url, sender.apiKey)).status, url).to.equal(401);
    }
    // the sender's message id is not an e-Box id
    expect((await get(`/v1/ebox/messages/${messageId}/evidence`, recipientToken)).status).to.equal(404);
  });

  it('answers 503 TSA_UNAVAILABLE with Retry-After while the TSA is down, and the receipt once it is back', async () => {
    tsaDown = true;
    try {
      const res = await get(evidence[0]!.receipt, sender.apiKey);
      expect(res.status).to.equal(503);
      expect(res.headers.get('retry-after')).to.match(/^\d+$/);
      expect((await res.json()).code).to.equal('TSA_UNAVAILABLE');
    } finally {
      tsaDown = false;
    }
    expect((await get(evidence[0]!.receipt, sender.apiKey)).status).to.equal(200);
  });

  it('writes receipts into the audit bundle with export --receipts, which verify --dir still accepts', async () => {
    const bundle = path.join(work, 'bundle');
    const to = new Date(Date.now() + 60_000).toISOString();
    const bad = await runCli('export', ['--sender', sender.id, '--from', startedAt, '--to', to, '--out', bundle, '--receipts', 'nl,xx'], { env: svc.env });
    expect(bad.code, bad.stderr).to.equal(3);
    expect(bad.stderr).to.contain('--receipts');
    expect(fs.existsSync(bundle)).to.equal(false);

    const r = await runCli('export', ['--sender', sender.id, '--from', startedAt, '--to', to, '--out', bundle, '--receipts', 'nl,en', '--no-checkpoint', '--json'], { env: svc.env });
    expect(r.code, r.stderr).to.equal(0);
    const result = JSON.parse(r.stdout);
    const manifest = JSON.parse(fs.readFileSync(path.join(bundle, 'manifest.json'), 'utf8'));
    expect(result.receipts).to.equal(manifest.proofs.length * 2);
    const nss = await nssTrusting(svc.rootPem);
    try {
      for (const p of manifest.proofs) {
        expect(Object.keys(p.receipts)).to.deep.equal(['nl', 'en']);
        for (const rel of Object.values<string>(p.receipts)) {
          expect(rel).to.match(new RegExp(`^receipts/${p.messageId}/${p.seq}-${p.type}\\.(nl|en)\\.pdf$`));
          const file = path.join(bundle, rel);
          const report = await pdfsig(file, nss.dir);
          expect(report.signatureValidation, `${rel}: ${report.text}`).to.equal('Signature is Valid.');
          expect(Buffer.compare((await pdfdetach(file))[0]!.bytes, fs.readFileSync(path.join(bundle, p.file))), rel).to.equal(0);
        }
      }
    } finally {
      nss.close();
    }
    expect(fs.readFileSync(path.join(bundle, 'README.txt'), 'utf8')).to.contain('pdfsig receipts/');
    const verified = await runCli('verify', ['--dir', bundle, '--trust', svc.rootPem]);
    expect(verified.code, verified.stdout + verified.stderr).to.equal(0);
  });
});
