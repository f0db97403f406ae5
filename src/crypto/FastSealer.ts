/**
 * CAdES-B-T sealing (ETSI EN 319 122-1) on the fast path: per key, the DER is prepared once
 * (SignerTemplate.ts); per proof the work is
 *
 *   1. SHA-256 of the content;
 *   2. the signed attributes template filled with that digest and the signing-time text;
 *   3. one native signature (node:crypto, synchronous);
 *   4. the signature time-stamp: from the built-in TSA's token writer in the same thread
 *      (TimeStampTokenTemplate.ts: TSTInfo, SHA-256, one native signature), or from any
 *      other TimeStamper (e.g. over HTTP), whose answer is checked as `sealCadesT` checks it;
 *   5. the ContentInfo written in one allocation.
 *
 * The proof has the layout `sealCadesT` (CadesT.ts, the object path) gives: same signed
 * attributes, certificates, unsigned attribute, all DER. The two are compared on random inputs
 * by test/unit/crypto/differential-fast.spec.ts and checked by OpenSSL and Bouncy Castle in
 * test/interop/fast-*.spec.ts.
 *
 * A token from the built-in TSA in the same thread is not re-verified: it was just written by
 * this code with the TSA's own key, and its imprint is over the signature by construction.
 */
import { assertTokenOverSignature } from './CadesT.js';
import { truncateToSeconds } from './Certificate.js';
import { Tag, oid } from './der.js';
import { asciiBytes, encodeTree, generalizedTimeText, node, utcTimeText } from './DerWriter.js';
import { OID } from './oids.js';
import { contentTypeAttribute } from './SignedAttributes.js';
import { OID_DATA_DER, SignedAttributesTemplate, SignerTemplate, fixedAttribute, messageDigestSlot, sha256, signingTimeSlot, type NativeSigningIdentity } from './SignerTemplate.js';
import type { TimeStamper } from './TimeStamper.js';
import type { TimeStampTokenTemplate } from './TimeStampTokenTemplate.js';

const SIGNATURE_TIME_STAMP_OID = oid(OID.signatureTimeStampToken);

/** A signed CAdES-B awaiting its time-stamp. */
export interface PreparedSignature {
  content: Uint8Array;
  signedAttributes: Buffer;
  signature: Buffer;
}

export class FastSealer {
  readonly signer: SignerTemplate;
  private readonly certificateSet: Uint8Array;
  /** One template per signing-time encoding: UTCTime through 2049, else GeneralizedTime (RFC 5652 §11.3). */
  private readonly attributes: Record<'utc' | 'generalized', SignedAttributesTemplate>;

  /**
   * @param identity the sealing key (native) and its certificate and chain
   * @param tsa      the built-in TSA's token writer, for time-stamps in the same thread
   */
  constructor(
    identity: NativeSigningIdentity,
    private readonly tsa?: TimeStampTokenTemplate,
  ) {
    this.signer = new SignerTemplate(identity);
    this.certificateSet = this.signer.certificateSet([identity.certificate, ...identity.chain], 'seal');
    const template = (time: AttributeTimeTag) =>
      new SignedAttributesTemplate([fixedAttribute(contentTypeAttribute(OID.data)), messageDigestSlot(), signingTimeSlot(time), fixedAttribute(this.signer.signingCertificateAttribute)]);
    this.attributes = { utc: template(Tag.UTC_TIME), generalized: template(Tag.GENERALIZED_TIME) };
  }

  /** Steps 1–3: the CAdES-B signature over `content` (signing time in whole seconds). */
  prepare(content: Uint8Array, signingTime: Date = new Date()): PreparedSignature {
    const time = truncateToSeconds(signingTime);
    const utc = utcTimeText(time);
    const template = utc ? this.attributes.utc : this.attributes.generalized;
    const attrs = template.instance();
    attrs.set(sha256(content), template.slotOffsets[1]!);
    attrs.set(asciiBytes(utc ?? generalizedTimeText(time, false)), template.slotOffsets[2]!);
    return { content, signedAttributes: attrs, signature: this.signer.sign(attrs) };
  }

  /** Step 5: the CAdES-B-T proof (or, without a token, the CAdES-B). */
  assemble(prepared: PreparedSignature, token?: Uint8Array): Uint8Array {
    return this.signer.signedData({
      eContentType: OID_DATA_DER,
      dataContent: true,
      eContent: prepared.content,
      certificateSet: this.certificateSet,
      signedAttributes: prepared.signedAttributes,
      signature: prepared.signature,
      // signature-time-stamp (ETSI EN 319 122-1 §5.3): Attribute { oid, SET { token } }
      ...(token ? { unsignedAttributes: [encodeTree(node(Tag.SEQUENCE, SIGNATURE_TIME_STAMP_OID, node(Tag.SET, token)))] } : {}),
    });
  }

  /** Whether `sealSync` can run: the built-in TSA's writer is in this thread. */
  get synchronous(): boolean {
    return this.tsa !== undefined;
  }

  /** Seals with the built-in TSA in this thread: the whole proof without leaving the thread. */
  sealSync(content: Uint8Array, signingTime?: Date): Uint8Array {
    if (!this.tsa) throw new Error('FastSealer.sealSync needs the built-in TSA token writer');
    const prepared = this.prepare(content, signingTime);
    // Trap 9: the imprint is over the contents of the signature OCTET STRING.
    return this.assemble(prepared, this.tsa.sha256Token(sha256(prepared.signature)));
  }

  /**
   * Seals with `timeStamper` (any RFC 3161 client); with none, or with the built-in TSA in
   * this thread, as `sealSync`. The token's imprint must be over the signature value
   * (TimeStampError TSA_RESPONSE_MISMATCH otherwise), as `sealCadesT` requires.
   */
  async seal(content: Uint8Array, timeStamper?: TimeStamper, signingTime?: Date): Promise<Uint8Array> {
    if (!timeStamper) return this.sealSync(content, signingTime);
    const prepared = this.prepare(content, signingTime);
    const token = await timeStamper.timestamp(prepared.signature);
    assertTokenOverSignature(token, prepared.signature);
    return this.assemble(prepared, token);
  }
}

type AttributeTimeTag = typeof Tag.UTC_TIME | typeof Tag.GENERALIZED_TIME;
