/**
 * X.509 certificate revocation lists (RFC 5280 §5): writing (the development PKI's CRLs),
 * reading, and the CRL distribution points extension of the certificates (§4.2.1.13).
 *
 * ```asn1
 * CertificateList ::= SEQUENCE {
 *   tbsCertList          TBSCertList,
 *   signatureAlgorithm   AlgorithmIdentifier,
 *   signatureValue       BIT STRING }
 * TBSCertList ::= SEQUENCE {
 *   version              Version OPTIONAL,          -- v2 (1): extensions are present
 *   signature            AlgorithmIdentifier,       -- same as signatureAlgorithm (§5.1.2.2)
 *   issuer               Name,
 *   thisUpdate           Time,
 *   nextUpdate           Time OPTIONAL,             -- always written (§5.1.2.5)
 *   revokedCertificates  SEQUENCE OF SEQUENCE {
 *     userCertificate    CertificateSerialNumber,
 *     revocationDate     Time,
 *     crlEntryExtensions Extensions OPTIONAL } OPTIONAL,   -- absent when empty (§5.1.2.6)
 *   crlExtensions   [0]  EXPLICIT Extensions OPTIONAL }
 * CRLNumber ::= INTEGER (0..MAX)                                  -- 2.5.29.20, §5.2.3
 * CRLReason ::= ENUMERATED { unspecified (0), keyCompromise (1), cACompromise (2),
 *   affiliationChanged (3), superseded (4), cessationOfOperation (5), certificateHold (6),
 *   removeFromCRL (8), privilegeWithdrawn (9), aACompromise (10) }  -- 2.5.29.21, §5.3.1
 * CRLDistributionPoints ::= SEQUENCE SIZE (1..MAX) OF DistributionPoint   -- 2.5.29.31, §4.2.1.13
 * DistributionPoint ::= SEQUENCE { distributionPoint [0] DistributionPointName OPTIONAL, ... }
 * DistributionPointName ::= CHOICE { fullName [0] GeneralNames, ... }
 * GeneralName ::= CHOICE { ..., uniformResourceIdentifier [6] IA5String, ... }
 * ```
 *
 * Written: v2, the issuer's Name as in its certificate, thisUpdate and nextUpdate, entries
 * sorted by serial number with a reasonCode entry extension (never "unspecified": RFC 5280
 * §5.3.1 says to omit the extension then), and the crlExtensions authorityKeyIdentifier and
 * cRLNumber. DER by construction, as every structure of this layer.
 */
import { algorithmSpec, readAlgorithmIdentifier, type AlgorithmIdentifierValue, type KeyAlgorithm } from './AlgorithmIdentifier.js';
import { truncateToSeconds } from './Certificate.js';
import { authorityKeyIdentifier, encodeExtension, readAuthorityKeyIdentifier, readExtension, type Extension } from './CertificateExtensions.js';
import {
  DerError,
  DerSequence,
  Tag,
  bitString,
  contextTag,
  equalBytes,
  explicit,
  implicit,
  integer,
  readBitString,
  readDer,
  readInteger,
  readSmallInteger,
  readTime,
  sequence,
  time,
  tlv,
  type DerNode,
} from './der.js';
import { checkName } from './Name.js';
import { OID } from './oids.js';
import { signBytes } from './Signature.js';
import { defaultCrypto } from './webcrypto.js';

export const CRL_REASONS = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  removeFromCRL: 8,
  privilegeWithdrawn: 9,
  aACompromise: 10,
} as const;
export type CrlReason = keyof typeof CRL_REASONS;

export function crlReasonName(code: number): CrlReason | undefined {
  return (Object.keys(CRL_REASONS) as CrlReason[]).find((k) => CRL_REASONS[k] === code);
}

export interface RevokedCertificate {
  serialNumber: bigint;
  revocationDate: Date;
  /** Absent: no reasonCode extension (the reason is unspecified). */
  reason?: CrlReason;
}

export interface CrlTemplate {
  thisUpdate: Date;
  nextUpdate: Date;
  crlNumber: bigint;
  revoked: readonly RevokedCertificate[];
}

export interface CrlIssuer {
  /** The issuer's Name DER (the subject of its certificate). */
  name: Uint8Array;
  /** The issuer's subjectKeyIdentifier, written as the CRL's authorityKeyIdentifier. */
  keyIdentifier: Uint8Array;
  privateKey: CryptoKey;
  algorithm: KeyAlgorithm;
}

function crlNumberExtension(n: bigint): Uint8Array {
  return encodeExtension(OID.cRLNumber, false, integer(n));
}

function reasonCodeExtension(reason: CrlReason): Uint8Array {
  return encodeExtension(OID.reasonCode, false, tlv(Tag.ENUMERATED, Uint8Array.of(CRL_REASONS[reason])));
}

/** Builds and signs a v2 CRL; the result is DER by construction. */
export async function issueCrl(template: CrlTemplate, issuer: CrlIssuer, crypto: Crypto = defaultCrypto()): Promise<Uint8Array> {
  if (template.crlNumber < 0n) throw new RangeError('cRLNumber must not be negative (RFC 5280 §5.2.3)');
  if (integer(template.crlNumber).length - 2 > 20) throw new RangeError('cRLNumber longer than 20 octets (RFC 5280 §5.2.3)');
  if (template.nextUpdate.getTime() < template.thisUpdate.getTime()) throw new RangeError('nextUpdate before thisUpdate');
  const signatureAlgorithm = algorithmSpec(issuer.algorithm).signatureAlgorithm;
  const entries = [...template.revoked]
    .sort((a, b) => (a.serialNumber < b.serialNumber ? -1 : a.serialNumber > b.serialNumber ? 1 : 0))
    .map((r) => {
      if (r.serialNumber <= 0n) throw new RangeError('a revoked serialNumber must be positive (RFC 5280 §4.1.2.2)');
      const parts = [integer(r.serialNumber), time(truncateToSeconds(r.revocationDate))];
      // §5.3.1: "unspecified" is expressed by omitting reasonCode.
      if (r.reason && r.reason !== 'unspecified') parts.push(sequence(reasonCodeExtension(r.reason)));
      return sequence(...parts);
    });
  const tbs = sequence(
    integer(1),
    signatureAlgorithm,
    issuer.name,
    time(truncateToSeconds(template.thisUpdate)),
    time(truncateToSeconds(template.nextUpdate)),
    ...(entries.length ? [sequence(...entries)] : []),
    explicit(0, sequence(authorityKeyIdentifier(issuer.keyIdentifier), crlNumberExtension(template.crlNumber))),
  );
  const signature = await signBytes(issuer.privateKey, issuer.algorithm, tbs, crypto);
  return sequence(tbs, signatureAlgorithm, bitString(signature));
}

/** CRLDistributionPoints with one DistributionPoint whose fullName is each URL given (RFC 5280 §4.2.1.13). */
export function crlDistributionPoints(urls: readonly string[]): Uint8Array {
  if (urls.length === 0) throw new RangeError('at least one URL');
  const names = urls.map((u) => {
    if (!/^[\x21-\x7e]+$/.test(u) || !/^https?:\/\//i.test(u)) throw new RangeError(`not an http(s) URL of printable ASCII: ${u}`);
    return tlv(contextTag(6, false), new TextEncoder().encode(u));
  });
  // distributionPoint [0] { fullName [0] IMPLICIT GeneralNames }
  return encodeExtension(OID.cRLDistributionPoints, false, sequence(sequence(explicit(0, implicit(0, sequence(...names))))));
}

/** The URIs of the fullName distribution points (other forms are skipped). */
export function readCrlDistributionPoints(ext: Extension): string[] {
  const node = readDer(ext.value);
  new DerSequence(node, 'CRLDistributionPoints');
  const urls: string[] = [];
  for (const dp of node.children) {
    const s = new DerSequence(dp, 'DistributionPoint');
    const name = s.optional(contextTag(0, true));
    const full = name?.children[0];
    if (!full || full.tag !== contextTag(0, true)) continue;
    for (const gn of full.children) if (gn.tag === contextTag(6, false)) urls.push(new TextDecoder().decode(gn.content));
  }
  return urls;
}

export interface CrlEntry {
  serialNumber: bigint;
  revocationDate: Date;
  /** The reasonCode value; undefined when the entry has none. */
  reasonCode?: number;
}

export interface CrlView {
  der: Uint8Array;
  tbs: Uint8Array;
  version: number;
  issuer: Uint8Array;
  thisUpdate: Date;
  nextUpdate?: Date;
  entries: CrlEntry[];
  crlNumber?: bigint;
  authorityKeyIdentifier?: Uint8Array;
  extensions: Extension[];
  /** Critical CRL or entry extensions this reader does not process (a delta CRL, a partitioned CRL): such a CRL is not used. */
  unhandledCritical: string[];
  signatureAlgorithm: AlgorithmIdentifierValue;
  signatureValue: Uint8Array;
}

const HANDLED_CRL_EXTENSIONS = new Set<string>([OID.cRLNumber, OID.authorityKeyIdentifier]);
const HANDLED_ENTRY_EXTENSIONS = new Set<string>([OID.reasonCode, OID.invalidityDate]);

function readEnumerated(node: DerNode, what: string): number {
  if (node.tag !== Tag.ENUMERATED) throw new DerError(`${what}: expected ENUMERATED`);
  return readSmallInteger({ ...node, tag: Tag.INTEGER }, what);
}

/** Parses a DER CRL; throws DerError when it is not one. */
export function parseCrl(der: Uint8Array): CrlView {
  const node = readDer(der);
  const list = new DerSequence(node, 'CertificateList');
  const tbsNode = list.next(Tag.SEQUENCE, 'tbsCertList');
  const signatureAlgorithm = readAlgorithmIdentifier(list.next(Tag.SEQUENCE, 'signatureAlgorithm'));
  const { bytes: signatureValue } = readBitString(list.next(Tag.BIT_STRING, 'signatureValue'));
  list.end();

  const tbs = new DerSequence(tbsNode, 'TBSCertList');
  const versionNode = tbs.optional(Tag.INTEGER);
  const version = versionNode ? readSmallInteger(versionNode, 'version') + 1 : 1;
  if (version !== 2 && version !== 1) throw new DerError(`TBSCertList: version ${version}`);
  const signature = tbs.next(Tag.SEQUENCE, 'signature');
  const issuer = tbs.next(Tag.SEQUENCE, 'issuer');
  checkName(issuer, 'TBSCertList.issuer');
  const thisUpdate = readTime(tbs.any('thisUpdate'), 'thisUpdate');
  const maybeNext = tbs.optional(Tag.UTC_TIME) ?? tbs.optional(Tag.GENERALIZED_TIME);
  const nextUpdate = maybeNext ? readTime(maybeNext, 'nextUpdate') : undefined;
  const revokedNode = tbs.optional(Tag.SEQUENCE);
  const extNode = tbs.optional(contextTag(0, true));
  tbs.end();
  if (!equalBytes(signature.bytes, node.children[1]!.bytes)) throw new DerError('CertificateList: tbsCertList.signature differs from signatureAlgorithm (RFC 5280 §5.1.2.2)');

  const unhandledCritical: string[] = [];
  const entries: CrlEntry[] = [];
  for (const e of revokedNode?.children ?? []) {
    const s = new DerSequence(e, 'revokedCertificates entry');
    const serialNumber = readInteger(s.next(Tag.INTEGER, 'userCertificate'));
    const revocationDate = readTime(s.any('revocationDate'), 'revocationDate');
    const exts = s.optional(Tag.SEQUENCE);
    s.end();
    let reasonCode: number | undefined;
    for (const x of exts?.children ?? []) {
      const ext = readExtension(x);
      if (ext.oid === OID.reasonCode) reasonCode = readEnumerated(readDer(ext.value), 'CRLReason');
      else if (ext.critical && !HANDLED_ENTRY_EXTENSIONS.has(ext.oid)) unhandledCritical.push(ext.oid);
    }
    entries.push({ serialNumber, revocationDate, ...(reasonCode !== undefined ? { reasonCode } : {}) });
  }
  const extensions: Extension[] = [];
  if (extNode) {
    const inner = extNode.children[0];
    if (!inner || extNode.children.length !== 1 || inner.tag !== Tag.SEQUENCE) throw new DerError('TBSCertList: malformed crlExtensions');
    for (const x of inner.children) extensions.push(readExtension(x));
  }
  if (version === 1 && (extNode || entries.some((e) => e.reasonCode !== undefined))) throw new DerError('TBSCertList: extensions in a v1 CRL (RFC 5280 §5.1.2.1)');
  let crlNumber: bigint | undefined;
  let aki: Uint8Array | undefined;
  for (const ext of extensions) {
    if (ext.oid === OID.cRLNumber) crlNumber = readInteger(readDer(ext.value), 'CRLNumber');
    else if (ext.oid === OID.authorityKeyIdentifier) aki = readAuthorityKeyIdentifier(ext);
    else if (ext.critical && !HANDLED_CRL_EXTENSIONS.has(ext.oid)) unhandledCritical.push(ext.oid);
  }
  return {
    der: node.bytes,
    tbs: tbsNode.bytes,
    version,
    issuer: issuer.bytes,
    thisUpdate,
    ...(nextUpdate ? { nextUpdate } : {}),
    entries,
    ...(crlNumber !== undefined ? { crlNumber } : {}),
    ...(aki ? { authorityKeyIdentifier: aki } : {}),
    extensions,
    unhandledCritical,
    signatureAlgorithm,
    signatureValue,
  };
}
