/**
 * The built-in TSA's tokens (RFC 3161 §2.4.2) on the fast path: the TSTInfo written per
 * request around prepared octets, signed with node's native crypto through a SignerTemplate.
 * Same layout as TimeStampAuthority's object path (`encodeTSTInfo` + `signTimeStampToken`):
 *
 * ```asn1
 * TSTInfo ::= SEQUENCE { version 1, policy, messageImprint (as requested), serialNumber,
 *                        genTime (with milliseconds when an accuracy is set), accuracy,
 *                        nonce (when requested) }            -- ordering FALSE omitted, no tsa
 * ```
 * signed attributes content-type id-ct-TSTInfo, message-digest, ESS signing-certificate-v2
 * (trap 4 of shared/notes/cades-with-pkijs.md), the TSA certificate included on certReq.
 *
 * Synchronous and free of any I/O, so it runs in the HTTP handler, in the sealer and in a
 * worker thread alike.
 */
import { randomFillSync } from 'node:crypto';
import { Tag, integer, oid, sequence } from './der.js';
import { asciiBytes, encodeTree, generalizedTimeText, node, positiveInteger, type DerPiece } from './DerWriter.js';
import { OID } from './oids.js';
import { contentTypeAttribute } from './SignedAttributes.js';
import { OID_TST_INFO_DER, SignedAttributesTemplate, SignerTemplate, fixedAttribute, messageDigestSlot, sha256, type NativeSigningIdentity } from './SignerTemplate.js';
import { encodeAccuracy } from './TSTInfo.js';

export interface TokenTemplateOptions {
  policyOid: string;
  accuracyMs?: number;
  clock?: () => Date;
  /** Serial numbers: positive, unique for this TSA. Default: 127 random bits (RFC 3161 §2.4.2). */
  serialSource?: () => bigint | Uint8Array;
}

/** 16 random octets with the top bit cleared, from a pool refilled 256 serials at a time. */
class RandomPool {
  private readonly pool = Buffer.allocUnsafe(4096);
  private pos = this.pool.length;

  take(n: number): Uint8Array {
    if (this.pos + n > this.pool.length) {
      randomFillSync(this.pool);
      this.pos = 0;
    }
    const out = Uint8Array.prototype.slice.call(this.pool, this.pos, this.pos + n);
    this.pos += n;
    out[0]! &= 0x7f;
    return out;
  }
}

const VERSION_1 = integer(1);

export class TimeStampTokenTemplate {
  readonly signer: SignerTemplate;
  readonly policyOid: string;
  private readonly policy: Uint8Array;
  private readonly accuracy: Uint8Array | undefined;
  private readonly clock: () => Date;
  private readonly serialSource: (() => bigint | Uint8Array) | undefined;
  private readonly attributes: SignedAttributesTemplate;
  private readonly certificateSet: Uint8Array;
  private readonly random = new RandomPool();

  constructor(identity: NativeSigningIdentity, options: TokenTemplateOptions) {
    this.signer = new SignerTemplate(identity);
    this.policyOid = options.policyOid;
    this.policy = oid(options.policyOid);
    this.accuracy = options.accuracyMs !== undefined ? encodeAccuracy(options.accuracyMs) : undefined;
    this.clock = options.clock ?? (() => new Date());
    this.serialSource = options.serialSource;
    this.attributes = new SignedAttributesTemplate([fixedAttribute(contentTypeAttribute(OID.tstInfo)), messageDigestSlot(), fixedAttribute(this.signer.signingCertificateAttribute)]);
    this.certificateSet = this.signer.certificateSet([identity.certificate], 'tsa');
  }

  private serial(): Uint8Array {
    if (!this.serialSource) return positiveInteger(this.random.take(16));
    const s = this.serialSource();
    if (s instanceof Uint8Array) {
      if (s.every((b) => b === 0)) throw new RangeError('the serial source gave a serial number that is not positive');
      return positiveInteger(s);
    }
    if (s <= 0n) throw new RangeError('the serial source gave a serial number that is not positive');
    return integer(s);
  }

  /** A random positive 64-bit nonce INTEGER (what LocalTimeStamper sends), as DER. */
  randomNonce(): Uint8Array {
    return positiveInteger(this.random.take(8));
  }

  /**
   * The DER TSTInfo for `messageImprint` (its DER exactly as requested, RFC 3161 §2.4.2) with
   * the `nonce` INTEGER DER when one was sent.
   */
  tstInfo(messageImprint: Uint8Array, nonce?: Uint8Array): Uint8Array {
    const parts: DerPiece[] = [VERSION_1, this.policy, messageImprint, this.serial(), node(Tag.GENERALIZED_TIME, asciiBytes(generalizedTimeText(this.clock(), this.accuracy !== undefined)))];
    if (this.accuracy) parts.push(this.accuracy);
    if (nonce) parts.push(nonce);
    return encodeTree(node(Tag.SEQUENCE, ...parts));
  }

  /** Signs a DER TSTInfo into a TimeStampToken (ContentInfo). */
  token(tstInfo: Uint8Array, includeCertificate: boolean): Uint8Array {
    const attrs = this.attributes.instance();
    attrs.set(sha256(tstInfo), this.attributes.slotOffsets[1]!);
    const signature = this.signer.sign(attrs);
    return this.signer.signedData({
      eContentType: OID_TST_INFO_DER,
      dataContent: false,
      eContent: tstInfo,
      ...(includeCertificate ? { certificateSet: this.certificateSet } : {}),
      signedAttributes: attrs,
      signature,
    });
  }

  /** A token over SHA-256 `hashedMessage` (32 octets), with a random nonce and the certificate: what the sealer asks for. */
  sha256Token(hashedMessage: Uint8Array): Uint8Array {
    return this.token(this.tstInfo(sha256MessageImprint(hashedMessage), this.randomNonce()), true);
  }
}

const SHA256_IMPRINT_PREFIX = (() => {
  const full = sequence(sequence(oid(OID.sha256)), Uint8Array.of(Tag.OCTET_STRING, 32, ...new Uint8Array(32)));
  return full.subarray(0, full.length - 32);
})();

/** MessageImprint { sha256 (parameters absent), hashedMessage } DER. */
export function sha256MessageImprint(hashedMessage: Uint8Array): Uint8Array {
  const out = new Uint8Array(SHA256_IMPRINT_PREFIX.length + 32);
  out.set(SHA256_IMPRINT_PREFIX);
  out.set(hashedMessage, SHA256_IMPRINT_PREFIX.length);
  return out;
}

export { sha256 };
