/**
 * CMS SignedData (RFC 5652 §5) inside its ContentInfo (§3): reading (DER only) and checking
 * one SignerInfo. The writer is SignerTemplate.ts.
 *
 * ```asn1
 * ContentInfo ::= SEQUENCE {
 *   contentType  ContentType,                                   -- id-signedData
 *   content      [0] EXPLICIT ANY DEFINED BY contentType }
 * SignedData ::= SEQUENCE {
 *   version           CMSVersion,                               -- §5.1: 1, or 3 when eContentType is not id-data
 *   digestAlgorithms  SET OF DigestAlgorithmIdentifier,
 *   encapContentInfo  EncapsulatedContentInfo,
 *   certificates      [0] IMPLICIT CertificateSet OPTIONAL,     -- SET OF: DER-sorted
 *   crls              [1] IMPLICIT RevocationInfoChoices OPTIONAL,
 *   signerInfos       SET OF SignerInfo }
 * EncapsulatedContentInfo ::= SEQUENCE {
 *   eContentType  ContentType,
 *   eContent      [0] EXPLICIT OCTET STRING OPTIONAL }          -- one primitive OCTET STRING (docs/cades-profile.md)
 * SignerInfo ::= SEQUENCE {
 *   version             CMSVersion,                             -- 1 with issuerAndSerialNumber
 *   sid                 SignerIdentifier,
 *   digestAlgorithm     DigestAlgorithmIdentifier,
 *   signedAttrs         [0] IMPLICIT SignedAttributes OPTIONAL,
 *   signatureAlgorithm  SignatureAlgorithmIdentifier,
 *   signature           SignatureValue,                         -- OCTET STRING
 *   unsignedAttrs       [1] IMPLICIT UnsignedAttributes OPTIONAL }
 * SignerIdentifier ::= CHOICE {
 *   issuerAndSerialNumber  IssuerAndSerialNumber,
 *   subjectKeyIdentifier   [0] SubjectKeyIdentifier }
 * IssuerAndSerialNumber ::= SEQUENCE { issuer Name, serialNumber CertificateSerialNumber }   -- §10.2.4
 * ```
 *
 * The signature covers the DER of the signed attributes with the SET OF tag (§5.4), not the
 * `[0]` tag they are carried with.
 */
import { digest, hashByOid, readAlgorithmIdentifier, type AlgorithmIdentifierValue, type HashName } from './AlgorithmIdentifier.js';
import { findExtension, type CertificateView } from './Certificate.js';
import { readSubjectKeyIdentifier } from './CertificateExtensions.js';
import { parseCertificateCached } from './CertificateCache.js';
import {
  DerError,
  DerSequence,
  Tag,
  assertSorted,
  contextTag,
  equalBytes,
  readDer,
  readOctetString,
  readOid,
  readSmallInteger,
  retag,
  type DerNode,
} from './der.js';
import { OID } from './oids.js';
import { readAttributes, singleAttributeValue, type AttributeView } from './SignedAttributes.js';
import { verifyBytes } from './Signature.js';

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

export type SignerIdentifier = { issuer: Uint8Array; serialNumber: Uint8Array } | { subjectKeyIdentifier: Uint8Array };

export interface SignerInfoView {
  node: DerNode;
  version: number;
  sid: SignerIdentifier;
  digestAlgorithm: AlgorithmIdentifierValue;
  /** The SHA-2 hash digestAlgorithm names, if it is one. */
  digestHash?: HashName;
  signedAttrs?: {
    node: DerNode;
    attributes: AttributeView[];
    /** What the signature covers: the same bytes re-tagged as SET (RFC 5652 §5.4). */
    forSignature: Uint8Array;
  };
  signatureAlgorithm: AlgorithmIdentifierValue;
  signature: Uint8Array;
  unsignedAttrs?: { node: DerNode; attributes: AttributeView[] };
}

export interface SignedDataView {
  contentInfo: DerNode;
  node: DerNode;
  version: number;
  digestAlgorithms: AlgorithmIdentifierValue[];
  eContentType: string;
  /** Absent when the content is detached. */
  eContent?: Uint8Array;
  /** The X.509 certificates of `certificates` (the `certificate` choice). */
  certificates: Uint8Array[];
  /** The identifier octet of every CertificateChoices entry, certificates included (§10.2.2). */
  certificateChoiceTags: number[];
  /** The identifier octet of every RevocationInfoChoice entry of `crls` (§10.2.1). */
  revocationChoiceTags: number[];
  /** The X.509 CRLs of `crls` (the CertificateList choice), DER. */
  crls: Uint8Array[];
  /** The otherRevInfoFormat of each `other` RevocationInfoChoice of `crls` (§10.2.1), in order. */
  otherRevocationFormats: string[];
  /** The OCSP responses of `crls` (other, id-ri-ocsp-response, RFC 5940 §3), DER. */
  ocspResponses: Uint8Array[];
  signerInfos: SignerInfoView[];
}

/** Parses a DER ContentInfo holding SignedData; throws DerError for anything else. */
export function parseSignedData(input: Uint8Array | DerNode): SignedDataView {
  const contentInfo = input instanceof Uint8Array ? readDer(input) : input;
  const ci = new DerSequence(contentInfo, 'ContentInfo');
  const contentType = readOid(ci.next(Tag.OBJECT_IDENTIFIER, 'contentType'));
  if (contentType !== OID.signedData) throw new DerError(`ContentInfo: contentType ${contentType} is not id-signedData`);
  const wrapper = ci.next(contextTag(0, true), 'content');
  ci.end();
  if (wrapper.children.length !== 1) throw new DerError('ContentInfo: content must hold one value');
  const node = wrapper.children[0]!;

  const sd = new DerSequence(node, 'SignedData');
  const version = readSmallInteger(sd.next(Tag.INTEGER, 'version'), 'SignedData.version');
  const digestAlgorithms = sd.next(Tag.SET, 'digestAlgorithms').children.map((n) => readAlgorithmIdentifier(n, 'digestAlgorithm'));
  const eci = new DerSequence(sd.next(Tag.SEQUENCE, 'encapContentInfo'), 'EncapsulatedContentInfo');
  const eContentType = readOid(eci.next(Tag.OBJECT_IDENTIFIER, 'eContentType'));
  const eContentWrapper = eci.optional(contextTag(0, true));
  eci.end();
  let eContent: Uint8Array | undefined;
  if (eContentWrapper) {
    if (eContentWrapper.children.length !== 1) throw new DerError('EncapsulatedContentInfo: eContent must hold one OCTET STRING');
    eContent = readOctetString(eContentWrapper.children[0]!, 'eContent');
  }
  const certsNode = sd.optional(contextTag(0, true));
  const certificates: Uint8Array[] = [];
  const certificateChoiceTags: number[] = [];
  if (certsNode) {
    assertSorted(certsNode.children, certsNode.offset); // CertificateSet is a SET OF (X.690 §11.6)
    for (const c of certsNode.children) {
      certificateChoiceTags.push(c.tag);
      if (c.tag === Tag.SEQUENCE) certificates.push(c.bytes); // the other CertificateChoices are not certificates (CadesProfile.ts refuses them)
    }
  }
  const crls = sd.optional(contextTag(1, true));
  if (crls) assertSorted(crls.children, crls.offset);
  const revocationChoiceTags = crls ? crls.children.map((c) => c.tag) : [];
  const crlValues = crls ? crls.children.filter((c) => c.tag === Tag.SEQUENCE).map((c) => c.bytes) : [];
  const otherRevocationFormats: string[] = [];
  const ocspResponses: Uint8Array[] = [];
  for (const c of crls?.children ?? []) {
    if (c.tag !== contextTag(1, true)) continue;
    // OtherRevocationInfoFormat ::= SEQUENCE { otherRevInfoFormat OBJECT IDENTIFIER, otherRevInfo ANY }
    if (c.children.length !== 2 || c.children[0]!.tag !== Tag.OBJECT_IDENTIFIER) throw new DerError('OtherRevocationInfoFormat: an OBJECT IDENTIFIER and one value expected');
    const format = readOid(c.children[0]!, 'otherRevInfoFormat');
    const info = c.children[1]!;
    otherRevocationFormats.push(format);
    if (format === OID.riOcspResponse) ocspResponses.push(info.bytes);
  }
  const signerInfos = sd.next(Tag.SET, 'signerInfos').children.map(readSignerInfo);
  sd.end();
  return { contentInfo, node, version, digestAlgorithms, eContentType, ...(eContent ? { eContent } : {}), certificates, certificateChoiceTags, revocationChoiceTags, crls: crlValues, otherRevocationFormats, ocspResponses, signerInfos };
}

function readSignerInfo(node: DerNode): SignerInfoView {
  const s = new DerSequence(node, 'SignerInfo');
  const version = readSmallInteger(s.next(Tag.INTEGER, 'version'), 'SignerInfo.version');
  const sidNode = s.any('sid');
  let sid: SignerIdentifier;
  if (sidNode.tag === Tag.SEQUENCE) {
    const ias = new DerSequence(sidNode, 'IssuerAndSerialNumber');
    const issuer = ias.next(Tag.SEQUENCE, 'issuer').bytes;
    const serialNumber = ias.next(Tag.INTEGER, 'serialNumber').bytes;
    ias.end();
    sid = { issuer, serialNumber };
  } else if (sidNode.tag === contextTag(0, false)) {
    sid = { subjectKeyIdentifier: sidNode.content };
  } else {
    throw new DerError('SignerInfo: sid is neither issuerAndSerialNumber nor subjectKeyIdentifier');
  }
  const digestAlgorithm = readAlgorithmIdentifier(s.next(Tag.SEQUENCE, 'digestAlgorithm'), 'SignerInfo.digestAlgorithm');
  const signedNode = s.optional(contextTag(0, true));
  const signatureAlgorithm = readAlgorithmIdentifier(s.next(Tag.SEQUENCE, 'signatureAlgorithm'), 'SignerInfo.signatureAlgorithm');
  const signature = readOctetString(s.next(Tag.OCTET_STRING, 'signature'));
  const unsignedNode = s.optional(contextTag(1, true));
  s.end();
  const digestHash = hashByOid(digestAlgorithm.oid);
  return {
    node,
    version,
    sid,
    digestAlgorithm,
    ...(digestHash ? { digestHash } : {}),
    ...(signedNode
      ? { signedAttrs: { node: signedNode, attributes: readAttributes(signedNode, 'signedAttrs'), forSignature: retag(Tag.SET, signedNode.bytes) } }
      : {}),
    signatureAlgorithm,
    signature,
    ...(unsignedNode ? { unsignedAttrs: { node: unsignedNode, attributes: readAttributes(unsignedNode, 'unsignedAttrs') } } : {}),
  };
}

/** The certificate among `certificates` that `sid` identifies (RFC 5652 §5.3), if any. */
export function findSignerCertificate(certificates: readonly Uint8Array[], sid: SignerIdentifier): CertificateView | undefined {
  for (const der of certificates) {
    let cert: CertificateView;
    try {
      cert = parseCertificateCached(der);
    } catch {
      continue;
    }
    if ('issuer' in sid) {
      if (equalBytes(cert.issuer, sid.issuer) && equalBytes(cert.serialNumberDer, sid.serialNumber)) return cert;
    } else {
      const ski = findExtension(cert, OID.subjectKeyIdentifier);
      if (ski && equalBytes(readSubjectKeyIdentifier(ski), sid.subjectKeyIdentifier)) return cert;
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Checking one SignerInfo
// ---------------------------------------------------------------------------------------------

export type Outcome = { ok: true; detail: string } | { ok: false; detail: string };

/**
 * RFC 5652 §11.1–11.2: the content-type attribute equals eContentType and the message-digest
 * attribute equals the hash of the eContent under the SignerInfo's digestAlgorithm.
 */
export function checkContentAttributes(signerInfo: SignerInfoView, eContentType: string, eContent: Uint8Array): Outcome {
  const attrs = signerInfo.signedAttrs?.attributes;
  if (!attrs) return { ok: false, detail: 'no signed attributes' };
  if (!signerInfo.digestHash) return { ok: false, detail: `unsupported digest algorithm ${signerInfo.digestAlgorithm.oid}` };
  try {
    const ct = singleAttributeValue(attrs, OID.contentType, 'signedAttrs');
    if (!ct || readOid(ct) !== eContentType) return { ok: false, detail: 'the content-type attribute is missing or differs from eContentType (RFC 5652 §11.1)' };
    const md = singleAttributeValue(attrs, OID.messageDigest, 'signedAttrs');
    if (!md) return { ok: false, detail: 'no message-digest attribute (RFC 5652 §11.2)' };
    const expected = digest(signerInfo.digestHash, eContent);
    if (!equalBytes(readOctetString(md, 'message-digest'), expected)) {
      return { ok: false, detail: `the message-digest attribute is not the ${signerInfo.digestHash} of the content (RFC 5652 §11.2)` };
    }
    return { ok: true, detail: `message-digest equals ${signerInfo.digestHash} of the ${eContent.length}-octet content` };
  } catch (err) {
    if (err instanceof DerError) return { ok: false, detail: err.message };
    throw err;
  }
}

/** RFC 5652 §5.4–5.6: the signature over the DER signed attributes verifies with the certificate's key. */
export async function checkSignerSignature(signerInfo: SignerInfoView, cert: CertificateView, crypto?: Crypto): Promise<Outcome> {
  if (!signerInfo.signedAttrs) return { ok: false, detail: 'no signed attributes to verify' };
  const r = await verifyBytes(cert.publicKey, signerInfo.signatureAlgorithm, signerInfo.digestHash, signerInfo.signedAttrs.forSignature, signerInfo.signature, crypto);
  return r.valid ? { ok: true, detail: `${cert.publicKey.family} signature over the signed attributes is valid` } : { ok: false, detail: r.reason };
}
