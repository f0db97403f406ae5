/**
 * The certificate extensions this layer writes and reads (RFC 5280 §4.2).
 *
 * ```asn1
 * Extension ::= SEQUENCE {
 *   extnID     OBJECT IDENTIFIER,
 *   critical   BOOLEAN DEFAULT FALSE,        -- DER: omitted when FALSE (X.690 §11.5)
 *   extnValue  OCTET STRING }
 * BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER (0..MAX) OPTIONAL }  -- §4.2.1.9
 * KeyUsage ::= BIT STRING { digitalSignature (0), nonRepudiation (1), keyEncipherment (2),
 *   dataEncipherment (3), keyAgreement (4), keyCertSign (5), cRLSign (6), encipherOnly (7), decipherOnly (8) }  -- §4.2.1.3
 * ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId                                               -- §4.2.1.12
 * SubjectKeyIdentifier ::= KeyIdentifier                                                                     -- §4.2.1.2
 * AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] KeyIdentifier OPTIONAL, ... }                     -- §4.2.1.1
 * KeyIdentifier ::= OCTET STRING
 * ```
 */
import { DerError, DerSequence, Tag, bitIsSet, boolean, contextTag, implicit, integer, namedBitString, octetString, oid, readBitString, readBoolean, readDer, readOctetString, readOid, readSmallInteger, sequence, type DerNode } from './der.js';
import { OID } from './oids.js';

export interface Extension {
  oid: string;
  critical: boolean;
  /** The contents of extnValue: the DER of the extension's own type. */
  value: Uint8Array;
}

export function encodeExtension(extnID: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical ? sequence(oid(extnID), boolean(true), octetString(value)) : sequence(oid(extnID), octetString(value));
}

export function readExtension(node: DerNode): Extension {
  const s = new DerSequence(node, 'Extension');
  const extnID = readOid(s.next(Tag.OBJECT_IDENTIFIER, 'extnID'));
  const criticalNode = s.optional(Tag.BOOLEAN);
  const critical = criticalNode ? readBoolean(criticalNode) : false;
  // X.690 §11.5: a DEFAULT value is never encoded.
  if (criticalNode && !critical) throw new DerError('Extension: critical FALSE encoded although it is the DEFAULT');
  const value = readOctetString(s.next(Tag.OCTET_STRING, 'extnValue'));
  s.end();
  return { oid: extnID, critical, value };
}

export function basicConstraints(ca: boolean, pathLenConstraint?: number): Uint8Array {
  const parts: Uint8Array[] = [];
  if (ca) parts.push(boolean(true));
  if (ca && pathLenConstraint !== undefined) parts.push(integer(pathLenConstraint));
  return encodeExtension(OID.basicConstraints, true, sequence(...parts));
}

export function readBasicConstraints(ext: Extension): { ca: boolean; pathLenConstraint?: number } {
  const node = readDer(ext.value);
  const s = new DerSequence(node, 'BasicConstraints');
  const ca = s.optional(Tag.BOOLEAN);
  const pathLen = s.optional(Tag.INTEGER);
  s.end();
  return { ca: ca ? readBoolean(ca) : false, ...(pathLen ? { pathLenConstraint: readSmallInteger(pathLen) } : {}) };
}

export const KEY_USAGE_BITS = {
  digitalSignature: 0,
  nonRepudiation: 1,
  keyEncipherment: 2,
  dataEncipherment: 3,
  keyAgreement: 4,
  keyCertSign: 5,
  cRLSign: 6,
  encipherOnly: 7,
  decipherOnly: 8,
} as const;
export type KeyUsage = keyof typeof KEY_USAGE_BITS;

/** keyUsage, critical as RFC 5280 §4.2.1.3 recommends. */
export function keyUsage(usages: readonly KeyUsage[]): Uint8Array {
  return encodeExtension(OID.keyUsage, true, namedBitString(usages.map((u) => KEY_USAGE_BITS[u])));
}

export function readKeyUsage(ext: Extension): Set<KeyUsage> {
  const { bytes } = readBitString(readDer(ext.value), 'KeyUsage');
  const out = new Set<KeyUsage>();
  for (const [name, bit] of Object.entries(KEY_USAGE_BITS)) if (bitIsSet(bytes, bit)) out.add(name as KeyUsage);
  return out;
}

export function extendedKeyUsage(purposes: readonly string[], critical: boolean): Uint8Array {
  return encodeExtension(OID.extKeyUsage, critical, sequence(...purposes.map((p) => oid(p))));
}

export function readExtendedKeyUsage(ext: Extension): string[] {
  const node = readDer(ext.value);
  new DerSequence(node, 'ExtKeyUsageSyntax');
  return node.children.map((c) => readOid(c, 'KeyPurposeId'));
}

export function subjectKeyIdentifier(keyIdentifier: Uint8Array): Uint8Array {
  return encodeExtension(OID.subjectKeyIdentifier, false, octetString(keyIdentifier));
}

export function readSubjectKeyIdentifier(ext: Extension): Uint8Array {
  return readOctetString(readDer(ext.value), 'SubjectKeyIdentifier');
}

export function authorityKeyIdentifier(keyIdentifier: Uint8Array): Uint8Array {
  return encodeExtension(OID.authorityKeyIdentifier, false, sequence(implicit(0, octetString(keyIdentifier))));
}

export function readAuthorityKeyIdentifier(ext: Extension): Uint8Array | undefined {
  const s = new DerSequence(readDer(ext.value), 'AuthorityKeyIdentifier');
  return s.optional(contextTag(0, false))?.content;
}
