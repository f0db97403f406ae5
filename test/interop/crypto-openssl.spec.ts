/**
 * The crypto layer's proofs, tokens and TSA answers checked by OpenSSL 3 (a verifier no one
 * here wrote): CMS with the CAdES ESS check, RFC 3161 token over the signature value,
 * strict DER (OpenSSL re-encodes to the same bytes), and the TSA against `openssl ts`.
 */
import { expect } from 'chai';
import fs from 'node:fs/promises';
import path from 'node:path';
import { digest } from '../../src/crypto/AlgorithmIdentifier.js';
import { LocalTimeStamper, TimeStampAuthority, derToPem, extractTimeStamp, verifyCadesT } from '../../src/crypto/index.js';
import { OID } from '../../src/crypto/oids.js';
import { ALGORITHMS, bytes, devPki, openssl, opensslOk, seal, signB, tempDir } from '../unit/crypto/helpers.js';

const POLICY = '1.3.6.1.4.1.99999.1.3161';
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

for (const algorithm of ALGORITHMS) {
  describe(`crypto interop with OpenSSL (${algorithm})`, () => {
    let dir: string;
    let tsa: TimeStampAuthority;
    let proof: Uint8Array;
    const content = new TextEncoder().encode(JSON.stringify({ EvidenceIdentifier: `interop-${algorithm}`, EventTime: new Date().toISOString() }));
    const file = (name: string) => path.join(dir, name);

    before(async () => {
      dir = await tempDir('crypto-openssl-');
      const pki = await devPki(algorithm);
      tsa = new TimeStampAuthority(pki.tsa, { policyOid: POLICY, accuracyMs: 1 });
      proof = await seal(content, pki.seal, new LocalTimeStamper(tsa));
      await fs.writeFile(file('proof.der'), proof);
      await fs.writeFile(file('root.pem'), derToPem(pki.root.certificate, 'CERTIFICATE'));
      await fs.writeFile(file('tsa.pem'), derToPem(pki.tsa.certificate, 'CERTIFICATE'));
      const { token, signatureValue } = extractTimeStamp(proof);
      await fs.writeFile(file('token.der'), token);
      await fs.writeFile(file('sigvalue.bin'), signatureValue);
      await fs.writeFile(file('data.txt'), 'data to time-stamp\n');
    });
    after(() => fs.rm(dir, { recursive: true, force: true }));

    it('openssl cms -verify -cades accepts the proof and gives back the content', async () => {
      await opensslOk(['cms', '-verify', '-cades', '-inform', 'DER', '-in', file('proof.der'), '-CAfile', file('root.pem'), '-out', file('content.bin')]);
      expect(hex(bytes(await fs.readFile(file('content.bin'))))).to.equal(hex(content));
    });

    it('openssl cms -cmsout re-encodes the proof to identical bytes (strict DER)', async () => {
      const out = await opensslOk(['cms', '-cmsout', '-inform', 'DER', '-in', file('proof.der'), '-outform', 'DER']);
      expect(hex(bytes(out.stdout))).to.equal(hex(proof));
    });

    it('openssl ts -verify accepts the signature time-stamp over the signature value', async () => {
      const out = await opensslOk(['ts', '-verify', '-token_in', '-in', file('token.der'), '-data', file('sigvalue.bin'), '-CAfile', file('root.pem'), '-untrusted', file('tsa.pem')]);
      expect(out.stdout.toString()).to.contain('Verification: OK');
      // and refuses it for other data: the imprint really is over the signature value
      await fs.writeFile(file('other.bin'), Buffer.from('other'));
      const bad = await openssl(['ts', '-verify', '-token_in', '-in', file('token.der'), '-data', file('other.bin'), '-CAfile', file('root.pem'), '-untrusted', file('tsa.pem')]);
      expect(bad.code).to.not.equal(0);
    });

    it('answers an openssl ts -query that openssl ts -verify accepts, showing our policy', async () => {
      await opensslOk(['ts', '-query', '-data', file('data.txt'), '-sha256', '-cert', '-out', file('q.tsq')]);
      const reply = await tsa.respond(bytes(await fs.readFile(file('q.tsq'))));
      await fs.writeFile(file('reply.tsr'), reply);
      const verified = await opensslOk(['ts', '-verify', '-queryfile', file('q.tsq'), '-in', file('reply.tsr'), '-CAfile', file('root.pem'), '-untrusted', file('tsa.pem')]);
      expect(verified.stdout.toString()).to.contain('Verification: OK');
      const text = (await opensslOk(['ts', '-reply', '-in', file('reply.tsr'), '-text'])).stdout.toString();
      expect(text).to.contain('Status: Granted.');
      expect(text).to.contain(`Policy OID: ${POLICY}`);
      expect(text).to.match(/Accuracy: unspecified seconds, 0x01 millis, unspecified micros/);
      expect(text).to.contain('Ordering: no');
      expect(text).to.contain('TSA: unspecified');
      // the reply re-encodes to the same bytes
      const again = await opensslOk(['ts', '-reply', '-in', file('reply.tsr'), '-out', file('again.tsr')]);
      expect(again.code).to.equal(0);
      expect(hex(bytes(await fs.readFile(file('again.tsr'))))).to.equal(hex(reply));
    });

    it('openssl ts -verify -data agrees for a query without certReq when the TSA certificate is supplied', async () => {
      await opensslOk(['ts', '-query', '-data', file('data.txt'), '-sha512', '-no_nonce', '-out', file('q2.tsq')]);
      await fs.writeFile(file('reply2.tsr'), await tsa.respond(bytes(await fs.readFile(file('q2.tsq')))));
      const verified = await opensslOk(['ts', '-verify', '-data', file('data.txt'), '-in', file('reply2.tsr'), '-CAfile', file('root.pem'), '-untrusted', file('tsa.pem')]);
      expect(verified.stdout.toString()).to.contain('Verification: OK');
    });

    it('agrees with OpenSSL on refusals: tampered content, and a TSA certificate without critical timeStamping usage', async () => {
      const tampered = proof.slice();
      const at = Buffer.from(tampered).indexOf(Buffer.from('interop-'));
      tampered[at]! ^= 0x01;
      await fs.writeFile(file('tampered.der'), tampered);
      const cms = await openssl(['cms', '-verify', '-cades', '-inform', 'DER', '-in', file('tampered.der'), '-CAfile', file('root.pem'), '-out', file('x.bin')]);
      expect(cms.code).to.not.equal(0);
      expect((await verifyCadesT(tampered, { trustAnchors: [(await devPki(algorithm)).root.certificate] })).subIndication).to.equal('HASH_FAILURE');

      const bad = await devPki(algorithm, { tsaExtendedKeyUsage: 'non-critical' });
      const badTsa = new TimeStampAuthority(bad.tsa, { policyOid: POLICY, allowUnsuitableCertificate: true });
      const cadesB = await signB(content, bad.seal);
      const badProof = cadesB.stamped(await badTsa.issueToken({ hashAlgorithmOid: OID.sha256, hashedMessage: digest('SHA-256', cadesB.signature) }));
      const { token, signatureValue } = extractTimeStamp(badProof);
      await fs.writeFile(file('bad-token.der'), token);
      await fs.writeFile(file('bad-sig.bin'), signatureValue);
      await fs.writeFile(file('bad-root.pem'), derToPem(bad.root.certificate, 'CERTIFICATE'));
      await fs.writeFile(file('bad-tsa.pem'), derToPem(bad.tsa.certificate, 'CERTIFICATE'));
      const ts = await openssl(['ts', '-verify', '-token_in', '-in', file('bad-token.der'), '-data', file('bad-sig.bin'), '-CAfile', file('bad-root.pem'), '-untrusted', file('bad-tsa.pem')]);
      expect(ts.code).to.not.equal(0);
      expect(ts.stdout.toString() + ts.stderr).to.match(/unsuitable certificate purpose|Verification: FAILED/);
      expect((await verifyCadesT(badProof, { trustAnchors: [bad.root.certificate] })).subIndication).to.equal('TSA_CERTIFICATE_INVALID');
    });
  });
}
