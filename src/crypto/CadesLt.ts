/**
 * CAdES baseline B-LT (ETSI EN 319 122-1 §6.4): a B-T proof with the validation data it
 * needs to be checked later — every certificate of the sealing and TSA certificates' paths and
 * the revocation data of those certificates — in the places RFC 5652 gives them:
 *
 *   SignedData.certificates  [0] IMPLICIT CertificateSet          (X.509 certificates)
 *   SignedData.crls          [1] IMPLICIT RevocationInfoChoices    (CertificateList, RFC 5280 §5;
 *                            OCSP responses as other { id-ri-ocsp-response, OCSPResponse }, RFC 5940 §3)
 *
 * Neither field is covered by the signature nor by the signature time-stamp (the signature
 * covers the signed attributes, the time-stamp the signature value), so a B-T proof becomes a
 * B-LT one by rewriting the SignedData around the same encapContentInfo and SignerInfo octets.
 * Both fields are SET OF: written DER-sorted (X.690 §11.6), duplicates dropped. The SignedData
 * version stays what RFC 5652 §5.1 derives for X.509 certificates and CRLs (1 for a proof), and
 * becomes 5 when an OCSP response (an `other` RevocationInfoChoice) is carried.
 *
 * Why these fields and not the unsigned attributes certificate-values and revocation-values
 * (the CAdES-X-L place of ETSI TS 101 733, still allowed by EN 319 122-1 §5.5): see
 * docs/revocation.md — OpenSSL (`cms -verify -crl_check`) and Bouncy Castle
 * (`CMSSignedData.getCRLs()`) read them, and nothing needs to be added to the SignerInfo.
 */
import { findExtension, type CertificateView } from './Certificate.js';
import { knownCertificates, parseCertificateCached } from './CertificateCache.js';
import { parseCrl, readCrlDistributionPoints } from './Crl.js';
import { DerError, DerSequence, Tag, contextTag, equalBytes, integer, oid, readDer, readOid, setOf, sequence, tlv } from './der.js';
import { parseOcspResponse } from './Ocsp.js';
import { OID } from './oids.js';
import { verifyBytes } from './Signature.js';
import { findSignerCertificate, parseSignedData } from './SignedData.js';
import { parseTSTInfo } from './TSTInfo.js';

export interface LongTermValues {
  /** DER X.509 certificates to carry (the paths of the sealing and TSA certificates). */
  certificates: readonly Uint8Array[];
  /** DER CRLs to carry. */
  crls: readonly Uint8Array[];
  /** DER OCSPResponses to carry, as RevocationInfoChoice other id-ri-ocsp-response (RFC 5940 §3). */
  ocspResponses?: readonly Uint8Array[];
}

function union(existing: readonly Uint8Array[], added: readonly Uint8Array[]): Uint8Array[] {
  const out = [...existing];
  for (const a of added) if (!out.some((e) => equalBytes(e, a))) out.push(a);
  return out;
}

/**
 * The proof with `values` added to SignedData.certificates and SignedData.crls (kept ones
 * first, then the new ones, the whole set DER-sorted). Throws DerError when the proof is not a
 * DER ContentInfo of SignedData or a value is not a certificate or a CRL.
 */
export function addLongTermValues(proof: Uint8Array, values: LongTermValues): Uint8Array {
  // every proof of a key carries the same certificates: each is checked (parsed) once
  for (const c of values.certificates) parseCertificateCached(c);
  for (const c of values.crls) parseCrl(c);
  for (const r of values.ocspResponses ?? []) parseOcspResponse(r);
  const ci = new DerSequence(readDer(proof, { known: knownCertificates }), 'ContentInfo');
  const contentType = ci.next(Tag.OBJECT_IDENTIFIER, 'contentType');
  if (readOid(contentType) !== OID.signedData) throw new DerError('ContentInfo: not id-signedData');
  const wrapper = ci.next(contextTag(0, true), 'content');
  ci.end();
  if (wrapper.children.length !== 1) throw new DerError('ContentInfo: content must hold one value');
  const sd = new DerSequence(wrapper.children[0]!, 'SignedData');
  const version = sd.next(Tag.INTEGER, 'version');
  const digestAlgorithms = sd.next(Tag.SET, 'digestAlgorithms');
  const encap = sd.next(Tag.SEQUENCE, 'encapContentInfo');
  const certs = sd.optional(contextTag(0, true));
  const crls = sd.optional(contextTag(1, true));
  const signerInfos = sd.next(Tag.SET, 'signerInfos');
  sd.end();
  const certificateSet = union(certs ? certs.children.map((c) => c.bytes) : [], values.certificates);
  // OtherRevocationInfoFormat { id-ri-ocsp-response, OCSPResponse }, [1] IMPLICIT in RevocationInfoChoice
  const others = (values.ocspResponses ?? []).map((r) => tlv(contextTag(1, true), Buffer.concat([oid(OID.riOcspResponse), r])));
  const crlSet = union(crls ? crls.children.map((c) => c.bytes) : [], [...values.crls, ...others]);
  // RFC 5652 §5.1: a SignedData with an `other` RevocationInfoChoice is version 5
  const versionBytes = crlSet.some((c) => c[0] === contextTag(1, true)) ? integer(5) : version.bytes;
  const tagged = (n: number, items: Uint8Array[]) => {
    const set = setOf(items);
    set[0] = contextTag(n, true);
    return set;
  };
  const signedData = sequence(
    versionBytes,
    digestAlgorithms.bytes,
    encap.bytes,
    ...(certificateSet.length ? [tagged(0, certificateSet)] : []),
    ...(crlSet.length ? [tagged(1, crlSet)] : []),
    signerInfos.bytes,
  );
  return sequence(contentType.bytes, tlv(contextTag(0, true), signedData));
}

/** What the sealer needs to gather a B-T proof's validation data. */
export interface LongTermTargets {
  /** The signature time-stamp's genTime: the revocation data must speak for it. */
  genTime: Date;
  signer: CertificateView;
  tsa: CertificateView;
  /** Every certificate of the proof and of its time-stamp token. */
  certificates: Uint8Array[];
}

/**
 * The sealing and TSA certificates, genTime and the certificates of a B-T proof; throws
 * DerError when it is not one. The proof and its time-stamp token are each read once, and the
 * certificates read before (every proof of a key carries the same ones) are not read again.
 */
export function longTermTargets(proof: Uint8Array): LongTermTargets {
  const sd = parseSignedData(readDer(proof, { known: knownCertificates }));
  const si = sd.signerInfos[0];
  if (!si || sd.signerInfos.length !== 1) throw new DerError('SignedData: exactly one SignerInfo expected');
  const signer = findSignerCertificate(sd.certificates, si.sid);
  if (!signer) throw new DerError('the proof does not carry its sealing certificate');
  const attr = si.unsignedAttrs?.attributes.find((a) => a.type === OID.signatureTimeStampToken);
  if (!attr) throw new DerError('the proof has no signature-time-stamp attribute (a CAdES-B, not a B-T)');
  const tokenData = parseSignedData(readDer(attr.values[0]!.bytes, { known: knownCertificates }));
  if (tokenData.eContentType !== OID.tstInfo || !tokenData.eContent) throw new DerError('TimeStampToken: no id-ct-TSTInfo content');
  if (tokenData.signerInfos.length !== 1) throw new DerError('TimeStampToken: exactly one SignerInfo required (RFC 3161 §2.4.2)');
  const certificates = union(sd.certificates, tokenData.certificates);
  const tsa = findSignerCertificate(certificates, tokenData.signerInfos[0]!.sid);
  if (!tsa) throw new DerError('neither the time-stamp token nor the proof carries the TSA certificate');
  return { genTime: parseTSTInfo(tokenData.eContent).genTime, signer, tsa, certificates };
}

/**
 * The certification path of `cert` up to a self-signed certificate, from `pool`: at each step
 * the certificate of the issuer's Name whose key verifies the signature. Ends early (without
 * the root) when no issuer is in the pool.
 */
export async function certificatePathFrom(cert: CertificateView, pool: readonly Uint8Array[], crypto?: Crypto): Promise<CertificateView[]> {
  const candidates = pool.flatMap((der) => {
    try {
      return [parseCertificateCached(der)];
    } catch {
      return [];
    }
  });
  const path = [cert];
  for (let current = cert; path.length < 8 && !equalBytes(current.issuer, current.subject); ) {
    let issuer: CertificateView | undefined;
    for (const c of candidates) {
      if (!equalBytes(c.subject, current.issuer)) continue;
      if ((await verifyBytes(c.publicKey, current.signatureAlgorithm, undefined, current.tbs, current.signatureValue, crypto)).valid) {
        issuer = c;
        break;
      }
    }
    if (!issuer || path.includes(issuer)) break;
    path.push(issuer);
    current = issuer;
  }
  return path;
}

/** The http(s) URIs of a certificate's cRLDistributionPoints (RFC 5280 §4.2.1.13); none when it has no such extension. */
export function crlUrlsOf(cert: CertificateView): string[] {
  const ext = findExtension(cert, OID.cRLDistributionPoints);
  return ext ? readCrlDistributionPoints(ext).filter((u) => /^https?:\/\//i.test(u)) : [];
}
