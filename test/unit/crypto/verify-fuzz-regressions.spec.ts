/**
 * Defects the verifier fuzz (scripts/fuzz-verify.ts) found, one test each, on proofs of each
 * key algorithm: the mutation the fuzz made, and the verdict it must give — never an exception
 * caught as "validation stopped".
 */
import { expect } from 'chai';
import { parseCertificate } from '../../../src/crypto/Certificate.js';
import { readDer } from '../../../src/crypto/der.js';
import { verifyCadesT, verifyTimeStampToken, type DevPki, type VerificationReport } from '../../../src/crypto/index.js';
import { ALGORITHMS, devPki } from './helpers.js';
import { buildProof, buildToken } from './proof-builder.js';

function lines(r: VerificationReport): string {
  return r.checks.map((c) => `${c.passed ? 'ok  ' : 'FAIL'} ${c.name} ${c.subIndication ?? ''} ${c.detail}`).join('\n');
}

function expectNoException(r: VerificationReport): void {
  expect(r.checks.filter((c) => /validation stopped/.test(c.detail)), lines(r)).to.deep.equal([]);
}

/** `der` with the tag of the first AttributeTypeAndValue's type in `certificate`'s subject set to `tag` (the cert must occur once). */
function withSubjectTypeTag(der: Uint8Array, certificate: Uint8Array, tag: number): Uint8Array {
  const subject = parseCertificate(certificate).subject;
  const at = Buffer.from(der).indexOf(Buffer.from(subject));
  expect(at, 'subject found').to.be.at.least(0);
  expect(Buffer.from(der).indexOf(Buffer.from(subject), at + 1), 'subject occurs once').to.equal(-1);
  const type = readDer(subject).children[0]!.children[0]!.children[0]!; // RDN SET → AttributeTypeAndValue → type
  const out = new Uint8Array(der);
  out[at + type.offset] = tag;
  return out;
}

for (const algorithm of ALGORITHMS) {
  describe(`crypto/verify: defects found by the verifier fuzz (${algorithm})`, () => {
    let pki: DevPki;

    before(async () => {
      pki = await devPki(algorithm);
    });

    // fuzz seed 7, 067-tag.p7s: tag 0x06 → 0x46 in the token's TSA certificate subject
    it('a TSA certificate whose subject is not a Name is no certificate: TSA_CERTIFICATE_INVALID, not an exception', async () => {
      const proof = withSubjectTypeTag(buildProof(pki), pki.tsa.certificate, 0x46);
      const r = await verifyCadesT(proof, { trustAnchors: [pki.root.certificate] });
      expectNoException(r);
      expect(r.indication, lines(r)).to.equal('INDETERMINATE');
      expect(r.subIndication, lines(r)).to.equal('TSA_CERTIFICATE_INVALID');
    });

    it('a signer certificate whose subject is not a Name is no certificate: NO_SIGNING_CERTIFICATE_FOUND, not an exception', async () => {
      const proof = withSubjectTypeTag(buildProof(pki), pki.seal.certificate, 0x46);
      const r = await verifyCadesT(proof, { trustAnchors: [pki.root.certificate] });
      expectNoException(r);
      expect(r.indication, lines(r)).to.equal('INDETERMINATE');
      expect(r.subIndication, lines(r)).to.equal('NO_SIGNING_CERTIFICATE_FOUND');
    });

    // fuzz seed 11, bit flips in the proof's copy of the root: NO_CERTIFICATE_CHAIN_FOUND for a genuine signature
    it('an altered copy of the trust anchor among the proof\'s certificates is ignored: the path ends at the anchor given, TOTAL_PASSED', async () => {
      const good = buildProof(pki);
      const at = Buffer.from(good).indexOf(Buffer.from(pki.root.certificate));
      const serial = parseCertificate(pki.root.certificate).serialNumberDer;
      const serialAt = Buffer.from(pki.root.certificate).indexOf(Buffer.from(serial));
      const subjectAt = Buffer.from(pki.root.certificate).lastIndexOf(Buffer.from(parseCertificate(pki.root.certificate).subject));
      for (const offset of [serialAt + serial.length - 1, subjectAt + parseCertificate(pki.root.certificate).subject.length - 1, pki.root.certificate.length - 1]) {
        const proof = new Uint8Array(good);
        proof[at + offset]! ^= 0x01; // the serial number's, the subject's or the signature's last octet
        const r = await verifyCadesT(proof, { trustAnchors: [pki.root.certificate] });
        expect(r.indication, `offset ${offset}\n${lines(r)}`).to.equal('TOTAL_PASSED');
      }
    });

    it('the same in a stand-alone token (verify-log checkpoints): no exception', async () => {
      const data = new TextEncoder().encode('checkpoint');
      const token = withSubjectTypeTag(buildToken(pki, data), pki.tsa.certificate, 0x46);
      const r = await verifyTimeStampToken(token, data, { trustAnchors: [pki.root.certificate] });
      expectNoException(r);
      expect(r.indication, lines(r)).to.equal('INDETERMINATE');
    });
  });
}
