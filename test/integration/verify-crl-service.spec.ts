/**
 * The service's own proofs with its development PKI's CRL: the PKI the service creates on first
 * start writes root.crl beside root.pem, the sealing and TSA certificates in the proofs name it
 * as their distribution point, and `verify --crl root.crl` passes both revocation lines.
 * Runs on SQLite, and on PostgreSQL with TEST_DATABASE_URL.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { findExtension, parseCertificate } from '../../src/crypto/Certificate.js';
import { DEV_CRL_URL, parseCrl, pemToDer, readCrlDistributionPoints } from '../../src/crypto/index.js';
import { OID } from '../../src/crypto/oids.js';
import { runCli } from '../helpers/cli.js';
import { onPostgres } from '../helpers/database.js';
import { firstProof, metadata, pdfBytes, startTestService, submit, VALID_INSZ, waitForMessage, type TestService } from '../helpers/service.js';

describe(`verify --crl on the service's proofs (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, function () {
  this.timeout(180_000);
  let svc: TestService;
  let work: string;
  let proof: string;
  let crl: string;

  before(async () => {
    svc = await startTestService();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'verify-crl-service-'));
    const sender = await svc.newSender('CRL institution');
    await svc.newRecipient('citizen', VALID_INSZ);
    const res = await submit(svc, sender.apiKey, metadata(), [{ name: 'main', content: pdfBytes(5_000, 3) }]);
    expect(res.status).to.equal(201);
    const { id } = await res.json();
    await waitForMessage(svc, sender.apiKey, id, (m) => m.status === 'DEPOSITED');
    proof = path.join(work, 'proof.p7s');
    fs.writeFileSync(proof, await firstProof(svc, sender.apiKey, id));
    crl = path.join(path.dirname(svc.rootPem), 'root.crl');
  });
  after(async () => {
    await svc?.close();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('the development PKI has root.crl, a CRL of its root, and its leaf certificates point to it', () => {
    const root = parseCertificate(pemToDer(fs.readFileSync(svc.rootPem, 'utf8'), 'CERTIFICATE')[0]!);
    const list = parseCrl(new Uint8Array(fs.readFileSync(crl)));
    expect(Buffer.from(list.issuer).equals(Buffer.from(root.subject))).to.equal(true);
    expect(list.entries).to.deep.equal([]);
    const seal = parseCertificate(pemToDer(fs.readFileSync(path.join(path.dirname(svc.rootPem), 'seal.pem'), 'utf8'), 'CERTIFICATE')[0]!);
    expect(readCrlDistributionPoints(findExtension(seal, OID.cRLDistributionPoints)!)).to.deep.equal([DEV_CRL_URL]);
  });

  it('verify --crl root.crl passes the proof with both revocation lines', async () => {
    const r = await runCli('verify', [proof, '--trust', svc.rootPem, '--crl', crl, '--json']);
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    const report = JSON.parse(r.stdout);
    expect(report.indication).to.equal('TOTAL_PASSED');
    for (const name of ['REVOCATION', 'TSA_REVOCATION']) {
      expect(report.checks.find((c: any) => c.name === name), name).to.deep.include({ passed: true });
    }
  });
});
