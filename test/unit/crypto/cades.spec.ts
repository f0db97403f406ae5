import { expect } from 'chai';
import * as pkijs from 'pkijs';
import { digest } from '../../../src/crypto/AlgorithmIdentifier.js';
import { parseCertificate } from '../../../src/crypto/Certificate.js';
import { Tag, compareDer, concat, implicit, readDer, readString, sequence, setOf, tlv } from '../../../src/crypto/der.js';
import {
  DerError,
  LocalTimeStamper,
  TimeStampAuthority,
  TimeStampError,
  derToPem,
  extractTimeStamp,
  installPkijsEngine,
  parseTimeStampToken,
  verifyCadesT,
  type DevPki,
  type TimeStamper,
  type VerificationReport,
} from '../../../src/crypto/index.js';
import { OID } from '../../../src/crypto/oids.js';
import { parseSignedData } from '../../../src/crypto/SignedData.js';
import { ALGORITHMS, devPki, seal, signB } from './helpers.js';

const POLICY = '1.3.6.1.4.1.99999.1.3161';
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const YEAR_MS = 365.25 * 24 * 3600_000;
const statement = new TextEncoder().encode(JSON.stringify({ EvidenceIdentifier: 'ev-1', ERDSEventId: 'http://uri.etsi.org/19522/Event/SubmissionAcceptance', EventTime: '2026-01-01T00:00:00Z' }));

function expectOutcome(report: VerificationReport, indication: string, subIndication?: string): void {
  const lines = report.checks.map((c) => `${c.passed ? 'ok  ' : 'FAIL'} ${c.name} ${c.subIndication ?? ''} ${c.detail}`).join('\n');
  expect(report.indication, lines).to.equal(indication);
  expect(report.subIndication, lines).to.equal(subIndication);
}

function failed(report: VerificationReport): string[] {
  return report.checks.filter((c) => !c.passed).map((c) => c.name);
}

/** Same proof with its `certificates` replaced (they are not signed, so the signature stays valid). */
function withCertificates(proof: Uint8Array, certificates: Uint8Array[]): Uint8Array {
  const sd = parseSignedData(proof);
  const parts = sd.node.children.map((c) => (c.tag === 0xa0 ? implicit(0, setOf(certificates)) : c.bytes));
  return sequence(readDer(proof).children[0]!.bytes, tlv(0xa0, tlv(Tag.SEQUENCE, concat(parts))));
}

for (const algorithm of ALGORITHMS) {
  describe(`crypto/CAdES-T seal and verify (${algorithm})`, () => {
    let pki: DevPki;
    let tsa: TimeStampAuthority;
    let stamper: TimeStamper;
    let proof: Uint8Array;
    let anchors: Uint8Array[];

    before(async () => {
      pki = await devPki(algorithm);
      tsa = new TimeStampAuthority(pki.tsa, { policyOid: POLICY, accuracyMs: 1 });
      stamper = new LocalTimeStamper(tsa);
      proof = await seal(statement, pki.seal, stamper);
      anchors = [pki.root.certificate];
    });

    it('builds the CMS exactly as profiled', () => {
      const sd = parseSignedData(proof);
      expect(sd.version).to.equal(1);
      expect(sd.digestAlgorithms).to.have.length(1);
      expect(sd.digestAlgorithms[0]!.oid).to.equal(OID.sha256);
      expect(sd.digestAlgorithms[0]!.parameters).to.equal(undefined);
      expect(sd.eContentType).to.equal(OID.data);
      expect(hex(sd.eContent!)).to.equal(hex(statement));
      expect(sd.certificates.map(hex)).to.have.members([hex(pki.seal.certificate), hex(pki.root.certificate)]);
      const si = sd.signerInfos[0]!;
      expect(si.version).to.equal(1);
      const seal = parseCertificate(pki.seal.certificate);
      expect('issuer' in si.sid && hex(si.sid.issuer) === hex(seal.issuer) && hex(si.sid.serialNumber) === hex(seal.serialNumberDer)).to.equal(true);
      // signed attributes: exactly these four, DER-sorted by their encodings
      const attrs = si.signedAttrs!.attributes;
      expect(attrs.map((a) => a.type)).to.have.members([OID.contentType, OID.messageDigest, OID.signingTime, OID.signingCertificateV2]);
      for (let i = 1; i < attrs.length; i++) expect(compareDer(attrs[i - 1]!.node.bytes, attrs[i]!.node.bytes)).to.be.below(0);
      const signingTime = attrs.find((a) => a.type === OID.signingTime)!.values[0]!;
      expect(signingTime.tag).to.equal(Tag.UTC_TIME);
      expect(readString(signingTime)).to.match(/^\d{12}Z$/);
      if (algorithm.startsWith('RSA')) {
        expect(si.signatureAlgorithm.oid).to.equal(OID.sha256WithRSAEncryption);
        expect(si.signatureAlgorithm.parameters?.tag).to.equal(Tag.NULL);
      } else {
        expect(si.signatureAlgorithm.oid).to.equal(OID.ecdsaWithSHA256);
        expect(si.signatureAlgorithm.parameters).to.equal(undefined);
        readDer(si.signature); // Ecdsa-Sig-Value, DER
      }
      // one unsigned attribute, the signature time-stamp over the signature value's contents
      expect(si.unsignedAttrs!.attributes.map((a) => a.type)).to.deep.equal([OID.signatureTimeStampToken]);
      const { token, signatureValue } = extractTimeStamp(proof);
      expect(hex(signatureValue)).to.equal(hex(si.signature));
      expect(hex(parseTimeStampToken(token).messageImprint.hashedMessage)).to.equal(hex(digest('SHA-256', si.signature)));
    });

    it('is verified by pkijs as an independent implementation', async () => {
      installPkijsEngine();
      const contentInfo = pkijs.ContentInfo.fromBER(new Uint8Array(proof));
      const signedData = new pkijs.SignedData({ schema: contentInfo.content });
      const ok = await signedData.verify({
        signer: 0,
        checkChain: true,
        trustedCerts: [pkijs.Certificate.fromBER(new Uint8Array(pki.root.certificate))],
      });
      expect(ok).to.equal(true);
    });

    it('verifies: TOTAL_PASSED with every line passed and the facts reported', async () => {
      const report = await verifyCadesT(proof, { trustAnchors: anchors });
      expectOutcome(report, 'TOTAL_PASSED', undefined);
      expect(report.checks.map((c) => c.name)).to.deep.equal([
        'DER_ENCODING',
        'CMS_STRUCTURE',
        'CMS_VERSION',
        'CMS_ALGORITHMS',
        'SIGNED_ATTRIBUTES',
        'SIGNING_CERTIFICATE',
        'SIGNING_CERTIFICATE_V2_BINDING',
        'MESSAGE_DIGEST',
        'SIGNATURE',
        'CERTIFICATE_CHAIN',
        'TIMESTAMP_PRESENT',
        'TIMESTAMP_VERSION',
        'TIMESTAMP_ALGORITHMS',
        'TIMESTAMP_SIGNATURE',
        'TIMESTAMP_ESS_BINDING',
        'TSA_CERTIFICATE_USAGE',
        'TSA_CERTIFICATE_CHAIN',
        'TIMESTAMP_IMPRINT',
        'TIMESTAMP_ORDER',
      ]);
      expect(hex(report.content!)).to.equal(hex(statement));
      expect(report.signerSubject).to.match(/^CN=Registered Mail DEV Sealing/);
      expect(report.tsaSubject).to.match(/^CN=Registered Mail DEV Time-Stamping Authority/);
      expect(report.genTime!.getTime()).to.be.at.least(report.signingTime!.getTime());
      expect(Date.now() - report.signingTime!.getTime()).to.be.below(60_000);
    });

    it('uses the signing time given, in whole seconds', async () => {
      const signingTime = new Date(Date.now() - 5_000);
      const report = await verifyCadesT(await seal(statement, pki.seal, stamper, signingTime), { trustAnchors: anchors });
      expectOutcome(report, 'TOTAL_PASSED');
      expect(report.signingTime!.getTime()).to.equal(Math.floor(signingTime.getTime() / 1000) * 1000);
    });

    it('HASH_FAILURE when a content byte is changed', async () => {
      const tampered = proof.slice();
      const at = Buffer.from(tampered).indexOf(Buffer.from('SubmissionAcceptance'));
      tampered[at]! ^= 0x20;
      const report = await verifyCadesT(tampered, { trustAnchors: anchors });
      expectOutcome(report, 'TOTAL_FAILED', 'HASH_FAILURE');
      expect(failed(report)).to.deep.equal(['MESSAGE_DIGEST']);
    });

    it('SIG_CRYPTO_FAILURE when a signed attribute is changed', async () => {
      const tampered = proof.slice();
      const si = parseSignedData(tampered).signerInfos[0]!;
      const time = si.signedAttrs!.attributes.find((a) => a.type === OID.signingTime)!.values[0]!;
      const yearTens = time.offset + 2; // first digit of YY, e.g. '2' of 26 → '1' of 16: still a valid, earlier UTCTime
      tampered[yearTens]! -= 1;
      const report = await verifyCadesT(tampered, { trustAnchors: anchors });
      expectOutcome(report, 'TOTAL_FAILED', 'SIG_CRYPTO_FAILURE');
      expect(failed(report)).to.deep.equal(['SIGNATURE']);
    });

    it('SIG_CRYPTO_FAILURE when the signature value is changed', async () => {
      const si = parseSignedData(proof).signerInfos[0]!;
      const sigEnd = si.node.children.find((c) => c.tag === Tag.OCTET_STRING)!;
      const tampered = proof.slice();
      tampered[sigEnd.offset + sigEnd.bytes.length - 1]! ^= 0x01;
      const report = await verifyCadesT(tampered, { trustAnchors: anchors });
      expectOutcome(report, 'TOTAL_FAILED', 'SIG_CRYPTO_FAILURE');
      expect(failed(report)).to.include.members(['SIGNATURE', 'TIMESTAMP_IMPRINT']);
    });

    it('NO_CERTIFICATE_CHAIN_FOUND against another trust root', async () => {
      const other = await devPki(algorithm, { tsaExtendedKeyUsage: 'non-critical' });
      const report = await verifyCadesT(proof, { trustAnchors: [other.root.certificate] });
      expectOutcome(report, 'INDETERMINATE', 'NO_CERTIFICATE_CHAIN_FOUND');
      expect(failed(report)).to.deep.equal(['CERTIFICATE_CHAIN', 'TSA_CERTIFICATE_CHAIN']);
      expectOutcome(await verifyCadesT(proof, { trustAnchors: [] }), 'INDETERMINATE', 'NO_CERTIFICATE_CHAIN_FOUND');
      // a PEM anchor where DER is expected is no anchor
      const pem = new TextEncoder().encode(derToPem(pki.root.certificate, 'CERTIFICATE'));
      expectOutcome(await verifyCadesT(proof, { trustAnchors: [pem] }), 'INDETERMINATE', 'NO_CERTIFICATE_CHAIN_FOUND');
    });

    it('NO_SIGNING_CERTIFICATE_FOUND when the signer certificate is not in the proof', async () => {
      const report = await verifyCadesT(withCertificates(proof, [pki.root.certificate, pki.tsa.certificate]), { trustAnchors: anchors });
      expectOutcome(report, 'INDETERMINATE', 'NO_SIGNING_CERTIFICATE_FOUND');
    });

    it('TIMESTAMP_IMPRINT_MISMATCH when the token is over other data', async () => {
      const cadesB = await signB(statement, pki.seal);
      const otherToken = await stamper.timestamp(new TextEncoder().encode('some other signature'));
      const report = await verifyCadesT(cadesB.stamped(otherToken), { trustAnchors: anchors });
      expectOutcome(report, 'TOTAL_FAILED', 'TIMESTAMP_IMPRINT_MISMATCH');
      expect(failed(report)).to.deep.equal(['TIMESTAMP_IMPRINT']);
      // the writer itself refuses such a token
      const lying: TimeStamper = { timestamp: () => stamper.timestamp(Uint8Array.of(1, 2, 3)) };
      try {
        await seal(statement, pki.seal, lying);
        expect.fail('the writer accepted a token over other data');
      } catch (err) {
        expect(err).to.be.instanceOf(TimeStampError);
        expect((err as TimeStampError).code).to.equal('TSA_RESPONSE_MISMATCH');
      }
    });

    for (const tsaExtendedKeyUsage of ['non-critical', 'absent', 'extra-purpose'] as const) {
      it(`TSA_CERTIFICATE_INVALID when the TSA certificate's timeStamping usage is ${tsaExtendedKeyUsage}`, async () => {
        const bad = await devPki(algorithm, { tsaExtendedKeyUsage });
        const badTsa = new TimeStampAuthority(bad.tsa, { policyOid: POLICY, allowUnsuitableCertificate: true });
        const cadesB = await signB(statement, bad.seal);
        expect(hex(parseSignedData(cadesB.der).signerInfos[0]!.signature)).to.equal(hex(cadesB.signature));
        const t = await badTsa.issueToken({ hashAlgorithmOid: OID.sha256, hashedMessage: digest('SHA-256', cadesB.signature) });
        const report = await verifyCadesT(cadesB.stamped(t), { trustAnchors: [bad.root.certificate] });
        expectOutcome(report, 'INDETERMINATE', 'TSA_CERTIFICATE_INVALID');
        expect(failed(report)).to.deep.equal(['TSA_CERTIFICATE_USAGE']);
      });
    }

    it('TIMESTAMP_MISSING for a CAdES-B without time-stamp', async () => {
      const cadesB = (await signB(statement, pki.seal)).der;
      const report = await verifyCadesT(cadesB, { trustAnchors: anchors });
      expectOutcome(report, 'INDETERMINATE', 'TIMESTAMP_MISSING');
      expect(failed(report)).to.deep.equal(['TIMESTAMP_PRESENT']);
      expect(() => extractTimeStamp(cadesB)).to.throw(DerError);
    });

    it('TIMESTAMP_ORDER_FAILURE when signing-time is after genTime', async () => {
      const late = await seal(statement, pki.seal, stamper, new Date(Date.now() + 3600_000));
      const report = await verifyCadesT(late, { trustAnchors: anchors });
      expectOutcome(report, 'INDETERMINATE', 'TIMESTAMP_ORDER_FAILURE');
      expect(failed(report)).to.deep.equal(['TIMESTAMP_ORDER']);
    });

    it('OUT_OF_BOUNDS_NO_POE when validated after the certificates expired, or before they were valid', async () => {
      const after = await verifyCadesT(proof, { trustAnchors: anchors, at: new Date(Date.now() + 11 * YEAR_MS) });
      expectOutcome(after, 'INDETERMINATE', 'OUT_OF_BOUNDS_NO_POE');
      expect(failed(after)).to.deep.equal(['CERTIFICATE_CHAIN', 'TSA_CERTIFICATE_CHAIN']);
      const before = await verifyCadesT(proof, { trustAnchors: anchors, at: new Date(Date.now() - 2 * 3600_000) });
      expectOutcome(before, 'INDETERMINATE', 'OUT_OF_BOUNDS_NO_POE');
      // within validity at a chosen time: passes
      expectOutcome(await verifyCadesT(proof, { trustAnchors: anchors, at: new Date(Date.now() + 9 * YEAR_MS) }), 'TOTAL_PASSED');
    });

    it('FORMAT_FAILURE, never an exception, for malformed input', async () => {
      const inputs: [string, Uint8Array][] = [
        ['empty', new Uint8Array(0)],
        ['PEM', new TextEncoder().encode(derToPem(proof, 'CMS'))],
        ['BER indefinite length', new Uint8Array([0x30, 0x80, ...readDer(proof).content, 0, 0])],
        ['deep nesting', new Uint8Array(200_000).map((_, i) => (i % 2 ? 0x80 : 0x30))],
        ['trailing octet', new Uint8Array([...proof, 0])],
        ['a certificate, not a proof', pki.seal.certificate],
        ['unsorted certificate set', withCertificatesUnsorted(proof)],
      ];
      for (let cut = 1; cut < proof.length; cut += Math.ceil(proof.length / 40)) inputs.push([`truncated at ${cut}`, proof.subarray(0, cut)]);
      for (let i = 0; i < 50; i++) inputs.push([`random ${i}`, crypto.getRandomValues(new Uint8Array(1 + i * 37))]);
      for (const [what, input] of inputs) {
        const report = await verifyCadesT(input, { trustAnchors: anchors });
        expect(report.indication, what).to.equal('TOTAL_FAILED');
        expect(report.subIndication, what).to.equal('FORMAT_FAILURE');
      }
    });
  });
}

/** The proof with its two certificates in the wrong DER order (X.690 §11.6). */
function withCertificatesUnsorted(proof: Uint8Array): Uint8Array {
  const sd = parseSignedData(proof);
  const certs = [...sd.certificates].sort(compareDer).reverse();
  const parts = sd.node.children.map((c) => (c.tag === 0xa0 ? tlv(0xa0, concat(certs)) : c.bytes));
  return sequence(readDer(proof).children[0]!.bytes, tlv(0xa0, tlv(Tag.SEQUENCE, concat(parts))));
}
