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
import { bytesToBigInt, integer, isOid, oid, readDer, sequence } from './der.js';
import { defaultCrypto } from './webcrypto.js';
import { randomPositiveInteger } from './random.js';
import type { SigningIdentity } from './SigningIdentity.js';
import { TimeStampError } from './TimeStampError.js';
import { parseTimeStampReq, type TimeStampReq } from './TimeStampReq.js';
import { encodeTimeStampResp, type PKIFailureInfo } from './TimeStampResp.js';
import { checkTsaCertificateUsage, signTimeStampToken } from './TimeStampToken.js';
import { encodeMessageImprint, encodeTSTInfo, type MessageImprint } from './TSTInfo.js';
import { nativeSigningIdentity, type NativeSigningIdentity } from './SignerTemplate.js';
import { TimeStampTokenTemplate } from './TimeStampTokenTemplate.js';

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
  /**
   * 'native' (the default when no `crypto` is injected and the key is a node key): tokens are
   * written around prepared DER and signed with node:crypto (TimeStampTokenTemplate.ts).
   * 'object': every token built through the structures and signed with the WebCrypto `crypto`
   * (the reference the fast path is tested against).
   */
  engine?: 'native' | 'object';
}

/** What a worker thread needs to issue this TSA's tokens itself (default clock and serials only). */
export interface NativeTsaConfig {
  identity: NativeSigningIdentity;
  policyOid: string;
  accuracyMs?: number;
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
  private readonly native: TimeStampTokenTemplate | undefined;
  private readonly nativeIdentity: NativeSigningIdentity | undefined;
  private readonly defaultSources: boolean;

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
    this.defaultSources = !options.clock && !options.serialSource;
    this.nativeIdentity = options.crypto || options.engine === 'object' ? undefined : nativeSigningIdentity(identity);
    this.native = this.nativeIdentity
      ? new TimeStampTokenTemplate(this.nativeIdentity, {
          policyOid: this.policyOid,
          ...(this.accuracyMs !== undefined ? { accuracyMs: this.accuracyMs } : {}),
          clock: this.clock,
          ...(options.serialSource ? { serialSource: options.serialSource } : {}),
        })
      : undefined;
  }

  /** The fast token writer, when this TSA signs natively (see `engine`). */
  get tokenTemplate(): TimeStampTokenTemplate | undefined {
    return this.native;
  }

  /** The configuration a worker thread can rebuild this TSA's token writer from, when it can. */
  nativeConfig(): NativeTsaConfig | undefined {
    if (!this.nativeIdentity || !this.defaultSources) return undefined;
    return { identity: this.nativeIdentity, policyOid: this.policyOid, ...(this.accuracyMs !== undefined ? { accuracyMs: this.accuracyMs } : {}) };
  }

  /** The TSA certificate, DER. */
  get certificate(): Uint8Array {
    return this.identity.certificate;
  }

  /** Answers a DER TimeStampReq with a DER TimeStampResp; never throws. */
  async respond(request: Uint8Array): Promise<Uint8Array> {
    const native = this.respondSync(request);
    if (native) return native;
    const checked = this.check(request);
    if ('refusal' in checked) return reject(checked.refusal);
    const req = checked.req;
    try {
      const token = await this.sign(req.messageImprint, req.nonce, req.certReq);
      return encodeTimeStampResp({ status: 'granted', failInfo: [], token });
    } catch {
      return reject({ failInfo: 'systemFailure', text: 'the time-stamp could not be produced' });
    }
  }

  /**
   * As `respond`, without a promise, when this TSA signs natively (see `engine`); undefined
   * when it signs through WebCrypto (then use `respond`). Never throws.
   */
  respondSync(request: Uint8Array): Uint8Array | undefined {
    if (!this.native) return undefined;
    const checked = this.check(request);
    if ('refusal' in checked) return reject(checked.refusal);
    const req = checked.req;
    try {
      const token = this.native.token(this.native.tstInfo(encodeMessageImprint(req.messageImprint), req.nonce !== undefined ? integer(req.nonce) : undefined), req.certReq);
      return encodeTimeStampResp({ status: 'granted', failInfo: [], token });
    } catch {
      return reject({ failInfo: 'systemFailure', text: 'the time-stamp could not be produced' });
    }
  }

  private check(request: Uint8Array): { req: TimeStampReq } | { refusal: Refusal } {
    let req: TimeStampReq;
    try {
      req = parseTimeStampReq(request);
    } catch {
      return { refusal: { failInfo: 'badDataFormat', text: 'the request is not a DER TimeStampReq (RFC 3161 §2.4.1)' } };
    }
    const refusal = this.refusalFor(req);
    return refusal ? { refusal } : { req };
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
    if (this.native) {
      const tstInfo = this.native.tstInfo(encodeMessageImprint(messageImprint), nonce !== undefined ? integer(nonce) : undefined);
      return this.native.token(tstInfo, certReq);
    }
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
