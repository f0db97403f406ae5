/**
 * Sender callbacks: each status change is POSTed to the sender's webhook URL as JSON,
 * signed with HMAC-SHA256 over `<timestamp>.<body>` with the sender's webhook secret:
 *
 *   Webhook-Signature: t=<unix seconds>,v1=<hex HMAC>
 *
 * A delivery is a job: retried with backoff until its budget is spent, its state visible
 * in the message's `callbacks`.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ServiceError } from '../domain/errors.js';
import type { JobRecord } from '../store/JobRepository.js';
import type { Store } from '../store/Store.js';
import { PermanentJobError, type JobHandler } from '../worker/JobRunner.js';

export const SIGNATURE_HEADER = 'Webhook-Signature';

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

export class WebhookService {
  constructor(
    private readonly store: Store,
    private readonly timeoutMs = 10_000,
  ) {}

  /** Sets (or clears with null) the sender's webhook; returns the new secret, shown once. */
  async configure(senderId: string, url: string | null): Promise<{ url: string | null; secret: string | null }> {
    if (url !== null) {
      let u: URL;
      try {
        u = new URL(url);
      } catch {
        throw new ServiceError('WEBHOOK_INVALID', 'url must be an absolute http(s) URL');
      }
      if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new ServiceError('WEBHOOK_INVALID', 'url must be an absolute http(s) URL');
      if (u.username || u.password) throw new ServiceError('WEBHOOK_INVALID', 'url must not carry credentials');
    }
    const secret = url === null ? null : 'whsec_' + randomBytes(24).toString('base64url');
    await this.store.senders.setWebhook(senderId, url, secret);
    return { url, secret };
  }

  handler(): JobHandler {
    return { run: (job) => this.deliver(job) };
  }

  private async deliver(job: JobRecord): Promise<void> {
    const sender = await this.store.senders.findById(String(job.payload.senderId));
    if (!sender?.webhookUrl || !sender.webhookSecret) throw new PermanentJobError('the sender has no webhook any more');
    const body = JSON.stringify({
      messageId: job.payload.messageId,
      status: job.payload.status,
      evidenceId: job.payload.evidenceId,
      evidenceType: job.payload.evidenceType,
      at: job.payload.at,
      deliveryAttempt: job.attempts,
    });
    const res = await fetch(sender.webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signWebhook(sender.webhookSecret, Math.floor(Date.now() / 1000), body), 'user-agent': 'registered-mail-webhook/1' },
      body,
      signal: AbortSignal.timeout(this.timeoutMs),
      redirect: 'manual',
    });
    await res.arrayBuffer().catch(() => undefined);
    if (res.status < 200 || res.status >= 300) throw new Error(`webhook answered ${res.status}`);
  }
}
