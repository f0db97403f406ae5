/**
 * The verification fast path keeps every check: native signature checks agree with WebCrypto
 * (strict Ecdsa-Sig-Value included), `readDer` skips only octet-for-octet known encodings,
 * and a cached certification path is used only inside its validity window and for the same
 * certificates and anchors.
 */
import { expect } from 'chai';
import { readAlgorithmIdentifier } from '../../../src/crypto/AlgorithmIdentifier.js';
import { parseCertificate } from '../../../src/crypto/Certificate.js';
import { knownCertificates, parseCertificateCached } from '../../../src/crypto/CertificateCache.js';
import { validateCertificatePath } from '../../../src/crypto/CertificatePath.js';
import { DerError, Tag, concat, readDer, sequence, tlv } from '../../../src/crypto/der.js';
import { CadesTWriter, TimeStampAuthority, signerFor, verifyCadesT } from '../../../src/crypto/index.js';
import { parseSignedData } from '../../../src/crypto/SignedData.js';
import { verifyBytes } from '../../../src/crypto/Signature.js';
import { ALGORITHMS, devPki } from './helpers.js';

const POLICY = '1.3.6.1.4.1.99999.1.3161';
const YEAR_MS = 365.25 * 24 * 3600_000;
const lines = (r: Awaited<ReturnType<typeof verifyCadesT>>) => r.checks.map((c) => `${c.name}:${c.passed}:${c.subIndication ?? ''}`);

for (const algorithm of ALGORITHMS) {
  describe(`crypto/fast verification (${algorithm})`, () => {
    it('gives the same report with native signature checks as with WebCrypto, passing and failing', async () => {
      const pki = await devPki(algorithm);
      const sealer = new CadesTWriter(signerFor(pki.seal), new TimeStampAuthority(pki.tsa, { policyOid: POLICY }).tokenTemplate);
      const proof = sealer.sealSync(new TextEncoder().encode('{"fast":"verification"}'), new Date(Date.now() - 1000));
      const si = parseSignedData(proof).signerInfos[0]!;
      const sig = si.node.children.find((c) => c.tag === Tag.OCTET_STRING)!;
      const tampered = proof.slice();
      tampered[sig.offset + sig.bytes.length - 1]! ^= 0x01;
      for (const input of [proof, tampered]) {
        const native = await verifyCadesT(input, { trustAnchors: [pki.root.certificate] });
        const webcrypto = await verifyCadesT(input, { trustAnchors: [pki.root.certificate], crypto: globalThis.crypto, pathCache: false });
        expect(lines(native)).to.deep.equal(lines(webcrypto));
        expect(native.indication).to.equal(input === proof ? 'TOTAL_PASSED' : 'TOTAL_FAILED');
      }
    });

    if (algorithm.startsWith('ECDSA')) {
      it('refuses a valid signature whose Ecdsa-Sig-Value is not DER (a padded INTEGER), natively and through WebCrypto', async () => {
        const pki = await devPki(algorithm);
        const sealer = new CadesTWriter(signerFor(pki.seal));
        const si = parseSignedData(sealer.assemble(sealer.prepareSync(new Uint8Array(10)))).signerInfos[0]!;
        const [r, s] = readDer(si.signature).children;
        const padded = sequence(tlv(Tag.INTEGER, concat([Uint8Array.of(0), r!.content])), s!.bytes); // BER would accept it
        const cert = parseCertificate(pki.seal.certificate);
        const alg = readAlgorithmIdentifier(si.node.children[4]!);
        expect((await verifyBytes(cert.publicKey, alg, 'SHA-256', si.signedAttrs!.forSignature, si.signature)).valid).to.equal(true);
        expect((await verifyBytes(cert.publicKey, alg, 'SHA-256', si.signedAttrs!.forSignature, padded)).valid).to.equal(false);
        expect((await verifyBytes(cert.publicKey, alg, 'SHA-256', si.signedAttrs!.forSignature, padded, globalThis.crypto)).valid).to.equal(false);
      });
    }
  });
}

describe('crypto/fast verification: caches', () => {
  it('readDer skips a known certificate only when every octet matches', async () => {
    const pki = await devPki('ECDSA-P256');
    const cert = pki.seal.certificate;
    parseCertificateCached(cert);
    const wrapped = sequence(cert);
    expect(readDer(wrapped, { known: knownCertificates }).children[0]!.children).to.have.length(0); // not walked again
    expect(readDer(wrapped).children[0]!.children.length).to.be.above(0);
    // the same length, one octet changed (inside the signature value): not known, so walked
    // again — refused if it no longer is DER, else read component by component
    const changed = cert.slice();
    const at = changed.length - 20;
    changed[at] = changed[at]! ^ 0x01;
    expect(knownCertificates.has(changed)).to.equal(false);
    const node = (() => {
      try {
        return readDer(sequence(changed), { known: knownCertificates });
      } catch (err) {
        expect(err).to.be.instanceOf(DerError);
        return undefined;
      }
    })();
    if (node) expect(node.children[0]!.children.length).to.be.above(0);
  });

  it('reuses a validated path only inside its validity window, and only for the same anchors', async () => {
    const pki = await devPki('RSA-2048');
    const other = await devPki('RSA-2048', { tsaExtendedKeyUsage: 'absent' });
    const leaf = pki.seal.certificate;
    const now = new Date();
    expect((await validateCertificatePath(leaf, [pki.root.certificate], [pki.root.certificate], now)).valid).to.equal(true);
    // cached now: still valid a year on, refused eleven years on (the leaf lasts ten) and before issue
    expect((await validateCertificatePath(leaf, [pki.root.certificate], [pki.root.certificate], new Date(now.getTime() + YEAR_MS))).valid).to.equal(true);
    const late = await validateCertificatePath(leaf, [pki.root.certificate], [pki.root.certificate], new Date(now.getTime() + 11 * YEAR_MS));
    expect(late.valid).to.equal(false);
    expect(!late.valid && late.reason).to.equal('OUT_OF_VALIDITY');
    expect((await validateCertificatePath(leaf, [pki.root.certificate], [pki.root.certificate], new Date(now.getTime() - 2 * 3600_000))).valid).to.equal(false);
    // another anchor: not the cached answer
    const foreign = await validateCertificatePath(leaf, [pki.root.certificate], [other.root.certificate], now);
    expect(foreign.valid).to.equal(false);
    // the root missing from the candidates and the anchors: no path, cache or not
    expect((await validateCertificatePath(leaf, [], [other.root.certificate], now)).valid).to.equal(false);
  });
});
