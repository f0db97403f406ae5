/**
 * The one writer of proofs and time-stamp tokens (src/crypto/CadesT.ts,
 * TimeStampTokenTemplate.ts, SignerTemplate.ts) judged by verifiers no one here wrote, for
 * every key algorithm:
 *
 * - proofs: `openssl cms -verify -cades`, `cms -cmsout` giving back identical bytes (strict
 *   DER: a re-encoder changes nothing), `ts -verify` of the signature time-stamp over the
 *   signature value, and Bouncy Castle (test/helpers/bouncycastle.ts; fails, never skips,
 *   without a JDK and libbcpkix-java), which re-encodes what it reads. Contents of every
 *   length-encoding boundary (0, 127/128, 255/256, 65,535/65,536 octets) up to 100 KB, and
 *   signing-times written as UTCTime and as GeneralizedTime (before 1950, after 2049);
 * - the same through a signer that signs asynchronously only (a key of another WebCrypto
 *   engine, as a PKCS#11 token's would be);
 * - the TSA's answers for SHA-256/384/512 imprints, with and without certReq and nonce, and
 *   with hash parameters absent or NULL: `openssl ts -verify -queryfile` and `ts -reply`
 *   re-encoding to the same bytes.
 */
import { Crypto as PeculiarCrypto } from '@peculiar/webcrypto';
import { expect } from 'chai';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Tag, derNull, oid, sequence } from '../../src/crypto/der.js';
import { CadesTWriter, TimeStampAuthority, WebCryptoSigner, derToPem, extractTimeStamp, signerFor, verifyCadesT, type DevPki, type Signer } from '../../src/crypto/index.js';
import { OID } from '../../src/crypto/oids.js';
import { parseSignedData } from '../../src/crypto/SignedData.js';
import { importPkcs8 } from '../../src/crypto/SigningIdentity.js';
import { encodeTimeStampReq } from '../../src/crypto/TimeStampReq.js';
import { parseTimeStampResp } from '../../src/crypto/TimeStampResp.js';
import { parseTSTInfo } from '../../src/crypto/TSTInfo.js';
import { compileBouncyCastleVerifier, type BcVerifier } from '../helpers/bouncycastle.js';
import { ALGORITHMS, bytes, devPki, openssl, opensslOk, tempDir } from '../unit/crypto/helpers.js';

const POLICY = '1.3.6.1.4.1.99999.1.3161';
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const pattern = (n: number) => new Uint8Array(n).map((_, i) => (i * 31 + 7) & 0xff);

/** [what, content, signing-time (undefined: now)] */
const CONTENTS: Array<[string, () => Uint8Array, Date | undefined]> = [
  ['a statement', () => new TextEncoder().encode(JSON.stringify({ EvidenceIdentifier: 'writer-interop', EventTime: new Date().toISOString() })), undefined],
  ['a 100 KB document', () => pattern(100 * 1024), new Date(Date.now() - 60_000)],
  ...[0, 1, 127, 128, 255, 256, 65_535, 65_536].map((n): [string, () => Uint8Array, Date | undefined] => [`${n} octets`, () => pattern(n), undefined]),
  ['a GeneralizedTime signing-time (2051)', () => new TextEncoder().encode('{"year":2051}'), new Date(Date.UTC(2051, 5, 1, 12, 0, 0))],
  ['a GeneralizedTime signing-time (1949)', () => new TextEncoder().encode('{"year":1949}'), new Date(Date.UTC(1949, 11, 31, 23, 59, 59))],
];

/** The dev PKI's keys imported into another WebCrypto engine: signers that cannot sign synchronously. */
async function foreignSigners(pki: DevPki): Promise<{ seal: Signer; tsa: Signer }> {
  const engine = new PeculiarCrypto();
  const seal = await importPkcs8(pki.sealKeyPkcs8, { crypto: engine });
  const tsa = await importPkcs8(pki.tsaKeyPkcs8, { crypto: engine });
  return {
    seal: new WebCryptoSigner({ ...pki.seal, privateKey: seal.privateKey }, engine),
    tsa: new WebCryptoSigner({ ...pki.tsa, privateKey: tsa.privateKey }, engine),
  };
}

describe('the proof and token writer against OpenSSL and Bouncy Castle', () => {
  let bc: BcVerifier;
  before(async function () {
    this.timeout(120_000);
    bc = await compileBouncyCastleVerifier();
  });
  after(async () => bc?.close());

  for (const algorithm of ALGORITHMS) {
    describe(`${algorithm}`, () => {
      let dir: string;
      let pki: DevPki;
      let tsa: TimeStampAuthority;
      let writer: CadesTWriter;
      const file = (name: string) => path.join(dir, name);

      before(async () => {
        dir = await tempDir('writer-openssl-');
        pki = await devPki(algorithm);
        tsa = new TimeStampAuthority(pki.tsa, { policyOid: POLICY, accuracyMs: 1 });
        writer = new CadesTWriter(signerFor(pki.seal), tsa.tokenTemplate);
        expect(writer.synchronous, 'keys held in this process sign without waiting').to.equal(true);
        await fs.writeFile(file('root.pem'), derToPem(pki.root.certificate, 'CERTIFICATE'));
        await fs.writeFile(file('tsa.pem'), derToPem(pki.tsa.certificate, 'CERTIFICATE'));
        await fs.writeFile(file('data.txt'), 'data to time-stamp\n');
      });
      after(() => fs.rm(dir, { recursive: true, force: true }));

      /** OpenSSL's three checks of a proof, and that a tampered copy is refused. */
      async function opensslAccepts(proof: Uint8Array, content: Uint8Array, name: string): Promise<void> {
        await fs.writeFile(file(`${name}.der`), proof);
        await opensslOk(['cms', '-verify', '-cades', '-binary', '-inform', 'DER', '-in', file(`${name}.der`), '-CAfile', file('root.pem'), '-out', file(`${name}.content`)]);
        expect(hex(bytes(await fs.readFile(file(`${name}.content`))))).to.equal(hex(content));
        const out = await opensslOk(['cms', '-cmsout', '-inform', 'DER', '-in', file(`${name}.der`), '-outform', 'DER']);
        expect(hex(bytes(out.stdout)), 'cms -cmsout re-encodes to the same bytes').to.equal(hex(proof));
        const { token, signatureValue } = extractTimeStamp(proof);
        await fs.writeFile(file(`${name}.token`), token);
        await fs.writeFile(file(`${name}.sig`), signatureValue);
        const ts = await opensslOk(['ts', '-verify', '-token_in', '-in', file(`${name}.token`), '-data', file(`${name}.sig`), '-CAfile', file('root.pem'), '-untrusted', file('tsa.pem')]);
        expect(ts.stdout.toString()).to.contain('Verification: OK');
        // a tampered signature value is refused by OpenSSL too: the check can fail
        const tampered = proof.slice();
        const sig = parseSignedData(proof).signerInfos[0]!.node.children[5]!;
        tampered[sig.offset + sig.bytes.length - 1]! ^= 0x01;
        await fs.writeFile(file(`${name}.tampered`), tampered);
        expect((await openssl(['cms', '-verify', '-cades', '-binary', '-inform', 'DER', '-in', file(`${name}.tampered`), '-CAfile', file('root.pem'), '-out', file('x.bin')])).code).to.not.equal(0);
      }

      CONTENTS.forEach(([what, make, signingTime], i) => {
        it(`OpenSSL accepts the proof of ${what}: cms -verify -cades, cms -cmsout identical, ts -verify`, async () => {
          const content = make();
          const proof = writer.sealSync(content, signingTime);
          await opensslAccepts(proof, content, `proof${i}`);
          const report = await verifyCadesT(proof, { trustAnchors: [pki.root.certificate] });
          // a signing-time after the time-stamp is not trusted (TIMESTAMP_ORDER), but the bytes are sound
          expect(report.indication).to.equal(signingTime && signingTime.getTime() > Date.now() ? 'INDETERMINATE' : 'TOTAL_PASSED');
          const year = (signingTime ?? new Date()).getUTCFullYear();
          const time = parseSignedData(proof).signerInfos[0]!.signedAttrs!.attributes.find((a) => a.type === OID.signingTime)!.values[0]!;
          expect(time.tag, 'UTCTime from 1950 to 2049, else GeneralizedTime (RFC 5652 §11.3)').to.equal(year >= 1950 && year <= 2049 ? Tag.UTC_TIME : Tag.GENERALIZED_TIME);
        });
      });

      it('Bouncy Castle accepts the proof of every content', async () => {
        const files: string[] = [];
        const contents = new Map<string, Uint8Array>();
        for (const [i, [, make, signingTime]] of CONTENTS.entries()) {
          const content = make();
          // Bouncy Castle checks the signing-time against the certificates and the time-stamp: keep it now for the far dates
          const proof = writer.sealSync(content, signingTime && signingTime.getTime() < Date.now() && signingTime.getTime() > Date.now() - 3_600_000 ? signingTime : undefined);
          files.push(file(`bc${i}.der`));
          contents.set(file(`bc${i}.der`), content);
          await fs.writeFile(file(`bc${i}.der`), proof);
        }
        const result = await bc.verify(file('root.pem'), files);
        expect(result.results, result.out).to.have.length(files.length);
        for (const r of result.results) {
          expect(r.ok, `${r.file}: ${r.code} ${r.reason}`).to.equal(true);
          expect(hex(r.content!)).to.equal(hex(contents.get(r.file)!));
        }
        expect(result.code).to.equal(0);
      });

      it('a signer that signs asynchronously only writes the same kind of proof and token: OpenSSL and Bouncy Castle accept them', async () => {
        const foreign = await foreignSigners(pki);
        expect(foreign.seal.signSync).to.equal(undefined);
        const foreignTsa = new TimeStampAuthority(foreign.tsa, { policyOid: POLICY, accuracyMs: 1 });
        expect(foreignTsa.synchronous).to.equal(false);
        expect(foreignTsa.respondSync(Uint8Array.of(0))).to.equal(undefined);
        const asyncWriter = new CadesTWriter(foreign.seal, foreignTsa.tokenTemplate);
        expect(asyncWriter.synchronous).to.equal(false);
        expect(() => asyncWriter.sealSync(Uint8Array.of(1))).to.throw(/asynchronously/);
        const content = new TextEncoder().encode(`{"signer":"another engine","algorithm":"${algorithm}"}`);
        const proof = await asyncWriter.seal(content, undefined, new Date(Date.now() - 1000));
        await opensslAccepts(proof, content, 'async');
        expect((await verifyCadesT(proof, { trustAnchors: [pki.root.certificate] })).indication).to.equal('TOTAL_PASSED');
        const result = await bc.verify(file('root.pem'), [file('async.der')]);
        expect(result.results[0]?.ok, result.out).to.equal(true);
        // and the same layout as the synchronous writer: only the values that change per signature differ
        const sync = parseSignedData(writer.sealSync(content, new Date(Date.now() - 1000)));
        const other = parseSignedData(proof);
        expect(other.certificates.map(hex)).to.deep.equal(sync.certificates.map(hex));
        for (const c of [0, 1, 2, 4]) expect(hex(other.signerInfos[0]!.node.children[c]!.bytes), `SignerInfo component ${c}`).to.equal(hex(sync.signerInfos[0]!.node.children[c]!.bytes));
        // its TSA answers an openssl ts -query through `respond`
        await opensslOk(['ts', '-query', '-data', file('data.txt'), '-sha256', '-cert', '-out', file('async.tsq')]);
        await fs.writeFile(file('async.tsr'), await foreignTsa.respond(bytes(await fs.readFile(file('async.tsq')))));
        const verified = await opensslOk(['ts', '-verify', '-queryfile', file('async.tsq'), '-in', file('async.tsr'), '-CAfile', file('root.pem'), '-untrusted', file('tsa.pem')]);
        expect(verified.stdout.toString()).to.contain('Verification: OK');
      });

      const HASHES = [
        ['sha256', OID.sha256, 32],
        ['sha384', OID.sha384, 48],
        ['sha512', OID.sha512, 64],
      ] as const;
      for (const [hash, hashOid, length] of HASHES) {
        for (const certReq of [true, false]) {
          for (const nonce of [true, false]) {
            it(`the TSA's answer to openssl ts -query -${hash}${certReq ? ' -cert' : ''}${nonce ? '' : ' -no_nonce'}: ts -verify OK, ts -reply re-encodes to the same bytes`, async () => {
              const name = `q-${hash}-${certReq}-${nonce}`;
              await opensslOk(['ts', '-query', '-data', file('data.txt'), `-${hash}`, ...(certReq ? ['-cert'] : []), ...(nonce ? [] : ['-no_nonce']), '-out', file(`${name}.tsq`)]);
              await checkReply(name, bytes(await fs.readFile(file(`${name}.tsq`))), certReq, nonce);
            });
          }
        }
        it(`the TSA's answer to a ${hash} request whose hash parameters are absent, and NULL`, async () => {
          const hashedMessage = new Uint8Array(length).map((_, i) => i);
          for (const [parameters, withNull] of [
            [sequence(oid(hashOid)), false],
            [sequence(oid(hashOid), derNull()), true],
          ] as const) {
            const request = encodeTimeStampReq({ messageImprint: { hashAlgorithmOid: hashOid, hashAlgorithmDer: parameters, hashedMessage }, certReq: true, nonce: 0x0123456789abcdefn });
            const name = `own-${hash}-${withNull}`;
            await fs.writeFile(file(`${name}.tsq`), request);
            const tstInfo = await checkReply(name, request, true, true);
            expect(hex(tstInfo.messageImprint.hashAlgorithmDer), 'the imprint is written as requested').to.equal(hex(parameters));
          }
        });
      }

      /** Has the TSA answer `request`, then OpenSSL check the reply against the request and re-encode it. */
      async function checkReply(name: string, request: Uint8Array, certReq: boolean, nonce: boolean) {
        const reply = await tsa.respond(request);
        expect(parseTimeStampResp(tsa.respondSync(request)!).status, 'respondSync answers too').to.equal('granted');
        await fs.writeFile(file(`${name}.tsr`), reply);
        const verified = await opensslOk(['ts', '-verify', '-queryfile', file(`${name}.tsq`), '-in', file(`${name}.tsr`), '-CAfile', file('root.pem'), '-untrusted', file('tsa.pem')]);
        expect(verified.stdout.toString()).to.contain('Verification: OK');
        await opensslOk(['ts', '-reply', '-in', file(`${name}.tsr`), '-out', file(`${name}.again.tsr`)]);
        expect(hex(bytes(await fs.readFile(file(`${name}.again.tsr`)))), 'ts -reply re-encodes to the same bytes').to.equal(hex(reply));
        const text = (await opensslOk(['ts', '-reply', '-in', file(`${name}.tsr`), '-text'])).stdout.toString();
        expect(text).to.contain('Status: Granted.');
        expect(text).to.contain(`Policy OID: ${POLICY}`);
        expect(text).to.contain('Ordering: no');
        expect(text).to.match(nonce ? /Nonce: 0x[0-9A-F]+/ : /Nonce: unspecified/);
        const token = parseTimeStampResp(reply).token!;
        expect(parseSignedData(token).certificates.map(hex), 'the TSA certificate only on certReq').to.deep.equal(certReq ? [hex(pki.tsa.certificate)] : []);
        return parseTSTInfo(parseSignedData(token).eContent!);
      }
    });
  }
});
