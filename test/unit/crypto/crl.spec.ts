/**
 * The CRL writer and reader (src/crypto/Crl.ts), the development PKI's CRLs and distribution
 * points (DevPki.ts), and the revocation status the verifier takes from them (Revocation.ts).
 */
import { expect } from 'chai';
import * as asn1js from 'asn1js';
import fs from 'node:fs/promises';
import path from 'node:path';
import * as pkijs from 'pkijs';
import { findExtension, issueCertificate, parseCertificate } from '../../../src/crypto/Certificate.js';
import { readDer } from '../../../src/crypto/der.js';
import {
  createDevPki,
  crlDistributionPoints,
  DEV_CRL_URL,
  ensureDevPki,
  generateDevPki,
  issueCrl,
  issueDevCrl,
  parseCrl,
  pemToDer,
  readCrlDistributionPoints,
  revokeDevCertificate,
  type DevPki,
} from '../../../src/crypto/index.js';
import { basicConstraints, keyUsage, readExtension, subjectKeyIdentifier } from '../../../src/crypto/CertificateExtensions.js';
import { OID } from '../../../src/crypto/oids.js';
import { revocationStatus } from '../../../src/crypto/Revocation.js';
import { ALGORITHMS, tempDir } from './helpers.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const DAY = 86_400_000;

for (const algorithm of ALGORITHMS) {
  describe(`crypto/Crl (${algorithm})`, () => {
    let pki: DevPki;
    before(async () => {
      pki = await createDevPki(algorithm);
    });

    it('writes CRLs that asn1js and pkijs re-encode to the same bytes and our strict reader accepts', async () => {
      const fresh = await createDevPki(algorithm);
      await revokeDevCertificate(fresh, fresh.seal.certificate, { reason: 'keyCompromise', revocationDate: new Date('2026-01-02T03:04:05Z') });
      await revokeDevCertificate(fresh, fresh.tsa.certificate, {});
      for (const [der, rootDer] of [
        [pki.crl, pki.root.certificate],
        [fresh.crl, fresh.root.certificate],
      ] as const) {
        const asn = asn1js.fromBER(der);
        expect(asn.offset).to.equal(der.length);
        expect(hex(new Uint8Array(asn.result.toBER()))).to.equal(hex(der));
        const crl = pkijs.CertificateRevocationList.fromBER(new Uint8Array(der));
        // pkijs rebuilds the TBSCertList from its fields (encodeTBS is protected in its typings only).
        const rebuilt = (crl as unknown as { encodeTBS(): asn1js.Sequence }).encodeTBS();
        expect(hex(new Uint8Array(rebuilt.toBER()))).to.equal(hex(parseCrl(der).tbs));
        readDer(der);
        // pkijs checks the signature with the root's key, independently of Revocation.ts.
        expect(await crl.verify({ issuerCertificate: pkijs.Certificate.fromBER(new Uint8Array(rootDer)) })).to.equal(true);
      }
    });

    it('has the v2 profile: issuer, thisUpdate/nextUpdate, cRLNumber, authorityKeyIdentifier, entries with reasonCode', async () => {
      const fresh = await createDevPki(algorithm);
      const first = parseCrl(fresh.crl);
      const root = parseCertificate(fresh.root.certificate);
      expect(first.version).to.equal(2);
      expect(hex(first.issuer)).to.equal(hex(root.subject));
      expect(first.crlNumber).to.equal(1n);
      expect(hex(first.authorityKeyIdentifier!)).to.equal(hex(fresh.root.keyIdentifier));
      expect(first.entries).to.deep.equal([]);
      // An empty CRL has no revokedCertificates at all (RFC 5280 §5.1.2.6), not an empty SEQUENCE.
      expect(readDer(fresh.crl).children[0]!.children.length).to.equal(6);
      expect(first.nextUpdate!.getTime() - first.thisUpdate.getTime()).to.be.greaterThan(9 * 365 * DAY);
      expect(first.unhandledCritical).to.deep.equal([]);

      const when = new Date('2026-05-06T07:08:09Z');
      await revokeDevCertificate(fresh, fresh.tsa.certificate, { revocationDate: when, reason: 'cessationOfOperation', thisUpdate: new Date('2026-06-01T00:00:00Z') });
      await revokeDevCertificate(fresh, fresh.seal.certificate, { revocationDate: when, reason: 'unspecified', thisUpdate: new Date('2026-06-02T00:00:00Z') });
      const third = parseCrl(fresh.crl);
      expect(third.crlNumber).to.equal(3n);
      expect(third.thisUpdate.toISOString()).to.equal('2026-06-02T00:00:00.000Z');
      expect(third.nextUpdate!.toISOString()).to.equal('2026-06-09T00:00:00.000Z');
      const serials = [parseCertificate(fresh.seal.certificate).serialNumber, parseCertificate(fresh.tsa.certificate).serialNumber];
      expect(third.entries.map((e) => e.serialNumber)).to.deep.equal([...serials].sort((a, b) => (a < b ? -1 : 1)));
      const tsaEntry = third.entries.find((e) => e.serialNumber === serials[1])!;
      expect(tsaEntry).to.deep.include({ reasonCode: 5 });
      expect(tsaEntry.revocationDate.toISOString()).to.equal(when.toISOString());
      // "unspecified" is written by leaving reasonCode out (RFC 5280 §5.3.1).
      expect(third.entries.find((e) => e.serialNumber === serials[0])).to.not.have.property('reasonCode');
    });

    it('puts the CRL distribution point in the leaf certificates only, or none when asked', async () => {
      for (const der of [pki.seal.certificate, pki.tsa.certificate]) {
        const ext = findExtension(parseCertificate(der), OID.cRLDistributionPoints)!;
        expect(ext.critical).to.equal(false);
        expect(readCrlDistributionPoints(ext)).to.deep.equal([DEV_CRL_URL]);
      }
      expect(findExtension(parseCertificate(pki.root.certificate), OID.cRLDistributionPoints)).to.equal(undefined);
      const old = await createDevPki(algorithm, { crlUrl: null });
      expect(findExtension(parseCertificate(old.seal.certificate), OID.cRLDistributionPoints)).to.equal(undefined);
    });
  });
}

describe('crypto/Crl writer limits and reader strictness', () => {
  let pki: DevPki;
  before(async () => {
    pki = await createDevPki('ECDSA-P256');
  });
  const issuer = () => ({ name: pki.root.name, keyIdentifier: pki.root.keyIdentifier, privateKey: pki.root.privateKey, algorithm: pki.algorithm });

  it('refuses a negative cRLNumber, a non-positive serial, nextUpdate before thisUpdate', async () => {
    const t = new Date('2026-01-01T00:00:00Z');
    await expectReject(issueCrl({ thisUpdate: t, nextUpdate: t, crlNumber: -1n, revoked: [] }, issuer()), /cRLNumber/);
    await expectReject(issueCrl({ thisUpdate: t, nextUpdate: t, crlNumber: 1n, revoked: [{ serialNumber: 0n, revocationDate: t }] }, issuer()), /positive/);
    await expectReject(issueCrl({ thisUpdate: t, nextUpdate: new Date(t.getTime() - 1000), crlNumber: 1n, revoked: [] }, issuer()), /nextUpdate/);
  });

  it('writes GeneralizedTime from 2050 on, UTCTime before (RFC 5280 §5.1.2.4)', async () => {
    const der = await issueCrl({ thisUpdate: new Date('2049-12-31T23:59:59Z'), nextUpdate: new Date('2050-01-01T00:00:00Z'), crlNumber: 7n, revoked: [] }, issuer());
    const tbs = readDer(der).children[0]!;
    expect(tbs.children[3]!.tag).to.equal(0x17);
    expect(tbs.children[4]!.tag).to.equal(0x18);
    expect(parseCrl(der).nextUpdate!.toISOString()).to.equal('2050-01-01T00:00:00.000Z');
  });

  it('refuses non-DER and things that are not CRLs', () => {
    const der = pki.crl;
    const bad = Uint8Array.from(der);
    bad[1] = 0x80; // indefinite length
    expect(() => parseCrl(bad)).to.throw();
    expect(() => parseCrl(pki.root.certificate)).to.throw();
    expect(() => parseCrl(new Uint8Array([0x30, 0x00]))).to.throw();
    expect(() => parseCrl(Uint8Array.of(...der, 0))).to.throw();
  });

  it('writes and reads the distribution point extension; refuses what is not an http URL', () => {
    const ext = readExtension(readDer(crlDistributionPoints(['http://a.example/x.crl', 'https://b.example/y.crl'])));
    expect(readCrlDistributionPoints(ext)).to.deep.equal(['http://a.example/x.crl', 'https://b.example/y.crl']);
    expect(() => crlDistributionPoints(['ldap://x'])).to.throw(RangeError);
    expect(() => crlDistributionPoints(['http://a b'])).to.throw(RangeError);
  });
});

describe('crypto/Revocation status from CRLs', () => {
  let pki: DevPki;
  let foreign: DevPki;
  before(async () => {
    [pki, foreign] = await Promise.all([createDevPki('ECDSA-P256'), createDevPki('ECDSA-P256')]);
  });
  const views = (p: DevPki) => [parseCertificate(p.root.certificate)];

  it('good when a fresh CRL of the issuer does not list it; unknown once its nextUpdate has passed', async () => {
    const now = new Date();
    await issueDevCrl(pki, { thisUpdate: now, nextUpdate: new Date(now.getTime() + DAY) });
    const seal = parseCertificate(pki.seal.certificate);
    const good = await revocationStatus(seal, views(pki), [parseCrl(pki.crl)], now);
    expect(good.status).to.equal('good');
    const late = await revocationStatus(seal, views(pki), [parseCrl(pki.crl)], new Date(now.getTime() + 2 * DAY));
    expect(late.status).to.equal('unknown');
    expect(late.detail).to.match(/no fresh CRL/);
  });

  it('ignores a CRL of another key with the same issuer Name (the dev roots share it), even one listing the serial', async () => {
    const seal = parseCertificate(pki.seal.certificate);
    expect(hex(parseCertificate(foreign.root.certificate).subject)).to.equal(hex(seal.issuer));
    const forged = await issueCrl(
      { thisUpdate: new Date(), nextUpdate: new Date(Date.now() + DAY), crlNumber: 99n, revoked: [{ serialNumber: seal.serialNumber, revocationDate: new Date(0), reason: 'keyCompromise' }] },
      { name: foreign.root.name, keyIdentifier: pki.root.keyIdentifier, privateKey: foreign.root.privateKey, algorithm: foreign.algorithm },
    );
    const r = await revocationStatus(seal, views(pki), [parseCrl(forged)], new Date());
    expect(r).to.deep.include({ status: 'unknown' });
    expect(r.detail).to.match(/no CRL given is signed by the issuer/);
  });

  it('ignores a CRL vouched for by a look-alike issuer in the proof (same Name and key identifier, another key)', async () => {
    const seal = parseCertificate(pki.seal.certificate);
    const spki = parseCertificate(foreign.root.certificate).publicKey.der;
    const lookAlike = await issueCertificate(
      {
        serialNumber: 7n,
        subject: pki.root.name,
        subjectPublicKeyInfo: spki,
        notBefore: new Date(Date.now() - DAY),
        notAfter: new Date(Date.now() + DAY),
        extensions: [basicConstraints(true, 0), keyUsage(['keyCertSign', 'cRLSign']), subjectKeyIdentifier(pki.root.keyIdentifier)],
      },
      { name: pki.root.name, privateKey: foreign.root.privateKey, algorithm: foreign.algorithm },
    );
    const forged = await issueCrl(
      { thisUpdate: new Date(), nextUpdate: new Date(Date.now() + DAY), crlNumber: 5n, revoked: [] },
      { name: pki.root.name, keyIdentifier: pki.root.keyIdentifier, privateKey: foreign.root.privateKey, algorithm: foreign.algorithm },
    );
    const r = await revocationStatus(seal, [...views(pki), parseCertificate(lookAlike)], [parseCrl(forged)], new Date());
    expect(r.status).to.equal('unknown');
  });

  it('revoked with the earliest date of the CRLs that list it', async () => {
    const p = await createDevPki('ECDSA-P256');
    const first = new Date('2026-03-01T00:00:00Z');
    await revokeDevCertificate(p, p.tsa.certificate, { revocationDate: first, reason: 'superseded' });
    const older = parseCrl(p.crl);
    p.revoked[0]!.revocationDate = new Date('2026-04-01T00:00:00Z');
    await issueDevCrl(p);
    const r = await revocationStatus(parseCertificate(p.tsa.certificate), views(p), [parseCrl(p.crl), older], new Date());
    expect(r.status).to.equal('revoked');
    if (r.status === 'revoked') expect(r.entry.revocationDate.toISOString()).to.equal(first.toISOString());
    const seal = await revocationStatus(parseCertificate(p.seal.certificate), views(p), [parseCrl(p.crl)], new Date());
    expect(seal.status).to.equal('good');
  });
});

describe('crypto/DevPki files: root.crl', () => {
  let dir: string;
  before(async () => {
    dir = await tempDir();
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('writes root.crl (DER, 0644) beside root.pem, a CRL of that root', async () => {
    const paths = await generateDevPki(path.join(dir, 'new'), 'ECDSA-P256');
    expect(paths.crl).to.equal(path.join(dir, 'new', 'root.crl'));
    const crl = parseCrl(new Uint8Array(await fs.readFile(paths.crl)));
    const root = parseCertificate(pemToDer(await fs.readFile(paths.root, 'utf8'), 'CERTIFICATE')[0]!);
    expect(hex(crl.issuer)).to.equal(hex(root.subject));
    expect((await fs.stat(paths.crl)).mode & 0o777).to.equal(0o644);
    const seal = parseCertificate(pemToDer(await fs.readFile(paths.sealCert, 'utf8'), 'CERTIFICATE')[0]!);
    expect((await revocationStatus(seal, [root], [crl], new Date())).status).to.equal('good');
  });

  it('keeps using a directory written before CRLs existed (no root.crl)', async () => {
    const old = path.join(dir, 'old');
    const paths = await generateDevPki(old, 'ECDSA-P256', { crlUrl: null });
    await fs.rm(paths.crl);
    const before = await fs.readFile(paths.sealCert, 'utf8');
    const again = await ensureDevPki(old, 'ECDSA-P256');
    expect(await fs.readFile(again.sealCert, 'utf8')).to.equal(before);
    await expectReject(fs.access(again.crl), /ENOENT/);
  });
});

async function expectReject(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await p;
  } catch (err) {
    expect(String((err as Error).message)).to.match(pattern);
    return;
  }
  expect.fail('expected a rejection');
}
