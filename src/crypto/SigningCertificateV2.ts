/**
 * The ESS signing-certificate attributes, which bind a signature to its certificate so that
 * the certificate cannot be swapped (RFC 5035 §3; RFC 2634 §5.4 for v1).
 *
 * ```asn1
 * SigningCertificateV2 ::= SEQUENCE {
 *   certs     SEQUENCE OF ESSCertIDv2,
 *   policies  SEQUENCE OF PolicyInformation OPTIONAL }
 * ESSCertIDv2 ::= SEQUENCE {
 *   hashAlgorithm  AlgorithmIdentifier DEFAULT {algorithm id-sha256},  -- DER: omitted for SHA-256
 *   certHash       Hash,                                               -- over the whole certificate DER
 *   issuerSerial   IssuerSerial OPTIONAL }
 * SigningCertificate ::= SEQUENCE { certs SEQUENCE OF ESSCertID, policies ... OPTIONAL }
 * ESSCertID ::= SEQUENCE { certHash Hash (SHA-1), issuerSerial IssuerSerial OPTIONAL }
 * Hash ::= OCTET STRING
 * IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber CertificateSerialNumber }
 * GeneralNames ::= SEQUENCE OF GeneralName      -- directoryName [4] Name, EXPLICIT (Name is a CHOICE)
 * ```
 */
import { digest, hashByOid, readAlgorithmIdentifier } from './AlgorithmIdentifier.js';
import type { CertificateView } from './Certificate.js';
import { DerError, DerSequence, Tag, contextTag, equalBytes, explicit, octetString, readOctetString, sequence } from './der.js';
import { OID } from './oids.js';
import { encodeAttribute, type AttributeView } from './SignedAttributes.js';

/** The signing-certificate-v2 attribute for `cert`: one ESSCertIDv2, SHA-256, with issuerSerial. */
export function signingCertificateV2Attribute(cert: CertificateView): Uint8Array {
  const issuerSerial = sequence(sequence(explicit(4, cert.issuer)), cert.serialNumberDer);
  const essCertIdV2 = sequence(octetString(digest('SHA-256', cert.der)), issuerSerial);
  return encodeAttribute(OID.signingCertificateV2, [sequence(sequence(essCertIdV2))]);
}

export type EssBinding = { bound: true; detail: string } | { bound: false; detail: string };

/**
 * Checks that the first ESSCertID(v2) of the signed attributes identifies `cert` (RFC 5035 §3:
 * the first certificate identified is the signer's). v2 is preferred when both are present.
 */
export function checkSigningCertificateBinding(attributes: readonly AttributeView[], cert: CertificateView): EssBinding {
  const v2 = attributes.filter((a) => a.type === OID.signingCertificateV2);
  const v1 = attributes.filter((a) => a.type === OID.signingCertificate);
  const chosen = v2.length ? v2 : v1;
  if (chosen.length === 0) return { bound: false, detail: 'no signing-certificate-v2 (or signing-certificate) signed attribute' };
  if (chosen.length > 1 || chosen[0]!.values.length !== 1) return { bound: false, detail: 'the signing-certificate attribute must appear once with one value' };
  const version = v2.length ? 2 : 1;
  try {
    const outer = new DerSequence(chosen[0]!.values[0]!, 'SigningCertificate');
    const certs = outer.next(Tag.SEQUENCE, 'certs');
    const first = certs.children[0];
    if (!first) return { bound: false, detail: 'the signing-certificate attribute lists no certificate' };
    const id = new DerSequence(first, version === 2 ? 'ESSCertIDv2' : 'ESSCertID');
    let hash: 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512' = version === 2 ? 'SHA-256' : 'SHA-1';
    if (version === 2) {
      const algNode = id.optional(Tag.SEQUENCE);
      if (algNode) {
        const named = hashByOid(readAlgorithmIdentifier(algNode).oid);
        if (!named) return { bound: false, detail: 'ESSCertIDv2 uses an unsupported hash algorithm' };
        hash = named;
      }
    }
    const certHash = readOctetString(id.next(Tag.OCTET_STRING, 'certHash'));
    const issuerSerialNode = id.optional(Tag.SEQUENCE);
    id.end();
    if (!equalBytes(certHash, digest(hash, cert.der))) {
      return { bound: false, detail: `the ${hash} certHash of the ESS signing-certificate${version === 2 ? '-v2' : ''} attribute does not match the signer certificate` };
    }
    if (issuerSerialNode) {
      const is = new DerSequence(issuerSerialNode, 'IssuerSerial');
      const names = is.next(Tag.SEQUENCE, 'issuer');
      const serial = is.next(Tag.INTEGER, 'serialNumber');
      is.end();
      const directoryNames = names.children.filter((n) => n.tag === contextTag(4, true)).map((n) => n.children[0]?.bytes);
      if (!directoryNames.some((n) => n && equalBytes(n, cert.issuer)) || !equalBytes(serial.bytes, cert.serialNumberDer)) {
        return { bound: false, detail: 'the issuerSerial of the ESS signing-certificate attribute does not name the signer certificate' };
      }
    }
    return { bound: true, detail: `signing-certificate${version === 2 ? '-v2' : ''} ${hash} hash matches the signer certificate` };
  } catch (err) {
    if (err instanceof DerError) return { bound: false, detail: `malformed signing-certificate attribute: ${err.message}` };
    throw err;
  }
}
