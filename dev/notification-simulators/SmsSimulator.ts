/**
 * A simulator of a commercial SMS aggregator, as its own HTTP server, speaking the contract
 * of providers/HttpSmsGateway.ts: it accepts messages at POST /v1/sms and — like an operator
 * reporting back from the handsets — later POSTs a signed delivery report for each to the
 * callback URL given with the message (or the one it was configured with). For tests and
 * local development; it stores nothing on disk.
 *
 *   POST /v1/sms   Authorization: Bearer <token>    (checked when a token is set)
 *   {"reference", "to": "+32…", "from"?, "text", "encoding": "GSM-7" | "UCS-2", "parts", "callbackUrl"?}
 *   → 202 {"id", "reference", "status": "ACCEPTED", "parts"}
 *   → 400 INVALID_REQUEST (shape), 400 INVALID_NUMBER (not E.164, or listed), 400 INVALID_ENCODING
 *     (GSM-7 claimed for a text outside the GSM 03.38 alphabet), 409 DUPLICATE_REFERENCE (a
 *     known reference with another number or text), 422 REJECTED (refused for good),
 *     401 UNAUTHORIZED, 503 UNAVAILABLE (transient), 429 RATE_LIMITED with Retry-After
 *     (over ratePerSecond)
 *   Deduplication: the key is the Idempotency-Key header when sent, otherwise the reference;
 *   the same message sent again is answered as the first time (Idempotent-Replayed: true) and
 *   is neither sent nor reported twice.
 *
 *   report: POST callbackUrl, header `Signature: t=…,v1=HMAC-SHA256(secret, t + "." + body)`
 *   {"reference", "id", "status": "DELIVERED" | "FAILED", "reason"?: "UNDELIVERABLE" | "EXPIRED",
 *    "to", "at"}, retried three times when the callback does not answer 2xx or 4xx.
 *
 * Behaviour, settable at start or at any time (setOptions / PUT /_sim/options):
 *   latencyMs, jitterMs   delay before answering: latencyMs + up to jitterMs
 *   failure               none | unavailable (503) | fail-first N (503 N times) | hang (never answers)
 *   failureRate           share of requests answered 503 (retried by the service)
 *   rejectRate            share of messages refused for good (422 REJECTED)
 *   invalidNumbers        numbers refused for good (400 INVALID_NUMBER)
 *   deliveryDelayMs       after accepting, the report is sent after this
 *   failedRate, expiredRate  share of accepted messages reported FAILED (UNDELIVERABLE, EXPIRED)
 *   outcomes              per number: DELIVERED | UNDELIVERABLE | EXPIRED | NONE (no report),
 *                         over the rates
 *   ratePerSecond         the aggregator's rate limit (0: none), a token bucket holding
 *                         a second's worth: a POST beyond it is answered 429 RATE_LIMITED,
 *                         Retry-After: 1, and counted in `throttled` (not in refusals)
 *   seed                  makes the random draws reproducible
 *
 * A phone answers (mobile-originated SMS, as an aggregator passes them on):
 *   POST /inbound {"from": "+32…", "text": "STOP", "to"?, "id"?}
 *   → the simulator POSTs, signed like a report, to `inboundUrl` (or the callbackUrl of the
 *     last message it sent to that number, + "/inbound")
 *   {"id": "sim-mo-…", "from", "to": <the sender ID of that last message, or the one given>,
 *    "text", "receivedAt"} and answers 200 {"id", "target", "outcome": <the HTTP status the
 *   service answered>}; the same "id" again is the aggregator calling twice.
 *
 * Inspection: GET /messages[?to=…&reference=…] lists what it "sent" with the reports it made;
 * GET /messages/{id}; GET /inbound lists the answers it passed on. These, POST /inbound and
 * /_sim/options take no token.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { json, parseObject, readBody, SimulatorServer } from './http.js';
import { seededRandom, type Random } from '../ebox-simulator/Prng.js';
import { isGsm7 } from '../../src/notifications/sms/Gsm0338.js';

export const SMS_SIMULATOR_SEND_PATH = '/v1/sms';
export const SMS_SIGNATURE_HEADER = 'Signature';

export type SmsFailureMode = { kind: 'none' } | { kind: 'unavailable' } | { kind: 'fail-first'; count: number } | { kind: 'hang' };
export type SmsOutcome = 'DELIVERED' | 'UNDELIVERABLE' | 'EXPIRED' | 'NONE';

export interface SmsSimulatorOptions {
  callbackSecret: string;
  token?: string;
  /** where reports go when a message names no callbackUrl */
  callbackUrl?: string;
  /** where phones' answers go (default: the callbackUrl of the last message to the number + "/inbound") */
  inboundUrl?: string;
  latencyMs: number;
  jitterMs: number;
  failure: SmsFailureMode;
  failureRate: number;
  rejectRate: number;
  invalidNumbers: string[];
  deliveryDelayMs: number;
  failedRate: number;
  expiredRate: number;
  outcomes: Record<string, SmsOutcome>;
  ratePerSecond: number;
  seed?: number;
}

export interface SimulatedSms {
  /** the aggregator's id */
  id: string;
  reference: string;
  /** what the message was deduplicated on: the Idempotency-Key header, or the reference */
  dedupeKey: string;
  to: string;
  from?: string;
  text: string;
  encoding: 'GSM-7' | 'UCS-2';
  parts: number;
  callbackUrl?: string;
  receivedAt: string;
  /** how many times it was POSTed (repeats are answered the same) */
  posts: number;
  /** what the report will say, drawn at acceptance */
  outcome: SmsOutcome;
  status: 'ACCEPTED' | 'DELIVERED' | 'FAILED';
  reason?: string;
}

export interface SmsReportRecord {
  id: string;
  reference: string;
  status: 'DELIVERED' | 'FAILED';
  reason?: string;
  /** HTTP status the callback answered, or the network error */
  outcome: number | string;
}

export interface SimulatedInbound {
  id: string;
  from: string;
  to: string;
  text: string;
  receivedAt: string;
  target: string;
  /** HTTP status the service answered, or the network error */
  outcome: number | string;
}

export interface SmsRefusal {
  reference?: string;
  to?: string;
  status: number;
  code: string;
}

const DEFAULTS: Omit<SmsSimulatorOptions, 'callbackSecret'> = {
  latencyMs: 0,
  jitterMs: 0,
  failure: { kind: 'none' },
  failureRate: 0,
  rejectRate: 0,
  invalidNumbers: [],
  deliveryDelayMs: 20,
  failedRate: 0,
  expiredRate: 0,
  outcomes: {},
  ratePerSecond: 0,
};

const OUTCOMES: readonly SmsOutcome[] = ['DELIVERED', 'UNDELIVERABLE', 'EXPIRED', 'NONE'];

/** A problem with the options, or undefined when they are usable. */
export function checkSmsSimulatorOptions(o: Partial<SmsSimulatorOptions>): string | undefined {
  for (const k of ['latencyMs', 'jitterMs', 'deliveryDelayMs'] as const) {
    const v = o[k];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0)) return `${k} must be a number of milliseconds ≥ 0`;
  }
  for (const k of ['failureRate', 'rejectRate', 'failedRate', 'expiredRate'] as const) {
    const v = o[k];
    if (v !== undefined && (typeof v !== 'number' || !(v >= 0 && v <= 1))) return `${k} must be between 0 and 1`;
  }
  if ((o.failedRate ?? 0) + (o.expiredRate ?? 0) > 1) return 'failedRate + expiredRate must not exceed 1';
  const f = o.failure;
  if (f !== undefined) {
    if (typeof f !== 'object' || f === null || !['none', 'unavailable', 'fail-first', 'hang'].includes(f.kind)) return 'failure.kind must be none, unavailable, fail-first or hang';
    if (f.kind === 'fail-first' && !(Number.isInteger(f.count) && f.count >= 0)) return 'failure.count must be a whole number';
  }
  if (o.invalidNumbers !== undefined && (!Array.isArray(o.invalidNumbers) || o.invalidNumbers.some((n) => typeof n !== 'string'))) return 'invalidNumbers must be a list of numbers';
  if (o.outcomes !== undefined && (typeof o.outcomes !== 'object' || o.outcomes === null || Object.values(o.outcomes).some((v) => !OUTCOMES.includes(v)))) return `outcomes must map numbers to ${OUTCOMES.join(', ')}`;
  if (o.seed !== undefined && !Number.isInteger(o.seed)) return 'seed must be a whole number';
  if (o.ratePerSecond !== undefined && (typeof o.ratePerSecond !== 'number' || !Number.isFinite(o.ratePerSecond) || o.ratePerSecond < 0)) return 'ratePerSecond must be a number ≥ 0';
  if (o.callbackUrl !== undefined && !isHttpUrl(o.callbackUrl)) return 'callbackUrl must be an http(s) URL';
  if (o.inboundUrl !== undefined && !isHttpUrl(o.inboundUrl)) return 'inboundUrl must be an http(s) URL';
  return undefined;
}

export class SmsSimulator extends SimulatorServer {
  private options: SmsSimulatorOptions;
  private random: Random;
  private failuresLeft = 0;
  private nextId = 1;
  /** accepted messages by deduplication key */
  private readonly byKey = new Map<string, SimulatedSms>();
  readonly reports: SmsReportRecord[] = [];
  readonly refusals: SmsRefusal[] = [];
  /** the phones' answers passed on */
  readonly inbound: SimulatedInbound[] = [];
  private nextInboundId = 1;
  /** every POST /v1/sms, including refused ones */
  calls = 0;
  /** POSTs answered 429 (over ratePerSecond) */
  throttled = 0;
  /** the rate limit's bucket: tokens, and when they were counted */
  private bucket = { tokens: 0, at: 0 };

  constructor(options: Partial<SmsSimulatorOptions> & { callbackSecret: string }) {
    super();
    const problem = checkSmsSimulatorOptions(options);
    if (problem) throw new Error(`SMS simulator: ${problem}`);
    this.options = { ...DEFAULTS, ...options };
    this.random = this.options.seed === undefined ? Math.random : seededRandom(this.options.seed);
    this.resetFailures();
    this.bucket = { tokens: this.options.ratePerSecond, at: Date.now() };
  }

  /** Takes a token of the rate limit's bucket; false when it is empty. */
  private withinRate(): boolean {
    const rate = this.options.ratePerSecond;
    if (rate === 0) return true;
    const now = Date.now();
    this.bucket.tokens = Math.min(rate, this.bucket.tokens + ((now - this.bucket.at) / 1000) * rate);
    this.bucket.at = now;
    if (this.bucket.tokens < 1) return false;
    this.bucket.tokens -= 1;
    return true;
  }

  /** The URL to configure as SMS_HTTP_URL. */
  get sendUrl(): string {
    return `${this.url}${SMS_SIMULATOR_SEND_PATH}`;
  }

  /** Accepted messages, in order of arrival. */
  get messages(): SimulatedSms[] {
    return [...this.byKey.values()];
  }

  setOptions(patch: Partial<SmsSimulatorOptions>): void {
    const problem = checkSmsSimulatorOptions({ ...this.options, ...patch });
    if (problem) throw new Error(`SMS simulator: ${problem}`);
    this.options = { ...this.options, ...patch };
    if (patch.failure) this.resetFailures();
    if (patch.ratePerSecond !== undefined) this.bucket = { tokens: patch.ratePerSecond, at: Date.now() };
    if (patch.seed !== undefined) this.random = seededRandom(patch.seed);
  }

  private resetFailures(): void {
    this.failuresLeft = this.options.failure.kind === 'fail-first' ? this.options.failure.count : 0;
  }

  protected errorBody(err: unknown): unknown {
    return { code: 'INTERNAL', detail: String(err) };
  }


  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    const body = await readBody(req, 64 * 1024);
    if (req.method === 'POST' && url.pathname === SMS_SIMULATOR_SEND_PATH) return this.send(req, res, body);
    if (req.method === 'GET' && url.pathname === '/messages') {
      const to = url.searchParams.get('to');
      const reference = url.searchParams.get('reference');
      const items = this.messages.filter((m) => (to === null || m.to === to) && (reference === null || m.reference === reference));
      const ids = new Set(items.map((m) => m.id));
      return json(res, 200, { items, reports: this.reports.filter((r) => ids.has(r.id)), refusals: this.refusals, calls: this.calls, throttled: this.throttled });
    }
    const one = /^\/messages\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'GET' && one) {
      const id = decodeURIComponent(one[1]!);
      const m = this.messages.find((x) => x.id === id);
      if (!m) return json(res, 404, { code: 'NOT_FOUND' });
      return json(res, 200, { ...m, reports: this.reports.filter((r) => r.id === id) });
    }
    if (req.method === 'POST' && url.pathname === '/inbound') {
      const m = parseObject(body);
      if (!m || typeof m.from !== 'string' || typeof m.text !== 'string' || (m.to !== undefined && typeof m.to !== 'string') || (m.id !== undefined && typeof m.id !== 'string')) {
        return json(res, 400, { code: 'INVALID_REQUEST', detail: 'expected {"from", "text", "to"?, "id"?}' });
      }
      try {
        const sent = await this.answer(m.from, m.text, { to: m.to as string | undefined, id: m.id as string | undefined });
        return json(res, 200, { id: sent.id, target: sent.target, outcome: sent.outcome });
      } catch (err) {
        return json(res, 409, { code: 'NO_TARGET', detail: (err as Error).message });
      }
    }
    if (req.method === 'GET' && url.pathname === '/inbound') return json(res, 200, { items: this.inbound });
    if (req.method === 'PUT' && url.pathname === '/_sim/options') {
      const patch = parseObject(body);
      if (!patch) return json(res, 400, { code: 'INVALID_REQUEST', detail: 'JSON object expected' });
      try {
        this.setOptions(patch as Partial<SmsSimulatorOptions>);
      } catch (err) {
        return json(res, 400, { code: 'INVALID_REQUEST', detail: (err as Error).message });
      }
      return json(res, 204, undefined);
    }
    json(res, 404, { code: 'NOT_FOUND' });
  }

  private refuse(res: ServerResponse, status: number, code: string, m?: { reference?: unknown; to?: unknown }, detail?: string): void {
    this.refusals.push({ reference: typeof m?.reference === 'string' ? m.reference : undefined, to: typeof m?.to === 'string' ? m.to : undefined, status, code });
    json(res, status, detail === undefined ? { code } : { code, detail });
  }

  private async send(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    this.calls++;
    const o = this.options;
    const delay = o.latencyMs + (o.jitterMs > 0 ? Math.floor(this.random() * (o.jitterMs + 1)) : 0);
    if (delay > 0) await new Promise((r) => this.later(delay, () => r(undefined)));
    if (o.token && req.headers.authorization !== `Bearer ${o.token}`) return this.refuse(res, 401, 'UNAUTHORIZED');
    if (!this.withinRate()) {
      this.throttled++;
      return json(res, 429, { code: 'RATE_LIMITED', detail: `at most ${o.ratePerSecond} messages a second` }, { 'retry-after': '1' });
    }
    const failure = o.failure;
    if (failure.kind === 'hang') {
      this.hanging.add(res);
      return;
    }
    if (failure.kind === 'unavailable') return this.refuse(res, 503, 'UNAVAILABLE');
    if (failure.kind === 'fail-first' && this.failuresLeft > 0) {
      this.failuresLeft--;
      return this.refuse(res, 503, 'UNAVAILABLE');
    }
    if (o.failureRate > 0 && this.random() < o.failureRate) return this.refuse(res, 503, 'UNAVAILABLE');
    const m = parseObject(body);
    const problem = checkMessage(m);
    if (problem) return this.refuse(res, 400, 'INVALID_REQUEST', m, problem);
    const msg = m as { reference: string; to: string; from?: string; text: string; encoding: 'GSM-7' | 'UCS-2'; parts: number; callbackUrl?: string };
    const header = req.headers['idempotency-key'];
    const dedupeKey = typeof header === 'string' && header !== '' ? header : msg.reference;
    const existing = this.byKey.get(dedupeKey);
    if (existing) {
      if (existing.to !== msg.to || existing.text !== msg.text) return this.refuse(res, 409, 'DUPLICATE_REFERENCE', msg, `${dedupeKey} was already used for another message`);
      existing.posts++;
      return json(res, 202, accepted(existing), { 'idempotent-replayed': 'true' });
    }
    if (!/^\+[1-9]\d{6,14}$/.test(msg.to) || o.invalidNumbers.includes(msg.to)) return this.refuse(res, 400, 'INVALID_NUMBER', msg, `${msg.to} is not a reachable mobile number`);
    if (msg.encoding === 'GSM-7' && !isGsm7(msg.text)) return this.refuse(res, 400, 'INVALID_ENCODING', msg, 'the text has characters outside the GSM 03.38 alphabet');
    if (o.rejectRate > 0 && this.random() < o.rejectRate) return this.refuse(res, 422, 'REJECTED', msg, 'refused by the operator');
    const sms: SimulatedSms = {
      id: `sim-sms-${String(this.nextId++).padStart(6, '0')}`,
      reference: msg.reference,
      dedupeKey,
      to: msg.to,
      from: msg.from,
      text: msg.text,
      encoding: msg.encoding,
      parts: msg.parts,
      callbackUrl: msg.callbackUrl,
      receivedAt: new Date().toISOString(),
      posts: 1,
      outcome: this.drawOutcome(msg.to),
      status: 'ACCEPTED',
    };
    this.byKey.set(dedupeKey, sms);
    json(res, 202, accepted(sms));
    if (sms.outcome !== 'NONE') this.later(o.deliveryDelayMs, () => void this.report(sms));
  }

  private drawOutcome(to: string): SmsOutcome {
    const fixed = this.options.outcomes[to];
    if (fixed) return fixed;
    const { failedRate, expiredRate } = this.options;
    if (failedRate === 0 && expiredRate === 0) return 'DELIVERED';
    const r = this.random();
    if (r < failedRate) return 'UNDELIVERABLE';
    if (r < failedRate + expiredRate) return 'EXPIRED';
    return 'DELIVERED';
  }

  /**
   * A phone answers: POSTs the signed inbound message, as the aggregator would, to
   * `inboundUrl` or next to the callback URL of the last message sent to `from`.
   */
  async answer(from: string, text: string, opts: { to?: string; id?: string } = {}): Promise<SimulatedInbound> {
    const last = this.messages.filter((m) => m.to === from).pop();
    const callback = last?.callbackUrl ?? this.options.callbackUrl;
    const target = this.options.inboundUrl ?? (callback ? `${callback.replace(/\/+$/, '')}/inbound` : undefined);
    if (!target) throw new Error(`no inboundUrl, and no message with a callback URL was sent to ${from}`);
    const record: SimulatedInbound = {
      id: opts.id ?? `sim-mo-${String(this.nextInboundId++).padStart(6, '0')}`,
      from,
      to: opts.to ?? last?.from ?? 'SIMULATOR',
      text,
      receivedAt: new Date().toISOString(),
      target,
      outcome: 'not sent',
    };
    this.inbound.push(record);
    const body = JSON.stringify({ id: record.id, from: record.from, to: record.to, text: record.text, receivedAt: record.receivedAt });
    await this.postSigned(target, SMS_SIGNATURE_HEADER, this.options.callbackSecret, body, record);
    return record;
  }

  /** Sends the message's delivery report now; resolves with what the callback answered. */
  async report(sms: SimulatedSms): Promise<number | string> {
    const status = sms.outcome === 'DELIVERED' ? 'DELIVERED' : 'FAILED';
    const reason = status === 'FAILED' ? (sms.outcome === 'EXPIRED' ? 'EXPIRED' : 'UNDELIVERABLE') : undefined;
    sms.status = status;
    sms.reason = reason;
    const record: SmsReportRecord = { id: sms.id, reference: sms.reference, status, reason, outcome: 'not sent' };
    this.reports.push(record);
    const target = sms.callbackUrl ?? this.options.callbackUrl;
    if (!target) return (record.outcome = 'no callback URL');
    const body = JSON.stringify({ reference: sms.reference, id: sms.id, status, ...(reason ? { reason } : {}), to: sms.to, at: new Date().toISOString() });
    return this.postSigned(target, SMS_SIGNATURE_HEADER, this.options.callbackSecret, body, record);
  }
}

function accepted(sms: SimulatedSms): Record<string, unknown> {
  return { id: sms.id, reference: sms.reference, status: 'ACCEPTED', parts: sms.parts };
}

function isHttpUrl(raw: unknown): boolean {
  if (typeof raw !== 'string') return false;
  try {
    const u = new URL(raw);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

function checkMessage(m: Record<string, unknown> | undefined): string | undefined {
  if (!m) return 'a JSON object is expected';
  if (typeof m.reference !== 'string' || m.reference === '' || m.reference.length > 200) return 'reference is required (at most 200 characters)';
  if (typeof m.to !== 'string' || m.to === '') return 'to is required';
  if (m.from !== undefined && m.from !== null && (typeof m.from !== 'string' || m.from.length > 16)) return 'from must be a sender id of at most 16 characters';
  if (typeof m.text !== 'string' || m.text === '') return 'text is required';
  if (m.encoding !== 'GSM-7' && m.encoding !== 'UCS-2') return 'encoding must be GSM-7 or UCS-2';
  if (typeof m.parts !== 'number' || !Number.isInteger(m.parts) || m.parts < 1 || m.parts > 255) return 'parts must be a whole number from 1 to 255';
  if (m.callbackUrl !== undefined && m.callbackUrl !== null && !isHttpUrl(m.callbackUrl)) return 'callbackUrl must be an http(s) URL';
  return undefined;
}

