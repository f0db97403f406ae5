/**
 * What goes wrong in the simulated e-Box, and when: latency with jitter on every API
 * call, a failure rate on publications, an optional request rate limit, and failures
 * queued by a test for the next publications.
 *
 * A drawn publication failure is one of
 *   - `unavailable`          503 with Retry-After, before anything is read or stored
 *   - `internal-error`       500 after the body was read, nothing stored
 *   - `destroy-after-store`  the publication IS stored, then the connection is destroyed
 *                            in the middle of the answer (the client cannot know whether
 *                            it went through; retrying with the same Idempotency-Key is safe)
 * in proportions 60 / 25 / 15. Draws come from a seeded generator, so a run with the same
 * seed and the same order of requests fails the same way.
 */
import { seededRandom, type Random } from './Prng.js';

export const PUBLICATION_FAULTS = ['unavailable', 'internal-error', 'destroy-after-store'] as const;
export type PublicationFault = (typeof PUBLICATION_FAULTS)[number];

export interface FaultSettings {
  /** fixed delay added to every API call, in ms (default 0) */
  latencyMs: number;
  /** up to this many ms more, drawn uniformly for each call (default 0) */
  jitterMs: number;
  /** probability in [0, 1] that a publication fails (default 0) */
  failureRate: number;
  /** API requests per second accepted before answering 429; null = no limit (default) */
  maxRequestsPerSecond: number | null;
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export class Faults {
  private settings: FaultSettings;
  private readonly failureRandom: Random;
  private readonly latencyRandom: Random;
  private readonly forced: PublicationFault[] = [];
  /** token bucket of the rate limit: tokens left and when it was last refilled */
  private bucket: { tokens: number; at: number } | undefined;
  /** how many of each failure were injected so far */
  readonly injected: Record<PublicationFault, number> = { unavailable: 0, 'internal-error': 0, 'destroy-after-store': 0 };

  constructor(
    settings: Partial<FaultSettings>,
    seed: number,
    private readonly now: () => number,
  ) {
    this.settings = { latencyMs: 0, jitterMs: 0, failureRate: 0, maxRequestsPerSecond: null };
    this.update(settings);
    // two independent streams: changing the latency does not change which requests fail
    this.failureRandom = seededRandom(seed);
    this.latencyRandom = seededRandom(seed ^ 0x5bd1e995);
  }

  get current(): Readonly<FaultSettings> {
    return { ...this.settings };
  }

  /** Changes some settings; throws RangeError on a value out of range. */
  update(settings: Partial<FaultSettings>): void {
    const next = { ...this.settings, ...definedOnly(settings) };
    if (!Number.isFinite(next.latencyMs) || next.latencyMs < 0) throw new RangeError('latencyMs must be a number ≥ 0');
    if (!Number.isFinite(next.jitterMs) || next.jitterMs < 0) throw new RangeError('jitterMs must be a number ≥ 0');
    if (!(next.failureRate >= 0 && next.failureRate <= 1)) throw new RangeError('failureRate must be within [0, 1]');
    if (next.maxRequestsPerSecond !== null && !(next.maxRequestsPerSecond > 0)) {
      throw new RangeError('maxRequestsPerSecond must be > 0');
    }
    if (next.maxRequestsPerSecond !== this.settings.maxRequestsPerSecond) this.bucket = undefined;
    this.settings = next;
  }

  /** The next publications fail this way, before any random draw. */
  failNext(fault: PublicationFault, count = 1): void {
    for (let i = 0; i < count; i++) this.forced.push(fault);
  }

  /** How long to hold the current call, in ms. */
  delayMs(): number {
    const { latencyMs, jitterMs } = this.settings;
    return latencyMs + (jitterMs > 0 ? this.latencyRandom() * jitterMs : 0);
  }

  /** Whether the current publication fails, and how. */
  nextPublicationFault(): PublicationFault | undefined {
    const forced = this.forced.shift();
    const fault = forced ?? this.draw();
    if (fault) this.injected[fault]++;
    return fault;
  }

  /** Token bucket holding up to one second of requests, refilled continuously. */
  takeRequest(): RateDecision {
    const rate = this.settings.maxRequestsPerSecond;
    if (rate === null) return { allowed: true };
    const now = this.now();
    const bucket = this.bucket ?? { tokens: rate, at: now };
    bucket.tokens = Math.min(rate, bucket.tokens + ((now - bucket.at) / 1000) * rate);
    bucket.at = now;
    this.bucket = bucket;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / rate)) };
  }

  private draw(): PublicationFault | undefined {
    if (this.settings.failureRate <= 0) return undefined;
    if (this.failureRandom() >= this.settings.failureRate) return undefined;
    const kind = this.failureRandom();
    return kind < 0.6 ? 'unavailable' : kind < 0.85 ? 'internal-error' : 'destroy-after-store';
  }
}

function definedOnly<T extends object>(o: Partial<T>): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
