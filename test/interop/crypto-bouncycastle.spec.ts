/**
 * Optional: the proofs checked by Bouncy Castle, a verifier that re-encodes what it reads
 * (as EU DSS does) and so refuses what OpenSSL lets through. Needs a JDK and the Debian
 * package libbcpkix-java (`apt-get install -y libbcpkix-java`); skipped when either is missing.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { digest } from '../../src/crypto/AlgorithmIdentifier.js';
import { LocalTimeStamper, TimeStampAuthority, addSignatureTimeStamp, sealCadesT, signCadesB } from '../../src/crypto/index.js';
import { OID } from '../../src/crypto/oids.js';
import { parseSignedData } from '../../src/crypto/SignedData.js';
import { ALGORITHMS, devPki, tempDir } from '../unit/crypto/helpers.js';

const JARS = ['bcprov.jar', 'bcutil.jar', 'bcpkix.jar'].map((j) => path.join('/usr/share/java', j));
const SOURCE = path.resolve('test/fixtures/crypto/bouncycastle/VerifyCadesT.java');
const POLICY = '1.3.6.1.4.1.99999.1.3161';

function run(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, (err, stdout, stderr) => resolve({ code: err ? 1 : 0, out: `${stdout}${stderr}` }));
  });
}

describe('crypto interop with Bouncy Castle (optional)', function () {
  let dir: string;
  let classpath: string;

  before(async function () {
    if (!JARS.every((j) => existsSync(j)) || (await run('javac', ['-version'])).code !== 0) {
      // .ci/run installs libbcpkix-java: in CI a missing verifier is a failure, not a skip
      if (process.env.CI) throw new Error('Bouncy Castle (libbcpkix-java) or javac is missing');
      this.skip();
    }
    dir = await tempDir('crypto-bc-');
    const compiled = await run('javac', ['-nowarn', '-cp', JARS.join(':'), '-d', dir, SOURCE]);
    if (compiled.code !== 0) throw new Error(`javac failed:\n${compiled.out}`);
    classpath = [...JARS, dir].join(':');
  });
  after(async () => {
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  const verify = async (proof: Uint8Array, name: string) => {
    const file = path.join(dir, name);
    await fs.writeFile(file, proof);
    return run('java', ['-cp', classpath, 'VerifyCadesT', file]);
  };

  for (const algorithm of ALGORITHMS) {
    it(`accepts a proof (${algorithm})`, async () => {
      const pki = await devPki(algorithm);
      const tsa = new TimeStampAuthority(pki.tsa, { policyOid: POLICY, accuracyMs: 1 });
      const proof = await sealCadesT(new TextEncoder().encode(`{"bc":"${algorithm}"}`), pki.seal, new LocalTimeStamper(tsa));
      const result = await verify(proof, `${algorithm}.der`);
      expect(result.out).to.contain('BC: OK');
      expect(result.code).to.equal(0);
    });
  }

  it('refuses a token whose TSA certificate has a non-critical timeStamping usage', async () => {
    const bad = await devPki('ECDSA-P256', { tsaExtendedKeyUsage: 'non-critical' });
    const tsa = new TimeStampAuthority(bad.tsa, { policyOid: POLICY, allowUnsuitableCertificate: true });
    const cadesB = await signCadesB(new TextEncoder().encode('{}'), bad.seal);
    const signature = parseSignedData(cadesB).signerInfos[0]!.signature;
    const proof = addSignatureTimeStamp(cadesB, await tsa.issueToken({ hashAlgorithmOid: OID.sha256, hashedMessage: digest('SHA-256', signature) }));
    const result = await verify(proof, 'bad-tsa.der');
    expect(result.code).to.not.equal(0);
    expect(result.out).to.match(/ExtendedKeyUsage|critical/i);
  });
});
