/**
 * Differential test of the fast sealing path (FastSealer, SignerTemplate,
 * TimeStampTokenTemplate) against the object path (sealCadesT, signTimeStampToken, the TSA
 * with engine 'object'), on random contents and signing times.
 *
 * Both proofs are parsed and compared: the same DER shape everywhere (tags and components,
 * down into the TSTInfo), byte-equal wherever the inputs decide the bytes (content, signed
 * attributes, certificates, identifiers, algorithms; for RSA, whose PKCS #1 v1.5 signatures
 * are deterministic, the signature too), and where they cannot be equal (ECDSA signature
 * values, TSA serial, nonce, genTime and what hashes them) each is checked for what it must be.
 * Both must give the same verification report line for line.
 */
import { expect } from 'chai';
import { createHash, verify as nativeVerify, createPublicKey, randomBytes } from 'node:crypto';
import { FastSealer } from '../../../src/crypto/FastSealer.js';
import { Tag, oid, readDer, sequence, type DerNode } from '../../../src/crypto/der.js';
import { LocalTimeStamper, TimeStampAuthority, sealCadesT, verifyCadesT, type DevPki } from '../../../src/crypto/index.js';
import { OID } from '../../../src/crypto/oids.js';
import { parseSignedData, type SignedDataView } from '../../../src/crypto/SignedData.js';
import { nativeSigningIdentity } from '../../../src/crypto/SignerTemplate.js';
import { parseTimeStampResp } from '../../../src/crypto/TimeStampResp.js';
import { encodeTimeStampReq } from '../../../src/crypto/TimeStampReq.js';
import { parseTSTInfo } from '../../../src/crypto/TSTInfo.js';
import { ALGORITHMS, devPki } from './helpers.js';

const POLICY = '1.3.6.1.4.1.99999.1.3161';
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const sha256 = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());
const CASES = Number(process.env.DIFFERENTIAL_CASES ?? 25);

/** A seeded generator, so a failure can be replayed (the seed is in the test title). */
function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/** Tags and components of a DER tree, without lengths or primitive values. */
function shape(node: DerNode): string {
  return node.constructed ? `${node.tag.toString(16)}(${node.children.map(shape).join(',')})` : node.tag.toString(16);
}

function spkiOf(certificate: Uint8Array): Uint8Array {
  // Certificate → tbsCertificate → subjectPublicKeyInfo (7th component of a v3 TBSCertificate)
  return readDer(certificate).children[0]!.children[6]!.bytes;
}

function verifies(sd: SignedDataView, certificate: Uint8Array): boolean {
  const si = sd.signerInfos[0]!;
  const key = createPublicKey({ key: Buffer.from(spkiOf(certificate)), format: 'der', type: 'spki' });
  return nativeVerify('sha256', si.signedAttrs!.forSignature, key.asymmetricKeyType === 'ec' ? { key, dsaEncoding: 'der' } : key, si.signature);
}

function attribute(sd: SignedDataView, type: string): Uint8Array {
  return sd.signerInfos[0]!.signedAttrs!.attributes.find((a) => a.type === type)!.node.bytes;
}

/** Compares two time-stamp tokens made for the same request by the two paths. */
function compareTokens(fastToken: Uint8Array, objectToken: Uint8Array, expectedImprint: { fast: Uint8Array; object: Uint8Array }, tsaCertificate: Uint8Array, window: [number, number]): void {
  expect(shape(readDer(fastToken))).to.equal(shape(readDer(objectToken)));
  const f = parseSignedData(fastToken);
  const o = parseSignedData(objectToken);
  expect(f.version).to.equal(o.version).and.equal(3);
  expect(f.eContentType).to.equal(o.eContentType).and.equal(OID.tstInfo);
  expect(f.certificates.map(hex)).to.deep.equal(o.certificates.map(hex));
  const fsi = f.signerInfos[0]!;
  const osi = o.signerInfos[0]!;
  expect(hex(fsi.node.children[1]!.bytes), 'sid').to.equal(hex(osi.node.children[1]!.bytes));
  expect(fsi.digestAlgorithm.oid).to.equal(osi.digestAlgorithm.oid);
  expect(hex(fsi.node.children[4]!.bytes), 'signatureAlgorithm').to.equal(hex(osi.node.children[4]!.bytes));
  expect(fsi.signedAttrs!.attributes.map((a) => a.type)).to.deep.equal(osi.signedAttrs!.attributes.map((a) => a.type));
  expect(hex(attribute(f, OID.contentType))).to.equal(hex(attribute(o, OID.contentType)));
  expect(hex(attribute(f, OID.signingCertificateV2))).to.equal(hex(attribute(o, OID.signingCertificateV2)));
  for (const [sd, what] of [
    [f, 'fast'],
    [o, 'object'],
  ] as const) {
    const md = sd.signerInfos[0]!.signedAttrs!.attributes.find((a) => a.type === OID.messageDigest)!.values[0]!.content;
    expect(hex(md), `${what} token message-digest`).to.equal(hex(sha256(sd.eContent!)));
    expect(verifies(sd, tsaCertificate), `${what} token signature`).to.equal(true);
  }
  expect(shape(readDer(f.eContent!)), 'TSTInfo shape').to.equal(shape(readDer(o.eContent!)));
  const ft = parseTSTInfo(f.eContent!);
  const ot = parseTSTInfo(o.eContent!);
  expect(ft.version).to.equal(ot.version);
  expect(ft.policy).to.equal(ot.policy);
  expect(hex(ft.messageImprint.hashAlgorithmDer)).to.equal(hex(ot.messageImprint.hashAlgorithmDer));
  expect(hex(ft.messageImprint.hashedMessage)).to.equal(hex(expectedImprint.fast));
  expect(hex(ot.messageImprint.hashedMessage)).to.equal(hex(expectedImprint.object));
  expect(ft.accuracyMs).to.equal(ot.accuracyMs);
  expect(ft.ordering).to.equal(false);
  expect(ot.ordering).to.equal(false);
  for (const t of [ft, ot]) {
    expect(t.serialNumber > 0n).to.equal(true);
    expect(t.serialNumber < 2n ** 127n).to.equal(true);
    expect(t.genTime.getTime()).to.be.within(window[0], window[1]);
  }
  expect(ft.nonce === undefined).to.equal(ot.nonce === undefined);
}

for (const algorithm of ALGORITHMS) {
  describe(`crypto/fast sealing path against the object path (${algorithm})`, () => {
    let pki: DevPki;
    let fast: FastSealer;
    let objectTsa: TimeStampAuthority;
    let nativeTsa: TimeStampAuthority;

    before(async () => {
      pki = await devPki(algorithm);
      objectTsa = new TimeStampAuthority(pki.tsa, { policyOid: POLICY, accuracyMs: 1, engine: 'object' });
      nativeTsa = new TimeStampAuthority(pki.tsa, { policyOid: POLICY, accuracyMs: 1 });
      expect(objectTsa.tokenTemplate).to.equal(undefined);
      expect(nativeTsa.tokenTemplate).to.not.equal(undefined);
      fast = new FastSealer(nativeSigningIdentity(pki.seal)!, nativeTsa.tokenTemplate);
    });

    const seed = 0x5eed + ALGORITHMS.indexOf(algorithm);
    it(`gives the same proofs on ${CASES} random inputs (seed ${seed})`, async () => {
      const random = xorshift(seed);
      const sizes = [0, 1, 127, 128, 255, 256, 65_535, 65_536, 100 * 1024];
      const objectStamper = new LocalTimeStamper(objectTsa);
      for (let i = 0; i < CASES; i++) {
        const size = i < sizes.length ? sizes[i]! : Math.floor(random() * 5000);
        const content = new Uint8Array(randomBytes(size));
        // mostly inside the certificates' validity (they start an hour ago); some in the GeneralizedTime years
        const r = random();
        const signingTime =
          r < 0.1 ? new Date(Date.UTC(2050 + Math.floor(random() * 100), 0, 1) + Math.floor(random() * 3e10)) : r < 0.15 ? new Date(Date.UTC(1949, 11, 31, 23, 59, 59)) : new Date(Date.now() - Math.floor(random() * 3_000_000));
        const before = Date.now();
        const f = fast.sealSync(content, signingTime);
        const o = await sealCadesT(content, pki.seal, objectStamper, { signingTime });
        const window: [number, number] = [before - 1, Date.now() + 1];
        const what = `case ${i}: ${size} octets, signing-time ${signingTime.toISOString()}`;

        // DER (strict reader) of the same shape
        expect(shape(readDer(f)), what).to.equal(shape(readDer(o)));
        const fsd = parseSignedData(f);
        const osd = parseSignedData(o);
        expect(fsd.version, what).to.equal(osd.version);
        expect(fsd.digestAlgorithms).to.deep.equal(osd.digestAlgorithms);
        expect(fsd.eContentType).to.equal(osd.eContentType);
        expect(hex(fsd.eContent!)).to.equal(hex(content));
        expect(hex(osd.eContent!)).to.equal(hex(content));
        expect(fsd.certificates.map(hex), what).to.deep.equal(osd.certificates.map(hex));
        const fsi = fsd.signerInfos[0]!;
        const osi = osd.signerInfos[0]!;
        // everything of the SignerInfo but the signature value and the time-stamp is byte-equal
        for (let c = 0; c < 5; c++) expect(hex(fsi.node.children[c]!.bytes), `${what}: SignerInfo component ${c}`).to.equal(hex(osi.node.children[c]!.bytes));
        if (algorithm.startsWith('RSA')) expect(hex(fsi.signature), `${what}: RSA signatures are deterministic`).to.equal(hex(osi.signature));
        expect(verifies(fsd, pki.seal.certificate), `${what}: fast signature`).to.equal(true);
        expect(verifies(osd, pki.seal.certificate), `${what}: object signature`).to.equal(true);
        expect(fsi.unsignedAttrs!.attributes.map((a) => a.type)).to.deep.equal([OID.signatureTimeStampToken]);
        compareTokens(
          fsi.unsignedAttrs!.attributes[0]!.values[0]!.bytes,
          osi.unsignedAttrs!.attributes[0]!.values[0]!.bytes,
          { fast: sha256(fsi.signature), object: sha256(osi.signature) },
          pki.tsa.certificate,
          window,
        );

        // the same report, line for line
        const anchors = [pki.root.certificate];
        const fr = await verifyCadesT(f, { trustAnchors: anchors });
        const or = await verifyCadesT(o, { trustAnchors: anchors });
        expect(fr.checks.map((c) => `${c.name}:${c.passed}:${c.subIndication ?? ''}`), what).to.deep.equal(or.checks.map((c) => `${c.name}:${c.passed}:${c.subIndication ?? ''}`));
        expect(fr.indication).to.equal(or.indication);
        if (signingTime.getTime() < Date.now() - 1000 && signingTime.getTime() > Date.now() - 3_600_000) expect(fr.indication, what).to.equal('TOTAL_PASSED');
      }
    });

    it(`answers the same TimeStampReq the same way, natively and through the objects (seed ${seed + 100})`, async () => {
      const random = xorshift(seed + 100);
      const hashes = [
        [OID.sha256, 32],
        [OID.sha384, 48],
        [OID.sha512, 64],
      ] as const;
      for (let i = 0; i < CASES; i++) {
        const [hashOid, length] = hashes[i % 3]!;
        const hashedMessage = new Uint8Array(randomBytes(length));
        const withNull = random() < 0.3;
        const request = encodeTimeStampReq({
          messageImprint: { hashAlgorithmOid: hashOid, hashAlgorithmDer: withNull ? sequence(oid(hashOid), Uint8Array.of(Tag.NULL, 0)) : sequence(oid(hashOid)), hashedMessage },
          certReq: random() < 0.5,
          ...(random() < 0.7 ? { nonce: BigInt(Math.floor(random() * 2 ** 52)) * (random() < 0.5 ? 2n ** 60n : 1n) } : {}),
          ...(random() < 0.3 ? { reqPolicy: POLICY } : {}),
        });
        const before = Date.now();
        const fr = parseTimeStampResp(await nativeTsa.respond(request));
        const or = parseTimeStampResp(await objectTsa.respond(request));
        expect(fr.status).to.equal('granted');
        expect(or.status).to.equal('granted');
        compareTokens(fr.token!, or.token!, { fast: hashedMessage, object: hashedMessage }, pki.tsa.certificate, [before - 1, Date.now() + 1]);
        const fi = parseTSTInfo(parseSignedData(fr.token!).eContent!);
        const oi = parseTSTInfo(parseSignedData(or.token!).eContent!);
        expect(fi.nonce).to.equal(oi.nonce);
        expect(hex(fi.messageImprint.hashAlgorithmDer)).to.equal(hex(oi.messageImprint.hashAlgorithmDer));
      }
      // refusals are the same bytes (no signature in them)
      for (const bad of [Uint8Array.of(1, 2, 3), encodeTimeStampReq({ messageImprint: { hashAlgorithmOid: OID.sha1, hashAlgorithmDer: sequence(oid(OID.sha1)), hashedMessage: new Uint8Array(20) }, certReq: false })]) {
        expect(hex(await nativeTsa.respond(bad))).to.equal(hex(await objectTsa.respond(bad)));
      }
    });
  });
}
