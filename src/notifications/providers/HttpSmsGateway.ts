/**
 * A generic HTTP SMS aggregator adapter: one JSON POST per message, delivery reports
 * POSTed back signed with a shared secret. Most commercial aggregators fit this shape with
 * little mapping; this is the contract the adapter speaks:
 *
 *   POST {SMS_HTTP_URL}
 *   Authorization: Bearer {SMS_HTTP_TOKEN}            (when configured)
 *   {"reference": "<attempt id>", "to": "+32…", "from": "…", "text": "…",
 *    "encoding": "GSM-7" | "UCS-2", "parts": 2, "callbackUrl": "https://…/v1/callbacks/sms-http"}
 *   → 2xx {"id": "<aggregator id>"}
 *   → 400/404/422 {"code": "INVALID_NUMBER", …}: refused for good (not retried)
 *   → 401/403: credentials refused (not retried); 408/5xx: retried with backoff
 *   → 429 (its rate limit): tried again after Retry-After (default 1 s), not counted as a failed attempt.
 *     Until that time this process holds its other sends back instead of knocking again, and
 *     each is given a point in the following window at random, so that they do not all come
 *     back in the same instant and meet the limit again together.
 *
 *   report: POST callbackUrl, header `Signature: t=…,v1=…` (see CallbackSignature.ts)
 *   {"reference": "<attempt id>", "status": "ACCEPTED" | "DELIVERED" | "FAILED", "reason": "…"}
 *
 *   inbound (a phone answers): POST callbackUrl + "/inbound", signed the same way
 *   {"id": "<aggregator's message id>", "from": "+32…", "to": "<the number or sender ID answered>",
 *    "text": "…", "receivedAt": "<RFC 3339>"}
 */
import type { AttemptEvent } from '../NotificationStatus.js';
import { isTransientStatus, ProviderError, providerFetch, providerText, retryAfterMs, type CallbackBase, type OutboundSms, type SmsAccepted, type SmsGateway } from './Provider.js';

export const HTTP_SMS_CALLBACK_PATH = '/v1/callbacks/sms-http';
export const HTTP_SMS_INBOUND_PATH = '/v1/callbacks/sms-http/inbound';

export interface HttpSmsOptions {
  url: string;
  token?: string;
  from?: string;
  timeoutMs: number;
  callbackBase: CallbackBase;
}

export function httpSmsReportEvent(status: unknown): { event: AttemptEvent; reason?: string } | undefined {
  if (status === 'ACCEPTED') return { event: 'SENT' };
  if (status === 'DELIVERED') return { event: 'DELIVERED' };
  if (status === 'FAILED') return { event: 'FAILED', reason: 'SMS_UNDELIVERABLE' };
  return undefined;
}

export class HttpSmsGateway implements SmsGateway {
  readonly name = 'sms-http';
  /** the request names the parts (`parts`); counted without cutting a character, as the usual segment calculators do */
  readonly ucs2Split = 'whole-characters';

  /** until when (epoch ms) the aggregator asked to be left alone (its last 429) */
  private pausedUntil = 0;

  constructor(
    private readonly options: HttpSmsOptions,
    /** a number in [0, 1): where in the next window a held-back send comes back (tests give their own) */
    private readonly random: () => number = Math.random,
  ) {}

  /** A send held back or refused for the rate limit: back after the pause, at a random point of one more window of its length. */
  private throttled(message: string, pauseMs: number): ProviderError {
    return new ProviderError('PROVIDER_THROTTLED', message, false, { retryAfterMs: Math.ceil(pauseMs + this.random() * pauseMs) });
  }

  async send(sms: OutboundSms): Promise<SmsAccepted> {
    const wait = this.pausedUntil - Date.now();
    if (wait > 0) throw this.throttled('sms-http asked to wait (429): held back', wait);
    const base = this.options.callbackBase();
    const body = {
      reference: sms.reference,
      to: sms.to,
      from: sms.from ?? this.options.from,
      text: sms.text,
      encoding: sms.encoding,
      parts: sms.parts,
      callbackUrl: base ? `${base.replace(/\/+$/, '')}${HTTP_SMS_CALLBACK_PATH}` : undefined,
    };
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    const res = await providerFetch('sms-http', this.options.url, { method: 'POST', headers, body: JSON.stringify(body) }, this.options.timeoutMs);
    const raw = (await res.text().catch(() => '')).slice(0, 500);
    const text = providerText(raw);
    let json: Record<string, unknown> = {};
    try {
      json = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    } catch {
      /* not JSON: keep the text for the message */
    }
    if (res.ok) return { providerRef: typeof json.id === 'string' ? json.id : undefined, detail: String(res.status) };
    const code = typeof json.code === 'string' ? json.code : undefined;
    if (res.status === 429) {
      const pause = retryAfterMs(res.headers.get('retry-after'));
      this.pausedUntil = Math.max(this.pausedUntil, Date.now() + pause);
      throw this.throttled(`sms-http answered 429: ${text}`, pause);
    }
    if (isTransientStatus(res.status)) throw new ProviderError('PROVIDER_UNAVAILABLE', `sms-http answered ${res.status}: ${text}`, false);
    if (res.status === 401 || res.status === 403) throw new ProviderError('PROVIDER_REJECTED', `sms-http refused the credentials (${res.status})`, true);
    throw new ProviderError(code === 'INVALID_NUMBER' ? 'PHONE_NUMBER_INVALID' : 'SMS_REJECTED', `sms-http refused the message (${res.status}${code ? ` ${code}` : ''}): ${text}`, true);
  }
}
