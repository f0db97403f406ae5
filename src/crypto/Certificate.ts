/**
 * X.509 certificates (RFC 5280 §4.1): a read-only view over the DER, and issuing.
 *
 * ```asn1
 * Certificate ::= SEQUENCE {
 *   tbsCertificate       TBSCertificate,
 *   signatureAlgorithm   AlgorithmIdentifier,
 *   signatureValue       BIT STRING }
 * TBSCertificate ::= SEQUENCE {
 *   version         [0] EXPLICIT Version DEFAULT v1,     -- v3 (2) here
 *   serialNumber         CertificateSerialNumber,        -- positive INTEGER, at most 20 octets (§4.1.2.2)
 *   signature            AlgorithmIdentifier,            -- same as signatureAlgorithm (§4.1.2.3)
 *   issuer               Name,
 *   validity             Validity,
 *   subject              Name,
 *   subjectPublicKeyInfo SubjectPublicKeyInfo,
 *   issuerUniqueID  [1] IMPLICIT UniqueIdentifier OPTIONAL,
 *   subjectUniqueID [2] IMPLICIT UniqueIdentifier OPTIONAL,
 *   extensions      [3] EXPLICIT Extensions OPTIONAL }
 * Validity ::= SEQUENCE { notBefore Time, notAfter Time }
 * ```
 */
import { algorithmSpec, digest, readAlgorithmIdentifier, type AlgorithmIdentifierValue, type KeyAlgorithm } from './AlgorithmIdentifier.js';
import { readExtension, type Extension } from './CertificateExtensions.js';
import { DerError, DerSequence, equalBytes, Tag, bitString, contextTag, explicit, integer, readBitString, readDer, readInteger, readSmallInteger, readTime, sequence, time, type DerNode } from './der.js';
import { defaultCrypto } from './webcrypto.js';
import { checkName, nameToString } from './Name.js';
import { signBytes } from './Signature.js';
import { readSubjectPublicKeyInfo, type PublicKeyInfo } from './SubjectPublicKeyInfo.js';

export interface CertificateView {
  der: Uint8Array;
  tbs: Uint8Array;
  version: number;
  /** The serialNumber INTEGER's encoding (tag, length and contents), for byte comparisons. */
  serialNumberDer: Uint8Array;
  serialNumber: bigint;
  /** The issuer Name's DER. */
  issuer: Uint8Array;
  /** The subject Name's DER. */
  subject: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  publicKey: PublicKeyInfo;
  extensions: Extension[];
  signatureAlgorithm: AlgorithmIdentifierValue;
  signatureValue: Uint8Array;
}

/** Parses a DER certificate; throws DerError when it is not one. */
export function parseCertificate(der: Uint8Array): CertificateView {
  return readCertificate(readDer(der));
}

export function readCertificate(node: DerNode): CertificateView {
  const cert = new DerSequence(node, 'Certificate');
  const tbsNode = cert.next(Tag.SEQUENCE, 'tbsCertificate');
  const signatureAlgorithm = readAlgorithmIdentifier(cert.next(Tag.SEQUENCE, 'signatureAlgorithm'));
  const { bytes: signatureValue } = readBitString(cert.next(Tag.BIT_STRING, 'signatureValue'));
  cert.end();

  const tbs = new DerSequence(tbsNode, 'TBSCertificate');
  const versionNode = tbs.optional(contextTag(0, true));
  const version = versionNode ? readSmallInteger(new DerSequence(versionNode, 'version', contextTag(0, true)).next(Tag.INTEGER, 'version')) + 1 : 1;
  const serialNode = tbs.next(Tag.INTEGER, 'serialNumber');
  const signature = tbs.next(Tag.SEQUENCE, 'signature');
  const issuer = tbs.next(Tag.SEQUENCE, 'issuer');
  const validity = new DerSequence(tbs.next(Tag.SEQUENCE, 'validity'), 'Validity');
  const notBefore = readTime(validity.any('notBefore'));
  const notAfter = readTime(validity.any('notAfter'));
  validity.end();
  const subject = tbs.next(Tag.SEQUENCE, 'subject');
  // Names are read lazily (subjectString) but must be Names now: a report naming the certificate may not throw later.
  checkName(issuer, 'TBSCertificate.issuer');
  checkName(subject, 'TBSCertificate.subject');
  const publicKey = readSubjectPublicKeyInfo(tbs.next(Tag.SEQUENCE, 'subjectPublicKeyInfo'));
  tbs.optional(contextTag(1, false));
  tbs.optional(contextTag(2, false));
  const extNode = tbs.optional(contextTag(3, true));
  tbs.end();
  const extensions: Extension[] = [];
  if (extNode) {
    const list = extNode.children[0];
    if (!list || extNode.children.length !== 1 || list.tag !== Tag.SEQUENCE) throw new DerError('TBSCertificate: malformed extensions');
    for (const e of list.children) extensions.push(readExtension(e));
  }
  if (!equalBytes(signature.bytes, node.children[1]!.bytes)) throw new DerError('Certificate: tbsCertificate.signature differs from signatureAlgorithm (RFC 5280 §4.1.2.3)');
  return {
    der: node.bytes,
    tbs: tbsNode.bytes,
    version,
    serialNumberDer: serialNode.bytes,
    serialNumber: readInteger(serialNode),
    issuer: issuer.bytes,
    subject: subject.bytes,
    notBefore,
    notAfter,
    publicKey,
    extensions,
    signatureAlgorithm,
    signatureValue,
  };
}

export function findExtension(cert: CertificateView, extnID: string): Extension | undefined {
  return cert.extensions.find((e) => e.oid === extnID);
}

const subjectStrings = new WeakMap<CertificateView, string>();

/** The subject as RFC 4514 text (remembered per view: cached views recur in every proof). */
export function subjectString(cert: CertificateView): string {
  let s = subjectStrings.get(cert);
  if (s === undefined) {
    s = nameToString(cert.subject);
    subjectStrings.set(cert, s);
  }
  return s;
}

/** SHA-1 of the subjectPublicKey bits: RFC 5280 §4.2.1.2, method (1). */
export function keyIdentifierFor(publicKey: PublicKeyInfo): Uint8Array {
  return digest('SHA-1', publicKey.subjectPublicKey);
}

export interface CertificateTemplate {
  serialNumber: bigint;
  subject: Uint8Array;
  subjectPublicKeyInfo: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  /** Encoded Extension values, in the order they should appear. */
  extensions: Uint8Array[];
}

export interface CertificateIssuer {
  /** The issuer's Name DER (the subject of its own certificate). */
  name: Uint8Array;
  privateKey: CryptoKey;
  algorithm: KeyAlgorithm;
}

/** Builds and signs a v3 certificate; the result is DER by construction. */
export async function issueCertificate(template: CertificateTemplate, issuer: CertificateIssuer, crypto: Crypto = defaultCrypto()): Promise<Uint8Array> {
  if (template.serialNumber <= 0n) throw new RangeError('serialNumber must be positive (RFC 5280 §4.1.2.2)');
  const serial = integer(template.serialNumber);
  if (serial.length - 2 > 20) throw new RangeError('serialNumber longer than 20 octets (RFC 5280 §4.1.2.2)');
  const signatureAlgorithm = algorithmSpec(issuer.algorithm).signatureAlgorithm;
  const tbs = sequence(
    explicit(0, integer(2)),
    serial,
    signatureAlgorithm,
    issuer.name,
    sequence(time(truncateToSeconds(template.notBefore)), time(truncateToSeconds(template.notAfter))),
    template.subject,
    template.subjectPublicKeyInfo,
    explicit(3, sequence(...template.extensions)),
  );
  const signature = await signBytes(issuer.privateKey, issuer.algorithm, tbs, crypto);
  return sequence(tbs, signatureAlgorithm, bitString(signature));
}

export function truncateToSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}
