/**
 * The provider adapters' contracts: an SMS gateway and a push gateway. Adapters turn
 * transport outcomes into ProviderError: `permanent` when sending again cannot help (the
 * number is invalid, the credentials are refused, the request is malformed) so the job is
 * not retried; otherwise (timeouts, 5xx, 429, connection refused) the job runner retries
 * with backoff.
 */
import type { GeneralJWE } from 'jose';
import type { SmsEncoding, Ucs2Split } from '../sms/Gsm0338.js';
import { DependencyError } from '../../domain/errors.js';

/** `code`: a stable reason code (see REASONS in NotificationStatus.ts) or the provider's own code. */
export class ProviderError extends DependencyError {
  override readonly name = 'ProviderError';
  /** the provider's rate limit: come back after this long (its Retry-After) */
  readonly retryAfterMs: number | undefined;

  constructor(code: string, message: string, permanent: boolean, options?: { cause?: unknown; retryAfterMs?: number }) {
    super(code, message, permanent, options);
    this.retryAfterMs = options?.retryAfterMs;
  }
}

/** A Retry-After header (seconds or an HTTP date) in milliseconds: 1 s when absent or unreadable, at most 10 minutes. */
export function retryAfterMs(header: string | null): number {
  if (header === null) return 1000;
  const seconds = /^\d+$/.test(header.trim()) ? Number(header.trim()) * 1000 : Date.parse(header) - Date.now();
  return Number.isFinite(seconds) ? Math.min(600_000, Math.max(1000, seconds)) : 1000;
}

/** Where providers send their reports: the service's public base URL (may be learnt after start). */
export type CallbackBase = () => string | undefined;

export interface OutboundSms {
  /** our attempt id: carried in the delivery-report URL or reference */
  reference: string;
  /** E.164 */
  to: string;
  text: string;
  encoding: SmsEncoding;
  parts: number;
  /** the sender ID to show (the sender's own, checked by sms/SenderId.ts); absent: the gateway's default */
  from?: string;
}

export interface SmsAccepted {
  providerRef?: string;
  /** what the gateway answered, for the record */
  detail?: string;
}

export interface SmsGateway {
  readonly name: string;
  /** how the gateway cuts a UCS-2 text at a surrogate pair (sms/Gsm0338.ts); the parts it bills follow it */
  readonly ucs2Split: Ucs2Split;
  send(sms: OutboundSms): Promise<SmsAccepted>;
}

export interface OutboundPush {
  /** our attempt id; the backend deduplicates on it and quotes it in receipts */
  pushId: string;
  /** the notification id, also in the JWE protected header */
  messageId: string;
  title: string;
  language: string;
  devices: Array<{ installationId: string; pushToken: string }>;
  /** the HTML body, encrypted to every device (JWE General JSON Serialization) */
  content: GeneralJWE;
}

export interface PushAccepted {
  providerRef?: string;
  accepted: string[];
  rejected: Array<{ installationId: string; reason: string }>;
}

export interface PushGateway {
  readonly name: string;
  send(push: OutboundPush): Promise<PushAccepted>;
}

/** fetch with a timeout; network failures and timeouts become transient ProviderErrors. */
export async function providerFetch(provider: string, url: string, init: RequestInit, timeoutMs: number): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
    throw new ProviderError('PROVIDER_UNAVAILABLE', `${provider}: ${timedOut ? `no answer within ${timeoutMs} ms` : `cannot connect (${(err as Error).message})`}`, false, { cause: err });
  }
}

/**
 * A provider's answer as the service may keep it (in error messages, and so in logs, job rows
 * and attempt histories): at most 300 characters, with every run of 7 or more digits — a
 * phone number the provider echoed, with or without `+`, spaces, dots or dashes — replaced by
 * `[number]`. Phone numbers are personal data and are never logged.
 */
export function providerText(text: string): string {
  return text.slice(0, 300).replace(/\+?\d(?:[\s./-]?\d){6,}/g, '[number]');
}

/** 408, 425, 429 and 5xx are worth retrying; other 4xx are not. */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}
