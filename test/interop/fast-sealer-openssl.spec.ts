/**
 * The fast sealing path (FastSealer + the built-in TSA's native token writer) checked by
 * OpenSSL 3 and Bouncy Castle, as test/interop/crypto-openssl.spec.ts and
 * crypto-bouncycastle.spec.ts check the object path: `cms -verify -cades`, `cms -cmsout`
 * giving back identical bytes (strict DER), `ts -verify` of the signature time-stamp over the
 * signature value; for a small statement, a 100 KB document and a GeneralizedTime
 * signing-time. Also the native TSA's answers to `openssl ts -query`. Bouncy Castle
 * (test/helpers/bouncycastle.ts; fails, never skips, without a JDK and libbcpkix-java)
 * re-encodes what it reads.
 */
import { expect } from 'chai';
import fs from 'node:fs/promises';
import path from 'node:path';
import { FastSealer } from '../../src/crypto/FastSealer.js';
import { TimeStampAuthority, derToPem, extractTimeStamp, verifyCadesT } from '../../src/crypto/index.js';
import { nativeSigningIdentity } from '../../src/crypto/SignerTemplate.js';
import { compileBouncyCastleVerifier, type BcVerifier } from '../helpers/bouncycastle.js';
import { ALGORITHMS, bytes, devPki, openssl, opensslOk, tempDir } from '../unit/crypto/helpers.js';

const POLICY = '1.3.6.1.4.1.99999.1.3161';
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

const CONTENTS: Array<[string, () => Uint8Array, Date | undefined]> = [
  ['a statement', () => new TextEncoder().encode(JSON.stringify({ EvidenceIdentifier: 'fast-interop', EventTime: new Date().toISOString() })), undefined],
  ['a 100 KB document', () => new Uint8Array(100 * 1024).map((_, i) => (i * 31 + 7) & 0xff), new Date(Date.now() - 60_000)],
  ['a GeneralizedTime signing-time (2051)', () => new TextEncoder().encode('{"year":2051}'), new Date(Date.UTC(2051, 5, 1, 12, 0, 0))],
];

describe('fast sealing path interop', () => {
  let bc: BcVerifier;
  before(async function () {
    this.timeout(120_000);
    bc = await compileBouncyCastleVerifier();
  });
  after(async () => bc?.close());

  for (const algorithm of ALGORITHMS) {
    describe(`fast sealing path interop with OpenSSL and Bouncy Castle (${algorithm})`, () => {
      let dir: string;
      let tsa: TimeStampAuthority;
      let sealer: FastSealer;
      const file = (name: string) => path.join(dir, name);

      before(async () => {
        dir = await tempDir('fast-openssl-');
        const pki = await devPki(algorithm);
        tsa = new TimeStampAuthority(pki.tsa, { policyOid: POLICY, accuracyMs: 1 });
        expect(tsa.tokenTemplate, 'the TSA signs natively').to.not.equal(undefined);
        sealer = new FastSealer(nativeSigningIdentity(pki.seal)!, tsa.tokenTemplate);
        await fs.writeFile(file('root.pem'), derToPem(pki.root.certificate, 'CERTIFICATE'));
        await fs.writeFile(file('tsa.pem'), derToPem(pki.tsa.certificate, 'CERTIFICATE'));
        await fs.writeFile(file('data.txt'), 'data to time-stamp\n');
      });
      after(() => fs.rm(dir, { recursive: true, force: true }));

      CONTENTS.forEach(([what, make, signingTime], i) => {
        it(`OpenSSL accepts the proof of ${what}: cms -verify -cades, cms -cmsout identical, ts -verify`, async () => {
          const content = make();
          const proof = sealer.sealSync(content, signingTime);
          await fs.writeFile(file(`proof${i}.der`), proof);
          await opensslOk(['cms', '-verify', '-cades', '-binary', '-inform', 'DER', '-in', file(`proof${i}.der`), '-CAfile', file('root.pem'), '-out', file(`content${i}.bin`)]);
          expect(hex(bytes(await fs.readFile(file(`content${i}.bin`))))).to.equal(hex(content));
          const out = await opensslOk(['cms', '-cmsout', '-inform', 'DER', '-in', file(`proof${i}.der`), '-outform', 'DER']);
          expect(hex(bytes(out.stdout))).to.equal(hex(proof));
          const { token, signatureValue } = extractTimeStamp(proof);
          await fs.writeFile(file(`token${i}.der`), token);
          await fs.writeFile(file(`sig${i}.bin`), signatureValue);
          const ts = await opensslOk(['ts', '-verify', '-token_in', '-in', file(`token${i}.der`), '-data', file(`sig${i}.bin`), '-CAfile', file('root.pem'), '-untrusted', file('tsa.pem')]);
          expect(ts.stdout.toString()).to.contain('Verification: OK');
          // a tampered content is refused by OpenSSL too: the test can fail
          const tampered = proof.slice();
          tampered[Buffer.from(tampered).indexOf(Buffer.from(content.subarray(0, 8)))]! ^= 0x01;
          await fs.writeFile(file(`tampered${i}.der`), tampered);
          expect((await openssl(['cms', '-verify', '-cades', '-binary', '-inform', 'DER', '-in', file(`tampered${i}.der`), '-CAfile', file('root.pem'), '-out', file('x.bin')])).code).to.not.equal(0);
          if (!signingTime || signingTime.getTime() < Date.now()) {
            expect((await verifyCadesT(proof, { trustAnchors: [(await devPki(algorithm)).root.certificate] })).indication).to.equal('TOTAL_PASSED');
          }
        });

        it(`Bouncy Castle accepts the proof of ${what}`, async () => {
          const content = make();
          const proof = sealer.sealSync(content, signingTime && signingTime.getTime() < Date.now() ? signingTime : undefined);
          await fs.writeFile(file(`bc${i}.der`), proof);
          const result = await bc.verify(file('root.pem'), [file(`bc${i}.der`)]);
          expect(result.results, result.out).to.have.length(1);
          expect(result.results[0]!.ok, result.out).to.equal(true);
          expect(hex(result.results[0]!.content!)).to.equal(hex(content));
          expect(result.code).to.equal(0);
        });
      });

      it('the native TSA answers openssl ts -query: ts -verify OK, ts -reply re-encodes to the same bytes', async () => {
        await opensslOk(['ts', '-query', '-data', file('data.txt'), '-sha256', '-cert', '-out', file('q.tsq')]);
        const reply = await tsa.respond(bytes(await fs.readFile(file('q.tsq'))));
        await fs.writeFile(file('reply.tsr'), reply);
        const verified = await opensslOk(['ts', '-verify', '-queryfile', file('q.tsq'), '-in', file('reply.tsr'), '-CAfile', file('root.pem'), '-untrusted', file('tsa.pem')]);
        expect(verified.stdout.toString()).to.contain('Verification: OK');
        await opensslOk(['ts', '-reply', '-in', file('reply.tsr'), '-out', file('again.tsr')]);
        expect(hex(bytes(await fs.readFile(file('again.tsr'))))).to.equal(hex(reply));
        const text = (await opensslOk(['ts', '-reply', '-in', file('reply.tsr'), '-text'])).stdout.toString();
        expect(text).to.contain(`Policy OID: ${POLICY}`);
        expect(text).to.contain('Ordering: no');
      });
    });
  }
});
