/**
 * The CMS signature of a PDF: PAdES baseline B-T (ETSI EN 319 142-1), SubFilter
 * ETSI.CAdES.detached, written with the same SignedData writer as the proofs
 * (SignerTemplate.ts) and signed by the same `Signer` (a key in the process or in a token).
 *
 * What differs from a proof (CadesT.ts), as EN 319 142-1 §5.3 and §6.3 require:
 * - the content is DETACHED: EncapsulatedContentInfo holds id-data and no eContent; the
 *   message-digest is the SHA-256 of the PDF's signed byte range (the whole file but the
 *   /Contents hex string), which the caller gives;
 * - the signed attributes are content-type, message-digest and signing-certificate-v2
 *   only: no signing-time attribute — the claimed signing time is the signature
 *   dictionary's /M entry;
 * - B-T: the unsigned attribute signature-time-stamp, a token whose imprint is the SHA-256
 *   of the signature value (as in a proof, docs/cades-profile.md).
 *
 * `pdfsig` (poppler, over NSS) and OpenSSL check the result in test/interop/.
 */
import { Tag, oid } from './der.js';
import { encodeTree, node } from './DerWriter.js';
import { assertTokenOverSignature } from './CadesT.js';
import { OID } from './oids.js';
import { contentTypeAttribute } from './SignedAttributes.js';
import type { Signer } from './Signer.js';
import { OID_DATA_DER, SignedAttributesTemplate, SignerTemplate, fixedAttribute, messageDigestSlot, sha256 } from './SignerTemplate.js';
import type { TimeStamper } from './TimeStamper.js';

const SIGNATURE_TIME_STAMP_OID = oid(OID.signatureTimeStampToken);

export class PadesWriter {
  private readonly template: SignerTemplate;
  private readonly certificateSet: Uint8Array;
  private readonly attributes: SignedAttributesTemplate;

  constructor(readonly signer: Signer) {
    this.template = new SignerTemplate(signer);
    this.certificateSet = this.template.certificateSet([signer.certificate, ...signer.chain], 'pdf');
    this.attributes = new SignedAttributesTemplate([
      fixedAttribute(contentTypeAttribute(OID.data)),
      messageDigestSlot(),
      fixedAttribute(this.template.signingCertificateAttribute),
    ]);
  }

  /**
   * An upper bound of the signature's DER length for a time-stamp token of at most
   * `tokenBytes`: what the PDF's /Contents placeholder must hold.
   */
  maxLength(tokenBytes: number): number {
    return this.certificateSet.length + this.attributes.bytes.length + this.template.certificate.der.length + tokenBytes + 1024;
  }

  /**
   * The CMS SignedData (DER ContentInfo) over `signedBytes` — the PDF's byte range — with a
   * signature time-stamp from `timeStamper`, checked to be over the signature value.
   */
  async sign(signedBytes: Uint8Array, timeStamper: TimeStamper): Promise<Uint8Array> {
    const signedAttributes = this.attributes.instance();
    signedAttributes.set(sha256(signedBytes), this.attributes.slotOffsets[1]!);
    const signature = await this.template.sign(signedAttributes);
    const token = await timeStamper.timestamp(signature);
    assertTokenOverSignature(token, signature);
    return this.template.signedData({
      eContentType: OID_DATA_DER,
      dataContent: true,
      certificateSet: this.certificateSet,
      signedAttributes,
      signature,
      unsignedAttributes: [encodeTree(node(Tag.SEQUENCE, SIGNATURE_TIME_STAMP_OID, node(Tag.SET, token)))],
    });
  }
}
