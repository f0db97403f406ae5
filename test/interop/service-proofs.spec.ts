/**
 * Every proof type the running service emits, fetched over HTTP as a sender would, checked by
 * verifiers no one here wrote: for ECDSA P-256 and RSA-2048, messages are driven through every
 * path (acceptance, consignment and handover in the built-in e-Box with a GovApp notice;
 * rejection; a remote e-Box that refuses the deposit; a message left unopened until it expires)
 * so that the service seals all seven ETSI EN 319 522 evidence types, and each proof is checked by
 *   1. `openssl cms -verify -cades` (signature, chain, ESS signing-certificate-v2; prints the statement),
 *   2. `openssl ts -verify` on its signature time-stamp over its signature value (both cut out
 *      with `openssl asn1parse`, not the project's ASN.1 code),
 *   3. a DER re-encode (`openssl cms -cmsout -outform DER` gives the same bytes),
 *   4. Bouncy Castle (test/helpers/bouncycastle.ts).
 * And each proof's PDF receipt, fetched in nl, fr, de and en as its sender would, is checked by
 *   5. `pdfsig` (poppler over NSS, trusting the development root): signature valid, whole
 *      document signed, certificate trusted, SubFilter ETSI.CAdES.detached — and a changed
 *      byte reported;
 *   6. `qpdf --check`: no structural error;
 *   7. `pdfdetach`: the attached file is the proof itself, which `openssl cms -verify` accepts;
 *   8. OpenSSL on the PDF's own CMS: the detached signature over the /ByteRange verifies,
 *      re-encodes byte for byte, carries no signing-time (PAdES), and its signature
 *      time-stamp verifies over its signature value (`openssl ts -verify`).
 * Fails, never skips, when openssl, java, javac, the Bouncy Castle jars, poppler-utils, qpdf or
 * certutil are missing.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { EVIDENCE_TYPES } from '../../src/domain/EvidenceStatement.js';
import { SIMULATOR_DEFAULT_CLIENT, startEboxSimulator, type RunningEboxSimulator } from '../../dev/ebox-simulator/EboxSimulator.js';
import { compileBouncyCastleVerifier, type BcVerifier } from '../helpers/bouncycastle.js';
import { addContact, insz, newDevice, startNotifyService, type NotifyService } from '../helpers/notify.js';
import { openssl, signatureTimeStampByOpenssl } from '../helpers/openssl.js';
import { nssTrusting, pdfdetach, pdfsig, pdfSignature, qpdfCheck } from '../helpers/pdf.js';
import { metadata, pdfBytes, startTestService, submit, waitForMessage, type TestService } from '../helpers/service.js';

interface Proof {
  type: string;
  messageId: string;
  file: string;
  der: Uint8Array;
  /** the dev root the proof chains to */
  rootPem: string;
  /** its receipt's URL, and the sender's credential */
  receiptUrl: string;
  apiKey: string;
}

const LANGUAGES = ['nl', 'fr', 'de', 'en'] as const;

interface Receipt {
  proof: Proof;
  language: string;
  file: string;
  pdf: Buffer;
}

/** Fetches the receipt of each proof in each language, as its sender would. */
async function fetchReceipts(proofs: Proof[], dir: string): Promise<Receipt[]> {
  const out: Receipt[] = [];
  for (const proof of proofs) {
    for (const language of LANGUAGES) {
      const res = await fetch(`${proof.receiptUrl}?lang=${language}`, { headers: { authorization: `Bearer ${proof.apiKey}` } });
      expect(res.status, `${proof.type} ${language}`).to.equal(200);
      expect(res.headers.get('content-type')).to.equal('application/pdf');
      expect(res.headers.get('content-language')).to.equal(language);
      const pdf = Buffer.from(await res.arrayBuffer());
      const file = path.join(dir, `${path.basename(proof.file, '.p7s')}.${language}.pdf`);
      fs.writeFileSync(file, pdf);
      out.push({ proof, language, file, pdf });
    }
  }
  return out;
}

const EVENT = 'http://uri.etsi.org/19522/Event/';

/** Fetches every proof of a message over HTTP (DER), as its sender would. */
async function fetchProofs(svc: TestService, apiKey: string, messageId: string, dir: string): Promise<Proof[]> {
  const auth = { authorization: `Bearer ${apiKey}` };
  const list = await (await fetch(`${svc.url}/v1/messages/${messageId}/evidence`, { headers: auth })).json();
  const proofs: Proof[] = [];
  for (const item of list.items as Array<{ id: string; type: string; href: string; receipt: string }>) {
    expect(item.href).to.equal(`/v1/messages/${messageId}/evidence/${item.id}`);
    expect(item.receipt).to.equal(`${item.href}/receipt.pdf`);
    const res = await fetch(svc.url + item.href, { headers: auth });
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^application\/pkcs7-mime/);
    const der = new Uint8Array(await res.arrayBuffer());
    const file = path.join(dir, `${item.type}-${item.id}.p7s`);
    fs.writeFileSync(file, der);
    proofs.push({ type: item.type, messageId, file, der, rootPem: svc.rootPem, receiptUrl: svc.url + item.receipt, apiKey });
  }
  return proofs;
}

describe('every proof type the service emits, checked by OpenSSL and Bouncy Castle', () => {
  let bc: BcVerifier;
  before(async () => {
    const v = await openssl(['version']);
    expect(v.code, 'openssl must be installed').to.equal(0);
    bc = await compileBouncyCastleVerifier();
  });
  after(async () => bc?.close());

  for (const algorithm of ['ECDSA-P256', 'RSA-2048']) {
    describe(algorithm, () => {
      let dir: string;
      let ns: NotifyService | undefined;
      let failing: TestService | undefined;
      let sim: RunningEboxSimulator | undefined;
      const proofs: Proof[] = [];
      const receipts: Receipt[] = [];

      before(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-proofs-'));

        // 1. the built-in e-Box, with a GovApp simulator for the notice
        ns = await startNotifyService({ env: { KEY_ALGORITHM: algorithm } });
        const svc = ns.svc;
        const sender = await svc.newSender('Proof sender');
        const reader = insz(501);
        const token = await svc.newRecipient('citizen', reader);
        await addContact(svc, reader, { phone: '+32470000501', language: 'nl', devices: [await newDevice('phone-501')] });
        const inactive = insz(502);
        await svc.newRecipient('citizen', inactive, false);

        // acceptance, consignment, the notice, then the recipient downloads the document: handover
        const opened = await submit(svc, sender.apiKey, metadata({ recipient: { type: 'citizen', id: reader } }), [{ name: 'main', content: pdfBytes(4000, 5) }]);
        expect(opened.status).to.equal(201);
        const openedId = (await opened.json()).id;
        const deposited = await waitForMessage(svc, sender.apiKey, openedId, (m) => m.status === 'DEPOSITED' && m.evidence.some((e: any) => e.type === 'NotificationForAcceptance'));
        const box = await (await fetch(`${svc.url}/v1/ebox/messages`, { headers: { authorization: `Bearer ${token}` } })).json();
        const entry = box.items.find((i: any) => i.id === deposited.eboxMessageId);
        const download = await fetch(`${svc.url}${entry.href}/documents/0`, { headers: { authorization: `Bearer ${token}` } });
        expect(download.status).to.equal(200);
        await download.arrayBuffer();
        await waitForMessage(svc, sender.apiKey, openedId, (m) => m.status === 'CONSULTED' && m.evidence.some((e: any) => e.type === 'ContentHandover'));
        proofs.push(...(await fetchProofs(svc, sender.apiKey, openedId, dir)));

        // a recipient whose e-Box is not activated: rejection
        const rejected = await submit(svc, sender.apiKey, metadata({ recipient: { type: 'citizen', id: inactive } }), [{ name: 'main', content: pdfBytes(800, 6) }]);
        expect(rejected.status).to.equal(201);
        const rejectedBody = await rejected.json();
        expect(rejectedBody.status).to.equal('REJECTED');
        proofs.push(...(await fetchProofs(svc, sender.apiKey, rejectedBody.id, dir)));

        // 2. a remote e-Box (the simulator) that refuses a deposit, with one attempt allowed and
        // messages that expire after a second
        const recipient = insz(503);
        sim = await startEboxSimulator({ recipients: [{ eboxType: 'citizen', id: recipient, activated: true }] });
        failing = await startTestService({
          KEY_ALGORITHM: algorithm,
          EBOX_URL: sim.url,
          EBOX_CLIENT_ID: SIMULATOR_DEFAULT_CLIENT.clientId,
          EBOX_CLIENT_SECRET: SIMULATOR_DEFAULT_CLIENT.clientSecret,
          EBOX_SCOPE: 'ebox:publication',
          DEPOSIT_MAX_ATTEMPTS: '1',
          MESSAGE_EXPIRY_SECONDS: '1',
          MAINTENANCE_INTERVAL_MS: '100',
        });
        const other = await failing.newSender('Unlucky sender');
        sim.state.faults.failNext('unavailable', 1);
        const refused = await submit(failing, other.apiKey, metadata({ recipient: { type: 'citizen', id: recipient } }), [{ name: 'main', content: pdfBytes(900, 7) }]);
        expect(refused.status).to.equal(201);
        const refusedId = (await refused.json()).id;
        await waitForMessage(failing, other.apiKey, refusedId, (m) => m.status === 'FAILED' && m.evidence.some((e: any) => e.type === 'ContentConsignmentFailure'));
        proofs.push(...(await fetchProofs(failing, other.apiKey, refusedId, dir)));

        const unopened = await submit(failing, other.apiKey, metadata({ recipient: { type: 'citizen', id: recipient } }), [{ name: 'main', content: pdfBytes(1000, 8) }]);
        expect(unopened.status).to.equal(201);
        const unopenedId = (await unopened.json()).id;
        await waitForMessage(failing, other.apiKey, unopenedId, (m) => m.status === 'EXPIRED' && m.evidence.some((e: any) => e.type === 'ContentHandoverFailure'));
        proofs.push(...(await fetchProofs(failing, other.apiKey, unopenedId, dir)));
        receipts.push(...(await fetchReceipts(proofs, dir)));
      });
      after(async () => {
        await ns?.close();
        await failing?.close();
        await sim?.close();
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
      });

      it('emitted all seven evidence types', () => {
        expect(EVIDENCE_TYPES).to.have.length(7);
        expect([...new Set(proofs.map((p) => p.type))].sort()).to.deep.equal([...EVIDENCE_TYPES].sort());
      });

      it('openssl cms -verify -cades accepts each proof and prints its statement', async () => {
        for (const p of proofs) {
          const r = await openssl(['cms', '-verify', '-cades', '-inform', 'DER', '-in', p.file, '-CAfile', p.rootPem]);
          expect(r.code, `${p.type}: ${r.stderr}`).to.equal(0);
          expect(r.stderr).to.contain('Verification successful');
          const statement = JSON.parse(r.stdout.toString('utf8'));
          expect(statement.ERDSEventId).to.equal(EVENT + p.type);
          expect(statement.MessageIdentifier).to.equal(p.messageId);
        }
      });

      it('openssl ts -verify accepts each signature time-stamp over its signature value, and refuses it over other data', async () => {
        for (const p of proofs) {
          const { token, signatureValue } = await signatureTimeStampByOpenssl(p.der);
          const tokenFile = `${p.file}.tst`;
          const dataFile = `${p.file}.sig`;
          fs.writeFileSync(tokenFile, token);
          fs.writeFileSync(dataFile, signatureValue);
          const ok = await openssl(['ts', '-verify', '-token_in', '-in', tokenFile, '-data', dataFile, '-CAfile', p.rootPem]);
          expect(ok.code, `${p.type}: ${ok.stderr}${ok.stdout}`).to.equal(0);
          expect(ok.stdout.toString()).to.contain('Verification: OK');
          fs.writeFileSync(dataFile, Buffer.concat([Buffer.from(signatureValue), Buffer.of(0)]));
          const other = await openssl(['ts', '-verify', '-token_in', '-in', tokenFile, '-data', dataFile, '-CAfile', p.rootPem]);
          expect(other.code, `${p.type}: a token over other data`).to.not.equal(0);
        }
      });

      it('each proof is strict DER: openssl cms -cmsout re-encodes it byte for byte', async () => {
        for (const p of proofs) {
          const r = await openssl(['cms', '-cmsout', '-inform', 'DER', '-in', p.file, '-outform', 'DER']);
          expect(r.code, `${p.type}: ${r.stderr}`).to.equal(0);
          expect(Buffer.compare(r.stdout, Buffer.from(p.der)), `${p.type} re-encoded differently`).to.equal(0);
        }
      });

      it('Bouncy Castle accepts each proof (signature, signing-certificate-v2, time-stamp and its imprint, chains) and reads the same statement', async () => {
        // both services use the run's development PKI for this algorithm: one root
        expect(new Set(proofs.map((p) => fs.readFileSync(p.rootPem, 'utf8'))).size).to.equal(1);
        const result = await bc.verify(proofs[0]!.rootPem, proofs.map((p) => p.file));
        expect(result.results.map((r) => r.file), result.out).to.deep.equal(proofs.map((p) => p.file));
        const refused = result.results.flatMap((r, i) => (r.ok ? [] : [`${proofs[i]!.type}: ${r.code} ${r.reason}`]));
        expect(refused).to.deep.equal([]);
        expect(result.code).to.equal(0);
        for (const [i, r] of result.results.entries()) {
          const statement = JSON.parse(new TextDecoder().decode(r.content));
          expect(statement.ERDSEventId).to.equal(EVENT + proofs[i]!.type);
          expect(statement.MessageIdentifier).to.equal(proofs[i]!.messageId);
        }
      });

      it('every proof type has a receipt in nl, fr, de and en, which pdfsig finds valid, wholly signed and trusted', async () => {
        expect([...new Set(receipts.map((r) => r.proof.type))].sort()).to.deep.equal([...EVIDENCE_TYPES].sort());
        expect(receipts).to.have.length(proofs.length * LANGUAGES.length);
        const nss = await nssTrusting(proofs[0]!.rootPem);
        try {
          for (const r of receipts) {
            const where = `${r.proof.type} ${r.language}`;
            const report = await pdfsig(r.file, nss.dir);
            expect(report.code, `${where}: ${report.text}`).to.equal(0);
            expect(report.signatureValidation, `${where}: ${report.text}`).to.equal('Signature is Valid.');
            expect(report.totalDocumentSigned, `${where}: ${report.text}`).to.equal(true);
            expect(report.certificateValidation, `${where}: ${report.text}`).to.equal('Certificate is Trusted.');
            expect(report.signatureType, where).to.equal('ETSI.CAdES.detached');
          }
        } finally {
          nss.close();
        }
      });

      it('pdfsig reports a receipt with one byte changed, in the text or in the attached proof', async () => {
        const nss = await nssTrusting(proofs[0]!.rootPem);
        try {
          const r = receipts[0]!;
          const { byteRange } = pdfSignature(r.pdf);
          // a byte of the page's text stream region and one near the end (the attachment and trailer): both signed
          for (const at of [Math.floor(byteRange[1]! / 2), byteRange[2]! + Math.floor(byteRange[3]! / 2)]) {
            const changed = Buffer.from(r.pdf);
            changed[at] = changed[at]! ^ 0x01;
            const file = `${r.file}.changed-${at}.pdf`;
            fs.writeFileSync(file, changed);
            const report = await pdfsig(file, nss.dir);
            expect(report.signatureValidation, `byte ${at}: ${report.text}`).to.not.equal('Signature is Valid.');
          }
        } finally {
          nss.close();
        }
      });

      it('qpdf --check finds no structural error in any receipt', async () => {
        for (const r of receipts) {
          const check = await qpdfCheck(r.file);
          expect(check.code, `${r.proof.type} ${r.language}: ${check.stdout.toString()}${check.stderr}`).to.equal(0);
          expect(check.stdout.toString()).to.contain('No syntax or stream encoding errors found');
        }
      });

      it('pdfdetach extracts the proof from each receipt, byte for byte the one checked above, and OpenSSL verifies it', async () => {
        for (const r of receipts) {
          const attached = await pdfdetach(r.file);
          expect(attached.map((a) => a.name)).to.deep.equal([path.basename(r.proof.file)]);
          expect(Buffer.compare(attached[0]!.bytes, Buffer.from(r.proof.der)), `${r.proof.type} ${r.language}`).to.equal(0);
        }
        const r = receipts[receipts.length - 1]!;
        const file = `${r.file}.detached.p7s`;
        fs.writeFileSync(file, (await pdfdetach(r.file))[0]!.bytes);
        const verified = await openssl(['cms', '-verify', '-cades', '-inform', 'DER', '-in', file, '-CAfile', r.proof.rootPem]);
        expect(verified.code, verified.stderr).to.equal(0);
      });

      it("each receipt's own signature is PAdES B-T: OpenSSL verifies the detached CMS over the byte range, it re-encodes byte for byte, has no signing-time, and its time-stamp covers its signature value", async () => {
        for (const r of receipts.filter((x) => x.language === 'en')) {
          const where = r.proof.type;
          const { signedBytes, cms } = pdfSignature(r.pdf);
          const cmsFile = `${r.file}.cms.der`;
          const contentFile = `${r.file}.signed-bytes`;
          fs.writeFileSync(cmsFile, cms);
          fs.writeFileSync(contentFile, signedBytes);
          const verified = await openssl(['cms', '-verify', '-cades', '-binary', '-inform', 'DER', '-in', cmsFile, '-content', contentFile, '-CAfile', r.proof.rootPem, '-out', '/dev/null']);
          expect(verified.code, `${where}: ${verified.stderr}`).to.equal(0);
          expect(verified.stderr).to.contain('Verification successful');
          fs.writeFileSync(contentFile, Buffer.concat([signedBytes, Buffer.of(0)]));
          const other = await openssl(['cms', '-verify', '-cades', '-binary', '-inform', 'DER', '-in', cmsFile, '-content', contentFile, '-CAfile', r.proof.rootPem, '-out', '/dev/null']);
          expect(other.code, `${where}: over other bytes`).to.not.equal(0);

          const reencoded = await openssl(['cms', '-cmsout', '-inform', 'DER', '-in', cmsFile, '-outform', 'DER']);
          expect(Buffer.compare(reencoded.stdout, cms), `${where}: re-encoded differently`).to.equal(0);

          const printed = (await openssl(['cms', '-cmsout', '-print', '-inform', 'DER', '-in', cmsFile])).stdout.toString();
          expect(printed, where).to.not.contain('signingTime');
          expect(printed, where).to.contain('id-smime-aa-signingCertificateV2');
          expect(printed, where).to.match(/eContent: <ABSENT>/);

          const { token, signatureValue } = await signatureTimeStampByOpenssl(cms);
          fs.writeFileSync(`${cmsFile}.tst`, token);
          fs.writeFileSync(`${cmsFile}.sig`, signatureValue);
          const ts = await openssl(['ts', '-verify', '-token_in', '-in', `${cmsFile}.tst`, '-data', `${cmsFile}.sig`, '-CAfile', r.proof.rootPem]);
          expect(ts.code, `${where}: ${ts.stderr}${ts.stdout}`).to.equal(0);
          expect(ts.stdout.toString()).to.contain('Verification: OK');
        }
      });
    });
  }
});
