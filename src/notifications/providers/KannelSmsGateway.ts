/**
 * SMS through Kannel (bearerbox + smsbox), the open-source gateway operators put in front
 * of their SMS centres. Checked against Kannel 1.4.5 and its fake SMSC.
 *
 * Sending: GET {sendsms-url}?username&password&from&to&text&charset=UTF-8 (smsbox
 * `sendsms-port`), plus
 *   - `coding=2` for a UCS-2 text: without it Kannel silently replaces every character
 *     outside GSM 03.38 by '?' ("België" → "Belgi?");
 *   - `dlr-mask=31` (delivered, undelivered, buffered, SMSC success, SMSC failure) and a
 *     `dlr-url` carrying OUR attempt id and a token (Kannel's own ids differ per report,
 *     and the SMSC id is empty in the first report), with `%d` for the report's status.
 *     The token expires `dlrTokenLifetimeSeconds` after the send (KANNEL_DLR_TOKEN_LIFETIME_SECONDS,
 *     7 days by default, longer than SMS centres keep trying a message): a report that
 *     comes later is refused like a forged one (CallbackSignature.ts).
 * Answers: 202 "0: Accepted for delivery" or "3: Queued for later delivery" (the SMSC is
 * not connected; still accepted) → SENT. 4xx (bad credentials, missing or refused
 * receiver, missing sender) → permanent; 5xx, timeouts, refused connections → retried.
 *
 * Kannel drops the parts beyond the sendsms-user's `max-messages` silently, still with
 * 202: the SMS channel counts the parts first (as Kannel splits them: a UCS-2 text every
 * 67 code units, a surrogate pair cut if it falls there) and refuses what does not fit, so
 * NOTIFY_SMS_MAX_PARTS must not exceed that `max-messages` (Kannel's default is 1).
 *
 * Delivery reports: one per event, for all parts of a long message together; statuses
 * 1 delivered, 2 undelivered, 4 buffered, 8 accepted by the SMSC, 16 rejected by the SMSC.
 * They may arrive in any order (the fake SMSC sends 8 and 1 a few ms apart, either first);
 * kannelReportEvent maps them and the attempt's state machine ignores what is stale.
 */
import type { AttemptEvent } from '../NotificationStatus.js';
import { staticUrlToken, urlToken, UrlTokenCheck, verifyStaticUrlToken, verifyUrlToken } from '../CallbackSignature.js';
import { ProviderError, providerFetch, providerText, type CallbackBase, type OutboundSms, type SmsAccepted, type SmsGateway } from './Provider.js';

export const KANNEL_DLR_PATH = '/v1/callbacks/kannel';
export const KANNEL_INBOUND_PATH = '/v1/callbacks/kannel/inbound';
const TOKEN_PURPOSE = 'kannel-dlr';
const INBOUND_TOKEN_PURPOSE = 'kannel-inbound';

export interface KannelOptions {
  sendsmsUrl: string;
  username: string;
  password: string;
  /** sender shown to the recipient (alphanumeric up to 11 characters, or a number) */
  from: string;
  /** route to this smsc-id (optional) */
  smsc?: string;
  /** key of the dlr-url tokens */
  dlrSecret: string;
  /** how long a dlr-url token is accepted after the send */
  dlrTokenLifetimeSeconds: number;
  timeoutMs: number;
  callbackBase: CallbackBase;
}

export const KANNEL_DLR = { DELIVERED: 1, UNDELIVERED: 2, BUFFERED: 4, SMSC_ACCEPTED: 8, SMSC_REJECTED: 16 } as const;

/** What a Kannel report status means for the attempt (undefined: nothing to record but the report). */
export function kannelReportEvent(status: number): { event: AttemptEvent; reason?: string } | undefined {
  switch (status) {
    case KANNEL_DLR.DELIVERED:
      return { event: 'DELIVERED' };
    case KANNEL_DLR.SMSC_ACCEPTED:
      return { event: 'SENT' };
    case KANNEL_DLR.UNDELIVERED:
      return { event: 'FAILED', reason: 'SMS_UNDELIVERABLE' };
    case KANNEL_DLR.SMSC_REJECTED:
      return { event: 'FAILED', reason: 'SMS_REJECTED' };
    default:
      return undefined; // 4 buffered: still on its way
  }
}

/** The dlr-url token of an attempt, accepted until the unix second `expiresAt`. */
export function kannelDlrToken(secret: string, attemptId: string, expiresAt: number): string {
  return urlToken(secret, TOKEN_PURPOSE, attemptId, expiresAt);
}

export function verifyKannelDlrToken(secret: string, attemptId: string, token: unknown, nowMs: number = Date.now()): UrlTokenCheck {
  return verifyUrlToken(secret, TOKEN_PURPOSE, attemptId, token, nowMs);
}

/**
 * The token of the sms-service get-url through which Kannel passes the SMS phones send
 * (docs/kannel.md): it does not expire — the operator writes it once into Kannel's
 * configuration — and is derived from KANNEL_DLR_SECRET for this purpose only, so a
 * delivery-report token is no inbound token. Computed by
 *   printf kannel-inbound | openssl dgst -sha256 -hmac "$KANNEL_DLR_SECRET" -binary | head -c 16 | basenc --base64url | tr -d =
 */
export function kannelInboundToken(secret: string): string {
  return staticUrlToken(secret, INBOUND_TOKEN_PURPOSE);
}

export function verifyKannelInboundToken(secret: string, token: unknown): boolean {
  return verifyStaticUrlToken(secret, INBOUND_TOKEN_PURPOSE, token);
}

/**
 * The query of Kannel's sms-service get-url, each value as the bytes Kannel URL-encoded: the
 * text (%b) is the message's bytes, UTF-16BE for a UCS-2 message, which a UTF-8 reading of
 * the query would garble. A name given twice keeps its first value.
 */
export function parseKannelQuery(rawQuery: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const pair of rawQuery.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = percentBytes(eq < 0 ? pair : pair.slice(0, eq)).toString('utf8');
    if (!out.has(name)) out.set(name, percentBytes(eq < 0 ? '' : pair.slice(eq + 1)));
  }
  return out;
}

function percentBytes(s: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '+') out.push(0x20);
    else if (c === '%' && /^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) {
      out.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(...Buffer.from(c, 'utf8'));
  }
  return Buffer.from(out);
}

/**
 * The text of an inbound message from its bytes (%b) and coding (%c): 2 is UCS-2, given as
 * UTF-16BE; 0 (GSM-7) arrives from the SMSC drivers as UTF-8; 1 (8-bit data) is read as
 * Latin-1. Undefined for another coding, or UTF-16 with an odd number of bytes.
 */
export function kannelInboundText(bytes: Buffer, coding: string): string | undefined {
  if (coding === '2') {
    if (bytes.length % 2 !== 0) return undefined;
    return Buffer.from(bytes).swap16().toString('utf16le');
  }
  if (coding === '0' || coding === '') {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      return bytes.toString('latin1');
    }
  }
  if (coding === '1') return bytes.toString('latin1');
  return undefined;
}

export class KannelSmsGateway implements SmsGateway {
  readonly name = 'kannel';
  /** Kannel cuts a UCS-2 text every 134 octets, through a surrogate pair if one is there */
  readonly ucs2Split = 'code-units';

  constructor(private readonly options: KannelOptions) {}

  /** The dlr-url for an attempt (Kannel substitutes %d, %T and %A). */
  dlrUrl(attemptId: string, nowMs: number = Date.now()): string | undefined {
    const base = this.options.callbackBase();
    if (!base) return undefined;
    const expiresAt = Math.floor(nowMs / 1000) + this.options.dlrTokenLifetimeSeconds;
    const q = `attempt=${encodeURIComponent(attemptId)}&token=${kannelDlrToken(this.options.dlrSecret, attemptId, expiresAt)}&status=%d&at=%T&reply=%A`;
    return `${base.replace(/\/+$/, '')}${KANNEL_DLR_PATH}?${q}`;
  }

  async send(sms: OutboundSms): Promise<SmsAccepted> {
    const url = new URL(this.options.sendsmsUrl);
    const p = url.searchParams;
    p.set('username', this.options.username);
    p.set('password', this.options.password);
    p.set('from', sms.from ?? this.options.from);
    p.set('to', sms.to);
    p.set('text', sms.text);
    p.set('charset', 'UTF-8');
    p.set('coding', sms.encoding === 'UCS-2' ? '2' : '0');
    if (this.options.smsc) p.set('smsc', this.options.smsc);
    const dlr = this.dlrUrl(sms.reference);
    if (dlr) {
      p.set('dlr-mask', '31');
      p.set('dlr-url', dlr);
    }
    const res = await providerFetch('kannel', url.toString(), { method: 'GET' }, this.options.timeoutMs);
    const body = providerText((await res.text().catch(() => '')).trim());
    if (res.status === 202 || res.status === 200) {
      // "0: Accepted for delivery" | "3: Queued for later delivery"
      return { detail: body || String(res.status) };
    }
    if (res.status === 403) throw new ProviderError('PROVIDER_REJECTED', `kannel refused the credentials (403): ${body}`, true);
    if (res.status >= 400 && res.status < 500) throw new ProviderError('SMS_REJECTED', `kannel refused the message (${res.status}): ${body}`, true);
    throw new ProviderError('PROVIDER_UNAVAILABLE', `kannel answered ${res.status}: ${body}`, false);
  }
}
