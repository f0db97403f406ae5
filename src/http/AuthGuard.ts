/**
 * Watch on credential guessing. Every refused credential (sender API key or client
 * certificate, e-Box token, admin token, metrics token, provider callback token or
 * signature) is logged at warn level with its realm, the reason and the client address —
 * never the credential — and counted in /metrics. An address that fails `failures` times
 * within `windowSeconds` is refused on every authenticated route for
 * `blockSeconds` with 429 RATE_LIMITED and `Retry-After`, whatever credential it then shows,
 * so that guessing cannot go on at network speed.
 *
 * The count is kept in this process (rate-limiter-flexible's memory store): behind a load
 * balancer each API process counts its own, which bounds a guesser to N times the rate.
 */
import type { Request, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { ServiceError } from '../domain/errors.js';

export type AuthRealm = 'sender' | 'recipient' | 'admin' | 'metrics' | 'callback';

/**
 * Where each realm's routes are mounted behind the guard (src/http/app.ts). The OpenAPI
 * document lists 429 on every operation under these paths (src/http/openapi.ts).
 */
export const GUARDED_PATHS: Readonly<Record<AuthRealm, readonly string[]>> = {
  sender: ['/v1/messages', '/v1/webhook', '/v1/notifications'],
  recipient: ['/v1/ebox'],
  callback: ['/v1/callbacks'],
  admin: ['/v1/admin'],
  metrics: ['/metrics'],
};

/** Whether an OpenAPI path (`/v1/messages/{id}`) lies behind the guard. */
export function isGuarded(path: string): boolean {
  return Object.values(GUARDED_PATHS).some((prefixes) => prefixes.some((p) => path === p || path.startsWith(`${p}/`)));
}

/** Why a credential was refused (for the log and the metric; the client sees only 401). */
export type AuthFailureReason = 'missing' | 'malformed' | 'unknown' | 'revoked' | 'expired' | 'certificate_untrusted' | 'signature';

export interface AuthThrottle {
  /** failures from one address allowed within the window */
  failures: number;
  windowSeconds: number;
  /** how long an address that went over is refused */
  blockSeconds: number;
}

/** The 401 an authentication middleware passes on; the realm and reason go to the log and the metric. */
export function unauthenticated(realm: AuthRealm, reason: AuthFailureReason, detail: string): ServiceError {
  return new ServiceError('UNAUTHENTICATED', detail, { logFields: { realm, reason } });
}

export class AuthGuard {
  private readonly limiter: RateLimiterMemory | undefined;
  private readonly failuresTotal: Counter<'realm' | 'reason'>;
  private readonly throttledTotal: Counter<'realm'>;

  constructor(
    private readonly throttle: AuthThrottle,
    private readonly log: Logger,
    registry: Registry,
  ) {
    this.limiter = throttle.failures > 0 ? new RateLimiterMemory({ keyPrefix: 'auth', points: throttle.failures, duration: throttle.windowSeconds }) : undefined;
    this.failuresTotal = new Counter({
      name: 'registered_mail_auth_failures_total',
      help: 'Refused credentials by realm (sender, recipient, admin, metrics, callback) and reason',
      labelNames: ['realm', 'reason'],
      registers: [registry],
    });
    this.throttledTotal = new Counter({
      name: 'registered_mail_auth_throttled_total',
      help: 'Requests refused with 429 because their address failed authentication too often',
      labelNames: ['realm'],
      registers: [registry],
    });
  }

  /** Refuses, before any credential is looked at, a request from an address that is blocked. */
  gate(realm: AuthRealm): RequestHandler {
    return async (req, _res, next) => {
      if (!this.limiter) return next();
      const state = await this.limiter.get(clientAddress(req));
      if (state && state.consumedPoints >= this.throttle.failures) {
        this.throttledTotal.inc({ realm });
        return next(
          new ServiceError('RATE_LIMITED', 'too many failed authentication attempts from this address; try again later', {
            retryAfterSeconds: Math.max(1, Math.ceil(state.msBeforeNext / 1000)),
          }),
        );
      }
      next();
    };
  }

  /** Logs and counts one refused credential, and charges it to the client's address. */
  async failed(req: Request, realm: AuthRealm, reason: AuthFailureReason): Promise<void> {
    const address = clientAddress(req);
    this.failuresTotal.inc({ realm, reason });
    this.log.warn({ realm, reason, address, method: req.method, path: req.path }, 'authentication failed');
    if (!this.limiter) return;
    let state: RateLimiterRes;
    try {
      state = await this.limiter.consume(address);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      state = err;
    }
    // the failure that reaches the limit blocks the address from now on (gate)
    if (state.consumedPoints === this.throttle.failures) {
      await this.limiter.block(address, this.throttle.blockSeconds);
      this.log.warn({ realm, address, blockSeconds: this.throttle.blockSeconds }, 'address blocked after repeated authentication failures');
    }
  }
}

/** The client's address as express sees it (X-Forwarded-For only through TRUST_PROXY). */
export function clientAddress(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}

/** The realm of a path, for a 401 raised without one (e.g. a provider callback's bad signature). */
export function realmOf(path: string): AuthRealm {
  if (path.startsWith('/v1/ebox')) return 'recipient';
  if (path.startsWith('/v1/admin')) return 'admin';
  if (path.startsWith('/v1/callbacks')) return 'callback';
  if (path === '/metrics') return 'metrics';
  return 'sender';
}
