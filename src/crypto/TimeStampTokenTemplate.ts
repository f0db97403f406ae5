/**
 * The built-in TSA's tokens (RFC 3161 §2.4.2): the one writer of time-stamp tokens. The
 * TSTInfo is written per request around prepared octets and signed by the TSA's `Signer`
 * through a SignerTemplate:
 *
 * ```asn1
 * TSTInfo ::= SEQUENCE { version 1, policy, messageImprint (as requested), serialNumber,
 *                        genTime (with milliseconds when an accuracy is set), accuracy,
 *                        nonce (when requested) }            -- ordering FALSE omitted, no tsa
 * ```
 * signed attributes content-type id-ct-TSTInfo, message-digest, ESS signing-certificate-v2
 * (without it `openssl ts -verify` refuses the token: docs/cades-profile.md, "Pitfalls a
 * strict verifier catches"), the TSA certificate included on certReq.
 *
 * With a key in this process (`tokenSync`) it is synchronous and free of any I/O, so it runs
 * in the HTTP handler, in the sealer and in a worker thread alike; `token` waits for a
 * signer that cannot answer at once.
 */
import { randomFillSync } from 'node:crypto';
import { Tag, integer, oid, sequence } from './der.js';
import { asciiBytes, encodeTree, generalizedTimeText, node, positiveInteger, type DerPiece } from './DerWriter.js';
import { OID } from './oids.js';
import { contentTypeAttribute } from './SignedAttributes.js';
import type { Signer } from './Signer.js';
import { OID_TST_INFO_DER, SignedAttributesTemplate, SignerTemplate, fixedAttribute, messageDigestSlot, sha256 } from './SignerTemplate.js';
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

  constructor(signer: Signer, options: TokenTemplateOptions) {
    this.signer = new SignerTemplate(signer);
    this.policyOid = options.policyOid;
    this.policy = oid(options.policyOid);
    this.accuracy = options.accuracyMs !== undefined ? encodeAccuracy(options.accuracyMs) : undefined;
    this.clock = options.clock ?? (() => new Date());
    this.serialSource = options.serialSource;
    this.attributes = new SignedAttributesTemplate([fixedAttribute(contentTypeAttribute(OID.tstInfo)), messageDigestSlot(), fixedAttribute(this.signer.signingCertificateAttribute)]);
    this.certificateSet = this.signer.certificateSet([signer.certificate], 'tsa');
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

  /** The signed attributes over a DER TSTInfo, to be signed. */
  private signedAttributes(tstInfo: Uint8Array): Buffer {
    const attrs = this.attributes.instance();
    attrs.set(sha256(tstInfo), this.attributes.slotOffsets[1]!);
    return attrs;
  }

  private assemble(tstInfo: Uint8Array, includeCertificate: boolean, signedAttributes: Buffer, signature: Uint8Array): Uint8Array {
    return this.signer.signedData({
      eContentType: OID_TST_INFO_DER,
      dataContent: false,
      eContent: tstInfo,
      ...(includeCertificate ? { certificateSet: this.certificateSet } : {}),
      signedAttributes,
      signature,
    });
  }

  /** Signs a DER TSTInfo into a TimeStampToken (ContentInfo). */
  async token(tstInfo: Uint8Array, includeCertificate: boolean): Promise<Uint8Array> {
    const attrs = this.signedAttributes(tstInfo);
    return this.assemble(tstInfo, includeCertificate, attrs, await this.signer.sign(attrs));
  }

  /** As `token`, without waiting (a key in this process: `signer.synchronous`). */
  tokenSync(tstInfo: Uint8Array, includeCertificate: boolean): Uint8Array {
    const attrs = this.signedAttributes(tstInfo);
    return this.assemble(tstInfo, includeCertificate, attrs, this.signer.signSync(attrs));
  }

  /** A token over SHA-256 `hashedMessage` (32 octets), with a random nonce and the certificate: what the sealer asks for. */
  sha256Token(hashedMessage: Uint8Array): Promise<Uint8Array> {
    return this.token(this.tstInfo(sha256MessageImprint(hashedMessage), this.randomNonce()), true);
  }

  /** As `sha256Token`, without waiting. */
  sha256TokenSync(hashedMessage: Uint8Array): Uint8Array {
    return this.tokenSync(this.tstInfo(sha256MessageImprint(hashedMessage), this.randomNonce()), true);
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
