/**
 * Revocation data at sealing (CAdES-B-LT, docs/revocation.md): for the sealing and the TSA
 * certificates of a freshly time-stamped proof, the current CRL of each certificate's issuer,
 * fetched from the certificate's cRLDistributionPoints URL, checked, and written into the
 * proof with both certification paths (src/crypto/CadesLt.ts).
 *
 * - Fetching goes through an OutboundPolicy (src/net): no address inside the operator's
 *   network unless SEAL_REVOCATION_ALLOW_PRIVATE_TARGETS lists it (the development PKI
 *   publisher on loopback is let through that way). One deadline per request, a size cap on
 *   the answer, no redirect.
 * - A CRL is kept in memory until its nextUpdate and fetched again before: once less than a
 *   tenth of its validity (thisUpdate → nextUpdate, at least a minute) is left. Proofs sealed at
 *   once share one request per URL.
 * - A CRL is used only when it is the issuer's (its signature verifies with the key that
 *   signed the certificate, src/crypto/Revocation.ts) and in force at the time-stamp's genTime
 *   (nextUpdate not before it): EN 319 102-1's freshness rule with its default maximum age.
 * - Nothing usable (the distribution point down, too slow, an answer that is no CRL of the
 *   issuer, none in force): RevocationError UNAVAILABLE — the seal job fails and is retried
 *   like a TSA outage, nothing is sealed without its revocation data. A certificate the CRL
 *   lists as revoked: RevocationError REVOKED — the service does not seal with a revoked key.
 */
import type { Logger } from 'pino';
import {
  addLongTermValues,
  certificatePathFrom,
  crlUrlsOf,
  longTermTargets,
  parseCrl,
  revocationStatus,
  subjectOf,
  type CertificateView,
  type CrlView,
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

export interface CrlFetcherOptions {
  policy: OutboundPolicy;
  timeoutMs: number;
  maxBytes: number;
  now?: () => Date;
  log?: Logger;
}

interface CachedCrl {
  crl: CrlView;
  /** when to fetch again: before nextUpdate */
  refreshAt: number;
}

const MIN_REFRESH_MARGIN_MS = 60_000;

/** CRLs by URL, fetched under the outbound policy and kept until shortly before their nextUpdate. */
export class CrlFetcher {
  private readonly cache = new Map<string, CachedCrl>();
  private readonly inFlight = new Map<string, Promise<CrlView>>();
  private readonly now: () => Date;

  constructor(private readonly options: CrlFetcherOptions) {
    this.now = options.now ?? (() => new Date());
  }

  /** The CRL at `url`: the cached one while it is not due for refreshing (unless `fresh`), else fetched. */
  async get(url: string, fresh = false): Promise<CrlView> {
    const cached = this.cache.get(url);
    if (cached && !fresh && this.now().getTime() < cached.refreshAt) return cached.crl;
    let pending = this.inFlight.get(url);
    if (!pending) {
      pending = this.fetch(url).finally(() => this.inFlight.delete(url));
      this.inFlight.set(url, pending);
    }
    try {
      return await pending;
    } catch (err) {
      // a refresh that fails leaves the cached CRL usable until its nextUpdate
      if (cached && (!cached.crl.nextUpdate || this.now().getTime() <= cached.crl.nextUpdate.getTime())) {
        this.options.log?.warn({ url, err: (err as Error).message }, 'CRL refresh failed; the cached CRL is used until its nextUpdate');
        return cached.crl;
      }
      throw err;
    }
  }

  private async fetch(url: string): Promise<CrlView> {
    let target: URL;
    try {
      target = new URL(url);
    } catch (err) {
      throw new RevocationError('NO_SOURCE', `not a URL: ${url}`, { cause: err });
    }
    let answer;
    try {
      answer = await fetchWithinPolicy(target, {
        policy: this.options.policy,
        method: 'GET',
        headers: { accept: 'application/pkix-crl' },
        timeoutMs: this.options.timeoutMs,
        maxBodyBytes: this.options.maxBytes,
      });
    } catch (err) {
      const kind = err instanceof OutboundRequestError ? err.kind : 'CONNECTION_FAILED';
      throw new RevocationError('UNAVAILABLE', `the CRL at ${url} could not be fetched (${kind})`, { cause: err });
    }
    if (answer.status !== 200) throw new RevocationError('UNAVAILABLE', `the CRL at ${url} answered HTTP ${answer.status}`);
    let crl: CrlView;
    try {
      crl = parseCrl(new Uint8Array(answer.body));
    } catch (err) {
      throw new RevocationError('UNAVAILABLE', `the answer at ${url} is not a DER CRL`, { cause: err });
    }
    const now = this.now().getTime();
    const next = crl.nextUpdate?.getTime() ?? now;
    const margin = Math.max(MIN_REFRESH_MARGIN_MS, (next - crl.thisUpdate.getTime()) / 10);
    this.cache.set(url, { crl, refreshAt: Math.max(now, next - margin) });
    return crl;
  }
}

/** What was added to a proof, for the log and the tests. */
export interface LongTermOutcome {
  der: Uint8Array;
  crlCount: number;
  certificateCount: number;
}

/** Turns a B-T proof into a B-LT one: both certification paths and the CRLs of the sealing and TSA certificates. */
export class LongTermSealing {
  constructor(
    private readonly fetcher: CrlFetcher,
    private readonly crypto?: Crypto,
  ) {}

  async extend(proof: Uint8Array, extraCertificates: readonly Uint8Array[] = []): Promise<LongTermOutcome> {
    const targets = longTermTargets(proof);
    const pool = [...targets.certificates, ...extraCertificates];
    const sealPath = await certificatePathFrom(targets.signer, pool, this.crypto);
    const tsaPath = await certificatePathFrom(targets.tsa, pool, this.crypto);
    const issuers = [...sealPath.slice(1), ...tsaPath.slice(1)];
    const crls: CrlView[] = [];
    for (const cert of [targets.signer, targets.tsa]) {
      const crl = await this.crlFor(cert, issuers, targets.genTime);
      if (!crls.includes(crl)) crls.push(crl);
    }
    const certificates = [...sealPath, ...tsaPath].map((c) => c.der);
    const der = addLongTermValues(proof, { certificates, crls: crls.map((c) => c.der) });
    return { der, crlCount: crls.length, certificateCount: new Set(certificates.map((c) => Buffer.from(c).toString('base64'))).size };
  }

  /** The CRL that shows `cert` unrevoked at `genTime`, from its distribution points. */
  private async crlFor(cert: CertificateView, issuers: readonly CertificateView[], genTime: Date): Promise<CrlView> {
    const urls = crlUrlsOf(cert);
    if (urls.length === 0) throw new RevocationError('NO_SOURCE', `${subjectOf(cert)} names no http CRL distribution point`);
    const problems: string[] = [];
    for (const url of urls) {
      // the cached CRL first; one not usable for this genTime (not in force, not the issuer's) is fetched again once
      for (const fresh of [false, true]) {
        let crl: CrlView;
        try {
          crl = await this.fetcher.get(url, fresh);
        } catch (err) {
          problems.push((err as Error).message);
          break;
        }
        const status = await revocationStatus(cert, issuers, [crl], genTime, this.crypto);
        if (status.status === 'good') return crl;
        if (status.status === 'revoked') throw new RevocationError('REVOKED', `${subjectOf(cert)} is ${status.detail}`);
        if (fresh) problems.push(`${url}: ${status.detail}`);
      }
    }
    throw new RevocationError('UNAVAILABLE', `no usable CRL for ${subjectOf(cert)}: ${problems.join('; ')}`);
  }
}
