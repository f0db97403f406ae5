/**
 * Receipts made in process from real proofs (the development PKI, the built-in TSA), read back
 * with poppler (pdftotext, pdftoppm): every evidence type in the four languages says the
 * event in words, masks the national number, and lays out where it should; the same proof
 * and language give the same bytes but for the signature. The signature itself and the
 * attached proof are checked by pdfsig, qpdf and OpenSSL in test/interop/service-proofs.spec.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { derToPem, LocalTimeStamper, TimeStampAuthority } from '../../src/crypto/index.js';
import { ADDRESS_DIGEST_METHOD, EVIDENCE_TYPES, LANGUAGES, buildStatement, type EvidenceType, type Language, type StatementInput } from '../../src/domain/EvidenceStatement.js';
import { maskedInsz } from '../../src/domain/identifiers.js';
import type { EvidenceRecord } from '../../src/domain/records.js';
import { ReceiptService } from '../../src/registered-mail/receipts.js';
import { RECEIPT_TEXTS } from '../../src/registered-mail/receipts/texts.js';
import { Sealer } from '../../src/registered-mail/sealing.js';
import { nssTrusting, pdfsig, pdfSignature, pdfText, pdfWords, renderPage, type PdfWord } from '../helpers/pdf.js';
import { devPki } from './crypto/helpers.js';

const INSZ = '85073003328';
const POLICY = '1.3.6.1.4.1.99999.1.1';
const A4 = { width: 595.28, height: 841.89 };
const LEFT = 56;

let n = 0;
function statementInput(type: EvidenceType, overrides: Partial<StatementInput> = {}): StatementInput {
  n++;
  const failure = type.endsWith('Failure') || type === 'SubmissionRejection';
  return {
    evidenceId: `3f0c2a7e-1b5d-4c8e-9a61-${String(n).padStart(12, '0')}`,
    type,
    eventTime: new Date('2026-07-02T08:32:20.123Z'),
    policyOid: POLICY,
    issuerName: 'Registered Mail Trust Service (test)',
    sender: { id: 'rsz-onss', name: 'Rijksdienst voor Sociale Zekerheid', reference: 'DOS-2026/004711' },
    recipient: { type: 'citizen', id: INSZ },
    submissionTime: new Date('2026-07-01T15:04:05.678Z'),
    messageId: '6a1e9d3c-5b0f-4e2a-8c7d-9f1b2e3a4c5d',
    subject: { nl: 'Beslissing over uw aanvraag', fr: 'Décision concernant votre demande', de: 'Entscheidung über Ihren Antrag', en: 'Decision on your application' },
    documents: [{ partName: 'main', fileName: 'beslissing.pdf', mediaType: 'application/pdf', size: 102400, isMain: true, sha256: 'ab'.repeat(32) }],
    previousEvidenceSha256: type === 'SubmissionAcceptance' || type === 'SubmissionRejection' ? null : 'cd'.repeat(32),
    ...(failure ? { reasons: [{ Code: 'urn:registered-mail:reason:NOT_CONSULTED_BEFORE_EXPIRY', Details: 'not opened before 2026-07-16T08:32:20.123Z' }] } : {}),
    ...overrides,
  };
}

describe('PDF receipts (in process, read back with poppler)', function () {
  this.timeout(120_000);
  let sealer: Sealer;
  let receipts: ReceiptService;
  let dir: string;
  let rootPem: string;

  async function record(input: StatementInput): Promise<EvidenceRecord> {
    const statement = buildStatement(input);
    const sealed = await sealer.seal(statement, new Date());
    return { id: input.evidenceId, messageId: input.messageId, seq: 1, type: input.type, statement: sealed.statementText, der: sealed.der, sha256: sealed.sha256, createdAt: new Date().toISOString() };
  }

  async function written(e: EvidenceRecord, language: Language, signingTime?: Date): Promise<{ file: string; pdf: Buffer }> {
    const r = await receipts.receipt(e, language, signingTime);
    const file = path.join(dir, `${e.id}-${language}-${signingTime?.getTime() ?? 0}.pdf`);
    fs.writeFileSync(file, r.pdf);
    return { file, pdf: r.pdf };
  }

  before(async () => {
    const pki = await devPki('ECDSA-P256');
    sealer = new Sealer(pki.seal, new LocalTimeStamper(new TimeStampAuthority(pki.tsa, { policyOid: POLICY, accuracyMs: 1 })));
    receipts = new ReceiptService(sealer);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-receipts-'));
    rootPem = path.join(dir, 'root.pem');
    fs.writeFileSync(rootPem, derToPem(pki.root.certificate, 'CERTIFICATE'));
  });
  after(async () => {
    await sealer?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('masks a national number but for its last four digits, as it is printed', () => {
    expect(maskedInsz('85073003328')).to.equal('••.••.••-•33.28');
    expect(maskedInsz('85.07.30-033.28')).to.equal('••.••.••-•33.28');
  });

  it('gives every evidence type a receipt in nl, fr, de and en: the event in words, what it certifies, the masked number, the subject in that language', async () => {
    for (const type of EVIDENCE_TYPES) {
      const e = await record(statementInput(type));
      for (const language of LANGUAGES) {
        const { file } = await written(e, language);
        const text = (await pdfText(file)).replace(/\s+/g, ' ');
        const t = RECEIPT_TEXTS[language];
        const where = `${type} in ${language}`;
        expect(text, where).to.contain(t.events[type].title);
        expect(text, where).to.contain(t.events[type].meaning.slice(0, 40));
        expect(text, where).to.contain('••.••.••-•33.28');
        expect(text, `${where}: the national number in clear`).to.not.contain('85073003328').and.not.contain('85.07.30');
        expect(text, where).to.contain(JSON.parse(e.statement).MessageSubject[language]);
        expect(text, where).to.contain('ab'.repeat(32)); // the document's SHA-256
        expect(text, where).to.contain(e.sha256); // the proof's
        expect(text, where).to.contain(e.id);
        expect(text, where).to.contain('2026-07-02 08:32:20.123 UTC');
        expect(text, where).to.contain('10:32:20'); // Brussels, summer time
        if (type.endsWith('Failure') || type === 'SubmissionRejection') expect(text, where).to.contain('NOT_CONSULTED_BEFORE_EXPIRY');
        const pages = Math.max(...(await pdfWords(file)).map((w) => w.page));
        expect(pages, `${where}: one or two pages`).to.be.within(1, 2);
      }
    }
  });

  it('gives the same bytes for the same proof and language, but for the signature (/M and /Contents)', async () => {
    const e = await record(statementInput('ContentHandover'));
    const a = await written(e, 'fr', new Date('2026-08-01T10:00:00Z'));
    const b = await written(e, 'fr', new Date('2026-08-01T10:00:07Z'));
    expect(Buffer.compare(a.pdf, b.pdf), 'two signatures differ').to.not.equal(0);
    const withoutSignature = (pdf: Buffer) =>
      pdf
        .toString('latin1')
        .replace(/\/Contents <[0-9a-fA-F]+>/, '/Contents <>')
        .replace(/\/M \(D:[^)]*\)/, '/M ()');
    expect(withoutSignature(a.pdf)).to.equal(withoutSignature(b.pdf));
    const nl = await written(e, 'nl', new Date('2026-08-01T10:00:00Z'));
    expect(withoutSignature(nl.pdf)).to.not.equal(withoutSignature(a.pdf));
  });

  it('lays the page out as expected: heading, title, labels on the left, values beside them, the footer at the foot, drawn where the text layer says', async () => {
    const e = await record(statementInput('ContentHandover'));
    const { file } = await written(e, 'en');
    const words = await pdfWords(file);
    const first = words.filter((w) => w.page === 1);
    const find = (text: string, page = first) => {
      const w = page.find((x) => x.text === text);
      expect(w, `"${text}" on the page`).to.not.equal(undefined);
      return w!;
    };
    expect(first[0]!.pageWidth).to.be.closeTo(A4.width, 1);
    expect(first[0]!.pageHeight).to.be.closeTo(A4.height, 1);
    // the heading first, then the title, large, in the top sixth, at the left margin
    const heading = find('Registered');
    const title = find('Proof', first.filter((w) => w.yMin > heading.yMax));
    expect(heading.xMin).to.be.closeTo(LEFT, 1);
    expect(title.xMin).to.be.closeTo(LEFT, 1);
    expect(title.yMax).to.be.below(A4.height / 6);
    expect(title.yMax - title.yMin, 'the title is the largest text').to.be.above(18);
    // a label in the left column and its value in the right one, on the same line
    const label = find('Sender', first.filter((w) => w.xMin < LEFT + 5));
    const value = first.find((w) => w.text === 'Rijksdienst' && Math.abs(w.yMin - label.yMin) < 4);
    expect(value, 'the sender beside its label').to.not.equal(undefined);
    expect(value!.xMin).to.be.closeTo(LEFT + 150, 1);
    // the event time below the subject, the document's digest below the documents heading
    expect(find('Subject').yMin).to.be.below(find('Time').yMin);
    expect(find('Documents').yMin).to.be.below(find('ab'.repeat(32)).yMin);
    // nothing outside the margins; the footer below the text, with the evidence identifier
    for (const w of words) {
      expect(w.xMin, w.text).to.be.at.least(LEFT - 1);
      expect(w.xMax, w.text).to.be.at.most(A4.width - LEFT + 1);
    }
    const footer = find('Page');
    expect(footer.yMin).to.be.above(A4.height - 64);
    expect(words.filter((w) => w.text === e.id && w.yMin > A4.height - 64)).to.have.length(Math.max(...words.map((w) => w.page)));

    // the rendering: ink where the text layer puts the title and the digest, none in the margins
    const page = await renderPage(file, 1, 100);
    expect(page.darkIn(title), 'the title is drawn').to.be.above(0.1);
    expect(page.darkIn(find('ab'.repeat(32))), 'the digest is drawn').to.be.above(0.05);
    expect(page.darkIn({ xMin: 0, yMin: 0, xMax: LEFT - 4, yMax: A4.height }), 'the left margin is blank').to.equal(0);
    expect(page.darkIn({ xMin: 0, yMin: 0, xMax: A4.width, yMax: 40 }), 'the top margin is blank').to.equal(0);
  });

  it('wraps long values within the margins and flows many documents onto further pages, each with "page n of m"', async () => {
    const documents = Array.from({ length: 14 }, (_, i) => ({
      partName: `part${i}`,
      fileName: `bijlage-${i}-berekening-van-het-bedrag-van-de-kinderbijslag-voor-het-jaar-2026-met-toelichting-en-bewijsstukken.pdf`,
      mediaType: 'application/pdf',
      size: 1000 + i,
      isMain: i === 0,
      sha256: String(i % 10).repeat(64),
    }));
    const e = await record(statementInput('SubmissionAcceptance', { documents, subject: { nl: 'Een onderwerp dat '.repeat(12).trim() } }));
    const { file } = await written(e, 'nl');
    const words: PdfWord[] = await pdfWords(file);
    const pages = Math.max(...words.map((w) => w.page));
    expect(pages).to.be.at.least(2);
    for (const w of words) expect(w.xMax, w.text).to.be.at.most(A4.width - LEFT + 1);
    const text = (await pdfText(file)).replace(/\s+/g, ' ');
    for (let p = 1; p <= pages; p++) expect(text).to.contain(`Pagina ${p} van ${pages}`);
    for (const d of documents) expect(text).to.contain(d.sha256);
  });

  it('signs whatever room the signature is given: an odd size, or one too small for the time-stamp (written again with room for it)', async () => {
    const e = await record(statementInput('ContentConsignment'));
    const nss = await nssTrusting(rootPem);
    try {
      for (const room of [sealer.pdfSignatureMaxLength | 1, 300]) {
        let signatures = 0;
        const service = new ReceiptService({
          pdfSignatureMaxLength: room,
          signPdf: (bytes) => {
            signatures++;
            return sealer.signPdf(bytes);
          },
        });
        const { pdf } = await service.receipt(e, 'en');
        const { byteRange } = pdfSignature(pdf);
        expect(byteRange[2]! + byteRange[3]!, `room ${room}: the byte range ends at the end of the file`).to.equal(pdf.length);
        expect(signatures, `room ${room}`).to.equal(room === 300 ? 2 : 1);
        const file = path.join(dir, `room-${room}.pdf`);
        fs.writeFileSync(file, pdf);
        const report = await pdfsig(file, nss.dir);
        expect(report.signatureValidation, `room ${room}: ${report.text}`).to.equal('Signature is Valid.');
        expect(report.totalDocumentSigned, `room ${room}`).to.equal(true);
      }
    } finally {
      nss.close();
    }
  });

  it('shows the subject as given, each with its language, when the receipt\'s language has none', async () => {
    const e = await record(statementInput('ContentConsignment', { subject: { nl: 'Uw dossier', fr: 'Votre dossier' } }));
    const { file } = await written(e, 'de');
    const text = (await pdfText(file)).replace(/\s+/g, ' ');
    expect(text).to.contain('Betreff (wie vom Absender angegeben)');
    expect(text).to.contain('Uw dossier (nl)');
    expect(text).to.contain('Votre dossier (fr)');
  });

  it('says how the recipient was told, for a proof of notification: the notification, each channel and time, the keyed digest of the address', async () => {
    const digest = 'e3'.repeat(32);
    const e = await record(
      statementInput('NotificationForAcceptance', {
        notification: {
          NotificationIdentifier: '0b6f3f8e-4c1a-4d2b-9e7f-5a6b7c8d9e0f',
          Deliveries: [{ Channel: 'SMS', SentTime: '2026-07-02T08:30:00.000Z', AddressDigest: { DigestMethod: ADDRESS_DIGEST_METHOD, KeyIdentifier: 'ab'.repeat(8), DigestValue: digest } }],
        },
      }),
    );
    for (const [language, words] of [['en', 'How the recipient was told'], ['nl', 'Hoe de bestemmeling werd verwittigd']] as const) {
      const { file } = await written(e, language);
      const text = (await pdfText(file)).replace(/\s+/g, ' ');
      expect(text).to.contain(words);
      expect(text).to.contain('0b6f3f8e-4c1a-4d2b-9e7f-5a6b7c8d9e0f');
      expect(text).to.contain(digest);
      expect(text).to.contain('2026-07-02 08:30:00.000 UTC');
    }
  });

  it('names an enterprise by its company number, in full (it is public)', async () => {
    const e = await record(statementInput('ContentConsignment', { recipient: { type: 'enterprise', id: '0123456749' } }));
    const { file } = await written(e, 'fr');
    expect((await pdfText(file)).replace(/\s+/g, ' ')).to.contain('0123.456.749 — entreprise');
  });
});
