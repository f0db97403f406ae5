/**
 * A simulator of the GovApp backend, as its own HTTP server, speaking the contract of
 * providers/HttpPushGateway.ts: it accepts pushes, and — like the real app on the
 * citizen's phones — later POSTs signed DELIVERED and READ receipts to the callback URL
 * given with each push. For tests and local development; it stores nothing on disk.
 *
 * Behaviour, settable at start or at any time (setOptions / PUT /_sim/options):
 *   latencyMs         delay before answering a push
 *   failure           none | unavailable (503) | fail-first N (503 N times, then normal) |
 *                     reject (400, for good) | hang (never answers)
 *   unregisteredTokens  devices with these push tokens are rejected (TOKEN_UNREGISTERED)
 *   deliveryDelayMs   after accepting, each device's DELIVERED receipt is sent after this;
 *                     null: only when the phone "comes online" (deliver() or
 *                     POST /_sim/pushes/{id}/deliver) — a push accepted but not delivered
 *   readAfterMs       after delivery, each device's READ receipt after this; null: only
 *                     when the user "opens" it (read() or POST /_sim/pushes/{id}/read)
 *   receiptsBeforeAnswer  the DELIVERED receipts are posted (and answered) before the push's
 *                     own answer, as when a phone online answers faster than the backend's
 *                     reply reaches the sender
 * Receipts are signed `GovApp-Signature: t=…,v1=HMAC-SHA256(secret, t + "." + body)` and
 * retried three times when the callback does not answer 2xx.
 *
 * It checks what it receives as a real backend would: the bearer token, the shape, and
 * that the content is a JWE in General JSON Serialization with one recipient (kid) per
 * device — it cannot decrypt it.
 *
 * Control endpoints: GET /_sim/pushes, POST /_sim/pushes/{pushId}/deliver {"installationId"},
 * POST /_sim/pushes/{pushId}/read {"installationId"}, PUT /_sim/options {…}.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { json, parseObject, readBody, SimulatorServer } from './http.js';
import { GOVAPP_SIGNATURE_HEADER } from '../../src/notifications/providers/HttpPushGateway.js';

export type GovAppFailureMode = { kind: 'none' } | { kind: 'unavailable' } | { kind: 'fail-first'; count: number } | { kind: 'reject' } | { kind: 'hang' };

export interface GovAppSimulatorOptions {
  callbackSecret: string;
  token?: string;
  latencyMs: number;
  failure: GovAppFailureMode;
  unregisteredTokens: string[];
  deliveryDelayMs: number | null;
  readAfterMs: number | null;
  receiptsBeforeAnswer: boolean;
}

export interface SimulatedPush {
  pushId: string;
  messageId: string;
  title: string;
  language: string;
  devices: Array<{ installationId: string; pushToken: string }>;
  content: { protected: string; recipients: Array<{ header?: { kid?: string } }>; [k: string]: unknown };
  callbackUrl?: string;
  receivedAt: string;
  accepted: string[];
  rejected: Array<{ installationId: string; reason: string }>;
  /** how many times this push was POSTed (retries are answered the same) */
  posts: number;
}

export interface ReceiptRecord {
  pushId: string;
  installationId: string;
  event: 'DELIVERED' | 'READ';
  /** HTTP status our callback answered, or the network error */
  outcome: number | string;
}

const DEFAULTS: Omit<GovAppSimulatorOptions, 'callbackSecret'> = {
  latencyMs: 0,
  failure: { kind: 'none' },
  unregisteredTokens: [],
  deliveryDelayMs: 20,
  readAfterMs: null,
  receiptsBeforeAnswer: false,
};

export class GovAppSimulator extends SimulatorServer {
  private options: GovAppSimulatorOptions;
  private failuresLeft = 0;
  readonly pushes = new Map<string, SimulatedPush>();
  readonly receipts: ReceiptRecord[] = [];
  /** every POST /v1/pushes, including refused ones */
  calls = 0;

  constructor(options: Partial<GovAppSimulatorOptions> & { callbackSecret: string }) {
    super();
    this.options = { ...DEFAULTS, ...options };
    this.resetFailures();
  }

  setOptions(patch: Partial<GovAppSimulatorOptions>): void {
    this.options = { ...this.options, ...patch };
    if (patch.failure) this.resetFailures();
  }

  private resetFailures(): void {
    this.failuresLeft = this.options.failure.kind === 'fail-first' ? this.options.failure.count : 0;
  }

  protected errorBody(err: unknown): unknown {
    return { error: String(err) };
  }

  /** The device receives the push now (with deliveryDelayMs null): a DELIVERED receipt; resolves with our callback's status. */
  async deliver(pushId: string, installationId: string): Promise<number | string> {
    const push = this.pushes.get(pushId);
    if (!push || !push.accepted.includes(installationId)) throw new Error(`no accepted push ${pushId} for ${installationId}`);
    return this.delivered(push, installationId);
  }

  /** The user opens the message on a device: a READ receipt is sent now; resolves with our callback's status. */
  async read(pushId: string, installationId: string): Promise<number | string> {
    const push = this.pushes.get(pushId);
    if (!push || !push.accepted.includes(installationId)) throw new Error(`no accepted push ${pushId} for ${installationId}`);
    return this.sendReceipt(push, installationId, 'READ');
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    const body = await readBody(req, 1024 * 1024);
    if (req.method === 'POST' && url.pathname === '/v1/pushes') return this.push(req, res, body);
    if (req.method === 'GET' && url.pathname === '/_sim/pushes') return json(res, 200, { items: [...this.pushes.values()], receipts: this.receipts, calls: this.calls });
    const control = /^\/_sim\/pushes\/([^/]+)\/(read|deliver)$/.exec(url.pathname);
    if (req.method === 'POST' && control) {
      const installationId = String(parseObject(body)?.installationId);
      const pushId = decodeURIComponent(control[1]!);
      try {
        const outcome = control[2] === 'read' ? await this.read(pushId, installationId) : await this.deliver(pushId, installationId);
        return json(res, 200, { outcome });
      } catch (err) {
        return json(res, 404, { error: (err as Error).message });
      }
    }
    if (req.method === 'PUT' && url.pathname === '/_sim/options') {
      const patch = parseObject(body);
      if (!patch) return json(res, 400, { error: 'JSON expected' });
      this.setOptions(patch as Partial<GovAppSimulatorOptions>);
      return json(res, 204, undefined);
    }
    json(res, 404, { error: 'not found' });
  }

  private async push(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    this.calls++;
    if (this.options.latencyMs > 0) await new Promise((r) => this.later(this.options.latencyMs, () => r(undefined)));
    if (this.options.token && req.headers.authorization !== `Bearer ${this.options.token}`) return json(res, 401, { code: 'UNAUTHORIZED' });
    const failure = this.options.failure;
    if (failure.kind === 'hang') {
      this.hanging.add(res);
      return;
    }
    if (failure.kind === 'unavailable') return json(res, 503, { code: 'UNAVAILABLE' });
    if (failure.kind === 'fail-first' && this.failuresLeft > 0) {
      this.failuresLeft--;
      return json(res, 503, { code: 'UNAVAILABLE' });
    }
    if (failure.kind === 'reject') return json(res, 400, { code: 'REJECTED' });
    const p = parseObject(body) as Partial<SimulatedPush> | undefined;
    const problem = checkPush(p);
    if (problem) return json(res, 400, { code: 'INVALID_PUSH', detail: problem });
    const existing = this.pushes.get(p!.pushId!);
    if (existing) {
      existing.posts++;
      return json(res, 202, { pushId: existing.pushId, accepted: existing.accepted, rejected: existing.rejected });
    }
    const push: SimulatedPush = { ...(p as SimulatedPush), receivedAt: new Date().toISOString(), accepted: [], rejected: [], posts: 1 };
    for (const d of push.devices) {
      if (this.options.unregisteredTokens.includes(d.pushToken)) push.rejected.push({ installationId: d.installationId, reason: 'TOKEN_UNREGISTERED' });
      else push.accepted.push(d.installationId);
    }
    this.pushes.set(push.pushId, push);
    if (this.options.receiptsBeforeAnswer) {
      for (const installationId of push.accepted) await this.delivered(push, installationId);
      return json(res, 202, { pushId: push.pushId, accepted: push.accepted, rejected: push.rejected });
    }
    json(res, 202, { pushId: push.pushId, accepted: push.accepted, rejected: push.rejected });
    const delay = this.options.deliveryDelayMs;
    if (delay === null) return;
    for (const installationId of push.accepted) this.later(delay, () => void this.delivered(push, installationId));
  }

  private async delivered(push: SimulatedPush, installationId: string): Promise<number | string> {
    const outcome = await this.sendReceipt(push, installationId, 'DELIVERED');
    if (this.options.readAfterMs !== null) this.later(this.options.readAfterMs, () => void this.sendReceipt(push, installationId, 'READ'));
    return outcome;
  }

  private async sendReceipt(push: SimulatedPush, installationId: string, event: 'DELIVERED' | 'READ'): Promise<number | string> {
    const record: ReceiptRecord = { pushId: push.pushId, installationId, event, outcome: 'not sent' };
    this.receipts.push(record);
    if (!push.callbackUrl) return (record.outcome = 'no callback URL');
    const body = JSON.stringify({ pushId: push.pushId, installationId, event, at: new Date().toISOString() });
    return this.postSigned(push.callbackUrl, GOVAPP_SIGNATURE_HEADER, this.options.callbackSecret, body, record);
  }
}

function checkPush(p: Partial<SimulatedPush> | undefined): string | undefined {
  if (!p || typeof p.pushId !== 'string' || p.pushId === '') return 'pushId is required';
  if (typeof p.messageId !== 'string') return 'messageId is required';
  if (typeof p.title !== 'string' || p.title === '') return 'title is required';
  if (!Array.isArray(p.devices) || p.devices.length === 0) return 'devices are required';
  if (p.devices.some((d) => typeof d?.installationId !== 'string' || typeof d?.pushToken !== 'string')) return 'each device needs installationId and pushToken';
  const c = p.content;
  if (!c || typeof c.protected !== 'string' || !Array.isArray(c.recipients) || typeof c.ciphertext !== 'string') return 'content must be a JWE in General JSON Serialization';
  const kids = new Set(c.recipients.map((r) => r?.header?.kid));
  const missing = p.devices.find((d) => !kids.has(d.installationId));
  if (missing) return `the content is not encrypted to device ${missing.installationId}`;
  return undefined;
}

