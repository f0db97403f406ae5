/**
 * CAdES-B-LT proofs of the running service (SEAL_REVOCATION=crl): the development PKI's
 * publisher serves the root's CRL where the certificates point, the service fetches it after
 * the time-stamp and writes it with both certification paths into the proof; then
 *   1. our verify passes it with REVOCATION and TSA_REVOCATION from the CRL the proof carries
 *      (no --crl), also at a date past the CRL's nextUpdate (judged at the time-stamp's genTime);
 *   2. `openssl cms -verify -crl_check` passes it with the CRLs inside the CMS only;
 *   3. `openssl cms -cmsout -outform DER` gives back the same bytes;
 *   4. Bouncy Castle validates the signer's and the TSA's paths with revocation checking from
 *      CMSSignedData.getCertificates() and getCRLs();
 * a proof whose carried CRL lists the sealing certificate as revoked before genTime is REVOKED
 * for our verify and refused by `openssl cms -verify -crl_check`; while the distribution point
 * is down the message is accepted (202) and its proof appears once it is back.
 * Fails, never skips, without openssl, java, javac or the Bouncy Castle jars.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { DevPkiPublisher } from '../../dev/pki-publisher/DevPkiPublisher.js';
import { addLongTermValues, createDevPki, derToPem, issueDevCrl, issueOcspResponse, writeDevPki, type DevPki } from '../../src/crypto/index.js';
import { certIdFor } from '../../src/crypto/Ocsp.js';
import { parseCertificate } from '../../src/crypto/Certificate.js';
import { parseSignedData } from '../../src/crypto/SignedData.js';
import { compileBouncyCastleLtValidator, type BcVerifier } from '../helpers/bouncycastle.js';
import { runCli } from '../helpers/cli.js';
import { onPostgres } from '../helpers/database.js';
import { openssl } from '../helpers/openssl.js';
import { firstProof, metadata, pdfBytes, startTestService, submit, VALID_INSZ, waitForMessage, type TestService } from '../helpers/service.js';

const line = (report: any, name: string) => report.checks.find((c: any) => c.name === name);

describe(`CAdES-B-LT proofs of the service: CRLs inside, OpenSSL and Bouncy Castle (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, function () {
  this.timeout(180_000);
  let work: string;
  let publisher: DevPkiPublisher;
  let pki: DevPki;
  let svc: TestService;
  let bc: BcVerifier;
  let sender: { id: string; apiKey: string };
  let rootPem: string;

  const proofOf = (id: string): Promise<Uint8Array> => firstProof(svc, sender.apiKey, id);

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'service-lt-'));
    publisher = new DevPkiPublisher(() => pki.crl);
    await publisher.start(0, '127.0.0.1');
    // an in-memory PKI (it keeps its root's key, so the test can issue CRLs) whose certificates point at the publisher
    pki = await createDevPki('ECDSA-P256', { crlUrl: publisher.crlUrl });
    await issueDevCrl(pki, { thisUpdate: new Date(Date.now() - 60_000) });
    const certs = path.join(work, 'certs');
    await writeDevPki(path.join(certs, 'p256'), pki);
    rootPem = path.join(certs, 'p256', 'root.pem');
    svc = await startTestService({ DEV_CERTS_DIR: certs, SEAL_REVOCATION: 'crl', SEAL_REVOCATION_ALLOW_PRIVATE_TARGETS: '127.0.0.1/32', SEAL_REVOCATION_TIMEOUT_MS: '2000', SUBMIT_WAIT_MS: '5000' });
    sender = await svc.newSender('LT institution');
    await svc.newRecipient('citizen', VALID_INSZ);
    bc = await compileBouncyCastleLtValidator();
  });
  after(async () => {
    await svc?.close();
    await publisher?.stop();
    await bc?.close();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('every proof carries both paths and the CRL; verify, openssl -crl_check, a DER re-encode and Bouncy Castle accept it', async () => {
    const res = await submit(svc, sender.apiKey, metadata(), [{ name: 'main', content: pdfBytes(4_000, 7) }]);
    expect(res.status).to.equal(201);
    const { id } = await res.json();
    await waitForMessage(svc, sender.apiKey, id, (m) => m.status === 'DEPOSITED');
    const der = await proofOf(id);
    const file = path.join(work, 'lt.p7s');
    fs.writeFileSync(file, der);

    const sd = parseSignedData(der);
    expect(sd.crls.map((c) => Buffer.from(c).toString('hex'))).to.deep.equal([Buffer.from(pki.crl).toString('hex')]);
    const certs = sd.certificates.map((c) => Buffer.from(c).toString('hex'));
    for (const c of [pki.seal.certificate, pki.tsa.certificate, pki.root.certificate]) expect(certs).to.include(Buffer.from(c).toString('hex'));
    expect(publisher.served).to.be.greaterThan(0);

    // 1. our verify, with the proof's own CRL, now and after the CRL's nextUpdate
    for (const extra of [[], ['--at', new Date(Date.now() + 30 * 86_400_000).toISOString()]]) {
      const r = await runCli('verify', [file, '--trust', rootPem, '--json', ...extra]);
      const report = JSON.parse(r.stdout);
      expect(report.indication, r.stdout).to.equal('TOTAL_PASSED');
      expect(line(report, 'REVOCATION')).to.deep.include({ passed: true });
      expect(line(report, 'TSA_REVOCATION')).to.deep.include({ passed: true });
      if (extra.length) expect(line(report, 'REVOCATION').detail).to.match(/at the time-stamp's genTime .* carried in the proof/);
    }

    // 2. OpenSSL checks the chain against the CRLs inside the CMS
    const out = path.join(work, 'lt.statement');
    const v = await openssl(['cms', '-verify', '-inform', 'DER', '-in', file, '-CAfile', rootPem, '-crl_check', '-purpose', 'any', '-out', out]);
    expect(v.code, v.stderr).to.equal(0);
    expect(v.stderr).to.match(/Verification successful/);

    // 3. DER re-encode byte for byte
    const re = path.join(work, 'lt.re.der');
    const c = await openssl(['cms', '-cmsout', '-inform', 'DER', '-in', file, '-outform', 'DER', '-out', re]);
    expect(c.code, c.stderr).to.equal(0);
    expect(Buffer.compare(fs.readFileSync(re), Buffer.from(der))).to.equal(0);

    // 4. Bouncy Castle: both paths with revocation checking from the proof's CRLs
    const b = await bc.verify(rootPem, [file]);
    expect(b.results, b.out).to.deep.equal([{ file, ok: true }]);
  });

  it('a carried CRL that lists the sealing certificate as revoked before genTime: REVOKED for verify, refused by openssl -crl_check', async () => {
    const res = await submit(svc, sender.apiKey, metadata({ senderReference: 'LT-REVOKED' }), [{ name: 'main', content: pdfBytes(3_000, 9) }]);
    const { id } = await res.json();
    await waitForMessage(svc, sender.apiKey, id, (m) => m.status === 'DEPOSITED');
    const lt = await proofOf(id);
    // the same proof, carrying a later CRL of the root that lists the sealing certificate
    const sd = parseSignedData(lt);
    const serial = parseCertificate(pki.seal.certificate).serialNumber;
    const saved = { revoked: pki.revoked, crl: pki.crl, crlNumber: pki.crlNumber };
    pki.revoked = [{ serialNumber: serial, revocationDate: new Date(Date.now() - 3_600_000), reason: 'keyCompromise' }];
    const revokedCrl = await issueDevCrl(pki);
    Object.assign(pki, saved);
    const file = path.join(work, 'revoked.p7s');
    fs.writeFileSync(file, addLongTermValues(lt, { certificates: [], crls: [revokedCrl] }));
    expect(sd.crls.length).to.equal(1);

    const r = await runCli('verify', [file, '--trust', rootPem, '--json']);
    const report = JSON.parse(r.stdout);
    expect(report, r.stdout).to.deep.include({ indication: 'TOTAL_FAILED', subIndication: 'REVOKED' });
    expect(line(report, 'REVOCATION')).to.deep.include({ passed: false, subIndication: 'REVOKED' });

    const v = await openssl(['cms', '-verify', '-inform', 'DER', '-in', file, '-CAfile', rootPem, '-crl_check', '-purpose', 'any', '-out', path.join(work, 'revoked.statement')]);
    expect(v.code).to.not.equal(0);
    expect(v.stderr).to.match(/certificate revoked/);
  });

  it('while the distribution point is down the message is accepted (202) and sealed once it is back', async () => {
    publisher.down = true;
    try {
      // a fresh service: its cache is empty, so the outage is what it meets
      const certs = path.join(work, 'certs');
      const down = await startTestService({ DEV_CERTS_DIR: certs, SEAL_REVOCATION: 'crl', SEAL_REVOCATION_ALLOW_PRIVATE_TARGETS: '127.0.0.1/32', SEAL_REVOCATION_TIMEOUT_MS: '2000', SUBMIT_WAIT_MS: '300' });
      try {
        const s = await down.newSender('Outage institution');
        await down.newRecipient('citizen', VALID_INSZ);
        const res = await submit(down, s.apiKey, metadata({ senderReference: 'LT-DOWN' }), [{ name: 'main', content: pdfBytes(2_000, 11) }]);
        expect(res.status).to.equal(202);
        const body = await res.json();
        expect(body.evidence).to.deep.equal([]);
        const before = publisher.served;
        await new Promise((r) => setTimeout(r, 500));
        const still = await (await fetch(`${down.url}/v1/messages/${body.id}`, { headers: { authorization: `Bearer ${s.apiKey}` } })).json();
        expect(still.status).to.equal('RECEIVED');
        expect(publisher.served).to.equal(before);
        publisher.down = false;
        const done = await waitForMessage(down, s.apiKey, body.id, (m) => m.status === 'DEPOSITED', 30_000);
        expect(done.status).to.equal('DEPOSITED');
        expect(publisher.served).to.be.greaterThan(before);
      } finally {
        await down.close();
      }
    } finally {
      publisher.down = false;
    }
  });
});

describe(`CAdES-B-LT proofs of the service with OCSP answers (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, function () {
  this.timeout(180_000);
  let work: string;
  let publisher: DevPkiPublisher;
  let pki: DevPki;
  let svc: TestService;
  let bc: BcVerifier;
  let rootPem: string;
  let sender: { id: string; apiKey: string };

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'service-lt-ocsp-'));
    publisher = new DevPkiPublisher(() => pki.crl, {
      issuer: () => pki.root.certificate,
      identity: () => ({ certificate: parseCertificate(pki.ocsp.certificate), privateKey: pki.ocsp.privateKey, algorithm: pki.algorithm, certs: [pki.ocsp.certificate] }),
    });
    await publisher.start(0, '127.0.0.1');
    pki = await createDevPki('ECDSA-P256', { crlUrl: publisher.crlUrl, ocspUrl: publisher.ocspUrl });
    const certs = path.join(work, 'certs');
    await writeDevPki(path.join(certs, 'p256'), pki);
    rootPem = path.join(certs, 'p256', 'root.pem');
    svc = await startTestService({ DEV_CERTS_DIR: certs, SEAL_REVOCATION: 'ocsp', SEAL_REVOCATION_ALLOW_PRIVATE_TARGETS: '127.0.0.1/32', SEAL_REVOCATION_TIMEOUT_MS: '2000', SUBMIT_WAIT_MS: '5000' });
    sender = await svc.newSender('OCSP institution');
    await svc.newRecipient('citizen', VALID_INSZ);
    bc = await compileBouncyCastleLtValidator();
  });
  after(async () => {
    await svc?.close();
    await publisher?.stop();
    await bc?.close();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('carries an OCSP answer per certificate; verify, openssl ocsp -respin, openssl cms -verify, a DER re-encode and Bouncy Castle accept it', async () => {
    const res = await submit(svc, sender.apiKey, metadata({ senderReference: 'LT-OCSP' }), [{ name: 'main', content: pdfBytes(4_000, 13) }]);
    expect(res.status).to.equal(201);
    const { id } = await res.json();
    await waitForMessage(svc, sender.apiKey, id, (m) => m.status === 'DEPOSITED');
    const der = await firstProof(svc, sender.apiKey, id);
    const file = path.join(work, 'ocsp.p7s');
    fs.writeFileSync(file, der);
    const sd = parseSignedData(der);
    expect(sd.version).to.equal(5);
    expect(sd.crls).to.deep.equal([]);
    expect(sd.ocspResponses).to.have.length(2);
    expect(publisher.ocspServed).to.be.greaterThan(0);

    // our verify, from the proof's own OCSP answers, now and after their nextUpdate
    for (const extra of [[], ['--at', new Date(Date.now() + 30 * 86_400_000).toISOString()]]) {
      const r = await runCli('verify', [file, '--trust', rootPem, '--json', ...extra]);
      const report = JSON.parse(r.stdout);
      expect(report.indication, r.stdout).to.equal('TOTAL_PASSED');
      expect(line(report, 'REVOCATION').detail).to.match(/OCSP response produced .* delegated responder/);
      expect(line(report, 'TSA_REVOCATION')).to.deep.include({ passed: true });
    }

    // OpenSSL: each answer verifies (responder delegated by the root) and says good for its certificate
    fs.writeFileSync(path.join(work, 'seal.pem'), derToPem(pki.seal.certificate, 'CERTIFICATE'));
    fs.writeFileSync(path.join(work, 'tsa.pem'), derToPem(pki.tsa.certificate, 'CERTIFICATE'));
    fs.writeFileSync(path.join(work, 'responder.pem'), derToPem(pki.ocsp.certificate, 'CERTIFICATE'));
    const said: string[] = [];
    for (const [i, response] of sd.ocspResponses.entries()) {
      const respFile = path.join(work, `answer-${i}.der`);
      fs.writeFileSync(respFile, response);
      let verified = 0;
      for (const cert of ['seal.pem', 'tsa.pem']) {
        const o = await openssl(['ocsp', '-respin', respFile, '-CAfile', rootPem, '-verify_other', path.join(work, 'responder.pem'), '-issuer', rootPem, '-cert', path.join(work, cert), '-no_nonce']);
        if (o.code !== 0) continue; // the answer is for the other certificate
        expect(o.stderr).to.match(/Response verify OK/);
        expect(o.stdout.toString()).to.match(new RegExp(`${cert}: good`));
        said.push(cert);
        verified++;
      }
      expect(verified, `answer ${i}`).to.equal(1);
    }
    expect([...new Set(said)].sort()).to.deep.equal(['seal.pem', 'tsa.pem']);

    const v = await openssl(['cms', '-verify', '-inform', 'DER', '-in', file, '-CAfile', rootPem, '-purpose', 'any', '-out', path.join(work, 'ocsp.statement')]);
    expect(v.code, v.stderr).to.equal(0);
    const re = path.join(work, 'ocsp.re.der');
    const c = await openssl(['cms', '-cmsout', '-inform', 'DER', '-in', file, '-outform', 'DER', '-out', re]);
    expect(c.code, c.stderr).to.equal(0);
    expect(Buffer.compare(fs.readFileSync(re), Buffer.from(der))).to.equal(0);

    const b = await bc.verify(rootPem, [file]);
    expect(b.results, b.out).to.deep.equal([{ file, ok: true }]);

    // an answer of the responder saying the sealing certificate was revoked before genTime: REVOKED
    const seal = parseCertificate(pki.seal.certificate);
    const root = parseCertificate(pki.root.certificate);
    const genTime = new Date(JSON.parse((await runCli('verify', [file, '--trust', rootPem, '--json'])).stdout).genTime ?? Date.now());
    const revokedAnswer = await issueOcspResponse(
      { ids: [certIdFor(seal, root)], status: () => ({ status: 'revoked', revocationTime: new Date(genTime.getTime() - 3_600_000), reason: 1 }), producedAt: new Date(), thisUpdate: new Date(), nextUpdate: new Date(Date.now() + 3_600_000) },
      { certificate: parseCertificate(pki.ocsp.certificate), privateKey: pki.ocsp.privateKey, algorithm: pki.algorithm, certs: [pki.ocsp.certificate] },
    );
    fs.writeFileSync(path.join(work, 'revoked-answer.der'), revokedAnswer);
    const o = await openssl(['ocsp', '-respin', path.join(work, 'revoked-answer.der'), '-CAfile', rootPem, '-issuer', rootPem, '-cert', path.join(work, 'seal.pem'), '-no_nonce']);
    expect(o.stderr).to.match(/Response verify OK/);
    expect(o.stdout.toString()).to.match(/seal\.pem: revoked[\s\S]*Reason: keyCompromise/);
    const revokedFile = path.join(work, 'ocsp-revoked.p7s');
    fs.writeFileSync(revokedFile, addLongTermValues(der, { certificates: [], crls: [], ocspResponses: [revokedAnswer] }));
    const r = await runCli('verify', [revokedFile, '--trust', rootPem, '--json']);
    const report = JSON.parse(r.stdout);
    expect(report, r.stdout).to.deep.include({ indication: 'TOTAL_FAILED', subIndication: 'REVOKED' });
    expect(line(report, 'REVOCATION').detail).to.match(/reason keyCompromise\) by the OCSP response/);
  });
});
