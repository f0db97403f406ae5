/**
 * One POST to a URL a third party chose (a sender's webhook), under an OutboundPolicy:
 *
 *  - an IP literal is checked before any connection; a name is resolved and checked by the
 *    policy's `lookup`, so the socket connects only to an address that was checked;
 *  - once connected, the socket's peer address is checked again before a byte of the
 *    request (headers or body) is written — the request is only `end()`ed after that;
 *  - no redirect is followed (node:http does not): a 3xx is just a status;
 *  - one deadline covers resolution, connection, TLS, request and the answer's status;
 *    a body still trickling in at the deadline is cut, the status stands;
 *  - at most `maxAnswerBytes` of the answer's body are taken (the socket's reads come in
 *    chunks, so the last chunk may carry a little more), then the connection is
 *    destroyed; response headers are capped by `maxHeaderSize`.
 *
 * Failures are one of three kinds, so that what a caller shows cannot tell a closed port
 * from a reset or a TLS failure: TIMEOUT, TARGET_FORBIDDEN, CONNECTION_FAILED. The cause
 * keeps the details for the log.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { TargetForbiddenError, type OutboundPolicy } from './OutboundPolicy.js';

export type OutboundFailureKind = 'TIMEOUT' | 'TARGET_FORBIDDEN' | 'CONNECTION_FAILED';

export class OutboundRequestError extends Error {
  constructor(
    readonly kind: OutboundFailureKind,
    options: { cause?: unknown },
  ) {
    super(kind, options);
    this.name = 'OutboundRequestError';
  }
}

export interface OutboundPostOptions {
  policy: OutboundPolicy;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  maxAnswerBytes: number;
  /** largest response head accepted (node:http's maxHeaderSize); default 8 KiB */
  maxHeaderBytes?: number;
}

export interface OutboundPostResult {
  status: number;
  /** body bytes received before the connection was closed */
  answerBytes: number;
  /** the peer address the request was sent to */
  remoteAddress: string;
}

/** The host of a URL as node:http wants it (an IPv6 literal without its brackets). */
function hostOf(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/** A refusal for a literal address the policy forbids, before any connection; undefined for a name (checked at lookup). */
function literalRefused(host: string, policy: OutboundPolicy): OutboundRequestError | undefined {
  if (net.isIP(host) === 0) return undefined;
  const c = policy.classify(host);
  return c.allowed ? undefined : new OutboundRequestError('TARGET_FORBIDDEN', { cause: new TargetForbiddenError(host, [c]) });
}

/** One request on a fresh connection (nothing pooled, nothing shared), resolved through the policy's lookup. */
function openRequest(url: URL, host: string, policy: OutboundPolicy, method: string, headers: Record<string, string>, maxHeaderBytes: number | undefined): http.ClientRequest {
  return (url.protocol === 'https:' ? https : http).request({
    protocol: url.protocol,
    hostname: host,
    port: url.port === '' ? undefined : Number(url.port),
    path: `${url.pathname}${url.search}`,
    method,
    headers,
    agent: false,
    lookup: policy.lookup,
    maxHeaderSize: maxHeaderBytes ?? 8192,
  });
}

/** Any failure as an OutboundRequestError: a forbidden target, else a failed connection. */
function outboundError(err: unknown): OutboundRequestError {
  return err instanceof OutboundRequestError ? err : new OutboundRequestError(err instanceof TargetForbiddenError ? 'TARGET_FORBIDDEN' : 'CONNECTION_FAILED', { cause: err });
}

/**
 * Sends the body only once the socket is connected and its peer address passes the policy
 * again (a name may resolve elsewhere than it did at lookup); `connected` learns the address.
 */
function sendWhenConnected(req: http.ClientRequest, policy: OutboundPolicy, body: Buffer | undefined, fail: (err: unknown) => void, connected: (address: string) => void): void {
  req.on('socket', (socket) => {
    const gate = () => {
      try {
        policy.assertConnected(socket);
      } catch (err) {
        return fail(err);
      }
      connected(socket.remoteAddress ?? '');
      req.end(body);
    };
    if (socket.connecting) socket.once('connect', gate);
    else if (!socket.destroyed) gate();
    // else the connection already failed: its 'error' reaches the request
  });
}

export function postWithinPolicy(url: URL, options: OutboundPostOptions): Promise<OutboundPostResult> {
  const { policy, timeoutMs, maxAnswerBytes } = options;
  const host = hostOf(url);
  return new Promise((resolve, reject) => {
    const refused = literalRefused(host, policy);
    if (refused) return reject(refused);
    const body = Buffer.from(options.body);
    // a fresh connection per delivery: nothing pooled, nothing shared between senders
    const req = openRequest(url, host, policy, 'POST', { ...options.headers, 'content-length': String(body.length) }, options.maxHeaderBytes);
    let settled = false;
    let remoteAddress = '';
    /** set once the status line has arrived: from then on the outcome is known */
    let answered: OutboundPostResult | undefined;
    const finish = (outcome: { error: OutboundRequestError } | { result: OutboundPostResult }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      if ('error' in outcome) reject(outcome.error);
      else resolve(outcome.result);
    };
    const fail = (err: unknown) => finish({ error: outboundError(err) });
    const timer = setTimeout(
      () => finish(answered ? { result: answered } : { error: new OutboundRequestError('TIMEOUT', { cause: new Error(`no answer within ${timeoutMs} ms`) }) }),
      timeoutMs,
    );
    req.on('error', fail);
    sendWhenConnected(req, policy, body, fail, (address) => (remoteAddress = address));
    req.on('response', (res) => {
      const result: OutboundPostResult = (answered = { status: res.statusCode ?? 0, answerBytes: 0, remoteAddress });
      const done = () => finish({ result });
      res.on('data', (chunk: Buffer) => {
        result.answerBytes += chunk.length;
        if (result.answerBytes >= maxAnswerBytes) done();
      });
      res.on('end', done);
      // the status is known: a body cut short does not change it
      res.on('error', done);
      res.on('close', done);
    });
  });
}

export interface OutboundFetchOptions {
  policy: OutboundPolicy;
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: Uint8Array;
  timeoutMs: number;
  /** largest answer body taken; a longer one fails (TOO_LARGE) */
  maxBodyBytes: number;
  maxHeaderBytes?: number;
}

export interface OutboundFetchResult {
  status: number;
  contentType: string | undefined;
  /** the answer's headers, as node:http gives them (names in lower case) */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  remoteAddress: string;
}

/** An answer body over the size cap of a fetch. */
export class OutboundBodyTooLargeError extends Error {
  constructor(readonly maxBodyBytes: number) {
    super(`the answer is larger than ${maxBodyBytes} bytes`);
    this.name = 'OutboundBodyTooLargeError';
  }
}

/**
 * One request whose answer body is wanted (revocation data: a CRL, an OCSP response), under
 * the same rules as `postWithinPolicy`: the address checked before and after connecting, no
 * redirect followed, one deadline for everything — the whole body included — and at most
 * `maxBodyBytes` of body (more fails with CONNECTION_FAILED caused by
 * OutboundBodyTooLargeError, and the connection is destroyed).
 */
export function fetchWithinPolicy(url: URL, options: OutboundFetchOptions): Promise<OutboundFetchResult> {
  const { policy, timeoutMs, maxBodyBytes } = options;
  const host = hostOf(url);
  return new Promise((resolve, reject) => {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return reject(new OutboundRequestError('TARGET_FORBIDDEN', { cause: new Error(`not an http(s) URL: ${url.protocol}`) }));
    const refused = literalRefused(host, policy);
    if (refused) return reject(refused);
    const body = options.body ? Buffer.from(options.body) : undefined;
    const req = openRequest(url, host, policy, options.method, { ...options.headers, ...(body ? { 'content-length': String(body.length) } : {}) }, options.maxHeaderBytes);
    let settled = false;
    let remoteAddress = '';
    const finish = (outcome: { error: OutboundRequestError } | { result: OutboundFetchResult }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      if ('error' in outcome) reject(outcome.error);
      else resolve(outcome.result);
    };
    const fail = (err: unknown) => finish({ error: outboundError(err) });
    const timer = setTimeout(() => fail(new OutboundRequestError('TIMEOUT', { cause: new Error(`no whole answer within ${timeoutMs} ms`) })), timeoutMs);
    req.on('error', fail);
    sendWhenConnected(req, policy, body, fail, (address) => (remoteAddress = address));
    req.on('response', (res) => {
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBodyBytes) return fail(new OutboundBodyTooLargeError(maxBodyBytes));
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBodyBytes) fail(new OutboundBodyTooLargeError(maxBodyBytes));
        else chunks.push(chunk);
      });
      res.on('end', () => finish({ result: { status: res.statusCode ?? 0, contentType: res.headers['content-type'], headers: res.headers, body: Buffer.concat(chunks), remoteAddress } }));
      res.on('error', fail);
      res.on('close', () => fail(new Error('the connection closed before the whole answer')));
    });
  });
}
