/**
 * Sender callbacks: each status change is POSTed to the sender's webhook URL as JSON,
 * signed with HMAC-SHA256 over `<timestamp>.<body>` with the sender's webhook secret:
 *
 *   Webhook-Signature: t=<unix seconds>,v1=<hex HMAC>
 *
 * A delivery is a job: retried with backoff until its budget is spent, its state visible
 * in the message's `callbacks`.
 *
 * The URL is the sender's choice, so the service must not become a way into the
 * operator's network (docs/webhooks.md): the target is checked against an OutboundPolicy
 * when it is registered and again when each delivery connects (the address actually
 * connected to, so a name that rebinds to a private address between the two is caught).
 * What the sender sees of a failure is its class only (`lastError`: TIMEOUT,
 * TARGET_FORBIDDEN, CONNECTION_FAILED, HTTP_<status>): never the OS's error text, which
 * would tell a closed port from a filtered one. The detail goes to the log.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import { ServiceError } from '../domain/errors.js';
import { OutboundPolicy, TargetForbiddenError, UnresolvedHostError } from '../net/OutboundPolicy.js';
import { OutboundRequestError, postWithinPolicy } from '../net/OutboundRequest.js';
import type { Repositories } from '../store/Repositories.js';
import { PermanentJobError, type JobHandler } from '../worker/JobRunner.js';
import type { JobRecord } from '../store/jobs.js';

export const SIGNATURE_HEADER = 'Webhook-Signature';

/** the length of the senders.webhook_url column */
export const MAX_WEBHOOK_URL_LENGTH = 2000;

export function signWebhook(secret: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

/** Checks a signature header (what a sender's receiver does); `toleranceS` bounds replay. */
export function verifyWebhookSignature(secret: string, header: string, body: string, nowS = Math.floor(Date.now() / 1000), toleranceS = 300): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header.trim());
  if (!m) return false;
  const t = Number(m[1]);
  if (Math.abs(nowS - t) > toleranceS) return false;
  const expected = Buffer.from(signWebhook(secret, t, body).split('v1=')[1]!, 'hex');
  return timingSafeEqual(expected, Buffer.from(m[2]!, 'hex'));
}

/**
 * What a sender may learn of a failed delivery. `WEBHOOK_REMOVED`: the sender removed its
 * webhook before the delivery ran; `INTERNAL`: the service failed outside the exchange.
 */
export type WebhookFailureClass = 'TIMEOUT' | 'TARGET_FORBIDDEN' | 'CONNECTION_FAILED' | `HTTP_${number}` | 'WEBHOOK_REMOVED' | 'INTERNAL';

const FAILURE_NAME = 'WebhookDeliveryError';

/** A failed delivery worth retrying; its message is the class, which is what the job records. */
class WebhookDeliveryError extends Error {
  constructor(failure: WebhookFailureClass, options?: { cause?: unknown }) {
    super(failure, options);
    this.name = FAILURE_NAME;
  }
}

/** A failed delivery that retrying cannot fix: the job dies at once. */
class PermanentWebhookDeliveryError extends PermanentJobError {
  constructor(failure: WebhookFailureClass, options?: { cause?: unknown }) {
    super(failure, options);
    this.name = FAILURE_NAME;
  }
}

const RECORDED = new RegExp(`^${FAILURE_NAME}: (TIMEOUT|TARGET_FORBIDDEN|CONNECTION_FAILED|HTTP_\\d{3}|WEBHOOK_REMOVED)$`);

/**
 * The class of a webhook job's recorded failure (its `last_error`), for the sender's eyes:
 * anything not written by a delivery (a database error, a row from before classes were
 * recorded) is `INTERNAL`, so no free text ever reaches the sender.
 */
export function webhookFailureClass(lastError: string | null): WebhookFailureClass | null {
  if (lastError === null) return null;
  return (RECORDED.exec(lastError)?.[1] as WebhookFailureClass | undefined) ?? 'INTERNAL';
}

export interface WebhookOptions {
  log: Logger;
  /** where deliveries may connect (default: public addresses only, the system resolver) */
  policy?: OutboundPolicy;
  /** the whole exchange: resolution, connection, TLS, request, status; default 10 s */
  timeoutMs?: number;
  /** body bytes of an answer read at most; default 4 KiB */
  maxAnswerBytes?: number;
}

export class WebhookService {
  private readonly log: Logger;
  private readonly policy: OutboundPolicy;
  private readonly timeoutMs: number;
  private readonly maxAnswerBytes: number;

  constructor(
    private readonly store: Repositories,
    options: WebhookOptions,
  ) {
    this.log = options.log;
    this.policy = options.policy ?? new OutboundPolicy();
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.maxAnswerBytes = options.maxAnswerBytes ?? 4096;
  }

  /**
   * Sets (or clears with null) the sender's webhook; returns the new secret, shown once.
   * Any port is allowed: the address is what keeps the service out of the operator's
   * network, and receivers of public bodies listen on 443, 8443 and others.
   */
  async configure(senderId: string, url: string | null): Promise<{ url: string | null; secret: string | null }> {
    if (url !== null) {
      // stored as sent: it must fit its column and hold no control character (PostgreSQL refuses NUL in text)
      if (url.length > MAX_WEBHOOK_URL_LENGTH || /\p{Cc}/u.test(url)) {
        throw new ServiceError('WEBHOOK_INVALID', `url must be at most ${MAX_WEBHOOK_URL_LENGTH} characters, without control characters`);
      }
      let u: URL;
      try {
        u = new URL(url);
      } catch {
        throw new ServiceError('WEBHOOK_INVALID', 'url must be an absolute http(s) URL');
      }
      if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new ServiceError('WEBHOOK_INVALID', 'url must be an absolute http(s) URL');
      if (u.username || u.password) throw new ServiceError('WEBHOOK_INVALID', 'url must not carry credentials');
      try {
        await this.policy.resolveAllowed(u.hostname);
      } catch (err) {
        // one answer for "refused address" and "does not resolve": a difference would tell
        // which names the operator's resolver knows
        if (err instanceof TargetForbiddenError || err instanceof UnresolvedHostError) {
          throw new ServiceError('WEBHOOK_TARGET_FORBIDDEN', 'the webhook host must be a public address, or a name that resolves only to public addresses', { cause: err });
        }
        throw err;
      }
    }
    const secret = url === null ? null : 'whsec_' + randomBytes(24).toString('base64url');
    await this.store.senders.setWebhook(senderId, url, secret);
    return { url, secret };
  }

  handler(): JobHandler<'webhook'> {
    return { run: (job) => this.deliver(job) };
  }

  private async deliver(job: JobRecord<'webhook'>): Promise<void> {
    const { senderId, messageId, status: messageStatus, evidenceId, evidenceType, at } = job.payload;
    const sender = await this.store.senders.findById(senderId);
    if (!sender?.webhookUrl || !sender.webhookSecret) throw new PermanentWebhookDeliveryError('WEBHOOK_REMOVED');
    const body = JSON.stringify({ messageId, status: messageStatus, evidenceId, evidenceType, at, deliveryAttempt: job.attempts });
    const url = new URL(sender.webhookUrl);
    // the log names the target by its origin only: a path or query may carry the receiver's own token
    const where = { jobId: job.id, senderId: sender.id, target: url.origin, attempt: job.attempts };
    let status: number;
    try {
      const answer = await postWithinPolicy(url, {
        policy: this.policy,
        headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signWebhook(sender.webhookSecret, Math.floor(Date.now() / 1000), body), 'user-agent': 'registered-mail-webhook/1' },
        body,
        timeoutMs: this.timeoutMs,
        maxAnswerBytes: this.maxAnswerBytes,
      });
      status = answer.status;
      this.log.debug({ ...where, status, address: answer.remoteAddress, answerBytes: answer.answerBytes }, 'webhook answered');
    } catch (err) {
      if (!(err instanceof OutboundRequestError)) throw err;
      this.log.warn({ ...where, failure: err.kind, reason: describe(err.cause) }, 'webhook delivery failed');
      // A refused target is not retried: a name that now resolves to a private address
      // (DNS rebinding) or a target the allow-list no longer covers will not get better.
      if (err.kind === 'TARGET_FORBIDDEN') throw new PermanentWebhookDeliveryError(err.kind, { cause: err });
      throw new WebhookDeliveryError(err.kind, { cause: err });
    }
    if (status < 200 || status >= 300) {
      this.log.warn({ ...where, failure: `HTTP_${status}` }, 'webhook delivery failed');
      throw new WebhookDeliveryError(`HTTP_${status}`);
    }
  }
}

/** An error's code and message, for the log. */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  const cause = err.cause instanceof Error ? ` (${err.cause.message})` : '';
  return `${err.name}${code ? ` ${code}` : ''}: ${err.message}${cause}`;
}
