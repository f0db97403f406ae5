/**
 * The verifier's profile checks (src/crypto/CadesProfile.ts) beside OpenSSL 3, a verifier no
 * one here wrote:
 * - where OpenSSL also refuses a field outside the profile (`openssl cms -verify`: "unknown
 *   digest algorithm", "no matching digest"; `openssl ts -verify`: "unknown digest type",
 *   "unsupported version", "message imprint mismatch"), both refuse the same proof, ours with
 *   FORMAT_FAILURE on the named line. The proofs are built by proof-builder.ts with every
 *   signature valid, so the changed field is the only reason either refuses;
 * - the profile is not narrower than what OpenSSL itself writes: a CMS signature made by
 *   `openssl cms -sign -cades` (rsaEncryption for an RSA key) and a token made by
 *   `openssl ts -reply` both pass once the proof has its time-stamp.
 */
import { expect } from 'chai';
import fs from 'node:fs/promises';
import path from 'node:path';
import { oid, sequence } from '../../src/crypto/der.js';
import { parseSignedData } from '../../src/crypto/SignedData.js';
import { derToPem, extractTimeStamp, LocalTimeStamper, TimeStampAuthority, verifyCadesT, type DevPki, type VerificationReport } from '../../src/crypto/index.js';
import { withSignatureTimeStamp } from '../../scripts/proof-surgery.js';
import { devPki, openssl, tempDir } from '../unit/crypto/helpers.js';
import { buildProof, buildToken, hashAlgorithmId, type BuildOptions } from '../unit/crypto/proof-builder.js';

const UNKNOWN_DIGEST = sequence(oid('2.16.840.1.101.3.4.2.127'));

function lines(r: VerificationReport): string {
  return r.checks.map((c) => `${c.passed ? 'ok  ' : 'FAIL'} ${c.name} ${c.subIndication ?? ''} ${c.detail}`).join('\n');
}

for (const algorithm of ['ECDSA-P256', 'RSA-2048'] as const) {
  describe(`verify profile beside OpenSSL (${algorithm})`, () => {
    let dir: string;
    let pki: DevPki;
    const file = (name: string) => path.join(dir, name);

    before(async () => {
      dir = await tempDir('verify-profile-openssl-');
      pki = await devPki(algorithm);
      await fs.writeFile(file('root.pem'), derToPem(pki.root.certificate, 'CERTIFICATE'));
      await fs.writeFile(file('seal.pem'), derToPem(pki.seal.certificate, 'CERTIFICATE'));
      await fs.writeFile(file('seal.key'), derToPem(pki.sealKeyPkcs8, 'PRIVATE KEY'), { mode: 0o600 });
      await fs.writeFile(file('tsa.pem'), derToPem(pki.tsa.certificate, 'CERTIFICATE'));
      await fs.writeFile(file('tsa.key'), derToPem(pki.tsaKeyPkcs8, 'PRIVATE KEY'), { mode: 0o600 });
    });
    after(() => fs.rm(dir, { recursive: true, force: true }));

    /** Our verdict, and the exit code and stderr of `openssl cms -verify` and `openssl ts -verify` on the same proof. */
    async function verdicts(proof: Uint8Array, name: string) {
      await fs.writeFile(file(`${name}.p7s`), proof);
      const { token, signatureValue } = extractTimeStamp(proof);
      await fs.writeFile(file(`${name}.tst`), token);
      await fs.writeFile(file(`${name}.sig`), signatureValue);
      const cms = await openssl(['cms', '-verify', '-cades', '-inform', 'DER', '-in', file(`${name}.p7s`), '-CAfile', file('root.pem'), '-out', file(`${name}.out`)]);
      const ts = await openssl(['ts', '-verify', '-token_in', '-in', file(`${name}.tst`), '-data', file(`${name}.sig`), '-CAfile', file('root.pem')]);
      const ours = await verifyCadesT(proof, { trustAnchors: [pki.root.certificate] });
      return { ours, cms: { code: cms.code, stderr: cms.stderr }, ts: { code: ts.code, stderr: ts.stderr + ts.stdout.toString() } };
    }

    it('the proof as built passes both OpenSSL checks and ours (the baseline of the cases below)', async () => {
      const v = await verdicts(buildProof(pki), 'baseline');
      expect(v.cms.code, v.cms.stderr).to.equal(0);
      expect(v.ts.code, v.ts.stderr).to.equal(0);
      expect(v.ours.indication, lines(v.ours)).to.equal('TOTAL_PASSED');
    });

    const refused: Array<{ what: string; options: BuildOptions; tool: 'cms' | 'ts'; says: RegExp; line: string }> = [
      { what: 'SignedData.digestAlgorithms holding an unknown digest', options: { proof: { digestAlgorithms: [hashAlgorithmId('sha256'), UNKNOWN_DIGEST] } }, tool: 'cms', says: /unknown digest algorithm/, line: 'CMS_ALGORITHMS' },
      { what: 'SignedData.digestAlgorithms without the signer\'s digest (SHA-512 only)', options: { proof: { digestAlgorithms: [hashAlgorithmId('sha512')] } }, tool: 'cms', says: /no matching digest/, line: 'CMS_ALGORITHMS' },
      { what: 'SignerInfo.digestAlgorithm unknown', options: { proof: { digestAlgorithm: UNKNOWN_DIGEST } }, tool: 'cms', says: /unknown digest algorithm/, line: 'CMS_ALGORITHMS' },
      { what: 'the token\'s digestAlgorithms holding an unknown digest', options: { token: { digestAlgorithms: [hashAlgorithmId('sha256'), UNKNOWN_DIGEST] } }, tool: 'ts', says: /unknown digest type/, line: 'TIMESTAMP_ALGORITHMS' },
      { what: 'the token\'s SignerInfo.digestAlgorithm unknown', options: { token: { digestAlgorithm: UNKNOWN_DIGEST } }, tool: 'ts', says: /unknown digest type/, line: 'TIMESTAMP_ALGORITHMS' },
      { what: 'TSTInfo version 2 (signed by the TSA)', options: { token: { tstInfoVersion: 2 } }, tool: 'ts', says: /unsupported version/, line: 'TIMESTAMP_VERSION' },
      { what: 'messageImprint hashAlgorithm with parameters neither absent nor NULL', options: { token: { imprintAlgorithm: hashAlgorithmId('sha256', Uint8Array.of(0x04, 0x00)) } }, tool: 'ts', says: /message imprint mismatch/, line: 'TIMESTAMP_ALGORITHMS' },
    ];
    for (const [i, c] of refused.entries()) {
      it(`${c.what}: openssl ${c.tool} -verify refuses it, and we say FORMAT_FAILURE on ${c.line}`, async () => {
        const v = await verdicts(buildProof(pki, c.options), `refused-${i}`);
        expect(v[c.tool].code, v[c.tool].stderr).to.not.equal(0);
        expect(v[c.tool].stderr).to.match(c.says);
        expect(v.ours.indication, lines(v.ours)).to.equal('TOTAL_FAILED');
        expect(v.ours.subIndication, lines(v.ours)).to.equal('FORMAT_FAILURE');
        expect(v.ours.checks.find((k) => k.name === c.line && !k.passed), lines(v.ours)).to.include({ subIndication: 'FORMAT_FAILURE' });
      });
    }

    it('a CAdES signature made by openssl cms -sign -cades, time-stamped by the built-in TSA, fits the profile: TOTAL_PASSED', async () => {
      await fs.writeFile(file('content.json'), '{"Version":"1"}');
      const signed = await openssl(['cms', '-sign', '-cades', '-binary', '-nodetach', '-nosmimecap', '-md', 'sha256', '-in', file('content.json'), '-signer', file('seal.pem'), '-inkey', file('seal.key'), '-certfile', file('root.pem'), '-outform', 'DER', '-out', file('openssl-signed.p7s')]);
      expect(signed.code, signed.stderr).to.equal(0);
      const cadesB = new Uint8Array(await fs.readFile(file('openssl-signed.p7s')));
      // a CAdES-B has no token yet: its signature value is the SignerInfo's signature OCTET STRING contents
      const signatureValue = parseSignedData(cadesB).signerInfos[0]!.signature;
      const token = await new LocalTimeStamper(new TimeStampAuthority(pki.tsa, { policyOid: '1.3.6.1.4.1.99999.1.3161' })).timestamp(signatureValue);
      const r = await verifyCadesT(withSignatureTimeStamp(cadesB, token), { trustAnchors: [pki.root.certificate] });
      expect(r.indication, lines(r)).to.equal('TOTAL_PASSED');
    });

    it('a token made by openssl ts -reply fits the profile: TOTAL_PASSED in a proof', async () => {
      const proof = buildProof(pki);
      const { signatureValue } = extractTimeStamp(proof);
      await fs.writeFile(file('sigvalue.bin'), signatureValue);
      await fs.writeFile(file('serial.txt'), '01\n');
      await fs.writeFile(
        file('ts.cnf'),
        [
          '[ tsa ]',
          'default_tsa = tsa_config',
          '[ tsa_config ]',
          `serial = ${file('serial.txt')}`,
          `signer_cert = ${file('tsa.pem')}`,
          `signer_key = ${file('tsa.key')}`,
          'signer_digest = sha256',
          'default_policy = 1.3.6.1.4.1.99999.1.3161',
          'digests = sha256, sha384, sha512',
          'ess_cert_id_alg = sha256',
          'ess_cert_id_chain = no',
          'accuracy = secs:1',
          'ordering = no',
          'tsa_name = no',
          '',
        ].join('\n'),
      );
      expect((await openssl(['ts', '-query', '-data', file('sigvalue.bin'), '-sha256', '-cert', '-out', file('q.tsq')])).code).to.equal(0);
      const reply = await openssl(['ts', '-reply', '-config', file('ts.cnf'), '-queryfile', file('q.tsq'), '-token_out', '-out', file('openssl-token.der')]);
      expect(reply.code, reply.stderr).to.equal(0);
      const token = new Uint8Array(await fs.readFile(file('openssl-token.der')));
      const r = await verifyCadesT(withSignatureTimeStamp(proof, token), { trustAnchors: [pki.root.certificate] });
      expect(r.indication, lines(r)).to.equal('TOTAL_PASSED');
    });

    it('buildToken and openssl ts -verify agree on a token as built', async () => {
      const data = new TextEncoder().encode('checkpoint 42');
      await fs.writeFile(file('data.bin'), data);
      await fs.writeFile(file('built.tst'), buildToken(pki, data));
      const r = await openssl(['ts', '-verify', '-token_in', '-in', file('built.tst'), '-data', file('data.bin'), '-CAfile', file('root.pem')]);
      expect(r.code, r.stderr + r.stdout.toString()).to.equal(0);
    });
  });
}
