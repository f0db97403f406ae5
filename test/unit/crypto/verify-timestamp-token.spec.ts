/**
 * verifyTimeStampToken: a stand-alone RFC 3161 token over given data (the event log's
 * checkpoints), one named line per check, for each key algorithm; and certificateInfo.
 */
import { expect } from 'chai';
import { certificateInfo, DerError, LocalTimeStamper, TimeStampAuthority, verifyTimeStampToken } from '../../../src/crypto/index.js';
import { checkpointImprintData } from '../../../src/domain/EventChain.js';
import { ALGORITHMS, devPki, openssl, tempDir } from './helpers.js';
import fs from 'node:fs/promises';
import path from 'node:path';

const POLICY = '1.3.6.1.4.1.99999.1.3161';
const DATA = checkpointImprintData(42, 'ab'.repeat(32));

for (const algorithm of ALGORITHMS) {
  describe(`crypto/verifyTimeStampToken (${algorithm})`, () => {
    let token: Uint8Array;
    let root: Uint8Array;
    let otherRoot: Uint8Array;

    before(async () => {
      const pki = await devPki(algorithm);
      root = pki.root.certificate;
      otherRoot = (await devPki(algorithm, { now: new Date(Date.now() - 1000) })).root.certificate;
      token = await new LocalTimeStamper(new TimeStampAuthority(pki.tsa, { policyOid: POLICY, accuracyMs: 1 })).timestamp(DATA);
    });

    it('passes a token over the data, naming each check', async () => {
      const r = await verifyTimeStampToken(token, DATA, { trustAnchors: [root] });
      expect(r.indication, JSON.stringify(r.checks)).to.equal('TOTAL_PASSED');
      expect(r.checks.map((c) => c.name)).to.deep.equal(['DER_ENCODING', 'CMS_STRUCTURE', 'TIMESTAMP_VERSION', 'TIMESTAMP_ALGORITHMS', 'TIMESTAMP_SIGNATURE', 'TIMESTAMP_ESS_BINDING', 'TSA_CERTIFICATE_USAGE', 'TSA_CERTIFICATE_CHAIN', 'TIMESTAMP_IMPRINT']);
      expect(r.policy).to.equal(POLICY);
      expect(Math.abs(r.genTime!.getTime() - Date.now())).to.be.below(60_000);
      expect(r.tsaSubject).to.contain('Time-Stamping Authority');
    });

    it('other data: TOTAL_FAILED / TIMESTAMP_IMPRINT_MISMATCH', async () => {
      const r = await verifyTimeStampToken(token, checkpointImprintData(43, 'ab'.repeat(32)), { trustAnchors: [root] });
      expect(r).to.include({ indication: 'TOTAL_FAILED', subIndication: 'TIMESTAMP_IMPRINT_MISMATCH' });
    });

    it('an unrelated root: INDETERMINATE / NO_CERTIFICATE_CHAIN_FOUND', async () => {
      const r = await verifyTimeStampToken(token, DATA, { trustAnchors: [otherRoot] });
      expect(r).to.include({ indication: 'INDETERMINATE', subIndication: 'NO_CERTIFICATE_CHAIN_FOUND' });
    });

    it('--at outside the TSA certificate: INDETERMINATE / OUT_OF_BOUNDS_NO_POE', async () => {
      const r = await verifyTimeStampToken(token, DATA, { trustAnchors: [root], at: new Date('2001-01-01T00:00:00Z') });
      expect(r).to.include({ indication: 'INDETERMINATE', subIndication: 'OUT_OF_BOUNDS_NO_POE' });
    });

    it('a flipped signature octet: TOTAL_FAILED / SIG_CRYPTO_FAILURE', async () => {
      const bad = new Uint8Array(token);
      // the signature value is the SignerInfo's last OCTET STRING; its last octet is inside r or s (ECDSA) or the RSA value
      bad[bad.length - 1]! ^= 0x01;
      const r = await verifyTimeStampToken(bad, DATA, { trustAnchors: [root] });
      expect(r).to.include({ indication: 'TOTAL_FAILED', subIndication: 'SIG_CRYPTO_FAILURE' });
    });
  });
}

describe('crypto/verifyTimeStampToken on malformed input', () => {
  it('never throws: random bytes, truncated DER, PEM text, non-arrays', async () => {
    const pki = await devPki('ECDSA-P256');
    const token = await new LocalTimeStamper(new TimeStampAuthority(pki.tsa, { policyOid: POLICY })).timestamp(DATA);
    const inputs: unknown[] = [new Uint8Array(64).fill(7), token.subarray(0, token.length - 9), new TextEncoder().encode('-----BEGIN PKCS7-----\nAAAA\n-----END PKCS7-----\n'), 'token', undefined];
    for (const input of inputs) {
      const r = await verifyTimeStampToken(input as Uint8Array, DATA, { trustAnchors: [pki.root.certificate] });
      expect(r).to.include({ indication: 'TOTAL_FAILED', subIndication: 'FORMAT_FAILURE' });
    }
  });
});

describe('crypto/certificateInfo', () => {
  it('names a certificate as openssl x509 does, with its SHA-256 fingerprint', async () => {
    const pki = await devPki('RSA-2048');
    const info = certificateInfo(pki.root.certificate);
    expect(info.subject).to.contain('CN=Registered Mail DEV Root CA');
    expect(info.issuer).to.equal(info.subject);
    const dir = await tempDir();
    try {
      await fs.writeFile(path.join(dir, 'root.der'), pki.root.certificate);
      const r = await openssl(['x509', '-inform', 'DER', '-in', path.join(dir, 'root.der'), '-noout', '-fingerprint', '-sha256', '-enddate']);
      const printed = /Fingerprint=([0-9A-F:]+)/.exec(r.stdout.toString())![1]!.replace(/:/g, '').toLowerCase();
      expect(info.sha256).to.equal(printed);
      expect(new Date(/notAfter=(.+)/.exec(r.stdout.toString())![1]!).getTime()).to.equal(info.notAfter.getTime());
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('throws DerError for anything else', () => {
    expect(() => certificateInfo(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]))).to.throw(DerError);
  });
});
