import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import * as pkijs from 'pkijs';
import { digest } from '../../../src/crypto/AlgorithmIdentifier.js';
import { parseCertificate } from '../../../src/crypto/Certificate.js';
import { Tag, contextTag, integer, octetString, oid, readDer, readString, sequence, boolean, implicit } from '../../../src/crypto/der.js';
import { LocalTimeStamper, TimeStampAuthority, TimeStampError, parseTimeStampToken } from '../../../src/crypto/index.js';
import { OID } from '../../../src/crypto/oids.js';
import { parseSignedData } from '../../../src/crypto/SignedData.js';
import { encodeTimeStampReq } from '../../../src/crypto/TimeStampReq.js';
import { parseTimeStampResp } from '../../../src/crypto/TimeStampResp.js';
import { inspectTimeStampToken } from '../../../src/crypto/TimeStampToken.js';
import { sha256Imprint } from '../../../src/crypto/TimeStamper.js';
import { ALGORITHMS, devPki } from './helpers.js';

const FIXTURES = path.resolve('test/fixtures/crypto');
const fixture = (name: string) => new Uint8Array(fs.readFileSync(path.join(FIXTURES, name)));
const POLICY = '1.3.6.1.4.1.99999.1.3161';
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** The nonce of a DER TimeStampReq, read independently with pkijs. */
function pkijsRequest(der: Uint8Array) {
  return pkijs.TimeStampReq.fromBER(new Uint8Array(der));
}

for (const algorithm of ALGORITHMS) {
  describe(`crypto/TimeStampAuthority (${algorithm})`, () => {
    let tsa: TimeStampAuthority;
    before(async () => {
      const pki = await devPki(algorithm);
      tsa = new TimeStampAuthority(pki.tsa, { policyOid: POLICY, accuracyMs: 1 });
    });

    it('grants an OpenSSL request: nonce echoed, certificate included, policy ours, token well formed', async () => {
      const request = fixture('openssl-3.0-ts-query-sha256-cert.tsq');
      const resp = parseTimeStampResp(await tsa.respond(request));
      expect(resp.status).to.equal('granted');
      expect(resp.failInfo).to.deep.equal([]);
      const token = resp.token!;
      const info = parseTimeStampToken(token);
      const req = pkijsRequest(request);
      expect(info.nonce).to.equal(BigInt(`0x${hex(new Uint8Array(req.nonce!.valueBlock.valueHexView))}`));
      expect(info.policy).to.equal(POLICY);
      expect(info.version).to.equal(1);
      expect(info.ordering).to.equal(false);
      expect(info.serialNumber > 0n).to.equal(true);
      expect(info.accuracyMs).to.equal(1);
      expect(Math.abs(info.genTime.getTime() - Date.now())).to.be.below(10_000);
      expect(hex(info.messageImprint.hashedMessage)).to.equal(hex(digest('SHA-256', fixture('ts-data.txt'))));
      // RFC 3161 §2.4.2: the messageImprint is returned as sent (OpenSSL sends NULL parameters).
      expect(hex(info.messageImprint.hashAlgorithmDer)).to.equal(hex(sequence(oid(OID.sha256), Uint8Array.of(5, 0))));
      expect(hex(info.tsaCertificate!)).to.equal(hex(tsa.certificate));

      const sd = parseSignedData(token);
      expect(sd.version).to.equal(3); // eContentType is not id-data (RFC 5652 §5.1)
      expect(sd.eContentType).to.equal(OID.tstInfo);
      expect(sd.certificates.map(hex)).to.deep.equal([hex(tsa.certificate)]);
      const signed = sd.signerInfos[0]!.signedAttrs!.attributes.map((a) => a.type);
      expect(signed).to.have.members([OID.contentType, OID.messageDigest, OID.signingCertificateV2]);
      // ordering absent (DEFAULT FALSE), tsa absent: version, policy, imprint, serial, genTime, accuracy, nonce
      expect(readDer(sd.eContent!).children).to.have.length(7);

      const inspection = await inspectTimeStampToken(token);
      expect(inspection.signature.ok, inspection.signature.detail).to.equal(true);
      expect(inspection.essBinding.ok, inspection.essBinding.detail).to.equal(true);
      expect(inspection.usage.ok, inspection.usage.detail).to.equal(true);
    });

    it('writes ESSCertIDv2 without hashAlgorithm (SHA-256 is the DEFAULT) and with issuerSerial', async () => {
      const token = parseTimeStampResp(await tsa.respond(fixture('openssl-3.0-ts-query-sha256-cert.tsq'))).token!;
      const attr = parseSignedData(token).signerInfos[0]!.signedAttrs!.attributes.find((a) => a.type === OID.signingCertificateV2)!;
      const essCertIdV2 = attr.values[0]!.children[0]!.children[0]!;
      expect(essCertIdV2.children.map((c) => c.tag)).to.deep.equal([Tag.OCTET_STRING, Tag.SEQUENCE]);
      expect(hex(essCertIdV2.children[0]!.content)).to.equal(hex(digest('SHA-256', tsa.certificate)));
      const issuerSerial = essCertIdV2.children[1]!;
      const cert = parseCertificate(tsa.certificate);
      expect(hex(issuerSerial.children[0]!.children[0]!.children[0]!.bytes)).to.equal(hex(cert.issuer));
      expect(issuerSerial.children[0]!.children[0]!.tag).to.equal(contextTag(4, true));
      expect(hex(issuerSerial.children[1]!.bytes)).to.equal(hex(cert.serialNumberDer));
    });

    it('verifies with pkijs as an independent implementation', async () => {
      const pki = await devPki(algorithm);
      const resp = await tsa.respond(fixture('openssl-3.0-ts-query-sha256-cert.tsq'));
      const parsed = pkijs.TimeStampResp.fromBER(new Uint8Array(resp));
      const ok = await parsed.verify({ signer: 0, trustedCerts: [pkijs.Certificate.fromBER(new Uint8Array(pki.root.certificate))], data: new Uint8Array(fixture('ts-data.txt')).buffer });
      expect(ok).to.equal(true);
    });

    it('leaves the certificate out and the nonce absent when the request asks for neither', async () => {
      const token = parseTimeStampResp(await tsa.respond(fixture('openssl-3.0-ts-query-sha256-nonce-none.tsq'))).token!;
      expect(parseSignedData(token).certificates).to.deep.equal([]);
      expect(parseTimeStampToken(token).nonce).to.equal(undefined);
      expect((await inspectTimeStampToken(token, { extraCertificates: [tsa.certificate] })).signature.ok).to.equal(true);
    });

    it('rejects, never throws, what it cannot honour — with the RFC 3161 failInfo', async () => {
      const cases: [string, Uint8Array, string][] = [
        ['SHA-1 imprint', fixture('openssl-3.0-ts-query-sha1.tsq'), 'badAlg'],
        ['foreign policy', fixture('openssl-3.0-ts-query-sha512-policy-1.2.3.4.5.tsq'), 'unacceptedPolicy'],
        ['empty body', new Uint8Array(0), 'badDataFormat'],
        ['PEM instead of DER', new TextEncoder().encode('-----BEGIN TSQ-----\nMAA=\n-----END TSQ-----\n'), 'badDataFormat'],
        ['truncated', fixture('openssl-3.0-ts-query-sha256-cert.tsq').subarray(0, 30), 'badDataFormat'],
        ['wrong imprint length', encodeTimeStampReq({ messageImprint: { ...sha256Imprint(Uint8Array.of(1)), hashedMessage: new Uint8Array(20) }, certReq: true }), 'badDataFormat'],
        ['version 2', sequence(integer(2), sequence(sequence(oid(OID.sha256)), octetString(new Uint8Array(32)))), 'badDataFormat'],
        ['extensions', sequence(integer(1), sequence(sequence(oid(OID.sha256)), octetString(new Uint8Array(32))), boolean(true), implicit(0, sequence(sequence(oid('1.2.3'), octetString(new Uint8Array(1)))))), 'unacceptedExtension'],
      ];
      // a BER (indefinite-length) encoding of a valid request
      const der = fixture('openssl-3.0-ts-query-sha256-cert.tsq');
      const ber = new Uint8Array([0x30, 0x80, ...der.subarray(2), 0, 0]);
      cases.push(['BER, not DER', ber, 'badDataFormat']);
      for (const [what, request, failInfo] of cases) {
        const resp = parseTimeStampResp(await tsa.respond(request));
        expect(resp.status, what).to.equal('rejection');
        expect(resp.failInfo, what).to.deep.equal([failInfo]);
        expect(resp.statusString, what).to.be.a('string').and.not.equal('');
        expect(resp.token, what).to.equal(undefined);
      }
      for (let i = 0; i < 200; i++) {
        const resp = parseTimeStampResp(await tsa.respond(crypto.getRandomValues(new Uint8Array(1 + i))));
        expect(resp.status).to.equal('rejection');
      }
    });

    it('grants SHA-384/512 imprints and requests for its own policy', async () => {
      const own = new TimeStampAuthority((await devPki(algorithm)).tsa, { policyOid: '1.2.3.4.5' });
      const resp = parseTimeStampResp(await own.respond(fixture('openssl-3.0-ts-query-sha512-policy-1.2.3.4.5.tsq')));
      expect(resp.status).to.equal('granted');
      const info = parseTimeStampToken(resp.token!);
      expect(info.policy).to.equal('1.2.3.4.5');
      expect(info.messageImprint.hashAlgorithmOid).to.equal(OID.sha512);
    });
  });
}

describe('crypto/TimeStampAuthority: options', () => {
  it('writes genTime with milliseconds only when an accuracy is set, without trailing zeros', async () => {
    const pki = await devPki('ECDSA-P256');
    const clock = () => new Date('2026-01-02T03:04:05.120Z');
    const genTimeText = (token: Uint8Array) => readString(readDer(parseSignedData(token).eContent!).children[4]!);
    const withAccuracy = new TimeStampAuthority(pki.tsa, { policyOid: POLICY, accuracyMs: 1500, clock });
    const a = await withAccuracy.issueToken(sha256Imprint(Uint8Array.of(1)));
    expect(genTimeText(a)).to.equal('20260102030405.12Z');
    expect(parseTimeStampToken(a).accuracyMs).to.equal(1500);
    const accuracy = readDer(parseSignedData(a).eContent!).children[5]!;
    expect(hex(accuracy.bytes)).to.equal(hex(sequence(integer(1), Uint8Array.of(0x80, 0x02, 0x01, 0xf4)))); // seconds 1, millis [0] 500
    const plain = new TimeStampAuthority(pki.tsa, { policyOid: POLICY, clock });
    const b = await plain.issueToken(sha256Imprint(Uint8Array.of(1)));
    expect(genTimeText(b)).to.equal('20260102030405Z');
    expect(parseTimeStampToken(b).accuracyMs).to.equal(undefined);
  });

  it('takes serial numbers from the serial source, as bigint or octets', async () => {
    const pki = await devPki('ECDSA-P256');
    const serials: (bigint | Uint8Array)[] = [42n, Uint8Array.of(0x00, 0xff, 0x01)];
    const tsa = new TimeStampAuthority(pki.tsa, { policyOid: POLICY, serialSource: () => serials.shift()! });
    expect(parseTimeStampToken(await tsa.issueToken(sha256Imprint(Uint8Array.of(1)))).serialNumber).to.equal(42n);
    expect(parseTimeStampToken(await tsa.issueToken(sha256Imprint(Uint8Array.of(1)))).serialNumber).to.equal(0xff01n);
    const broken = new TimeStampAuthority(pki.tsa, { policyOid: POLICY, serialSource: () => 0n });
    const resp = parseTimeStampResp(await broken.respond(fixture('openssl-3.0-ts-query-sha256-cert.tsq')));
    expect(resp.status).to.equal('rejection');
    expect(resp.failInfo).to.deep.equal(['systemFailure']);
  });

  it('refuses to run with a certificate RFC 3161 §2.3 does not allow, or a malformed policy', async () => {
    const pki = await devPki('ECDSA-P256');
    expect(() => new TimeStampAuthority(pki.seal, { policyOid: POLICY })).to.throw(TimeStampError).with.property('code', 'TSA_CERTIFICATE_UNSUITABLE');
    const nonCritical = await devPki('ECDSA-P256', { tsaExtendedKeyUsage: 'non-critical' });
    expect(() => new TimeStampAuthority(nonCritical.tsa, { policyOid: POLICY })).to.throw(TimeStampError).with.property('code', 'TSA_CERTIFICATE_UNSUITABLE');
    expect(() => new TimeStampAuthority(nonCritical.tsa, { policyOid: POLICY, allowUnsuitableCertificate: true })).not.to.throw();
    expect(() => new TimeStampAuthority(pki.tsa, { policyOid: 'not-an-oid' })).to.throw(RangeError);
    expect(() => new TimeStampAuthority(pki.tsa, { policyOid: POLICY, accuracyMs: 0 })).to.throw(RangeError);
  });

  it('issueToken refuses an unsupported imprint with TSA_REJECTED', async () => {
    const tsa = new TimeStampAuthority((await devPki('ECDSA-P256')).tsa, { policyOid: POLICY });
    try {
      await tsa.issueToken({ hashAlgorithmOid: OID.sha1, hashedMessage: new Uint8Array(20) });
      expect.fail('issueToken accepted SHA-1');
    } catch (err) {
      expect(err).to.be.instanceOf(TimeStampError);
      expect((err as TimeStampError).code).to.equal('TSA_REJECTED');
      expect((err as TimeStampError).failInfo).to.deep.equal(['badAlg']);
    }
  });

  it('LocalTimeStamper returns a checked token over SHA-256 of the data', async () => {
    const tsa = new TimeStampAuthority((await devPki('RSA-2048')).tsa, { policyOid: POLICY, accuracyMs: 1 });
    const data = new TextEncoder().encode('signature value');
    const token = await new LocalTimeStamper(tsa).timestamp(data);
    const info = parseTimeStampToken(token);
    expect(hex(info.messageImprint.hashedMessage)).to.equal(hex(digest('SHA-256', data)));
    expect(info.nonce! > 0n).to.equal(true);
    expect(info.tsaCertificate).to.not.equal(undefined);
  });
});
