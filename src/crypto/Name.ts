/**
 * X.501 names as RFC 5280 §4.1.2.4 profiles them.
 *
 * ```asn1
 * Name ::= CHOICE { rdnSequence RDNSequence }
 * RDNSequence ::= SEQUENCE OF RelativeDistinguishedName
 * RelativeDistinguishedName ::= SET SIZE (1..MAX) OF AttributeTypeAndValue
 * AttributeTypeAndValue ::= SEQUENCE { type AttributeType, value AttributeValue }
 * ```
 *
 * Names written here have exactly one AttributeTypeAndValue per RDN: a multi-valued RDN is a
 * SET whose DER order some encoders get wrong, which breaks hash comparisons in stricter
 * verifiers (docs/cades-profile.md, "Pitfalls a strict verifier catches").
 */
import { DerError, DerSequence, Tag, oid, printableString, readDer, readOid, readString, sequence, setOf, utf8String, type DerNode } from './der.js';
import { OID } from './oids.js';

export type NameAttributeType = 'C' | 'ST' | 'L' | 'O' | 'OU' | 'CN' | 'serialNumber' | 'organizationIdentifier';

export interface NameAttribute {
  type: NameAttributeType;
  value: string;
}

const TYPES: Record<NameAttributeType, { oid: string; printable: boolean }> = {
  C: { oid: OID.countryName, printable: true }, // X.520: PrintableString (SIZE (2))
  ST: { oid: OID.stateOrProvinceName, printable: false },
  L: { oid: OID.localityName, printable: false },
  O: { oid: OID.organizationName, printable: false },
  OU: { oid: OID.organizationalUnitName, printable: false },
  CN: { oid: OID.commonName, printable: false },
  serialNumber: { oid: OID.serialNumber, printable: true }, // X.520: PrintableString
  organizationIdentifier: { oid: OID.organizationIdentifier, printable: false },
};

/** Encodes a Name, one RDN per attribute, in the order given (most general first: C, O, CN). */
export function encodeName(attributes: readonly NameAttribute[]): Uint8Array {
  return sequence(
    ...attributes.map((a) => {
      const t = TYPES[a.type];
      // RFC 5280 §4.1.2.4: UTF8String for DirectoryString values.
      const value = t.printable ? printableString(a.value) : utf8String(a.value);
      return setOf([sequence(oid(t.oid), value)]);
    }),
  );
}

const SHORT_NAMES: Record<string, string> = {
  [OID.commonName]: 'CN',
  [OID.countryName]: 'C',
  [OID.localityName]: 'L',
  [OID.stateOrProvinceName]: 'ST',
  [OID.organizationName]: 'O',
  [OID.organizationalUnitName]: 'OU',
  [OID.serialNumber]: 'SERIALNUMBER',
  [OID.organizationIdentifier]: 'organizationIdentifier',
  [OID.emailAddress]: 'emailAddress',
};

/**
 * Checks that `node` is a Name as RFC 5280 §4.1.2.4 defines it: a SEQUENCE OF
 * RelativeDistinguishedName, each a SET SIZE (1..MAX) OF AttributeTypeAndValue { type OBJECT
 * IDENTIFIER, value ANY }. Throws DerError otherwise: a certificate whose issuer or subject is
 * not a Name is not a certificate.
 */
export function checkName(node: DerNode, what = 'Name'): void {
  new DerSequence(node, what);
  for (const rdn of node.children) {
    if (rdn.tag !== Tag.SET || rdn.children.length === 0) throw new DerError(`${what}: a RelativeDistinguishedName must be a non-empty SET`);
    for (const atv of rdn.children) {
      const s = new DerSequence(atv, `${what} AttributeTypeAndValue`);
      s.next(Tag.OBJECT_IDENTIFIER, 'type');
      s.any('value');
      s.end();
    }
  }
}

/** RFC 4514 string form: last RDN first, `+` inside a multi-valued RDN, special characters escaped. */
export function nameToString(name: Uint8Array | DerNode): string {
  const node = name instanceof Uint8Array ? readDer(name) : name;
  new DerSequence(node, 'Name');
  return [...node.children]
    .reverse()
    .map((rdn) =>
      rdn.children
        .map((atv) => {
          const s = new DerSequence(atv, 'AttributeTypeAndValue');
          const type = readOid(s.next(Tag.OBJECT_IDENTIFIER, 'type'));
          const value = s.any('value');
          return `${SHORT_NAMES[type] ?? type}=${escapeRfc4514(readString(value))}`;
        })
        .join('+'),
    )
    .join(',');
}

function escapeRfc4514(value: string): string {
  return value
    .replace(/([\\",+;<>=])/g, '\\$1')
    .replace(/^([ #])/, '\\$1')
    .replace(/ $/, '\\ ');
}
