/**
 * Revocation data at sealing (CAdES-B-LT, docs/revocation.md): for the sealing and the TSA
 * certificates of a freshly time-stamped proof, the current CRL of each certificate's issuer,
 * fetched from the certificate's cRLDistributionPoints URL (SEAL_REVOCATION=crl), or an OCSP
 * answer from the responder its authorityInfoAccess names (ocsp), checked, and written into the
 * proof with both certification paths (src/crypto/CadesLt.ts).
 *
 * - Fetching goes through an OutboundPolicy (src/net): no address inside the operator's
 *   network unless SEAL_REVOCATION_ALLOW_PRIVATE_TARGETS lists it (the development PKI
 *   publisher on loopback is let through that way). One deadline per request, a size cap on
 *   the answer, no redirect.
 * - A CRL (an OCSP answer) is kept in memory until its nextUpdate and fetched again before:
 *   once less than a tenth of its validity (thisUpdate → nextUpdate, at least a minute) is
 *   left. Proofs sealed at once share one request per URL (and certificate).
 * - Revocation data is used only when it is the issuer's (a CRL or answer signed with the key
 *   that signed the certificate, or an answer of a responder that key authorised,
 *   src/crypto/Revocation.ts, Ocsp.ts) and in force at the time-stamp's genTime (nextUpdate
 *   not before it): EN 319 102-1's freshness rule with its default maximum age.
 * - Nothing usable (the source down, too slow, an answer that does not count, none in force):
 *   RevocationError UNAVAILABLE — the seal job fails and is retried like a TSA outage, nothing
 *   is sealed without its revocation data. A certificate revoked: RevocationError REVOKED — the
 *   service does not seal with a revoked key.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import {
  addLongTermValues,
  certificatePathFrom,
  crlsFor,
  crlStatus,
  crlUrlsOf,
  longTermTargets,
  ocspRequest,
  ocspUrlsOf,
  parseCrl,
  parseOcspResponse,
  revocationStatusFrom,
  subjectOf,
  type CertificateView,
  type CrlView,
  type OcspResponseView,
} from '../crypto/index.js';
import type { OutboundPolicy } from '../net/OutboundPolicy.js';
import { fetchWithinPolicy, OutboundRequestError } from '../net/OutboundRequest.js';

export type RevocationErrorCode = 'UNAVAILABLE' | 'REVOKED' | 'NO_SOURCE';

export class RevocationError extends Error {
  constructor(
    readonly code: RevocationErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RevocationError';
  }
}

export interface FetcherOptions {
  policy: OutboundPolicy;
  timeoutMs: number;
  maxBytes: number;
  now?: () => Date;
  log?: Logger;
}

const MIN_REFRESH_MARGIN_MS = 60_000;

/**
 * Revocation data by key, kept until shortly before its nextUpdate (fetched again once less
 * than a tenth of thisUpdate → nextUpdate, at least a minute, is left); one request per key at
 * a time; a refresh that fails leaves the kept value in use until its nextUpdate.
 */
class RevocationCache<T> {
  private readonly cache = new Map<string, { value: T; refreshAt: number; nextUpdate?: number }>();
  private readonly inFlight = new Map<string, Promise<T>>();

  constructor(
    private readonly now: () => Date,
    private readonly log: Logger | undefined,
    private readonly validity: (value: T) => { thisUpdate: Date; nextUpdate?: Date },
  ) {}

  async get(key: string, fresh: boolean, fetch: () => Promise<T>): Promise<T> {
    const cached = this.cache.get(key);
    if (cached && !fresh && this.now().getTime() < cached.refreshAt) return cached.value;
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = fetch()
        .then((value) => {
          const now = this.now().getTime();
          const { thisUpdate, nextUpdate } = this.validity(value);
          const next = nextUpdate?.getTime() ?? now;
          const margin = Math.max(MIN_REFRESH_MARGIN_MS, (next - thisUpdate.getTime()) / 10);
          this.cache.set(key, { value, refreshAt: Math.max(now, next - margin), ...(nextUpdate ? { nextUpdate: nextUpdate.getTime() } : {}) });
          return value;
        })
        .finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    try {
      return await pending;
    } catch (err) {
      if (cached && (cached.nextUpdate === undefined || this.now().getTime() <= cached.nextUpdate)) {
        this.log?.warn({ source: key, err: (err as Error).message }, 'revocation data refresh failed; the kept data is used until its nextUpdate');
        return cached.value;
      }
      throw err;
    }
  }
}

async function fetchBody(url: string, options: FetcherOptions, request: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: Uint8Array }, what: string): Promise<Buffer> {
  let target: URL;
  try {
    target = new URL(url);
  } catch (err) {
    throw new RevocationError('NO_SOURCE', `not a URL: ${url}`, { cause: err });
  }
  let answer;
  try {
    answer = await fetchWithinPolicy(target, { policy: options.policy, ...request, timeoutMs: options.timeoutMs, maxBodyBytes: options.maxBytes });
  } catch (err) {
    const kind = err instanceof OutboundRequestError ? err.kind : 'CONNECTION_FAILED';
    throw new RevocationError('UNAVAILABLE', `the ${what} at ${url} could not be fetched (${kind})`, { cause: err });
  }
  if (answer.status !== 200) throw new RevocationError('UNAVAILABLE', `the ${what} at ${url} answered HTTP ${answer.status}`);
  return answer.body;
}

/** CRLs by URL, fetched under the outbound policy and kept until shortly before their nextUpdate. */
export class CrlFetcher {
  private readonly cache: RevocationCache<CrlView>;

  constructor(private readonly options: FetcherOptions) {
    this.cache = new RevocationCache(options.now ?? (() => new Date()), options.log, (crl) => crl);
  }

  /** The CRL at `url`: the kept one while it is not due for refreshing (unless `fresh`), else fetched. */
  get(url: string, fresh = false): Promise<CrlView> {
    return this.cache.get(url, fresh, async () => {
      const body = await fetchBody(url, this.options, { method: 'GET', headers: { accept: 'application/pkix-crl' } }, 'CRL');
      try {
        return parseCrl(new Uint8Array(body));
      } catch (err) {
        throw new RevocationError('UNAVAILABLE', `the answer at ${url} is not a DER CRL`, { cause: err });
      }
    });
  }
}

/**
 * OCSP answers (RFC 6960 over HTTP POST, RFC 6960 Appendix A.1) by responder URL and
 * certificate, fetched under the outbound policy and kept until shortly before the answer's
 * nextUpdate. Requests carry no nonce (RFC 5019 §2.1), so an answer may be kept.
 */
export class OcspFetcher {
  private readonly cache: RevocationCache<OcspResponseView>;

  constructor(private readonly options: FetcherOptions) {
    this.cache = new RevocationCache(options.now ?? (() => new Date()), options.log, (r) => {
      const single = r.responses[0];
      return { thisUpdate: single?.thisUpdate ?? r.producedAt ?? new Date(0), ...(single?.nextUpdate ? { nextUpdate: single.nextUpdate } : {}) };
    });
  }

  get(url: string, cert: CertificateView, issuer: CertificateView, fresh = false): Promise<OcspResponseView> {
    const key = `${url} ${cert.serialNumber} ${Buffer.from(issuer.publicKey.subjectPublicKey).toString('base64')}`;
    return this.cache.get(key, fresh, async () => {
      const body = await fetchBody(
        url,
        this.options,
        { method: 'POST', headers: { 'content-type': 'application/ocsp-request', accept: 'application/ocsp-response' }, body: ocspRequest(cert, issuer) },
        'OCSP responder',
      );
      let response: OcspResponseView;
      try {
        response = parseOcspResponse(new Uint8Array(body));
      } catch (err) {
        throw new RevocationError('UNAVAILABLE', `the answer of ${url} is not a DER OCSPResponse`, { cause: err });
      }
      if (response.responseStatus !== 0) throw new RevocationError('UNAVAILABLE', `the OCSP responder at ${url} answered status ${response.responseStatus} (RFC 6960 §4.2.1)`);
      return response;
    });
  }
}

/** What was added to a proof, for the log and the tests. */
export interface LongTermOutcome {
  der: Uint8Array;
  crlCount: number;
  ocspCount: number;
  certificateCount: number;
}

export type RevocationSource = { kind: 'crl'; fetcher: CrlFetcher } | { kind: 'ocsp'; fetcher: OcspFetcher };

/** Distinct certification paths a LongTermSealing keeps (a sealing key and a TSA make two per key pair). */
const MAX_PATHS = 64;

/** Turns a B-T proof into a B-LT one: both certification paths and the revocation data (CRLs or OCSP answers) of the sealing and TSA certificates. */
export class LongTermSealing {
  /**
   * Certification paths already built, by the certificate and the pool they were built from:
   * every proof of one sealing key and one TSA has the same two, so their signatures are
   * checked once, not for each proof.
   */
  private readonly paths = new Map<string, Promise<CertificateView[]>>();
  /** CRL → certificate → whether the CRL is signed by the certificate's issuer (signedByIssuer) */
  private readonly crlSignatures = new WeakMap<CrlView, WeakMap<CertificateView, Promise<boolean>>>();

  constructor(
    private readonly source: RevocationSource | CrlFetcher,
    private readonly crypto?: Crypto,
  ) {}

  private pathOf(cert: CertificateView, pool: readonly Uint8Array[]): Promise<CertificateView[]> {
    const hash = createHash('sha256').update(cert.der);
    for (const der of pool) hash.update(Buffer.from(Uint32Array.of(der.length).buffer)).update(der);
    const key = hash.digest('hex');
    let path = this.paths.get(key);
    if (!path) {
      if (this.paths.size >= MAX_PATHS) this.paths.delete(this.paths.keys().next().value!);
      path = certificatePathFrom(cert, pool, this.crypto);
      path.catch(() => this.paths.delete(key));
      this.paths.set(key, path);
    }
    return path;
  }

  /**
   * Whether `crl` is signed by the issuer of `cert` (Revocation.crlsFor), found once for each
   * CRL as fetched and kept (CrlFetcher) and each certificate of a kept path (pathOf, whose
   * issuers are that path's), not for each proof: every proof of one key uses the same ones.
   */
  private signedByIssuer(cert: CertificateView, issuers: readonly CertificateView[], crl: CrlView): Promise<boolean> {
    let byCertificate = this.crlSignatures.get(crl);
    if (!byCertificate) {
      byCertificate = new WeakMap();
      this.crlSignatures.set(crl, byCertificate);
    }
    let signed = byCertificate.get(cert);
    if (!signed) {
      signed = crlsFor(cert, issuers, [crl], this.crypto).then((usable) => usable.length > 0);
      const kept = byCertificate;
      signed.catch(() => kept.delete(cert));
      byCertificate.set(cert, signed);
    }
    return signed;
  }

  private get kind(): RevocationSource {
    return this.source instanceof CrlFetcher ? { kind: 'crl', fetcher: this.source } : this.source;
  }

  async extend(proof: Uint8Array, extraCertificates: readonly Uint8Array[] = []): Promise<LongTermOutcome> {
    const targets = longTermTargets(proof);
    const pool = [...targets.certificates, ...extraCertificates];
    const sealPath = await this.pathOf(targets.signer, pool);
    const tsaPath = await this.pathOf(targets.tsa, pool);
    const certificates = [...sealPath, ...tsaPath].map((c) => c.der);
    const source = this.kind;
    const crls: CrlView[] = [];
    const responses: OcspResponseView[] = [];
    for (const path of [sealPath, tsaPath]) {
      const cert = path[0]!;
      const issuers = path.slice(1);
      if (source.kind === 'crl') {
        const crl = await this.crlFor(source.fetcher, cert, issuers, targets.genTime);
        if (!crls.includes(crl)) crls.push(crl);
      } else {
        const response = await this.ocspFor(source.fetcher, cert, issuers, targets.genTime);
        if (!responses.includes(response)) responses.push(response);
      }
    }
    const der = addLongTermValues(proof, { certificates, crls: crls.map((c) => c.der), ocspResponses: responses.map((r) => r.der) });
    return { der, crlCount: crls.length, ocspCount: responses.length, certificateCount: new Set(certificates.map((c) => Buffer.from(c).toString('base64'))).size };
  }

  /** The CRL that shows `cert` unrevoked at `genTime`, from its distribution points. */
  private async crlFor(fetcher: CrlFetcher, cert: CertificateView, issuers: readonly CertificateView[], genTime: Date): Promise<CrlView> {
    const urls = crlUrlsOf(cert);
    if (urls.length === 0) throw new RevocationError('NO_SOURCE', `${subjectOf(cert)} names no http CRL distribution point`);
    const problems: string[] = [];
    for (const url of urls) {
      // the kept CRL first; one not usable for this genTime (not in force, not the issuer's) is fetched again once
      for (const fresh of [false, true]) {
        let crl: CrlView;
        try {
          crl = await fetcher.get(url, fresh);
        } catch (err) {
          problems.push((err as Error).message);
          break;
        }
        const status = crlStatus(cert, (await this.signedByIssuer(cert, issuers, crl)) ? [crl] : [], genTime);
        if (status.status === 'good') return crl;
        if (status.status === 'revoked') throw new RevocationError('REVOKED', `${subjectOf(cert)} is ${status.detail}`);
        if (fresh) problems.push(`${url}: ${status.detail}`);
      }
    }
    throw new RevocationError('UNAVAILABLE', `no usable CRL for ${subjectOf(cert)}: ${problems.join('; ')}`);
  }

  /** The OCSP answer that shows `cert` good at `genTime`, from its AIA id-ad-ocsp responders. */
  private async ocspFor(fetcher: OcspFetcher, cert: CertificateView, issuers: readonly CertificateView[], genTime: Date): Promise<OcspResponseView> {
    const urls = ocspUrlsOf(cert);
    const issuer = issuers[0];
    if (urls.length === 0) throw new RevocationError('NO_SOURCE', `${subjectOf(cert)} names no http OCSP responder (authorityInfoAccess id-ad-ocsp)`);
    if (!issuer) throw new RevocationError('NO_SOURCE', `the issuer of ${subjectOf(cert)} is neither in the proof nor in the configured chains`);
    const problems: string[] = [];
    for (const url of urls) {
      for (const fresh of [false, true]) {
        let response: OcspResponseView;
        try {
          response = await fetcher.get(url, cert, issuer, fresh);
        } catch (err) {
          problems.push((err as Error).message);
          break;
        }
        const status = await revocationStatusFrom(cert, issuers, { crls: [], ocsp: [response] }, genTime, this.crypto);
        if (status.status === 'good') return response;
        if (status.status === 'revoked') throw new RevocationError('REVOKED', `${subjectOf(cert)} is ${status.detail}`);
        if (fresh) problems.push(`${url}: ${status.detail}`);
      }
    }
    throw new RevocationError('UNAVAILABLE', `no usable OCSP answer for ${subjectOf(cert)}: ${problems.join('; ')}`);
  }
}
