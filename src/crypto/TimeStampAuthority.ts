/**
 * The built-in RFC 3161 time-stamping authority.
 *
 * `respond` answers a DER TimeStampReq (§2.4.1) with a DER TimeStampResp (§2.4.2) and never
 * throws for bad input: a request it cannot honour gets status rejection with a failInfo.
 * Tokens (see TimeStampToken.ts) have TSTInfo version 1, our policy, the request's
 * messageImprint as sent, a positive random serial, genTime (with milliseconds when an
 * accuracy is configured), the request's nonce, no `ordering` (DEFAULT FALSE) and no `tsa`
 * name; the TSA certificate is included only when the request sets certReq.
 */
import { hashByOid, hashLength, hasNoOrNullParameters, readAlgorithmIdentifier } from './AlgorithmIdentifier.js';
import { parseCertificate } from './Certificate.js';
import { bytesToBigInt, isOid, oid, readDer, sequence } from './der.js';
import { defaultCrypto } from './engine.js';
import { randomPositiveInteger } from './random.js';
import type { SigningIdentity } from './SigningIdentity.js';
import { TimeStampError } from './TimeStampError.js';
import { parseTimeStampReq, type TimeStampReq } from './TimeStampReq.js';
import { encodeTimeStampResp, type PKIFailureInfo } from './TimeStampResp.js';
import { checkTsaCertificateUsage, signTimeStampToken } from './TimeStampToken.js';
import { encodeTSTInfo, type MessageImprint } from './TSTInfo.js';

export interface TimeStampAuthorityOptions {
  /** The TSA policy OID put in every TSTInfo (RFC 3161 §2.4.2). */
  policyOid: string;
  /** Accuracy of genTime in milliseconds (positive integer); genTime then carries milliseconds. */
  accuracyMs?: number;
  clock?: () => Date;
  /** Serial numbers: positive, unique for this TSA. Default: 127 random bits. */
  serialSource?: () => bigint | Uint8Array;
  crypto?: Crypto;
  /**
   * Run with a certificate RFC 3161 §2.3 does not allow (no critical timeStamping-only
   * extendedKeyUsage). Only for testing that verifiers refuse such tokens.
   */
  allowUnsuitableCertificate?: boolean;
}

interface Refusal {
  failInfo: PKIFailureInfo;
  text: string;
}

export class TimeStampAuthority {
  readonly policyOid: string;
  private readonly accuracyMs: number | undefined;
  private readonly clock: () => Date;
  private readonly serialSource: () => bigint | Uint8Array;
  private readonly crypto: Crypto;

  constructor(
    private readonly identity: SigningIdentity,
    options: TimeStampAuthorityOptions,
  ) {
    if (!isOid(options.policyOid)) throw new RangeError(`policyOid is not an OBJECT IDENTIFIER: ${options.policyOid}`);
    if (options.accuracyMs !== undefined && !(Number.isInteger(options.accuracyMs) && options.accuracyMs > 0)) {
      throw new RangeError('accuracyMs must be a positive integer');
    }
    const usage = checkTsaCertificateUsage(parseCertificate(identity.certificate));
    if (!usage.ok && !options.allowUnsuitableCertificate) throw new TimeStampError('TSA_CERTIFICATE_UNSUITABLE', usage.detail);
    this.policyOid = options.policyOid;
    this.accuracyMs = options.accuracyMs;
    this.clock = options.clock ?? (() => new Date());
    this.serialSource = options.serialSource ?? (() => randomPositiveInteger(16));
    this.crypto = options.crypto ?? defaultCrypto();
  }

  /** The TSA certificate, DER. */
  get certificate(): Uint8Array {
    return this.identity.certificate;
  }

  /** Answers a DER TimeStampReq with a DER TimeStampResp; never throws. */
  async respond(request: Uint8Array): Promise<Uint8Array> {
    let req: TimeStampReq;
    try {
      req = parseTimeStampReq(request);
    } catch {
      return reject({ failInfo: 'badDataFormat', text: 'the request is not a DER TimeStampReq (RFC 3161 §2.4.1)' });
    }
    const refusal = this.refusalFor(req);
    if (refusal) return reject(refusal);
    try {
      const token = await this.sign(req.messageImprint, req.nonce, req.certReq);
      return encodeTimeStampResp({ status: 'granted', failInfo: [], token });
    } catch {
      return reject({ failInfo: 'systemFailure', text: 'the time-stamp could not be produced' });
    }
  }

  /** Issues a token for an imprint in process. Throws TimeStampError TSA_REJECTED for an imprint `respond` would refuse. */
  async issueToken(imprint: { hashAlgorithmOid: string; hashedMessage: Uint8Array }, options: { nonce?: bigint; certReq?: boolean } = {}): Promise<Uint8Array> {
    const messageImprint: MessageImprint = { ...imprint, hashAlgorithmDer: sequence(oid(imprint.hashAlgorithmOid)) };
    const refusal = this.imprintRefusal(messageImprint);
    if (refusal) throw new TimeStampError('TSA_REJECTED', refusal.text, { status: 'rejection', statusText: refusal.text, failInfo: [refusal.failInfo] });
    return this.sign(messageImprint, options.nonce, options.certReq ?? true);
  }

  private refusalFor(req: TimeStampReq): Refusal | undefined {
    if (req.version !== 1) return { failInfo: 'badDataFormat', text: `version ${req.version} is not v1 (RFC 3161 §2.4.1)` };
    const imprint = this.imprintRefusal(req.messageImprint);
    if (imprint) return imprint;
    if (req.reqPolicy !== undefined && req.reqPolicy !== this.policyOid) {
      return { failInfo: 'unacceptedPolicy', text: `policy ${req.reqPolicy} is not offered; this TSA uses ${this.policyOid}` };
    }
    // §2.4.1: an extension the TSA does not recognise must be refused; it recognises none.
    if (req.hasExtensions) return { failInfo: 'unacceptedExtension', text: 'request extensions are not supported' };
    return undefined;
  }

  private imprintRefusal(imprint: MessageImprint): Refusal | undefined {
    const hash = hashByOid(imprint.hashAlgorithmOid);
    if (!hash || !hasNoOrNullParameters(readAlgorithmIdentifier(readDer(imprint.hashAlgorithmDer)))) {
      return { failInfo: 'badAlg', text: 'only SHA-256, SHA-384 and SHA-512 message imprints are accepted' };
    }
    if (imprint.hashedMessage.length !== hashLength(hash)) {
      return { failInfo: 'badDataFormat', text: `hashedMessage has ${imprint.hashedMessage.length} octets; ${hash} has ${hashLength(hash)}` };
    }
    return undefined;
  }

  private nextSerial(): bigint {
    const s = this.serialSource();
    const serial = s instanceof Uint8Array ? bytesToBigInt(s) : s;
    if (serial <= 0n) throw new RangeError('the serial source gave a serial number that is not positive');
    return serial;
  }

  private async sign(messageImprint: MessageImprint, nonce: bigint | undefined, certReq: boolean): Promise<Uint8Array> {
    const tstInfo = encodeTSTInfo({
      policy: this.policyOid,
      messageImprint,
      serialNumber: this.nextSerial(),
      genTime: this.clock(),
      ...(this.accuracyMs !== undefined ? { accuracyMs: this.accuracyMs } : {}),
      ...(nonce !== undefined ? { nonce } : {}),
    });
    return signTimeStampToken(tstInfo, this.identity, { includeCertificate: certReq, crypto: this.crypto });
  }
}

function reject(refusal: Refusal): Uint8Array {
  return encodeTimeStampResp({ status: 'rejection', statusString: refusal.text, failInfo: [refusal.failInfo] });
}
