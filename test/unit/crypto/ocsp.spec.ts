/**
 * OCSP (src/crypto/Ocsp.ts): requests and answers in DER that asn1js re-encodes byte for byte and
 * pkijs reads (and verifies), the development PKI's delegated responder, and which answers count
 * for a certificate (Revocation.ts, revocationStatusFrom): the issuer's or its delegated
 * responder's, for this certificate — never a look-alike responder's.
 */
import * as asn1js from 'asn1js';
import { expect } from 'chai';
import * as pkijs from 'pkijs';
import { findExtension, parseCertificate, type CertificateView } from '../../../src/crypto/Certificate.js';
import { readExtendedKeyUsage } from '../../../src/crypto/CertificateExtensions.js';
import { readDer } from '../../../src/crypto/der.js';
import { createDevPki, DEV_OCSP_URL, issueOcspResponse, ocspRequest, ocspUrlsOf, parseOcspResponse, readOcspRequest, revocationStatusFrom, type DevPki, type OcspCertStatus } from '../../../src/crypto/index.js';
import { certIdFor } from '../../../src/crypto/Ocsp.js';
import { OID } from '../../../src/crypto/oids.js';
import { ALGORITHMS } from './helpers.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const HOUR = 3_600_000;

for (const algorithm of ALGORITHMS) {
  describe(`crypto/Ocsp (${algorithm})`, () => {
    let pki: DevPki;
    let root: CertificateView;
    let seal: CertificateView;
    let tsa: CertificateView;
    const responder = (p: DevPki) => ({ certificate: parseCertificate(p.ocsp.certificate), privateKey: p.ocsp.privateKey, algorithm: p.algorithm, certs: [p.ocsp.certificate] });
    const answer = (p: DevPki, cert: CertificateView, status: OcspCertStatus, at = new Date(), extra: { nonce?: Uint8Array } = {}) =>
      issueOcspResponse({ ids: [certIdFor(cert, parseCertificate(p.root.certificate))], status: () => status, producedAt: at, thisUpdate: at, nextUpdate: new Date(at.getTime() + HOUR), ...extra }, responder(p));

    before(async () => {
      pki = await createDevPki(algorithm, { ocspUrl: DEV_OCSP_URL });
      [root, seal, tsa] = [pki.root.certificate, pki.seal.certificate, pki.tsa.certificate].map(parseCertificate) as [CertificateView, CertificateView, CertificateView];
    });

    it('names the responder in the leaf certificates only when asked; the responder is delegated (OCSPSigning, ocsp-nocheck)', async () => {
      expect(ocspUrlsOf(seal)).to.deep.equal([DEV_OCSP_URL]);
      expect(ocspUrlsOf(tsa)).to.deep.equal([DEV_OCSP_URL]);
      expect(ocspUrlsOf(parseCertificate((await createDevPki(algorithm)).seal.certificate))).to.deep.equal([]);
      const r = parseCertificate(pki.ocsp.certificate);
      expect(readExtendedKeyUsage(findExtension(r, OID.extKeyUsage)!)).to.deep.equal([OID.kpOcspSigning]);
      expect(findExtension(r, OID.ocspNoCheck)).to.not.equal(undefined);
      expect(ocspUrlsOf(r)).to.deep.equal([]);
    });

    it('writes requests and answers that asn1js re-encodes to the same bytes, pkijs reads and verifies, and the strict reader accepts', async () => {
      const request = ocspRequest(seal, root);
      expect(readOcspRequest(request).ids.map((i) => i.serialNumber)).to.deep.equal([seal.serialNumber]);
      const revoked = await answer(pki, seal, { status: 'revoked', revocationTime: new Date('2026-01-02T03:04:05Z'), reason: 1 }, new Date(), { nonce: Uint8Array.of(1, 2, 3) });
      for (const der of [request, revoked, await answer(pki, tsa, { status: 'good' }), await answer(pki, tsa, { status: 'unknown' })]) {
        const asn = asn1js.fromBER(der);
        expect(asn.offset).to.equal(der.length);
        expect(hex(new Uint8Array(asn.result.toBER()))).to.equal(hex(der));
        readDer(der);
      }
      const resp = pkijs.OCSPResponse.fromBER(new Uint8Array(revoked));
      const basic = pkijs.BasicOCSPResponse.fromBER(new Uint8Array((resp.responseBytes!.response as asn1js.OctetString).valueBlock.valueHexView));
      expect(await basic.verify({ trustedCerts: [pkijs.Certificate.fromBER(new Uint8Array(pki.root.certificate))] })).to.equal(true);
      const view = parseOcspResponse(revoked);
      expect(view.responses[0]!.certStatus).to.deep.equal({ status: 'revoked', revocationTime: new Date('2026-01-02T03:04:05Z'), reason: 1 });
    });

    it('counts the delegated responder\'s answers: good, revoked (with its reason), unknown; fresh while nextUpdate is not past', async () => {
      const now = new Date();
      const good = parseOcspResponse(await answer(pki, seal, { status: 'good' }, now));
      expect((await revocationStatusFrom(seal, [root], { crls: [], ocsp: [good] }, now)).status).to.equal('good');
      expect((await revocationStatusFrom(seal, [root], { crls: [], ocsp: [good] }, new Date(now.getTime() + 2 * HOUR))).status).to.equal('unknown');
      // an answer for another certificate says nothing of this one
      expect((await revocationStatusFrom(tsa, [root], { crls: [], ocsp: [good] }, now)).status).to.equal('unknown');
      const revoked = parseOcspResponse(await answer(pki, seal, { status: 'revoked', revocationTime: new Date(now.getTime() - HOUR), reason: 1 }, now));
      const status = await revocationStatusFrom(seal, [root], { crls: [], ocsp: [good, revoked] }, now);
      expect(status.status).to.equal('revoked');
      expect(status.detail).to.match(/reason keyCompromise\) by the OCSP response .* delegated responder/);
      const unknown = parseOcspResponse(await answer(pki, seal, { status: 'unknown' }, now));
      expect((await revocationStatusFrom(seal, [root], { crls: [], ocsp: [unknown] }, now)).status).to.equal('unknown');
    });

    it('ignores answers of a responder another root delegated, even under the same Names', async () => {
      const other = await createDevPki(algorithm);
      // same issuer Name (every development root of an algorithm has it), another key: its responder does not speak for this root
      const forged = parseOcspResponse(
        await issueOcspResponse(
          { ids: [certIdFor(seal, root)], status: () => ({ status: 'revoked', revocationTime: new Date(), reason: 1 }), producedAt: new Date(), thisUpdate: new Date(), nextUpdate: new Date(Date.now() + HOUR) },
          responder(other),
        ),
      );
      const status = await revocationStatusFrom(seal, [root], { crls: [], ocsp: [forged] }, new Date());
      expect(status.status).to.equal('unknown');
    });
  });
}
