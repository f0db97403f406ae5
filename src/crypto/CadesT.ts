/**
 * CAdES baseline signatures (ETSI EN 319 122-1), B-B and B-T: the one writer of proofs.
 *
 * A proof is a DER ContentInfo (RFC 5652 §3) holding SignedData (§5):
 * - version 1, digestAlgorithms {sha256}, the content ENVELOPED (eContentType id-data,
 *   eContent one primitive OCTET STRING);
 * - certificates: the signer's certificate and its whole chain, root included;
 * - one SignerInfo, version 1, identified by issuerAndSerialNumber, with the signed attributes
 *   (DER-sorted) content-type, message-digest, signing-time (EN 319 122-1 §5.2.1) and
 *   signing-certificate-v2 (§5.2.2.3, RFC 5035), signed with sha256WithRSAEncryption (NULL
 *   parameters) or ecdsa-with-SHA256 (no parameters);
 * - for B-T, the unsigned attribute signature-time-stamp (EN 319 122-1 §5.3,
 *   id-aa-signatureTimeStampToken, RFC 3161 Appendix A) whose token's imprint is the SHA-256
 *   of the CONTENTS of the signature OCTET STRING, not of the whole TLV
 *   (docs/cades-profile.md, "Pitfalls a strict verifier catches").
 *
 * Per signer the DER is prepared once (SignerTemplate.ts); per proof the work is
 *
 *   1. SHA-256 of the content;
 *   2. the signed attributes template filled with that digest and the signing-time text;
 *   3. one signature by the `Signer` (Signer.ts);
 *   4. the signature time-stamp: from the built-in TSA's token writer in the same thread
 *      (TimeStampTokenTemplate.ts), or from any other TimeStamper (e.g. over HTTP), whose
 *      answer is checked to be over the signature value;
 *   5. the ContentInfo written in one allocation.
 *
 * With a signer whose key is in this process and the built-in TSA's writer, `sealSync`
 * does it all without leaving the thread (the worker threads do that). A token from the
 * built-in TSA in the same thread is not re-verified: it was just written by this code with
 * the TSA's own key, and its imprint is over the signature by construction.
 *
 * `openssl cms -cmsout -inform DER -outform DER` gives back the same bytes (test/interop/).
 */
import { digest, hashByOid } from './AlgorithmIdentifier.js';
import { truncateToSeconds } from './Certificate.js';
import { DerError, Tag, equalBytes, oid } from './der.js';
import { asciiBytes, encodeTree, generalizedTimeText, node, utcTimeText } from './DerWriter.js';
import { OID } from './oids.js';
import { contentTypeAttribute } from './SignedAttributes.js';
import { parseSignedData } from './SignedData.js';
import type { Signer } from './Signer.js';
import { OID_DATA_DER, SignedAttributesTemplate, SignerTemplate, fixedAttribute, messageDigestSlot, sha256, signingTimeSlot } from './SignerTemplate.js';
import { TimeStampError } from './TimeStampError.js';
import type { TimeStamper } from './TimeStamper.js';
import { parseTimeStampToken } from './TimeStampToken.js';
import type { TimeStampTokenTemplate } from './TimeStampTokenTemplate.js';

const SIGNATURE_TIME_STAMP_OID = oid(OID.signatureTimeStampToken);

type AttributeTimeTag = typeof Tag.UTC_TIME | typeof Tag.GENERALIZED_TIME;

/** A signed CAdES-B awaiting its time-stamp. */
export interface PreparedSignature {
  content: Uint8Array;
  signedAttributes: Buffer;
  /** The signature value: the contents of SignerInfo.signature, what the time-stamp is over. */
  signature: Uint8Array;
}

export class CadesTWriter {
  readonly template: SignerTemplate;
  private readonly certificateSet: Uint8Array;
  /** One template per signing-time encoding: UTCTime through 2049, else GeneralizedTime (RFC 5652 §11.3). */
  private readonly attributes: Record<'utc' | 'generalized', SignedAttributesTemplate>;

  /**
   * @param signer the sealing key, its certificate and chain
   * @param tsa    the built-in TSA's token writer, for time-stamps in the same thread
   */
  constructor(
    signer: Signer,
    private readonly tsa?: TimeStampTokenTemplate,
  ) {
    this.template = new SignerTemplate(signer);
    this.certificateSet = this.template.certificateSet([signer.certificate, ...signer.chain], 'seal');
    const template = (time: AttributeTimeTag) =>
      new SignedAttributesTemplate([fixedAttribute(contentTypeAttribute(OID.data)), messageDigestSlot(), signingTimeSlot(time), fixedAttribute(this.template.signingCertificateAttribute)]);
    this.attributes = { utc: template(Tag.UTC_TIME), generalized: template(Tag.GENERALIZED_TIME) };
  }

  /** Steps 1–2: the signed attributes over `content`, as a DER SET OF (signing time in whole seconds). */
  private signedAttributes(content: Uint8Array, signingTime: Date): Buffer {
    const time = truncateToSeconds(signingTime);
    const utc = utcTimeText(time);
    const template = utc ? this.attributes.utc : this.attributes.generalized;
    const attrs = template.instance();
    attrs.set(sha256(content), template.slotOffsets[1]!);
    attrs.set(asciiBytes(utc ?? generalizedTimeText(time, false)), template.slotOffsets[2]!);
    return attrs;
  }

  /** Steps 1–3: the CAdES-B signature over `content`. */
  async prepare(content: Uint8Array, signingTime: Date = new Date()): Promise<PreparedSignature> {
    const signedAttributes = this.signedAttributes(content, signingTime);
    return { content, signedAttributes, signature: await this.template.sign(signedAttributes) };
  }

  /** As `prepare`, without waiting (a signer whose key is in this process). */
  prepareSync(content: Uint8Array, signingTime: Date = new Date()): PreparedSignature {
    const signedAttributes = this.signedAttributes(content, signingTime);
    return { content, signedAttributes, signature: this.template.signSync(signedAttributes) };
  }

  /**
   * Step 5: the CAdES-B-T proof with `token` as its signature time-stamp (or, without a
   * token, the CAdES-B). The token is taken as it is: `seal` checks it, `verifyCadesT` too.
   */
  assemble(prepared: PreparedSignature, token?: Uint8Array): Uint8Array {
    return this.template.signedData({
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

  /** Whether `sealSync` can run: the built-in TSA's writer is in this thread and both keys sign without waiting. */
  get synchronous(): boolean {
    return this.tsa !== undefined && this.template.synchronous && this.tsa.signer.synchronous;
  }

  /** Seals with the built-in TSA in this thread: the whole proof without leaving the thread. */
  sealSync(content: Uint8Array, signingTime?: Date): Uint8Array {
    if (!this.tsa) throw new Error('CadesTWriter.sealSync needs the built-in TSA token writer');
    const prepared = this.prepareSync(content, signingTime);
    // the imprint is over the contents of the signature OCTET STRING
    return this.assemble(prepared, this.tsa.sha256TokenSync(sha256(prepared.signature)));
  }

  /**
   * Seals with `timeStamper` (any RFC 3161 client), whose token must be over the signature
   * value (TimeStampError TSA_RESPONSE_MISMATCH otherwise); with none, with the built-in TSA's
   * writer given to the constructor.
   */
  async seal(content: Uint8Array, timeStamper?: TimeStamper, signingTime?: Date): Promise<Uint8Array> {
    if (!timeStamper) {
      if (!this.tsa) throw new Error('CadesTWriter.seal needs a time-stamper or the built-in TSA token writer');
      if (this.synchronous) return this.sealSync(content, signingTime);
      const prepared = await this.prepare(content, signingTime);
      return this.assemble(prepared, await this.tsa.sha256Token(sha256(prepared.signature)));
    }
    const prepared = await this.prepare(content, signingTime);
    const token = await timeStamper.timestamp(prepared.signature);
    assertTokenOverSignature(token, prepared.signature);
    return this.assemble(prepared, token);
  }
}

/**
 * Checks that a signature time-stamp token's imprint is the hash of the signature value
 * (ETSI EN 319 122-1 §5.3: the contents of the OCTET STRING), so a time-stamper that answers
 * for other data is caught before the proof is written.
 */
export function assertTokenOverSignature(token: Uint8Array, signature: Uint8Array): void {
  let imprint;
  try {
    imprint = parseTimeStampToken(token).messageImprint;
  } catch (err) {
    throw new TimeStampError('TSA_BAD_RESPONSE', 'the time-stamper returned a malformed token', { cause: err });
  }
  const hash = hashByOid(imprint.hashAlgorithmOid);
  if (!hash || !equalBytes(imprint.hashedMessage, digest(hash, signature))) {
    throw new TimeStampError('TSA_RESPONSE_MISMATCH', 'the time-stamp token is not over the signature value');
  }
}

/**
 * The signature time-stamp token of a proof and the signature value it should cover (the
 * contents of the SignerInfo's signature OCTET STRING), for checking with
 * `openssl ts -verify -token_in -in token.der -data sigvalue.bin`. Throws DerError when the
 * proof is malformed or has no time-stamp.
 */
export function extractTimeStamp(proof: Uint8Array): { token: Uint8Array; signatureValue: Uint8Array } {
  const sd = parseSignedData(proof);
  if (sd.signerInfos.length !== 1) throw new DerError('SignedData: exactly one SignerInfo expected');
  const si = sd.signerInfos[0]!;
  const attr = si.unsignedAttrs?.attributes.find((a) => a.type === OID.signatureTimeStampToken);
  if (!attr) throw new DerError('the proof has no signature-time-stamp attribute (a CAdES-B, not a B-T)');
  return { token: attr.values[0]!.bytes, signatureValue: si.signature };
}
