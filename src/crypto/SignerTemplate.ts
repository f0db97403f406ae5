/**
 * A one-signer CMS SignedData (RFC 5652 §5) prepared once per signer: the only writer of
 * SignedData, for the proofs (CadesT.ts) and the built-in TSA's tokens
 * (TimeStampTokenTemplate.ts).
 *
 * Prepared once: the SignerInfo's version, sid (issuerAndSerialNumber), digestAlgorithm and
 * signatureAlgorithm; the DER-sorted `[0] IMPLICIT` CertificateSet; and the signed attributes
 * as one DER SET OF with placeholders for the octets that change per signature (the
 * message-digest value, and the signing-time text for CAdES). The order of the SET OF is
 * fixed once (X.690 §11.6) after checking that it is decided before any placeholder octet,
 * so filling the placeholders can never make it unsorted.
 *
 * Per signature: copy the attribute template, write the digest (and time) into it, have the
 * `Signer` sign those octets (Signer.ts: synchronously when the key is in this process), and
 * write the whole ContentInfo in one allocation (DerWriter.ts).
 *
 * What the bytes must be, and what a strict verifier would catch otherwise, is in
 * docs/cades-profile.md; OpenSSL and Bouncy Castle check the output in test/interop/.
 */
import { createHash } from 'node:crypto';
import { digestAlgorithmIdentifier } from './AlgorithmIdentifier.js';
import { parseCertificate, type CertificateView } from './Certificate.js';
import { Tag, compareDer, contextTag, integer, oid, sequence, setOf } from './der.js';
import { encodeTree, node, type DerPiece } from './DerWriter.js';
import { OID } from './oids.js';
import { encodeAttribute } from './SignedAttributes.js';
import type { Signer } from './Signer.js';
import { signingCertificateV2Attribute } from './SigningCertificateV2.js';

/** An attribute with a placeholder at the end of its encoding, filled per signature. */
export interface AttributeSlot {
  /** The whole Attribute DER, placeholder included. */
  attribute: Uint8Array;
  /** Octets at the end of `attribute` that change per signature (0: none). */
  slotLength: number;
}

/**
 * The signed attributes as one DER SET OF, with the offset of each slot in it. The SET OF
 * order (X.690 §11.6) is decided once; construction throws if it could depend on a slot.
 */
export class SignedAttributesTemplate {
  readonly bytes: Uint8Array;
  /** Offsets in `bytes` of each input attribute's slot, in input order. */
  readonly slotOffsets: number[];

  constructor(attributes: readonly AttributeSlot[]) {
    const order = attributes.map((a, i) => ({ ...a, i })).sort((a, b) => compareDer(a.attribute, b.attribute));
    for (let k = 1; k < order.length; k++) {
      const a = order[k - 1]!;
      const b = order[k]!;
      let d = 0;
      while (d < a.attribute.length && d < b.attribute.length && a.attribute[d] === b.attribute[d]) d++;
      if (d >= a.attribute.length - a.slotLength || d >= b.attribute.length - b.slotLength) {
        throw new Error('signed attributes template: the SET OF order would depend on per-signature octets');
      }
    }
    this.bytes = setOf(order.map((a) => a.attribute));
    const header = this.bytes.length - order.reduce((n, a) => n + a.attribute.length, 0);
    this.slotOffsets = new Array<number>(attributes.length);
    let pos = header;
    for (const a of order) {
      this.slotOffsets[a.i] = pos + a.attribute.length - a.slotLength;
      pos += a.attribute.length;
    }
  }

  /** A fresh copy of the template, to be filled. */
  instance(): Buffer {
    const out = Buffer.allocUnsafe(this.bytes.length);
    out.set(this.bytes);
    return out;
  }
}

/** message-digest attribute with a zeroed SHA-256 slot (RFC 5652 §11.2). */
export function messageDigestSlot(): AttributeSlot {
  return { attribute: encodeAttribute(OID.messageDigest, [Uint8Array.of(Tag.OCTET_STRING, 32, ...new Uint8Array(32))]), slotLength: 32 };
}

/** signing-time attribute with a slot for the time text: UTCTime (13 octets) or GeneralizedTime (15). */
export function signingTimeSlot(tag: typeof Tag.UTC_TIME | typeof Tag.GENERALIZED_TIME): AttributeSlot {
  const length = tag === Tag.UTC_TIME ? 13 : 15;
  return { attribute: encodeAttribute(OID.signingTime, [Uint8Array.of(tag, length, ...new Uint8Array(length))]), slotLength: length };
}

export function fixedAttribute(attribute: Uint8Array): AttributeSlot {
  return { attribute, slotLength: 0 };
}

/**
 * Signs as one signer and writes SignedData around the result. One instance per key;
 * immutable, so one per worker thread as well.
 */
export class SignerTemplate {
  readonly certificate: CertificateView;
  /** version, sid, digestAlgorithm: the SignerInfo's first three components. */
  private readonly signerInfoPrefix: Uint8Array;
  private readonly digestAlgorithms: Uint8Array;
  private readonly signingCertificateV2: Uint8Array;
  private readonly certificateSets = new Map<string, Uint8Array>();

  constructor(readonly signer: Signer) {
    this.certificate = parseCertificate(signer.certificate);
    this.signerInfoPrefix = Buffer.concat([integer(1), sequence(this.certificate.issuer, this.certificate.serialNumberDer), digestAlgorithmIdentifier('SHA-256')]);
    this.digestAlgorithms = setOf([digestAlgorithmIdentifier('SHA-256')]);
    this.signingCertificateV2 = signingCertificateV2Attribute(this.certificate);
  }

  /** The ESS signing-certificate-v2 attribute of this signer (RFC 5035). */
  get signingCertificateAttribute(): Uint8Array {
    return this.signingCertificateV2;
  }

  /** `[0] IMPLICIT CertificateSet` of these certificates, DER-sorted, prepared once per list. */
  certificateSet(certificates: readonly Uint8Array[], name: string): Uint8Array {
    let set = this.certificateSets.get(name);
    if (!set) {
      set = setOf(certificates);
      set[0] = contextTag(0, true);
      this.certificateSets.set(name, set);
    }
    return set;
  }

  /** Whether `signSync` can be used: the key is in this process. */
  get synchronous(): boolean {
    return this.signer.signSync !== undefined;
  }

  /**
   * Signs the DER SET OF signed attributes (RFC 5652 §5.4) with SHA-256: for ECDSA the
   * Ecdsa-Sig-Value DER (RFC 3279 §2.2.3), for RSA the PKCS #1 v1.5 signature.
   */
  sign(signedAttributes: Uint8Array): Promise<Uint8Array> {
    return this.signer.sign(signedAttributes);
  }

  /** As `sign`, without waiting; throws when the key is not in this process (see `synchronous`). */
  signSync(signedAttributes: Uint8Array): Uint8Array {
    if (!this.signer.signSync) throw new Error('this signer signs asynchronously only');
    return this.signer.signSync(signedAttributes);
  }

  /**
   * ContentInfo { id-signedData, SignedData }: version 1 for id-data (else 3, RFC 5652 §5.1), digestAlgorithms {sha256}, the content enveloped as one
   * primitive OCTET STRING (or, without `eContent`, detached: EncapsulatedContentInfo holds the
   * content type only), `certificateSet` (or none), one SignerInfo. `signedAttributes`
   * is the SET OF that was signed; it is re-tagged `[0] IMPLICIT` in place.
   */
  signedData(input: {
    eContentType: Uint8Array;
    dataContent: boolean;
    /** The content, enveloped; absent for a detached signature (PAdES: the PDF's byte range). */
    eContent?: Uint8Array;
    certificateSet?: Uint8Array;
    signedAttributes: Uint8Array;
    signature: Uint8Array;
    /** Encoded unsigned Attributes, already DER-sorted. */
    unsignedAttributes?: readonly Uint8Array[];
  }): Uint8Array {
    input.signedAttributes[0] = contextTag(0, true);
    const signerInfo = node(Tag.SEQUENCE, this.signerInfoPrefix, input.signedAttributes, this.signer.signatureAlgorithm, node(Tag.OCTET_STRING, input.signature));
    if (input.unsignedAttributes?.length) signerInfo.parts.push(node(contextTag(1, true), ...input.unsignedAttributes));
    const signedDataParts: DerPiece[] = [
      input.dataContent ? VERSION_1 : VERSION_3,
      this.digestAlgorithms,
      input.eContent ? node(Tag.SEQUENCE, input.eContentType, node(contextTag(0, true), node(Tag.OCTET_STRING, input.eContent))) : node(Tag.SEQUENCE, input.eContentType),
    ];
    if (input.certificateSet) signedDataParts.push(input.certificateSet);
    signedDataParts.push(node(Tag.SET, signerInfo));
    return encodeTree(node(Tag.SEQUENCE, OID_SIGNED_DATA, node(contextTag(0, true), node(Tag.SEQUENCE, ...signedDataParts))));
  }
}

const VERSION_1 = integer(1);
const VERSION_3 = integer(3);
const OID_SIGNED_DATA = oid(OID.signedData);
export const OID_DATA_DER = oid(OID.data);
export const OID_TST_INFO_DER = oid(OID.tstInfo);

export function sha256(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}
