/**
 * The crypto layer's proofs checked by Bouncy Castle, a verifier that re-encodes what it reads
 * (as EU DSS does) and so refuses what OpenSSL lets through (test/helpers/bouncycastle.ts).
 * Needs a JDK and the Debian package libbcpkix-java; fails, never skips, when either is missing.
 */
import { expect } from 'chai';
import fs from 'node:fs/promises';
import path from 'node:path';
import { digest } from '../../src/crypto/AlgorithmIdentifier.js';
import { LocalTimeStamper, TimeStampAuthority, derToPem } from '../../src/crypto/index.js';
import { OID } from '../../src/crypto/oids.js';
import { compileBouncyCastleVerifier, type BcVerifier } from '../helpers/bouncycastle.js';
import { ALGORITHMS, devPki, seal, signB, tempDir } from '../unit/crypto/helpers.js';

const POLICY = '1.3.6.1.4.1.99999.1.3161';

describe('crypto interop with Bouncy Castle', function () {
  let dir: string;
  let bc: BcVerifier;

  before(async () => {
    bc = await compileBouncyCastleVerifier();
    dir = await tempDir('crypto-bc-');
  });
  after(async () => {
    await bc?.close();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  const verify = async (proof: Uint8Array, root: Uint8Array, name: string) => {
    const file = path.join(dir, name);
    const rootFile = path.join(dir, `${name}.root.pem`);
    await fs.writeFile(file, proof);
    await fs.writeFile(rootFile, derToPem(root, 'CERTIFICATE'));
    return bc.verify(rootFile, [file]);
  };

  for (const algorithm of ALGORITHMS) {
    it(`accepts a proof (${algorithm})`, async () => {
      const pki = await devPki(algorithm);
      const tsa = new TimeStampAuthority(pki.tsa, { policyOid: POLICY, accuracyMs: 1 });
      const content = `{"bc":"${algorithm}"}`;
      const proof = await seal(new TextEncoder().encode(content), pki.seal, new LocalTimeStamper(tsa));
      const result = await verify(proof, pki.root.certificate, `${algorithm}.der`);
      expect(result.code, result.out).to.equal(0);
      expect(result.results).to.have.length(1);
      expect(result.results[0]!.ok, result.out).to.equal(true);
      expect(new TextDecoder().decode(result.results[0]!.content)).to.equal(content);
    });
  }

  it('refuses a proof whose certificates chain to another root', async () => {
    const pki = await devPki('ECDSA-P256');
    const other = await devPki('ECDSA-P384');
    const proof = await seal(new TextEncoder().encode('{}'), pki.seal, new LocalTimeStamper(new TimeStampAuthority(pki.tsa, { policyOid: POLICY })));
    const result = await verify(proof, other.root.certificate, 'other-root.der');
    expect(result.code).to.equal(1);
    expect(result.results[0]!.ok).to.equal(false);
    expect(result.results[0]!.code).to.equal('SIGNER_CHAIN');
  });

  it('refuses a token whose TSA certificate has a non-critical timeStamping usage', async () => {
    const bad = await devPki('ECDSA-P256', { tsaExtendedKeyUsage: 'non-critical' });
    const tsa = new TimeStampAuthority(bad.tsa, { policyOid: POLICY, allowUnsuitableCertificate: true });
    const cadesB = await signB(new TextEncoder().encode('{}'), bad.seal);
    const proof = cadesB.stamped(await tsa.issueToken({ hashAlgorithmOid: OID.sha256, hashedMessage: digest('SHA-256', cadesB.signature) }));
    const result = await verify(proof, bad.root.certificate, 'bad-tsa.der');
    expect(result.code).to.not.equal(0);
    expect(result.results[0]!.ok).to.equal(false);
    expect(result.results[0]!.code).to.equal('TSA_EXTENDED_KEY_USAGE');
  });

  it('refuses a time-stamp over other data than the signature value', async () => {
    const pki = await devPki('RSA-2048');
    const tsa = new TimeStampAuthority(pki.tsa, { policyOid: POLICY });
    const cadesB = await signB(new TextEncoder().encode('{}'), pki.seal);
    const proof = cadesB.stamped(await tsa.issueToken({ hashAlgorithmOid: OID.sha256, hashedMessage: digest('SHA-256', new TextEncoder().encode('other data')) }));
    const result = await verify(proof, pki.root.certificate, 'other-imprint.der');
    expect(result.code).to.equal(1);
    expect(result.results[0]!.code).to.equal('TIMESTAMP_IMPRINT');
  });

  // The auditor CLI's test vectors (test/fixtures/verify/README.md): Bouncy Castle reaches the
  // same verdict, each tampering caught by its own check.
  describe('the auditor CLI\'s test vectors', () => {
    const FIXTURES = path.resolve('test/fixtures/verify');
    const VECTORS = [
      ['service-passed.p7s', 'root.pem', 'OK'],
      ['service-passed-consignment.p7s', 'root.pem', 'OK'],
      ['service-passed-p384.p7s', 'root-p384.pem', 'OK'],
      ['service-passed-rsa2048.p7s', 'root-rsa2048.pem', 'OK'],
      ['service-passed-rsa3072.p7s', 'root-rsa3072.pem', 'OK'],
      ['service-passed.p7s', 'other-root.pem', 'SIGNER_CHAIN'],
      ['service-expired-signer.p7s', 'expired-root.pem', 'SIGNER_CERTIFICATE_NOT_VALID'],
      ['service-timestamp-before-signing-time.p7s', 'root.pem', 'TIMESTAMP_BEFORE_SIGNING_TIME'],
      ['service-tampered-statement.p7s', 'root.pem', 'CMS_SIGNATURE'],
      ['service-tampered-signing-time.p7s', 'root.pem', 'CMS_SIGNATURE'],
      ['service-swapped-timestamp.p7s', 'root.pem', 'TIMESTAMP_IMPRINT'],
      ['service-truncated.p7s', 'root.pem', 'FORMAT'],
      ['openssl-cms-sign-cades-nodetach.p7s', 'root.pem', 'ATTRIBUTE_MISSING'],
      ['openssl-cms-sign-cades-nodetach-stream-ber.p7s', 'root.pem', 'NOT_DER'],
    ] as const;
    const verdicts = new Map<string, string>();
    const outputs: string[] = [];

    before(async () => {
      // one JVM per trust anchor
      for (const root of new Set(VECTORS.map((v) => v[1]))) {
        const files = VECTORS.filter((v) => v[1] === root).map((v) => path.join(FIXTURES, v[0]));
        const result = await bc.verify(path.join(FIXTURES, root), files);
        outputs.push(result.out);
        expect(result.results.map((r) => r.file)).to.deep.equal(files);
        for (const r of result.results) verdicts.set(`${path.basename(r.file)} ${root}`, r.ok ? 'OK' : r.code!);
      }
    });

    for (const [file, root, expected] of VECTORS) {
      it(`${file} against ${root}: ${expected}`, () => {
        expect(verdicts.get(`${file} ${root}`), outputs.join('\n')).to.equal(expected);
      });
    }
  });
});
