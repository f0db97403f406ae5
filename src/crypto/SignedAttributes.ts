/**
 * CMS attributes (RFC 5652 §5.3, §11) and the signed attributes every signature here carries
 * besides the ESS one (the writers fill message-digest and signing-time in place:
 * SignerTemplate.ts).
 *
 * ```asn1
 * Attribute ::= SEQUENCE { attrType OBJECT IDENTIFIER, attrValues SET OF AttributeValue }
 * SignedAttributes ::= SET SIZE (1..MAX) OF Attribute        -- DER-sorted (X.690 §11.6)
 * ContentType ::= OBJECT IDENTIFIER                           -- §11.1
 * MessageDigest ::= OCTET STRING                              -- §11.2
 * SigningTime ::= Time                                        -- §11.3: UTCTime 1950–2049, else GeneralizedTime
 * ```
 *
 * The signed attributes are a SET OF, so DER sorts them (X.690 §11.6); a writer that keeps
 * insertion order signs bytes a re-encoding verifier does not compute (docs/cades-profile.md,
 * "Pitfalls a strict verifier catches"). `setOf` here sorts.
 */
import { DerError, DerSequence, Tag, assertSorted, oid, readOid, sequence, setOf, type DerNode } from './der.js';
import { OID } from './oids.js';

export function encodeAttribute(type: string, values: readonly Uint8Array[]): Uint8Array {
  return sequence(oid(type), setOf(values));
}

export function contentTypeAttribute(contentType: string): Uint8Array {
  return encodeAttribute(OID.contentType, [oid(contentType)]);
}

export interface AttributeView {
  type: string;
  values: readonly DerNode[];
  node: DerNode;
}

/** Reads a SET OF Attribute (universal or IMPLICIT-tagged), checking the DER order. */
export function readAttributes(setNode: DerNode, what: string): AttributeView[] {
  assertSorted(setNode.children, setNode.offset);
  if (setNode.children.length === 0) throw new DerError(`${what}: empty (SIZE (1..MAX))`);
  return setNode.children.map((node) => {
    const s = new DerSequence(node, `${what} Attribute`);
    const type = readOid(s.next(Tag.OBJECT_IDENTIFIER, 'attrType'));
    const values = s.next(Tag.SET, 'attrValues').children;
    s.end();
    if (values.length === 0) throw new DerError(`${what}: attribute ${type} has no value`);
    return { type, values, node };
  });
}

/**
 * The single value of the attribute `type`, or undefined when absent. RFC 5652 §11.1–11.3:
 * content-type, message-digest and signing-time must appear at most once, with one value.
 */
export function singleAttributeValue(attributes: readonly AttributeView[], type: string, what: string): DerNode | undefined {
  const found = attributes.filter((a) => a.type === type);
  if (found.length === 0) return undefined;
  if (found.length > 1 || found[0]!.values.length !== 1) throw new DerError(`${what}: attribute ${type} must appear once with one value`);
  return found[0]!.values[0];
}
