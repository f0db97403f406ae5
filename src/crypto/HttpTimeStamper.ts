/**
 * An RFC 3161 client over HTTP (RFC 3161 §3.4): POST application/timestamp-query, expect
 * 200 application/timestamp-reply. Requests ask for the TSA certificate (certReq) and carry a
 * random positive 64-bit nonce; the answer must be granted, strict DER, signed by a suitable
 * TSA certificate, and for the imprint, nonce and policy asked.
 */
import type { HashName } from './AlgorithmIdentifier.js';
import { bufferSource } from './webcrypto.js';
import { randomPositiveInteger } from './random.js';
import { TimeStampError } from './TimeStampError.js';
import { checkTokenAnswers, digestImprint, sha256Imprint, type DigestTimeStamper } from './TimeStamper.js';
import type { MessageImprint } from './TSTInfo.js';
import { encodeTimeStampReq } from './TimeStampReq.js';
import { parseTimeStampResp, type TimeStampResp } from './TimeStampResp.js';

export interface HttpTimeStamperOptions {
  /** Whole-exchange timeout (default 10 s). */
  timeoutMs?: number;
  /** Ask for this TSA policy (reqPolicy) and require it in the token. */
  policyOid?: string;
  fetch?: typeof fetch;
  crypto?: Crypto;
}

const REPLY_TYPES = new Set(['application/timestamp-reply', 'application/timestamp-response']);
const MAX_RESPONSE_OCTETS = 1024 * 1024;

export class HttpTimeStamper implements DigestTimeStamper {
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;

  constructor(
    readonly url: string,
    private readonly options: HttpTimeStamperOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.fetchFn = options.fetch ?? globalThis.fetch;
  }

  timestamp(data: Uint8Array): Promise<Uint8Array> {
    return this.stamp(sha256Imprint(data));
  }

  /** A token whose messageImprint is `algorithm` (default SHA-256) with `hashedMessage`. */
  timestampDigest(hashedMessage: Uint8Array, algorithm: HashName = 'SHA-256'): Promise<Uint8Array> {
    return this.stamp(digestImprint(hashedMessage, algorithm));
  }

  private async stamp(messageImprint: MessageImprint): Promise<Uint8Array> {
    const nonce = randomPositiveInteger(8);
    const request = encodeTimeStampReq({ messageImprint, nonce, certReq: true, ...(this.options.policyOid ? { reqPolicy: this.options.policyOid } : {}) });
    const signal = AbortSignal.timeout(this.timeoutMs);
    const failed = (err: unknown, stage: string) =>
      signal.aborted || (err instanceof Error && err.name === 'TimeoutError')
        ? new TimeStampError('TSA_TIMEOUT', `the TSA at ${this.url} did not answer within ${this.timeoutMs} ms`, { cause: err })
        : new TimeStampError('TSA_UNAVAILABLE', `the TSA at ${this.url} could not be reached (${stage})`, { cause: err });

    let response: Response;
    try {
      response = await this.fetchFn(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/timestamp-query', accept: 'application/timestamp-reply' },
        body: bufferSource(request),
        signal,
      });
    } catch (err) {
      throw failed(err, 'request');
    }
    const contentType = (response.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (response.status !== 200 || !REPLY_TYPES.has(contentType)) {
      await response.body?.cancel().catch(() => undefined);
      throw new TimeStampError('TSA_HTTP_ERROR', `the TSA at ${this.url} answered HTTP ${response.status} ${contentType || '(no content type)'}`, {
        httpStatus: response.status,
      });
    }
    let body: Uint8Array;
    try {
      body = new Uint8Array(await response.arrayBuffer());
    } catch (err) {
      throw failed(err, 'response body');
    }
    if (body.length > MAX_RESPONSE_OCTETS) throw new TimeStampError('TSA_BAD_RESPONSE', `the TSA answer is larger than ${MAX_RESPONSE_OCTETS} octets`);

    let resp: TimeStampResp;
    try {
      resp = parseTimeStampResp(body);
    } catch (err) {
      throw new TimeStampError('TSA_BAD_RESPONSE', `the TSA answer is not a DER TimeStampResp: ${(err as Error).message}`, { cause: err });
    }
    if (resp.status !== 'granted' && resp.status !== 'grantedWithMods') {
      const text = [resp.statusString, resp.failInfo.length ? `failInfo ${resp.failInfo.join(', ')}` : ''].filter(Boolean).join('; ');
      throw new TimeStampError('TSA_REJECTED', `the TSA refused the request: ${resp.status}${text ? ` (${text})` : ''}`, {
        status: resp.status,
        ...(resp.statusString ? { statusText: resp.statusString } : {}),
        failInfo: resp.failInfo,
      });
    }
    if (!resp.token) throw new TimeStampError('TSA_BAD_RESPONSE', 'the TSA granted the request but sent no token');
    await checkTokenAnswers(
      resp.token,
      { ...messageImprint, nonce, ...(this.options.policyOid ? { policy: this.options.policyOid } : {}) },
      this.options.crypto,
    );
    return resp.token;
  }
}
