import { expect } from 'chai';
import * as asn1js from 'asn1js';
import fs from 'node:fs/promises';
import path from 'node:path';
import * as pkijs from 'pkijs';
import { parseCertificate, findExtension } from '../../../src/crypto/Certificate.js';
import { readBasicConstraints, readExtendedKeyUsage, readKeyUsage } from '../../../src/crypto/CertificateExtensions.js';
import { readDer } from '../../../src/crypto/der.js';
import { ensureDevPki, generateDevPki, loadSigningIdentity, pemToDer } from '../../../src/crypto/index.js';
import { nameToString } from '../../../src/crypto/Name.js';
import { OID } from '../../../src/crypto/oids.js';
import { ALGORITHMS, bytes, devPki, opensslOk, openssl, tempDir } from './helpers.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const YEAR_MS = 365.25 * 24 * 3600_000;

for (const algorithm of ALGORITHMS) {
  describe(`crypto/DevPki (${algorithm})`, () => {
    let dir: string;
    before(async () => {
      dir = await tempDir();
    });
    after(async () => {
      await fs.rm(dir, { recursive: true, force: true });
    });

    it('issues certificates that asn1js and pkijs re-encode to the same bytes', async () => {
      const pki = await devPki(algorithm);
      for (const der of [pki.root.certificate, pki.seal.certificate, pki.tsa.certificate]) {
        const asn = asn1js.fromBER(der);
        expect(asn.offset).to.equal(der.length);
        expect(hex(new Uint8Array(asn.result.toBER()))).to.equal(hex(der));
        // pkijs rebuilds the TBSCertificate from its fields: any non-DER detail would change it.
        const cert = pkijs.Certificate.fromBER(new Uint8Array(der));
        expect(hex(new Uint8Array(cert.encodeTBS().toBER()))).to.equal(hex(parseCertificate(der).tbs));
        readDer(der); // our strict reader accepts it
      }
    });

    it('issues certificates that OpenSSL re-encodes to the same bytes and verifies', async () => {
      const pki = await devPki(algorithm);
      const files = { root: pki.root.certificate, seal: pki.seal.certificate, tsa: pki.tsa.certificate };
      for (const [name, der] of Object.entries(files)) {
        await fs.writeFile(path.join(dir, `${name}.der`), der);
        const out = await opensslOk(['x509', '-inform', 'DER', '-in', path.join(dir, `${name}.der`), '-outform', 'DER']);
        expect(hex(bytes(out.stdout)), name).to.equal(hex(der));
        await opensslOk(['x509', '-inform', 'DER', '-in', path.join(dir, `${name}.der`), '-out', path.join(dir, `${name}.pem`)]);
      }
      const root = path.join(dir, 'root.pem');
      await opensslOk(['verify', '-x509_strict', '-CAfile', root, path.join(dir, 'seal.pem')]);
      await opensslOk(['verify', '-x509_strict', '-purpose', 'timestampsign', '-CAfile', root, path.join(dir, 'tsa.pem')]);
      // The sealing certificate is not a TSA certificate.
      expect((await openssl(['verify', '-purpose', 'timestampsign', '-CAfile', root, path.join(dir, 'seal.pem')])).code).to.not.equal(0);
    });

    it('follows the profile: serials, algorithms, names, extensions, validity', async () => {
      const pki = await devPki(algorithm);
      const root = parseCertificate(pki.root.certificate);
      const seal = parseCertificate(pki.seal.certificate);
      const tsa = parseCertificate(pki.tsa.certificate);
      for (const c of [root, seal, tsa]) {
        expect(c.version).to.equal(3);
        expect(c.serialNumber > 0n).to.equal(true);
        expect(c.serialNumberDer[2]! & 0x80).to.equal(0);
        if (algorithm.startsWith('RSA')) {
          expect(c.signatureAlgorithm.oid).to.equal(OID.sha256WithRSAEncryption);
          expect(c.signatureAlgorithm.parameters?.tag).to.equal(0x05); // NULL, RFC 4055 §5
        } else {
          expect(c.signatureAlgorithm.oid).to.equal(OID.ecdsaWithSHA256);
          expect(c.signatureAlgorithm.parameters).to.equal(undefined); // RFC 5758 §3.2
        }
        for (const rdn of readDer(c.subject).children) expect(rdn.children).to.have.length(1);
        expect(nameToString(c.subject)).to.match(/^CN=Registered Mail DEV .*,O=Registered Mail DEV,C=BE$/);
        expect(findExtension(c, OID.subjectKeyIdentifier)).to.not.equal(undefined);
        expect(findExtension(c, OID.authorityKeyIdentifier)).to.not.equal(undefined);
        expect(Math.abs(c.notBefore.getTime() - (Date.now() - 3600_000))).to.be.below(120_000);
      }
      expect(nameToString(root.subject)).to.contain('Root CA');
      expect(readBasicConstraints(findExtension(root, OID.basicConstraints)!).ca).to.equal(true);
      expect([...readKeyUsage(findExtension(root, OID.keyUsage)!)]).to.have.members(['keyCertSign', 'cRLSign']);
      expect((root.notAfter.getTime() - Date.now()) / YEAR_MS).to.be.closeTo(20, 0.01);
      expect((seal.notAfter.getTime() - Date.now()) / YEAR_MS).to.be.closeTo(10, 0.01);
      expect(readBasicConstraints(findExtension(seal, OID.basicConstraints)!).ca).to.equal(false);
      expect([...readKeyUsage(findExtension(seal, OID.keyUsage)!)]).to.have.members(['digitalSignature', 'nonRepudiation']);
      expect(findExtension(seal, OID.extKeyUsage)).to.equal(undefined);
      const eku = findExtension(tsa, OID.extKeyUsage)!;
      expect(eku.critical).to.equal(true);
      expect(readExtendedKeyUsage(eku)).to.deep.equal([OID.kpTimeStamping]);
      expect([...readKeyUsage(findExtension(tsa, OID.keyUsage)!)]).to.deep.equal(['digitalSignature']);
    });

    it('can make unsuitable TSA certificates for negative tests', async () => {
      const nonCritical = parseCertificate((await devPki(algorithm, { tsaExtendedKeyUsage: 'non-critical' })).tsa.certificate);
      expect(findExtension(nonCritical, OID.extKeyUsage)!.critical).to.equal(false);
      const absent = parseCertificate((await devPki(algorithm, { tsaExtendedKeyUsage: 'absent' })).tsa.certificate);
      expect(findExtension(absent, OID.extKeyUsage)).to.equal(undefined);
    });

    it('writes the files with private keys 0600 in a 0700 directory, and loads them back', async () => {
      const target = path.join(dir, 'pki', 'nested');
      const paths = await generateDevPki(target, algorithm);
      expect((await fs.stat(target)).mode & 0o777).to.equal(0o700);
      expect((await fs.stat(paths.sealKey)).mode & 0o777).to.equal(0o600);
      expect((await fs.stat(paths.tsaKey)).mode & 0o777).to.equal(0o600);
      expect((await fs.stat(paths.ocspKey)).mode & 0o777).to.equal(0o600);
      expect(await fs.readFile(paths.sealKey, 'utf8')).to.match(/^-----BEGIN PRIVATE KEY-----\n/);
      expect(pemToDer(await fs.readFile(paths.root, 'utf8'), 'CERTIFICATE')).to.have.length(1);
      expect(await fs.readdir(target)).to.have.members(['root.pem', 'root.crl', 'seal.pem', 'seal.key', 'tsa.pem', 'tsa.key', 'ocsp.pem', 'ocsp.key']);
      const identity = await loadSigningIdentity({ keyFile: paths.tsaKey, certFile: paths.tsaCert, chainFile: paths.root });
      expect(identity.algorithm).to.equal(algorithm);
      expect(identity.chain).to.have.length(1);
      await opensslOk(['verify', '-purpose', 'timestampsign', '-CAfile', paths.root, paths.tsaCert]);
    });
  });
}

describe('crypto/DevPki: ensureDevPki', () => {
  let dir: string;
  before(async () => {
    dir = await tempDir();
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('creates the PKI once, keeps it, and regenerates all of it when a file is missing', async () => {
    const target = path.join(dir, 'p256');
    const paths = await ensureDevPki(target, 'ECDSA-P256');
    const first = await fs.readFile(paths.sealCert);
    await ensureDevPki(target, 'ECDSA-P256');
    expect((await fs.readFile(paths.sealCert)).equals(first)).to.equal(true);
    await fs.rm(paths.tsaKey);
    await ensureDevPki(target, 'ECDSA-P256');
    expect((await fs.readFile(paths.sealCert)).equals(first)).to.equal(false);
    await loadSigningIdentity({ keyFile: paths.sealKey, certFile: paths.sealCert, chainFile: paths.root });
    await loadSigningIdentity({ keyFile: paths.tsaKey, certFile: paths.tsaCert, chainFile: paths.root });
  });

  it('gives consistent files when called concurrently', async () => {
    const target = path.join(dir, 'concurrent');
    const results = await Promise.all([1, 2, 3, 4].map(() => ensureDevPki(target, 'ECDSA-P256')));
    const paths = results[0]!;
    const seal = await loadSigningIdentity({ keyFile: paths.sealKey, certFile: paths.sealCert, chainFile: paths.root });
    const tsa = await loadSigningIdentity({ keyFile: paths.tsaKey, certFile: paths.tsaCert, chainFile: paths.root });
    expect(hex(seal.chain[0]!)).to.equal(hex(tsa.chain[0]!));
    await opensslOk(['verify', '-CAfile', paths.root, paths.sealCert]);
    expect(await fs.readdir(target)).to.have.members(['root.pem', 'root.crl', 'seal.pem', 'seal.key', 'tsa.pem', 'tsa.key', 'ocsp.pem', 'ocsp.key']);
  });
});
