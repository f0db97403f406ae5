/**
 * The development PKI's CRLs judged by OpenSSL (a parser and verifier no one here wrote):
 * `openssl crl -text` reads every field, `openssl crl -outform DER` re-encodes to the same
 * bytes, and `openssl verify -crl_check` reaches the verdict our revocation status does on a
 * revoked and an unrevoked certificate. OpenSSL missing is a failure, not a skip.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { parseCertificate } from '../../src/crypto/Certificate.js';
import { createDevPki, derToPem, parseCrl, revokeDevCertificate, type DevPki } from '../../src/crypto/index.js';
import { revocationStatus } from '../../src/crypto/Revocation.js';
import { ALGORITHMS } from '../unit/crypto/helpers.js';
import { openssl } from '../helpers/openssl.js';

describe('CRLs of the development PKI with OpenSSL', function () {
  this.timeout(120_000);
  let work: string;
  before(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'crl-openssl-'));
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  for (const algorithm of ALGORITHMS) {
    describe(algorithm, () => {
      let pki: DevPki;
      let dir: string;
      const file = (name: string) => path.join(dir, name);
      before(async () => {
        pki = await createDevPki(algorithm);
        dir = path.join(work, algorithm);
        fs.mkdirSync(dir);
        fs.writeFileSync(file('empty.crl'), pki.crl);
        await revokeDevCertificate(pki, pki.seal.certificate, { reason: 'keyCompromise', revocationDate: new Date(Date.now() - 60_000) });
        fs.writeFileSync(file('revoked.crl'), pki.crl);
        fs.writeFileSync(file('root.pem'), derToPem(pki.root.certificate, 'CERTIFICATE'));
        fs.writeFileSync(file('seal.pem'), derToPem(pki.seal.certificate, 'CERTIFICATE'));
        fs.writeFileSync(file('tsa.pem'), derToPem(pki.tsa.certificate, 'CERTIFICATE'));
      });

      it('openssl crl parses every field and re-encodes the DER byte for byte', async () => {
        for (const name of ['empty.crl', 'revoked.crl']) {
          const text = await openssl(['crl', '-inform', 'DER', '-in', file(name), '-noout', '-text']);
          expect(text.code, text.stderr).to.equal(0);
          const out = text.stdout.toString('utf8');
          expect(out).to.match(/Version 2 \(0x1\)/);
          expect(out).to.match(/Last Update: /);
          expect(out).to.match(/Next Update: /);
          expect(out).to.match(/X509v3 Authority Key Identifier/);
          expect(out).to.match(new RegExp(`X509v3 CRL Number: \\s*${name === 'empty.crl' ? 1 : 2}\\b`));
          if (name === 'revoked.crl') {
            const digits = parseCertificate(pki.seal.certificate).serialNumber.toString(16).toUpperCase();
            const serial = digits.length % 2 ? `0${digits}` : digits; // OpenSSL prints whole octets
            expect(out).to.include(`Serial Number: ${serial}`);
            expect(out).to.match(/CRL Reason Code: \s*Key Compromise/);
          } else {
            expect(out).to.match(/No Revoked Certificates/);
          }
          const again = await openssl(['crl', '-inform', 'DER', '-in', file(name), '-outform', 'DER']);
          expect(again.code, again.stderr).to.equal(0);
          expect(Buffer.from(again.stdout).equals(fs.readFileSync(file(name))), `${name} re-encoded`).to.equal(true);
          // OpenSSL checks the CRL's signature with the root's key.
          const signed = await openssl(['crl', '-inform', 'DER', '-in', file(name), '-noout', '-CAfile', file('root.pem')]);
          expect(signed.code, signed.stderr).to.equal(0);
          expect(signed.stderr).to.match(/verify OK/);
        }
      });

      it('openssl verify -crl_check agrees with our revocation status: the sealing certificate revoked, the TSA certificate not', async () => {
        const pem = path.join(dir, 'revoked.crl.pem');
        fs.writeFileSync(pem, derToPem(pki.crl, 'X509 CRL'));
        const crl = parseCrl(pki.crl);
        const root = parseCertificate(pki.root.certificate);
        for (const [name, der, expected] of [
          ['seal.pem', pki.seal.certificate, 'revoked'],
          ['tsa.pem', pki.tsa.certificate, 'good'],
        ] as const) {
          const ours = await revocationStatus(parseCertificate(der), [root], [crl], new Date());
          const theirs = await openssl(['verify', '-crl_check', '-CAfile', file('root.pem'), '-CRLfile', pem, file(name)]);
          expect(ours.status, name).to.equal(expected);
          if (expected === 'revoked') {
            expect(theirs.code, name).to.not.equal(0);
            expect(theirs.stdout.toString() + theirs.stderr).to.match(/certificate revoked/);
          } else {
            expect(theirs.code, `${name}: ${theirs.stdout.toString()}${theirs.stderr}`).to.equal(0);
          }
        }
      });
    });
  }
});
