/**
 * The verifier checks every version and algorithm identifier of a proof and of its time-stamp
 * token against the profile (src/crypto/CadesProfile.ts, docs/cades-profile.md). Each test
 * changes one field of a proof built by proof-builder.ts, re-signing whatever covers it, so the
 * field is the only thing wrong; the verdict must be FORMAT_FAILURE on the named line. Where a
 * field is changed in place under a signature, the proof fails for two reasons and the test
 * asserts that FORMAT_FAILURE (the profile line) is the one reported.
 */
import { expect } from 'chai';
import { derNull, octetString, oid, readDer, sequence, tlv } from '../../../src/crypto/der.js';
import { TimeStampError, verifyCadesT, verifyTimeStampToken, type DevPki, type VerificationReport } from '../../../src/crypto/index.js';
import { OID } from '../../../src/crypto/oids.js';
import { parseSignedData } from '../../../src/crypto/SignedData.js';
import { checkTokenAnswers } from '../../../src/crypto/TimeStamper.js';
import { ALGORITHMS, devPki } from './helpers.js';
import { buildProof, buildToken, defaultSignatureAlgorithm, hashAlgorithmId, type BuildOptions, type TokenOverrides } from './proof-builder.js';

function lines(r: VerificationReport): string {
  return r.checks.map((c) => `${c.passed ? 'ok  ' : 'FAIL'} ${c.name} ${c.subIndication ?? ''} ${c.detail}`).join('\n');
}

function expectPassed(r: VerificationReport): void {
  expect(r.indication, lines(r)).to.equal('TOTAL_PASSED');
}

/** FORMAT_FAILURE is the verdict, and `line` is a failed line with it. */
function expectProfileFailure(r: VerificationReport, line: string): void {
  expect(r.indication, lines(r)).to.equal('TOTAL_FAILED');
  expect(r.subIndication, lines(r)).to.equal('FORMAT_FAILURE');
  expect(r.checks.find((c) => c.name === line && !c.passed), `${line} fails\n${lines(r)}`).to.include({ subIndication: 'FORMAT_FAILURE' });
}

/** An empty OCTET STRING: a parameters field that is neither absent nor NULL. */
const EMPTY_OCTETS = octetString(new Uint8Array(0));
const UNKNOWN_DIGEST = sequence(oid('2.16.840.1.101.3.4.2.127'));

/** Returns `der` with the first occurrence of `from` replaced by `to` (same length). */
function replaceOnce(der: Uint8Array, from: Uint8Array, to: Uint8Array, after = 0): Uint8Array {
  const i = Buffer.from(der).indexOf(Buffer.from(from), after);
  if (i < 0 || from.length !== to.length) throw new Error('pattern not found');
  const out = new Uint8Array(der);
  out.set(to, i);
  return out;
}

for (const algorithm of ALGORITHMS) {
  const family = algorithm.startsWith('RSA') ? 'RSA' : 'ECDSA';

  describe(`crypto/CAdES profile: versions and algorithm identifiers (${algorithm})`, () => {
    let pki: DevPki;
    let anchors: Uint8Array[];
    const verify = (options: BuildOptions) => verifyCadesT(buildProof(pki, options), { trustAnchors: anchors });

    before(async () => {
      pki = await devPki(algorithm);
      anchors = [pki.root.certificate];
    });

    it('a proof built as the sealer builds it passes, with the four profile lines', async () => {
      const r = await verify({});
      expectPassed(r);
      for (const name of ['CMS_VERSION', 'CMS_ALGORITHMS', 'TIMESTAMP_VERSION', 'TIMESTAMP_ALGORITHMS']) expect(r.checks.find((c) => c.name === name), name).to.include({ passed: true });
    });

    describe('the proof (RFC 5652 §5.1, §5.3; RFC 5754; RFC 5758; RFC 4055)', () => {
      for (const version of [0, 2, 3, 4, 5]) {
        it(`SignedData version ${version} instead of 1 (id-data, SignerInfo v1): CMS_VERSION`, async () => {
          expectProfileFailure(await verify({ proof: { signedDataVersion: version } }), 'CMS_VERSION');
        });
      }

      it('SignerInfo version 3 with an issuerAndSerialNumber sid: CMS_VERSION', async () => {
        expectProfileFailure(await verify({ proof: { signerInfoVersion: 3 } }), 'CMS_VERSION');
      });

      it('digestAlgorithms without the SignerInfo\'s digest algorithm: CMS_ALGORITHMS', async () => {
        expectProfileFailure(await verify({ proof: { digestAlgorithms: [hashAlgorithmId('sha512')] } }), 'CMS_ALGORITHMS');
      });

      it('digestAlgorithms naming an algorithm no SignerInfo uses: CMS_ALGORITHMS', async () => {
        expectProfileFailure(await verify({ proof: { digestAlgorithms: [hashAlgorithmId('sha256'), hashAlgorithmId('sha512')] } }), 'CMS_ALGORITHMS');
      });

      it('digestAlgorithms with an algorithm outside the profile (unknown, SHA-1): CMS_ALGORITHMS', async () => {
        expectProfileFailure(await verify({ proof: { digestAlgorithms: [hashAlgorithmId('sha256'), UNKNOWN_DIGEST] } }), 'CMS_ALGORITHMS');
        expectProfileFailure(await verify({ proof: { digestAlgorithms: [hashAlgorithmId('sha1'), hashAlgorithmId('sha256')] } }), 'CMS_ALGORITHMS');
      });

      it('digestAlgorithms empty: CMS_ALGORITHMS', async () => {
        expectProfileFailure(await verify({ proof: { digestAlgorithms: [] } }), 'CMS_ALGORITHMS');
      });

      it('a digest algorithm whose parameters are neither absent nor NULL: CMS_ALGORITHMS', async () => {
        expectProfileFailure(await verify({ proof: { digestAlgorithms: [hashAlgorithmId('sha256', EMPTY_OCTETS)] } }), 'CMS_ALGORITHMS');
        expectProfileFailure(await verify({ proof: { digestAlgorithm: hashAlgorithmId('sha256', EMPTY_OCTETS), digestAlgorithms: [hashAlgorithmId('sha256')] } }), 'CMS_ALGORITHMS');
      });

      it('SHA-256 with NULL parameters passes (RFC 5754 §2: verifiers accept absent and NULL)', async () => {
        const nullParams = hashAlgorithmId('sha256', derNull());
        expectPassed(await verify({ proof: { digestAlgorithm: nullParams, digestAlgorithms: [nullParams] } }));
      });

      it('SHA-384 throughout (digest, digestAlgorithms, signature algorithm) passes', async () => {
        expectPassed(await verify({ proof: { hash: 'sha384' } }));
      });

      it('SHA-1 throughout, consistently signed: CMS_ALGORITHMS, not a hash or signature failure', async () => {
        expectProfileFailure(await verify({ proof: { hash: 'sha1' } }), 'CMS_ALGORITHMS');
      });

      it('a signature algorithm naming another hash than the digest algorithm: CMS_ALGORITHMS', async () => {
        // signed with SHA-256 as digestAlgorithm says, but labelled SHA-384
        expectProfileFailure(await verify({ proof: { signatureAlgorithm: defaultSignatureAlgorithm(family, 'sha384') } }), 'CMS_ALGORITHMS');
      });

      it('a signature algorithm of the other key type: CMS_ALGORITHMS', async () => {
        expectProfileFailure(await verify({ proof: { signatureAlgorithm: defaultSignatureAlgorithm(family === 'RSA' ? 'ECDSA' : 'RSA', 'sha256') } }), 'CMS_ALGORITHMS');
      });

      it('an unknown signature algorithm: CMS_ALGORITHMS', async () => {
        expectProfileFailure(await verify({ proof: { signatureAlgorithm: sequence(oid('1.2.840.10045.4.3.9')) } }), 'CMS_ALGORITHMS');
      });

      if (family === 'ECDSA') {
        it('ecdsa-with-SHA256 with NULL parameters (RFC 5758 §3.2: absent): CMS_ALGORITHMS', async () => {
          expectProfileFailure(await verify({ proof: { signatureAlgorithm: sequence(oid(OID.ecdsaWithSHA256), derNull()) } }), 'CMS_ALGORITHMS');
        });
      } else {
        it('sha256WithRSAEncryption with parameters neither NULL nor absent: CMS_ALGORITHMS', async () => {
          expectProfileFailure(await verify({ proof: { signatureAlgorithm: sequence(oid(OID.sha256WithRSAEncryption), EMPTY_OCTETS) } }), 'CMS_ALGORITHMS');
        });

        it('sha256WithRSAEncryption without parameters, and rsaEncryption with NULL (OpenSSL\'s form), pass (RFC 4055 §5, RFC 3370 §3.2)', async () => {
          expectPassed(await verify({ proof: { signatureAlgorithm: sequence(oid(OID.sha256WithRSAEncryption)) } }));
          expectPassed(await verify({ proof: { signatureAlgorithm: sequence(oid(OID.rsaEncryption), derNull()) } }));
        });
      }

      it('a CertificateChoices entry other than an X.509 certificate: CMS_STRUCTURE (and CMS_VERSION: §5.1 would want version 5)', async () => {
        const other = tlv(0xa3, sequence(oid('1.2.3.4'), derNull())); // other [3] IMPLICIT OtherCertificateFormat
        const r = await verify({ proof: { extraCertificateChoices: [other] } });
        expectProfileFailure(r, 'CMS_STRUCTURE');
        expect(r.checks.find((c) => c.name === 'CMS_VERSION')).to.include({ passed: false });
      });
    });

    describe('the time-stamp token (RFC 5652 §5.1, §5.3; RFC 3161 §2.4.2)', () => {
      for (const version of [1, 4]) {
        it(`token SignedData version ${version} instead of 3 (id-ct-TSTInfo): TIMESTAMP_VERSION`, async () => {
          expectProfileFailure(await verify({ token: { signedDataVersion: version } }), 'TIMESTAMP_VERSION');
        });
      }

      it('token SignerInfo version 3 with an issuerAndSerialNumber sid: TIMESTAMP_VERSION', async () => {
        expectProfileFailure(await verify({ token: { signerInfoVersion: 3 } }), 'TIMESTAMP_VERSION');
      });

      it('TSTInfo version 2, signed by the TSA: TIMESTAMP_VERSION', async () => {
        expectProfileFailure(await verify({ token: { tstInfoVersion: 2 } }), 'TIMESTAMP_VERSION');
      });

      it('TSTInfo version changed in place: the TSA signature breaks too, and FORMAT_FAILURE on TIMESTAMP_VERSION is what is reported', async () => {
        const good = buildProof(pki);
        const token = parseSignedData(parseSignedData(good).signerInfos[0]!.unsignedAttrs!.attributes[0]!.values[0]!);
        const tstStart = Buffer.from(good).indexOf(Buffer.from(token.eContent!));
        const bad = new Uint8Array(good);
        expect(bad[tstStart + 2]).to.equal(0x02); // TSTInfo ::= SEQUENCE { version INTEGER (02 01 01) …
        bad[tstStart + 4] = 2;
        const r = await verifyCadesT(bad, { trustAnchors: anchors });
        expect(r.checks.find((c) => c.name === 'TIMESTAMP_SIGNATURE')).to.include({ passed: false, subIndication: 'SIG_CRYPTO_FAILURE' });
        expectProfileFailure(r, 'TIMESTAMP_VERSION');
      });

      it('token digestAlgorithms without its SignerInfo\'s digest algorithm, or with an unknown one: TIMESTAMP_ALGORITHMS', async () => {
        expectProfileFailure(await verify({ token: { digestAlgorithms: [hashAlgorithmId('sha512')] } }), 'TIMESTAMP_ALGORITHMS');
        expectProfileFailure(await verify({ token: { digestAlgorithms: [hashAlgorithmId('sha256'), UNKNOWN_DIGEST] } }), 'TIMESTAMP_ALGORITHMS');
      });

      it('token digest algorithm SHA-1 throughout, consistently signed: TIMESTAMP_ALGORITHMS', async () => {
        expectProfileFailure(await verify({ token: { hash: 'sha1' } }), 'TIMESTAMP_ALGORITHMS');
      });

      it('token signature algorithm with parameters outside the rules, or of the other key type: TIMESTAMP_ALGORITHMS', async () => {
        const params = family === 'ECDSA' ? sequence(oid(OID.ecdsaWithSHA256), derNull()) : sequence(oid(OID.sha256WithRSAEncryption), EMPTY_OCTETS);
        expectProfileFailure(await verify({ token: { signatureAlgorithm: params } }), 'TIMESTAMP_ALGORITHMS');
        expectProfileFailure(await verify({ token: { signatureAlgorithm: defaultSignatureAlgorithm(family === 'RSA' ? 'ECDSA' : 'RSA', 'sha256') } }), 'TIMESTAMP_ALGORITHMS');
      });

      it('messageImprint hashAlgorithm SHA-1 over the signature value, signed by the TSA: TIMESTAMP_ALGORITHMS', async () => {
        expectProfileFailure(await verify({ token: { imprintHash: 'sha1' } }), 'TIMESTAMP_ALGORITHMS');
      });

      it('messageImprint hashAlgorithm with parameters neither absent nor NULL: TIMESTAMP_ALGORITHMS', async () => {
        expectProfileFailure(await verify({ token: { imprintAlgorithm: hashAlgorithmId('sha256', EMPTY_OCTETS) } }), 'TIMESTAMP_ALGORITHMS');
      });

      it('messageImprint hashedMessage shorter than its hash: TIMESTAMP_ALGORITHMS', async () => {
        expectProfileFailure(await verify({ token: { hashedMessage: new Uint8Array(31) } }), 'TIMESTAMP_ALGORITHMS');
      });

      it('messageImprint SHA-384 and SHA-256 with NULL parameters pass', async () => {
        expectPassed(await verify({ token: { imprintHash: 'sha384' } }));
        expectPassed(await verify({ token: { imprintAlgorithm: hashAlgorithmId('sha256', derNull()) } }));
      });

      it('messageImprint hashAlgorithm changed in place (sha256 → sha512 OID): FORMAT_FAILURE on TIMESTAMP_ALGORITHMS is what is reported', async () => {
        const good = buildProof(pki);
        const token = parseSignedData(parseSignedData(good).signerInfos[0]!.unsignedAttrs!.attributes[0]!.values[0]!);
        const tstStart = Buffer.from(good).indexOf(Buffer.from(token.eContent!));
        const bad = replaceOnce(good, oid(OID.sha256), oid(OID.sha512), tstStart);
        const r = await verifyCadesT(bad, { trustAnchors: anchors });
        expectProfileFailure(r, 'TIMESTAMP_ALGORITHMS');
      });
    });

    describe('the stand-alone token (verifyTimeStampToken, event-log checkpoints)', () => {
      const data = new TextEncoder().encode('42:' + 'ab'.repeat(32));
      const verifyToken = (o: TokenOverrides) => verifyTimeStampToken(buildToken(pki, data, o), data, { trustAnchors: anchors });

      it('passes as built, with TIMESTAMP_VERSION and TIMESTAMP_ALGORITHMS lines', async () => {
        const r = await verifyToken({});
        expectPassed(r);
        expect(r.checks.map((c) => c.name)).to.include.members(['TIMESTAMP_VERSION', 'TIMESTAMP_ALGORITHMS']);
      });

      it('SignedData version 1, SignerInfo version 3, TSTInfo version 2: TIMESTAMP_VERSION', async () => {
        expectProfileFailure(await verifyToken({ signedDataVersion: 1 }), 'TIMESTAMP_VERSION');
        expectProfileFailure(await verifyToken({ signerInfoVersion: 3 }), 'TIMESTAMP_VERSION');
        expectProfileFailure(await verifyToken({ tstInfoVersion: 2 }), 'TIMESTAMP_VERSION');
      });

      it('digestAlgorithms unknown, imprint SHA-1: TIMESTAMP_ALGORITHMS', async () => {
        expectProfileFailure(await verifyToken({ digestAlgorithms: [hashAlgorithmId('sha256'), UNKNOWN_DIGEST] }), 'TIMESTAMP_ALGORITHMS');
        expectProfileFailure(await verifyToken({ imprintHash: 'sha1' }), 'TIMESTAMP_ALGORITHMS');
      });
    });

    describe('the time-stamp client refuses a token outside the profile (it would make a proof the verifier refuses)', () => {
      const data = new TextEncoder().encode('signature value');
      const check = async (o: TokenOverrides) => {
        const token = buildToken(pki, data, o);
        // the imprint asked is the one in the token (TSTInfo's third component): only the profile can make it refuse
        const imprint = readDer(parseSignedData(token).eContent!).children[2]!;
        return checkTokenAnswers(token, { hashedMessage: imprint.children[1]!.content, hashAlgorithmOid: o.imprintHash === 'sha1' ? OID.sha1 : OID.sha256 });
      };

      it('accepts the token as built', async () => {
        await check({});
      });

      for (const [what, o] of [
        ['SignedData version 1', { signedDataVersion: 1 }],
        ['TSTInfo version 2', { tstInfoVersion: 2 }],
        ['an unknown digest algorithm in digestAlgorithms', { digestAlgorithms: [hashAlgorithmId('sha256'), UNKNOWN_DIGEST] }],
        ['a SHA-1 imprint', { imprintHash: 'sha1' }],
      ] as const) {
        it(`TSA_BAD_RESPONSE for ${what}`, async () => {
          let error: unknown;
          await check(o).catch((err) => (error = err));
          expect(error).to.be.instanceOf(TimeStampError);
          expect((error as TimeStampError).code).to.equal('TSA_BAD_RESPONSE');
        });
      }
    });
  });
}
