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
 * Fails, never skips, when openssl, java, javac or the Bouncy Castle jars are missing.
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
import { metadata, pdfBytes, startTestService, submit, waitForMessage, type TestService } from '../helpers/service.js';

interface Proof {
  type: string;
  messageId: string;
  file: string;
  der: Uint8Array;
  /** the dev root the proof chains to */
  rootPem: string;
}

const EVENT = 'http://uri.etsi.org/19522/Event/';

/** Fetches every proof of a message over HTTP (DER), as its sender would. */
async function fetchProofs(svc: TestService, apiKey: string, messageId: string, dir: string): Promise<Proof[]> {
  const auth = { authorization: `Bearer ${apiKey}` };
  const list = await (await fetch(`${svc.url}/v1/messages/${messageId}/evidence`, { headers: auth })).json();
  const proofs: Proof[] = [];
  for (const item of list.items as Array<{ id: string; type: string; href: string }>) {
    expect(item.href).to.equal(`/v1/messages/${messageId}/evidence/${item.id}`);
    const res = await fetch(svc.url + item.href, { headers: auth });
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^application\/pkcs7-mime/);
    const der = new Uint8Array(await res.arrayBuffer());
    const file = path.join(dir, `${item.type}-${item.id}.p7s`);
    fs.writeFileSync(file, der);
    proofs.push({ type: item.type, messageId, file, der, rootPem: svc.rootPem });
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
    });
  }
});
