/**
 * OCSP (RFC 6960): the request the service sends, the response a responder signs (the
 * development PKI's responder), and reading and checking a response — with the project's DER
 * writer and strict reader. The AIA extension (RFC 5280 §4.2.2.1) names where to ask.
 *
 * ```asn1
 * OCSPRequest ::= SEQUENCE { tbsRequest TBSRequest, optionalSignature [0] EXPLICIT Signature OPTIONAL }
 * TBSRequest ::= SEQUENCE { version [0] EXPLICIT Version DEFAULT v1, requestorName [1] EXPLICIT GeneralName OPTIONAL,
 *   requestList SEQUENCE OF Request, requestExtensions [2] EXPLICIT Extensions OPTIONAL }
 * Request ::= SEQUENCE { reqCert CertID, singleRequestExtensions [0] EXPLICIT Extensions OPTIONAL }
 * CertID ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier, issuerNameHash OCTET STRING,
 *   issuerKeyHash OCTET STRING, serialNumber CertificateSerialNumber }
 * OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED, responseBytes [0] EXPLICIT ResponseBytes OPTIONAL }
 * ResponseBytes ::= SEQUENCE { responseType OBJECT IDENTIFIER, response OCTET STRING }
 * BasicOCSPResponse ::= SEQUENCE { tbsResponseData ResponseData, signatureAlgorithm AlgorithmIdentifier,
 *   signature BIT STRING, certs [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL }
 * ResponseData ::= SEQUENCE { version [0] EXPLICIT Version DEFAULT v1, responderID ResponderID,
 *   producedAt GeneralizedTime, responses SEQUENCE OF SingleResponse, responseExtensions [1] EXPLICIT Extensions OPTIONAL }
 * ResponderID ::= CHOICE { byName [1] Name, byKey [2] KeyHash }     -- KeyHash: SHA-1 of the subjectPublicKey bits
 * SingleResponse ::= SEQUENCE { certID CertID, certStatus CertStatus, thisUpdate GeneralizedTime,
 *   nextUpdate [0] EXPLICIT GeneralizedTime OPTIONAL, singleExtensions [1] EXPLICIT Extensions OPTIONAL }
 * CertStatus ::= CHOICE { good [0] IMPLICIT NULL, revoked [1] IMPLICIT RevokedInfo, unknown [2] IMPLICIT NULL }
 * RevokedInfo ::= SEQUENCE { revocationTime GeneralizedTime, revocationReason [0] EXPLICIT CRLReason OPTIONAL }
 * AuthorityInfoAccessSyntax ::= SEQUENCE OF AccessDescription { accessMethod OID, accessLocation GeneralName }
 * ```
 *
 * CertIDs use SHA-1 (RFC 5019 §2.1.1: what every responder answers to). Requests carry no
 * nonce, so answers can be cached until their nextUpdate (RFC 5019 §2.1). A response counts
 * for a certificate when it is successful and basic, its SingleResponse's CertID is the
 * certificate's (issuer Name and key hashes, serial), and its signature verifies with the
 * issuer's key or with a delegated responder certificate in `certs` that the issuer's key
 * signed, whose extendedKeyUsage holds id-kp-OCSPSigning (RFC 6960 §4.2.2.2), valid at producedAt.
 */
import { algorithmSpec, digest, readAlgorithmIdentifier, type AlgorithmIdentifierValue, type KeyAlgorithm } from './AlgorithmIdentifier.js';
import { findExtension, readCertificate, subjectString, type CertificateView } from './Certificate.js';
import { encodeExtension, readExtendedKeyUsage } from './CertificateExtensions.js';
import { CRL_REASONS } from './Crl.js';
import {
  DerError,
  DerSequence,
  Tag,
  bitString,
  contextTag,
  derNull,
  equalBytes,
  explicit,
  generalizedTime,
  integer,
  octetString,
  oid,
  readBitString,
  readDer,
  readInteger,
  readOctetString,
  readOid,
  readSmallInteger,
  readTime,
  sequence,
  tlv,
  type DerNode,
} from './der.js';
import { OID } from './oids.js';
import { signBytes, verifyBytes } from './Signature.js';
import { defaultCrypto } from './webcrypto.js';

const SHA1 = '1.3.14.3.2.26';
const SHA1_NULL = sequence(oid(SHA1), derNull());

export interface CertId {
  issuerNameHash: Uint8Array;
  issuerKeyHash: Uint8Array;
  serialNumber: bigint;
}

/** The SHA-1 CertID of `cert` issued by `issuer`. */
export function certIdFor(cert: CertificateView, issuer: CertificateView): CertId {
  return { issuerNameHash: digest('SHA-1', cert.issuer), issuerKeyHash: digest('SHA-1', issuer.publicKey.subjectPublicKey), serialNumber: cert.serialNumber };
}

function encodeCertId(id: CertId): Uint8Array {
  return sequence(SHA1_NULL, octetString(id.issuerNameHash), octetString(id.issuerKeyHash), integer(id.serialNumber));
}

function readCertId(node: DerNode): CertId & { hashOid: string } {
  const s = new DerSequence(node, 'CertID');
  const alg = readAlgorithmIdentifier(s.next(Tag.SEQUENCE, 'hashAlgorithm'));
  const issuerNameHash = readOctetString(s.next(Tag.OCTET_STRING, 'issuerNameHash'));
  const issuerKeyHash = readOctetString(s.next(Tag.OCTET_STRING, 'issuerKeyHash'));
  const serialNumber = readInteger(s.next(Tag.INTEGER, 'serialNumber'));
  s.end();
  return { hashOid: alg.oid, issuerNameHash, issuerKeyHash, serialNumber };
}

/** An OCSPRequest for one certificate, unsigned, without nonce (RFC 5019 §2.1). */
export function ocspRequest(cert: CertificateView, issuer: CertificateView): Uint8Array {
  return sequence(sequence(sequence(sequence(encodeCertId(certIdFor(cert, issuer))))));
}

/** The CertIDs of an OCSPRequest (and its nonce, if any); throws DerError when it is not one. */
export function readOcspRequest(der: Uint8Array): { ids: (CertId & { hashOid: string })[]; nonce?: Uint8Array } {
  const req = new DerSequence(readDer(der), 'OCSPRequest');
  const tbs = new DerSequence(req.next(Tag.SEQUENCE, 'tbsRequest'), 'TBSRequest');
  tbs.optional(contextTag(0, true));
  tbs.optional(contextTag(1, true));
  const list = tbs.next(Tag.SEQUENCE, 'requestList');
  const extensions = tbs.optional(contextTag(2, true));
  tbs.end();
  const ids = list.children.map((r) => readCertId(new DerSequence(r, 'Request').next(Tag.SEQUENCE, 'reqCert')));
  let nonce: Uint8Array | undefined;
  for (const ext of extensions?.children[0]?.children ?? []) {
    const e = new DerSequence(ext, 'Extension');
    if (readOid(e.next(Tag.OBJECT_IDENTIFIER, 'extnID')) !== OID.ocspNonce) continue;
    e.optional(Tag.BOOLEAN);
    nonce = readOctetString(e.next(Tag.OCTET_STRING, 'extnValue'));
  }
  return { ids, ...(nonce ? { nonce } : {}) };
}

export type OcspCertStatus = { status: 'good' } | { status: 'revoked'; revocationTime: Date; reason?: number } | { status: 'unknown' };

export interface OcspResponderIdentity {
  certificate: CertificateView;
  privateKey: CryptoKey;
  algorithm: KeyAlgorithm;
  /** Certificates sent in `certs` (a delegated responder's own certificate). */
  certs: readonly Uint8Array[];
}

/** A successful basic OCSPResponse for `ids`, signed by `responder`; `nonce` echoed when given. */
export async function issueOcspResponse(
  input: { ids: readonly CertId[]; status: (id: CertId) => OcspCertStatus; producedAt: Date; thisUpdate: Date; nextUpdate: Date; nonce?: Uint8Array },
  responder: OcspResponderIdentity,
  crypto: Crypto = defaultCrypto(),
): Promise<Uint8Array> {
  const seconds = (d: Date) => new Date(Math.floor(d.getTime() / 1000) * 1000);
  const responses = input.ids.map((id) => {
    const st = input.status(id);
    const certStatus =
      st.status === 'good'
        ? tlv(contextTag(0, false), new Uint8Array(0))
        : st.status === 'unknown'
          ? tlv(contextTag(2, false), new Uint8Array(0))
          : tlv(contextTag(1, true), Buffer.concat([generalizedTime(seconds(st.revocationTime)), ...(st.reason !== undefined && st.reason !== CRL_REASONS.unspecified ? [explicit(0, tlv(Tag.ENUMERATED, Uint8Array.of(st.reason)))] : [])]));
    return sequence(encodeCertId(id), certStatus, generalizedTime(seconds(input.thisUpdate)), explicit(0, generalizedTime(seconds(input.nextUpdate))));
  });
  const responderId = tlv(contextTag(2, true), octetString(digest('SHA-1', responder.certificate.publicKey.subjectPublicKey)));
  const extensions = input.nonce ? [explicit(1, sequence(encodeExtension(OID.ocspNonce, false, octetString(input.nonce))))] : [];
  const tbs = sequence(responderId, generalizedTime(seconds(input.producedAt)), sequence(...responses), ...extensions);
  const signatureAlgorithm = algorithmSpec(responder.algorithm).signatureAlgorithm;
  const signature = await signBytes(responder.privateKey, responder.algorithm, tbs, crypto);
  const basic = sequence(tbs, signatureAlgorithm, bitString(signature), ...(responder.certs.length ? [explicit(0, sequence(...responder.certs))] : []));
  return sequence(tlv(Tag.ENUMERATED, Uint8Array.of(0)), explicit(0, sequence(oid(OID.ocspBasic), octetString(basic))));
}

/** An unsuccessful OCSPResponse (RFC 6960 §4.2.1: malformedRequest 1, internalError 2, tryLater 3, unauthorized 6). */
export function ocspErrorResponse(status: 1 | 2 | 3 | 5 | 6): Uint8Array {
  return sequence(tlv(Tag.ENUMERATED, Uint8Array.of(status)));
}

export interface OcspSingleResponse {
  certId: CertId & { hashOid: string };
  certStatus: OcspCertStatus;
  thisUpdate: Date;
  nextUpdate?: Date;
}

export interface OcspResponseView {
  der: Uint8Array;
  /** responseStatus: 0 successful */
  responseStatus: number;
  tbs?: Uint8Array;
  responderId?: { byName: Uint8Array } | { byKey: Uint8Array };
  producedAt?: Date;
  responses: OcspSingleResponse[];
  signatureAlgorithm?: AlgorithmIdentifierValue;
  signature?: Uint8Array;
  certs: CertificateView[];
}

function readEnumerated(node: DerNode, what: string): number {
  if (node.tag !== Tag.ENUMERATED) throw new DerError(`${what}: expected ENUMERATED`);
  return readSmallInteger({ ...node, tag: Tag.INTEGER }, what);
}

/** Parses a DER OCSPResponse (basic responses read whole); throws DerError when it is not one. */
export function parseOcspResponse(der: Uint8Array): OcspResponseView {
  const top = new DerSequence(readDer(der), 'OCSPResponse');
  const responseStatus = readEnumerated(top.any('responseStatus'), 'responseStatus');
  const bytes = top.optional(contextTag(0, true));
  top.end();
  if (!bytes) return { der, responseStatus, responses: [], certs: [] };
  const rb = new DerSequence(bytes.children[0] ?? bytes, 'ResponseBytes');
  const type = readOid(rb.next(Tag.OBJECT_IDENTIFIER, 'responseType'));
  const response = readOctetString(rb.next(Tag.OCTET_STRING, 'response'));
  rb.end();
  if (type !== OID.ocspBasic) throw new DerError(`OCSP responseType ${type} is not id-pkix-ocsp-basic`);
  const basic = new DerSequence(readDer(response), 'BasicOCSPResponse');
  const tbsNode = basic.next(Tag.SEQUENCE, 'tbsResponseData');
  const signatureAlgorithm = readAlgorithmIdentifier(basic.next(Tag.SEQUENCE, 'signatureAlgorithm'));
  const { bytes: signature } = readBitString(basic.next(Tag.BIT_STRING, 'signature'));
  const certsNode = basic.optional(contextTag(0, true));
  basic.end();
  const certs = (certsNode?.children[0]?.children ?? []).map((c) => readCertificate(c));
  const tbs = new DerSequence(tbsNode, 'ResponseData');
  const version = tbs.optional(contextTag(0, true));
  if (version && readSmallInteger(version.children[0]!, 'ResponseData.version') !== 0) throw new DerError('ResponseData: version is not v1');
  const rid = tbs.any('responderID');
  let responderId: { byName: Uint8Array } | { byKey: Uint8Array };
  if (rid.tag === contextTag(1, true)) responderId = { byName: rid.children[0]!.bytes };
  else if (rid.tag === contextTag(2, true)) responderId = { byKey: readOctetString(rid.children[0]!, 'KeyHash') };
  else throw new DerError('ResponderID: neither byName nor byKey');
  const producedAt = readTime(tbs.next(Tag.GENERALIZED_TIME, 'producedAt'), 'producedAt');
  const list = tbs.next(Tag.SEQUENCE, 'responses');
  tbs.optional(contextTag(1, true));
  tbs.end();
  const responses = list.children.map((n): OcspSingleResponse => {
    const s = new DerSequence(n, 'SingleResponse');
    const certId = readCertId(s.next(Tag.SEQUENCE, 'certID'));
    const st = s.any('certStatus');
    let certStatus: OcspCertStatus;
    if (st.tag === contextTag(0, false)) certStatus = { status: 'good' };
    else if (st.tag === contextTag(2, false)) certStatus = { status: 'unknown' };
    else if (st.tag === contextTag(1, true)) {
      // [1] IMPLICIT RevokedInfo: the SEQUENCE's components under the context tag
      const [timeNode, reasonNode, ...rest] = st.children;
      if (!timeNode || timeNode.tag !== Tag.GENERALIZED_TIME || rest.length || (reasonNode && (reasonNode.tag !== contextTag(0, true) || reasonNode.children.length !== 1))) {
        throw new DerError('RevokedInfo: revocationTime GeneralizedTime and an optional [0] revocationReason expected');
      }
      const revocationTime = readTime(timeNode, 'revocationTime');
      certStatus = { status: 'revoked', revocationTime, ...(reasonNode ? { reason: readEnumerated(reasonNode.children[0]!, 'revocationReason') } : {}) };
    } else throw new DerError('CertStatus: unknown choice');
    const thisUpdate = readTime(s.next(Tag.GENERALIZED_TIME, 'thisUpdate'), 'thisUpdate');
    const next = s.optional(contextTag(0, true));
    s.optional(contextTag(1, true));
    s.end();
    return { certId, certStatus, thisUpdate, ...(next ? { nextUpdate: readTime(next.children[0]!, 'nextUpdate') } : {}) };
  });
  return { der, responseStatus, tbs: tbsNode.bytes, responderId, producedAt, responses, signatureAlgorithm, signature, certs };
}

/** The http(s) URIs of a certificate's AIA id-ad-ocsp access descriptions (RFC 5280 §4.2.2.1). */
export function ocspUrlsOf(cert: CertificateView): string[] {
  const ext = findExtension(cert, OID.authorityInfoAccess);
  if (!ext) return [];
  const node = readDer(ext.value);
  new DerSequence(node, 'AuthorityInfoAccessSyntax');
  const urls: string[] = [];
  for (const ad of node.children) {
    const s = new DerSequence(ad, 'AccessDescription');
    const method = readOid(s.next(Tag.OBJECT_IDENTIFIER, 'accessMethod'));
    const location = s.any('accessLocation');
    if (method === OID.adOcsp && location.tag === contextTag(6, false)) {
      const url = new TextDecoder().decode(location.content);
      if (/^https?:\/\//i.test(url)) urls.push(url);
    }
  }
  return urls;
}

/** The AIA extension with one id-ad-ocsp URI (RFC 5280 §4.2.2.1), non-critical. */
export function authorityInfoAccessOcsp(url: string): Uint8Array {
  if (!/^[\x21-\x7e]+$/.test(url) || !/^https?:\/\//i.test(url)) throw new RangeError(`not an http(s) URL of printable ASCII: ${url}`);
  return encodeExtension(OID.authorityInfoAccess, false, sequence(sequence(oid(OID.adOcsp), tlv(contextTag(6, false), new TextEncoder().encode(url)))));
}

export type OcspStatusForCertificate =
  | { status: 'good' | 'revoked' | 'unknown'; single: OcspSingleResponse; response: OcspResponseView; detail: string }
  | { status: 'none'; detail: string };

/**
 * What `response` says of `cert` (see the top of this file for when it counts): `none` when it
 * does not count — not successful, not for this certificate, not signed by the issuer or its
 * delegated responder.
 */
export async function ocspStatusOf(cert: CertificateView, issuer: CertificateView, response: OcspResponseView, crypto?: Crypto): Promise<OcspStatusForCertificate> {
  if (response.responseStatus !== 0 || !response.tbs || !response.signature || !response.signatureAlgorithm || !response.producedAt) {
    return { status: 'none', detail: `the OCSP response is not successful (status ${response.responseStatus})` };
  }
  const id = certIdFor(cert, issuer);
  const single = response.responses.find(
    (r) =>
      r.certId.serialNumber === id.serialNumber &&
      ((r.certId.hashOid === SHA1 && equalBytes(r.certId.issuerNameHash, id.issuerNameHash) && equalBytes(r.certId.issuerKeyHash, id.issuerKeyHash)) ||
        (r.certId.hashOid === OID.sha256 && equalBytes(r.certId.issuerNameHash, digest('SHA-256', cert.issuer)) && equalBytes(r.certId.issuerKeyHash, digest('SHA-256', issuer.publicKey.subjectPublicKey)))),
  );
  if (!single) return { status: 'none', detail: 'the OCSP response has no answer for this certificate' };
  const signedBy = async (key: CertificateView) => (await verifyBytes(key.publicKey, response.signatureAlgorithm!, undefined, response.tbs!, response.signature!, crypto)).valid;
  const matchesResponder = (c: CertificateView) =>
    response.responderId && ('byKey' in response.responderId ? equalBytes(response.responderId.byKey, digest('SHA-1', c.publicKey.subjectPublicKey)) : equalBytes(response.responderId.byName, c.subject));
  let by: string | undefined;
  if (matchesResponder(issuer) && (await signedBy(issuer))) by = 'the issuer';
  else {
    for (const delegate of response.certs) {
      if (!matchesResponder(delegate) || !equalBytes(delegate.issuer, issuer.subject)) continue;
      const eku = findExtension(delegate, OID.extKeyUsage);
      let purposes: string[] = [];
      try {
        purposes = eku ? readExtendedKeyUsage(eku) : [];
      } catch {
        continue;
      }
      if (!purposes.includes(OID.kpOcspSigning)) continue;
      if (response.producedAt < delegate.notBefore || response.producedAt > delegate.notAfter) continue;
      if (!(await verifyBytes(issuer.publicKey, delegate.signatureAlgorithm, undefined, delegate.tbs, delegate.signatureValue, crypto)).valid) continue;
      if (await signedBy(delegate)) {
        by = `the delegated responder ${subjectString(delegate)}`;
        break;
      }
    }
  }
  if (!by) return { status: 'none', detail: 'the OCSP response is signed neither by the issuer nor by a responder it authorised (RFC 6960 §4.2.2.2)' };
  const when = `produced ${response.producedAt.toISOString()} by ${by}, this update ${single.thisUpdate.toISOString()}, next update ${single.nextUpdate?.toISOString() ?? 'not given'}`;
  return { status: single.certStatus.status, single, response, detail: `the OCSP response ${when}` };
}
