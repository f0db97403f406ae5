/**
 * The built-in RFC 3161 time-stamping authority.
 *
 * `respond` answers a DER TimeStampReq (§2.4.1) with a DER TimeStampResp (§2.4.2) and never
 * throws for bad input: a request it cannot honour gets status rejection with a failInfo.
 * Tokens are written by TimeStampTokenTemplate.ts (the only token writer): TSTInfo version 1,
 * our policy, the request's messageImprint as sent, a positive random serial, genTime (with
 * milliseconds when an accuracy is configured), the request's nonce, no `ordering` (DEFAULT
 * FALSE) and no `tsa` name; the TSA certificate is included only when the request sets
 * certReq. With a key in this process every answer is written without waiting
 * (`respondSync`); a `Signer` whose key is elsewhere answers through `respond`.
 */
import { hashByOid, hashLength, hasNoOrNullParameters, readAlgorithmIdentifier } from './AlgorithmIdentifier.js';
import { parseCertificate } from './Certificate.js';
import { integer, isOid, oid, readDer, sequence } from './der.js';
import { KeyObjectSigner, signerFor, type NativeSigningIdentity, type Signer } from './Signer.js';
import type { SigningIdentity } from './SigningIdentity.js';
import { TimeStampError } from './TimeStampError.js';
import { parseTimeStampReq, type TimeStampReq } from './TimeStampReq.js';
import { encodeTimeStampResp, type PKIFailureInfo } from './TimeStampResp.js';
import { checkTsaCertificateUsage } from './TimeStampToken.js';
import { TimeStampTokenTemplate } from './TimeStampTokenTemplate.js';
import { encodeMessageImprint, type MessageImprint } from './TSTInfo.js';

export interface TimeStampAuthorityOptions {
  /** The TSA policy OID put in every TSTInfo (RFC 3161 §2.4.2). */
  policyOid: string;
  /** Accuracy of genTime in milliseconds (positive integer); genTime then carries milliseconds. */
  accuracyMs?: number;
  clock?: () => Date;
  /** Serial numbers: positive, unique for this TSA. Default: 127 random bits. */
  serialSource?: () => bigint | Uint8Array;
  /** The WebCrypto engine of the key, when it is not node's own (see `signerFor`). */
  crypto?: Crypto;
  /**
   * Run with a certificate RFC 3161 §2.3 does not allow (no critical timeStamping-only
   * extendedKeyUsage). Only for testing that verifiers refuse such tokens.
   */
  allowUnsuitableCertificate?: boolean;
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
  /** The token writer: also used directly by the sealer in the same thread. */
  readonly tokenTemplate: TimeStampTokenTemplate;
  private readonly signer: Signer;
  private readonly accuracyMs: number | undefined;
  private readonly defaultSources: boolean;

  constructor(identity: SigningIdentity | Signer, options: TimeStampAuthorityOptions) {
    if (!isOid(options.policyOid)) throw new RangeError(`policyOid is not an OBJECT IDENTIFIER: ${options.policyOid}`);
    if (options.accuracyMs !== undefined && !(Number.isInteger(options.accuracyMs) && options.accuracyMs > 0)) {
      throw new RangeError('accuracyMs must be a positive integer');
    }
    const usage = checkTsaCertificateUsage(parseCertificate(identity.certificate));
    if (!usage.ok && !options.allowUnsuitableCertificate) throw new TimeStampError('TSA_CERTIFICATE_UNSUITABLE', usage.detail);
    this.policyOid = options.policyOid;
    this.accuracyMs = options.accuracyMs;
    this.defaultSources = !options.clock && !options.serialSource;
    this.signer = signerFor(identity, options.crypto);
    this.tokenTemplate = new TimeStampTokenTemplate(this.signer, {
      policyOid: this.policyOid,
      ...(this.accuracyMs !== undefined ? { accuracyMs: this.accuracyMs } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.serialSource ? { serialSource: options.serialSource } : {}),
    });
  }

  /** Whether `respondSync` answers: the key is in this process. */
  get synchronous(): boolean {
    return this.tokenTemplate.signer.synchronous;
  }

  /**
   * The configuration a worker thread can rebuild this TSA's token writer from: a key in this
   * process, the default clock and serial numbers. Undefined otherwise.
   */
  nativeConfig(): NativeTsaConfig | undefined {
    if (!(this.signer instanceof KeyObjectSigner) || !this.defaultSources) return undefined;
    return { identity: this.signer.identity, policyOid: this.policyOid, ...(this.accuracyMs !== undefined ? { accuracyMs: this.accuracyMs } : {}) };
  }

  /** The TSA certificate, DER. */
  get certificate(): Uint8Array {
    return this.signer.certificate;
  }

  /** Answers a DER TimeStampReq with a DER TimeStampResp; never throws. */
  async respond(request: Uint8Array): Promise<Uint8Array> {
    if (this.synchronous) return this.respondSync(request)!;
    const checked = this.check(request);
    if ('refusal' in checked) return reject(checked.refusal);
    try {
      const token = await this.tokenTemplate.token(this.tstInfo(checked.req.messageImprint, checked.req.nonce), checked.req.certReq);
      return grant(token);
    } catch {
      return reject(SYSTEM_FAILURE);
    }
  }

  /**
   * As `respond`, without a promise, when the key is in this process (`synchronous`);
   * undefined otherwise (then use `respond`). Never throws.
   */
  respondSync(request: Uint8Array): Uint8Array | undefined {
    if (!this.synchronous) return undefined;
    const checked = this.check(request);
    if ('refusal' in checked) return reject(checked.refusal);
    try {
      return grant(this.tokenTemplate.tokenSync(this.tstInfo(checked.req.messageImprint, checked.req.nonce), checked.req.certReq));
    } catch {
      return reject(SYSTEM_FAILURE);
    }
  }

  private tstInfo(messageImprint: MessageImprint, nonce: bigint | undefined): Uint8Array {
    return this.tokenTemplate.tstInfo(encodeMessageImprint(messageImprint), nonce !== undefined ? integer(nonce) : undefined);
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
    return this.tokenTemplate.token(this.tstInfo(messageImprint, options.nonce), options.certReq ?? true);
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
}

function reject(refusal: Refusal): Uint8Array {
  return encodeTimeStampResp({ status: 'rejection', statusString: refusal.text, failInfo: [refusal.failInfo] });
}

const SYSTEM_FAILURE: Refusal = { failInfo: 'systemFailure', text: 'the time-stamp could not be produced' };

function grant(token: Uint8Array): Uint8Array {
  return encodeTimeStampResp({ status: 'granted', failInfo: [], token });
}
