/**
 * A simulated remote e-Box, as a real HTTP server (node:http), shaped after the Belgian
 * e-Box publication API (docs/ebox-api.md). For tests, started
 * in-process with `startEboxSimulator`, and for development, as its own process
 * (`tsx dev/ebox-simulator.ts --port 8090`).
 *
 *   POST /oauth2/token                         OAuth2 client credentials (RFC 6749 §4.4),
 *                                              client_secret_post or client_secret_basic
 *   GET  /ebox/v1/recipients/{citizen|enterprise}/{id}   → {activated} | 404
 *   POST /ebox/v1/publications                 multipart: `metadata` + up to 6 file parts,
 *                                              Idempotency-Key required → 201 {publicationId, receiptDate}
 *   GET  /ebox/v1/events?after=&limit=         → {items: [...], next}
 *
 * and, test-only, without authentication:
 *
 *   POST /__admin/recipients      {eboxType, ssin | enterpriseNumber, activated}
 *   POST /__admin/read            {publicationId}: the recipient opens it
 *   GET  /__admin/state           publications (with storedCount), events, counters
 *   POST /__admin/revoke-tokens   every issued token stops working
 *   POST /__admin/fail-next       {fault: unavailable|internal-error|destroy-after-store, count?}
 *   POST /__admin/faults          {latencyMs?, jitterMs?, failureRate?, maxRequestsPerSecond?}
 *
 * Idempotency (after draft-ietf-httpapi-idempotency-key-header): the key is scoped to the
 * client and the sender application; the same key with the same content (metadata and
 * attachment digests) answers the first publication again with 200, a different content
 * 409. The real e-Box answers 409 to every repeat (docs/ebox-api.md); answering the first
 * publication again serves a client that retries after a lost answer.
 */
import { createHash } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import canonicalize from 'canonicalize';
import { isValidInsz, isValidKbo } from '../../src/domain/identifiers.js';
import { Faults, PUBLICATION_FAULTS, type FaultSettings, type PublicationFault } from './Faults.js';
import { sendJson, sendProblem } from './Problem.js';
import { readPublication } from './PublicationIntake.js';
import type { EboxType } from './PublicationMetadata.js';
import {
  decodeEventCursor,
  encodeEventCursor,
  SimulatorState,
  type SimulatorClient,
  type SimulatorRecipient,
} from './SimulatorState.js';

export const SIMULATOR_DEFAULT_CLIENT: SimulatorClient = { clientId: 'ebox-simulator-client', clientSecret: 'ebox-simulator-secret' };
export const SIMULATOR_DEFAULT_SCOPE = 'ebox:publication';

export interface EboxSimulatorOptions {
  /** default 0: any free port */
  port?: number;
  /** default 127.0.0.1 */
  host?: string;
  /** OAuth2 clients; default [SIMULATOR_DEFAULT_CLIENT] */
  clients?: SimulatorClient[];
  /** scopes a client may ask for; default [SIMULATOR_DEFAULT_SCOPE] */
  scopes?: string[];
  /** lifetime of an access token; default 300 */
  tokenTtlSeconds?: number;
  recipients?: SimulatorRecipient[];
  /** added to every API call (not to /__admin); default 0 */
  latencyMs?: number;
  /** up to this much more, drawn per call; default 0 */
  jitterMs?: number;
  /** probability that a publication fails (503, 500, or connection destroyed after storing); default 0 */
  failureRate?: number;
  /** requests per second to /ebox/v1/* before answering 429 with Retry-After; default none */
  maxRequestsPerSecond?: number | null;
  /** seed of the fault and jitter generators; default 1 */
  seed?: number;
  /** per attachment; default 50 MiB */
  maxDocumentBytes?: number;
  /** the simulator's clock in ms (token expiry, rate limit, dates); default Date.now */
  now?: () => number;
  /** called once per finished request (no headers, no bodies: nothing secret) */
  onRequest?: (entry: SimulatorRequestLog) => void;
}

export interface SimulatorRequestLog {
  method: string;
  path: string;
  status: number;
  /** false when the connection was cut before the answer was complete */
  completed: boolean;
  fault?: PublicationFault;
  ms: number;
}

export interface RunningEboxSimulator {
  /** base URL, e.g. http://127.0.0.1:8090 */
  url: string;
  state: SimulatorState;
  close(): Promise<void>;
}

const MAX_METADATA_BYTES = 64 * 1024;
const MAX_SMALL_BODY_BYTES = 64 * 1024;

export async function startEboxSimulator(options: EboxSimulatorOptions = {}): Promise<RunningEboxSimulator> {
  const now = options.now ?? Date.now;
  const faults = new Faults(
    {
      latencyMs: options.latencyMs,
      jitterMs: options.jitterMs,
      failureRate: options.failureRate,
      maxRequestsPerSecond: options.maxRequestsPerSecond,
    },
    options.seed ?? 1,
    now,
  );
  const tokenTtlSeconds = options.tokenTtlSeconds ?? 300;
  if (!(tokenTtlSeconds > 0)) throw new RangeError('tokenTtlSeconds must be > 0');
  const state = new SimulatorState(options.clients ?? [SIMULATOR_DEFAULT_CLIENT], options.recipients ?? [], faults, tokenTtlSeconds, now);
  const ctx: Context = {
    state,
    scopes: options.scopes ?? [SIMULATOR_DEFAULT_SCOPE],
    maxDocumentBytes: options.maxDocumentBytes ?? 50 * 1024 * 1024,
    onRequest: options.onRequest,
  };

  const server = http.createServer((req, res) => {
    const started = Date.now();
    const note: { fault?: PublicationFault } = {};
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    res.on('close', () => {
      ctx.onRequest?.({
        method: req.method ?? '',
        path: (req.url ?? '').split('?')[0] ?? '',
        status: res.statusCode,
        completed: res.writableFinished,
        ...note,
        ms: Date.now() - started,
      });
    });
    handle(req, res, ctx, note).catch(() => {
      req.resume();
      sendProblem(res, 500, 'internal-error', 'the simulator failed');
    });
  });
  server.keepAliveTimeout = 5_000;
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const hostInUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${hostInUrl}:${address.port}`,
    state,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

interface Context {
  state: SimulatorState;
  scopes: string[];
  maxDocumentBytes: number;
  onRequest: EboxSimulatorOptions['onRequest'];
}

async function handle(req: IncomingMessage, res: ServerResponse, ctx: Context, note: { fault?: PublicationFault }): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://simulator.invalid');
  const path = url.pathname;
  const method = req.method ?? 'GET';

  if (path.startsWith('/__admin/')) return admin(req, res, ctx, method, path);

  await sleep(ctx.state.faults.delayMs());

  if (path === '/oauth2/token') {
    if (method !== 'POST') return refuse(req, res, 405, 'method-not-allowed', 'use POST', { Allow: 'POST' });
    return token(req, res, ctx);
  }

  if (!path.startsWith('/ebox/v1/')) return refuse(req, res, 404, 'not-found', `no resource at ${path}`);

  const rate = ctx.state.faults.takeRequest();
  if (!rate.allowed) {
    ctx.state.counters.rateLimited++;
    return refuse(req, res, 429, 'rate-limited', 'request rate limit exceeded', { 'Retry-After': String(rate.retryAfterSeconds) });
  }
  const clientId = authenticate(req, ctx.state);
  if (clientId === undefined) {
    ctx.state.counters.unauthorized++;
    return refuse(req, res, 401, 'unauthorized', 'missing, unknown or expired access token', {
      'WWW-Authenticate': 'Bearer error="invalid_token"',
    });
  }

  const recipientPath = /^\/ebox\/v1\/recipients\/([^/]+)\/([^/]+)$/.exec(path);
  if (recipientPath) {
    if (method !== 'GET') return refuse(req, res, 405, 'method-not-allowed', 'use GET', { Allow: 'GET' });
    return recipientStatus(res, ctx.state, decodeURIComponent(recipientPath[1]!), decodeURIComponent(recipientPath[2]!));
  }
  if (path === '/ebox/v1/publications') {
    if (method !== 'POST') return refuse(req, res, 405, 'method-not-allowed', 'use POST', { Allow: 'POST' });
    return publish(req, res, ctx, clientId, note);
  }
  if (path === '/ebox/v1/events') {
    if (method !== 'GET') return refuse(req, res, 405, 'method-not-allowed', 'use GET', { Allow: 'GET' });
    return events(res, ctx.state, clientId, url.searchParams);
  }
  return refuse(req, res, 404, 'not-found', `no resource at ${path}`);
}

// ── OAuth2 token endpoint (RFC 6749 §4.4, errors per §5.2) ─────────────────

async function token(req: IncomingMessage, res: ServerResponse, ctx: Context): Promise<void> {
  const body = await readSmallBody(req);
  if (body === undefined || !/^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? '')) {
    return sendJson(res, 400, { error: 'invalid_request', error_description: 'expected a form-urlencoded body' }, { 'Cache-Control': 'no-store' });
  }
  const form = new URLSearchParams(body.toString('utf8'));
  let clientId = form.get('client_id') ?? undefined;
  let clientSecret = form.get('client_secret') ?? undefined;
  const basic = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? '');
  if (basic) {
    const pair = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = pair.indexOf(':');
    clientId = colon < 0 ? undefined : decodeFormComponent(pair.slice(0, colon));
    clientSecret = colon < 0 ? undefined : decodeFormComponent(pair.slice(colon + 1));
  }
  if (clientId === undefined || clientSecret === undefined || !ctx.state.clientSecretMatches(clientId, clientSecret)) {
    ctx.state.counters.tokenRequestsRefused++;
    return sendJson(res, 401, { error: 'invalid_client' }, basic ? { 'WWW-Authenticate': 'Basic realm="ebox-simulator"' } : {});
  }
  if (form.get('grant_type') !== 'client_credentials') {
    ctx.state.counters.tokenRequestsRefused++;
    return sendJson(res, 400, { error: 'unsupported_grant_type' });
  }
  const requested = (form.get('scope') ?? ctx.scopes.join(' ')).split(' ').filter(Boolean);
  if (requested.some((s) => !ctx.scopes.includes(s))) {
    ctx.state.counters.tokenRequestsRefused++;
    return sendJson(res, 400, { error: 'invalid_scope' });
  }
  const scope = requested.join(' ');
  const issued = ctx.state.issueToken(clientId, scope);
  sendJson(res, 200, { access_token: issued.accessToken, token_type: 'Bearer', expires_in: issued.expiresIn, scope });
}

function authenticate(req: IncomingMessage, state: SimulatorState): string | undefined {
  const m = /^Bearer\s+([A-Za-z0-9._~+/-]+=*)$/i.exec(req.headers.authorization ?? '');
  return m ? state.tokenOwner(m[1]!) : undefined;
}

// ── Recipients ──────────────────────────────────────────────────────────────

function recipientStatus(res: ServerResponse, state: SimulatorState, type: string, id: string): void {
  if (type !== 'citizen' && type !== 'enterprise') return sendProblem(res, 404, 'not-found', `unknown e-Box type "${type}"`);
  if (!(type === 'citizen' ? isValidInsz(id) : isValidKbo(id))) {
    return sendProblem(res, 400, 'invalid-request', `"${id}" is not a valid ${type === 'citizen' ? 'SSIN' : 'enterprise number'}`);
  }
  const r = state.recipient(type, id);
  if (!r) return sendProblem(res, 404, 'recipient-unknown', `no ${type} e-Box for ${id}`);
  sendJson(res, 200, { activated: r.activated });
}

// ── Publications ────────────────────────────────────────────────────────────

async function publish(req: IncomingMessage, res: ServerResponse, ctx: Context, clientId: string, note: { fault?: PublicationFault }): Promise<void> {
  const { state } = ctx;
  state.counters.publicationRequests++;
  const key = parseIdempotencyKey(req.headers['idempotency-key']);
  if (key === undefined) {
    return refuse(req, res, 400, 'idempotency-key-missing', 'send Idempotency-Key: "<unique key>" (an RFC 8941 string, 1 to 255 characters)');
  }
  if (!/^multipart\/form-data\b/i.test(req.headers['content-type'] ?? '')) {
    return refuse(req, res, 415, 'unsupported-media-type', 'a publication is multipart/form-data');
  }

  const fault = state.faults.nextPublicationFault();
  if (fault) note.fault = fault;
  if (fault === 'unavailable') {
    return refuse(req, res, 503, 'unavailable', 'the e-Box is overloaded, try again later', { 'Retry-After': '1' });
  }

  const intake = await readPublication(req, { maxDocumentBytes: ctx.maxDocumentBytes, maxMetadataBytes: MAX_METADATA_BYTES }, state.now, (n) => {
    state.bytesReceived += n;
  });
  if (!intake.ok) return sendProblem(res, intake.status, intake.type, intake.detail);
  if (fault === 'internal-error') return sendProblem(res, 500, 'internal-error', 'the publication could not be processed');

  // From here to the answer nothing awaits: the idempotency check and the store are atomic.
  const { metadata, parts } = intake;
  const fingerprint = createHash('sha256').update(canonicalize({ metadata, parts })!).digest('hex');
  const existing = state.findByIdempotencyKey(clientId, metadata.senderApplicationId, key);
  if (existing) {
    if (existing.fingerprint !== fingerprint) {
      return sendProblem(res, 409, 'idempotency-key-reused', `Idempotency-Key "${key}" was used for another publication`);
    }
    existing.replays++;
    return answer(res, 200, { publicationId: existing.publicationId, receiptDate: existing.receiptDate }, fault);
  }

  const recipient = state.recipient(metadata.recipient.eboxType, metadata.recipient.id);
  if (!recipient) return sendProblem(res, 404, 'recipient-unknown', `no ${metadata.recipient.eboxType} e-Box for ${metadata.recipient.id}`);
  if (!recipient.activated) {
    return sendProblem(res, 422, 'not-activated', `${metadata.recipient.eboxType} ${metadata.recipient.id} has not activated an e-Box`);
  }

  const stored = state.store({
    idempotencyKey: key,
    clientId,
    senderApplicationId: metadata.senderApplicationId,
    messageTypeId: metadata.messageTypeId,
    recipient: metadata.recipient,
    subject: metadata.subject,
    registeredMail: metadata.registeredMail,
    expirationDate: metadata.expirationDate,
    sender: metadata.sender,
    attachments: metadata.attachments.map((a, i) => ({
      httpPartName: a.httpPartName,
      fileName: parts[i]!.fileName,
      mediaType: a.mediaType ?? parts[i]!.mediaType,
      isMainContent: a.isMainContent,
      size: parts[i]!.size,
      sha256: parts[i]!.sha256,
    })),
    fingerprint,
  });
  answer(res, 201, { publicationId: stored.publicationId, receiptDate: stored.receiptDate }, fault);
}

/** Sends the answer, or — for `destroy-after-store` — half of it, then cuts the connection. */
function answer(res: ServerResponse, status: number, body: unknown, fault: PublicationFault | undefined): void {
  if (fault !== 'destroy-after-store') return sendJson(res, status, body);
  const bytes = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': String(bytes.length) });
  res.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => res.socket?.destroy());
}

/**
 * The Idempotency-Key header: an RFC 8941 sf-string (`"..."`, with `\"` and `\\` escapes),
 * or, leniently, a bare value. Undefined when missing, empty or longer than 255.
 */
export function parseIdempotencyKey(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const raw = header.trim();
  let key: string;
  if (raw.startsWith('"')) {
    const m = /^"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"$/.exec(raw);
    if (!m) return undefined;
    key = m[1]!.replace(/\\(["\\])/g, '$1');
  } else {
    if (!/^[\x21-\x7e]+$/.test(raw)) return undefined;
    key = raw;
  }
  return key.length >= 1 && key.length <= 255 ? key : undefined;
}

// ── Events ──────────────────────────────────────────────────────────────────

function events(res: ServerResponse, state: SimulatorState, clientId: string, query: URLSearchParams): void {
  const after = query.get('after');
  const afterSeq = after === null || after === '' ? 0 : decodeEventCursor(after);
  if (afterSeq === undefined) return sendProblem(res, 400, 'invalid-request', 'unknown cursor in "after"');
  const limitText = query.get('limit') ?? '50';
  const limit = /^\d{1,3}$/.test(limitText) ? Number(limitText) : NaN;
  if (!(limit >= 1 && limit <= 100)) return sendProblem(res, 400, 'invalid-request', '"limit" must be 1 to 100');
  const page = state.eventsAfter(clientId, afterSeq, limit);
  const last = page.at(-1);
  sendJson(res, 200, {
    items: page.map((e) => ({ eventId: e.eventId, type: e.type, publicationId: e.publicationId, idempotencyKey: e.idempotencyKey, occurredAt: e.occurredAt })),
    next: last ? encodeEventCursor(last.seq) : after || null,
  });
}

// ── Test-only administration ────────────────────────────────────────────────

async function admin(req: IncomingMessage, res: ServerResponse, ctx: Context, method: string, path: string): Promise<void> {
  const { state } = ctx;
  if (method === 'GET' && path === '/__admin/state') return sendJson(res, 200, state.snapshot());
  if (method !== 'POST') return refuse(req, res, 405, 'method-not-allowed', 'use POST (or GET /__admin/state)', { Allow: 'POST' });
  const body = await readJsonBody(req);
  if (body === undefined) return sendProblem(res, 400, 'invalid-request', 'expected a JSON object body');

  switch (path) {
    case '/__admin/recipients': {
      const eboxType = body.eboxType;
      const id = eboxType === 'citizen' ? body.ssin : eboxType === 'enterprise' ? body.enterpriseNumber : undefined;
      if ((eboxType !== 'citizen' && eboxType !== 'enterprise') || typeof id !== 'string' || typeof body.activated !== 'boolean') {
        return sendProblem(res, 400, 'invalid-request', 'expected {eboxType: "citizen", ssin} or {eboxType: "enterprise", enterpriseNumber}, and activated: boolean');
      }
      state.registerRecipient({ eboxType: eboxType as EboxType, id, activated: body.activated });
      return sendJson(res, 200, { eboxType, id, activated: body.activated });
    }
    case '/__admin/read': {
      if (typeof body.publicationId !== 'string') return sendProblem(res, 400, 'invalid-request', 'expected {publicationId}');
      const event = state.markRead(body.publicationId);
      if (!event) return sendProblem(res, 404, 'publication-unknown', `no publication ${body.publicationId}`);
      return sendJson(res, 200, { eventId: event.eventId, readAt: event.occurredAt });
    }
    case '/__admin/revoke-tokens':
      return sendJson(res, 200, { revoked: state.revokeTokens() });
    case '/__admin/fail-next': {
      const fault = body.fault;
      const count = body.count ?? 1;
      if (!(PUBLICATION_FAULTS as readonly unknown[]).includes(fault) || !Number.isInteger(count) || (count as number) < 1) {
        return sendProblem(res, 400, 'invalid-request', `expected {fault: ${PUBLICATION_FAULTS.join('|')}, count?: integer ≥ 1}`);
      }
      state.faults.failNext(fault as PublicationFault, count as number);
      return sendJson(res, 200, { queued: count });
    }
    case '/__admin/faults': {
      const update: Partial<FaultSettings> = {};
      for (const k of ['latencyMs', 'jitterMs', 'failureRate'] as const) {
        if (body[k] !== undefined) {
          if (typeof body[k] !== 'number') return sendProblem(res, 400, 'invalid-request', `${k} must be a number`);
          update[k] = body[k];
        }
      }
      if (body.maxRequestsPerSecond !== undefined) {
        if (body.maxRequestsPerSecond !== null && typeof body.maxRequestsPerSecond !== 'number') {
          return sendProblem(res, 400, 'invalid-request', 'maxRequestsPerSecond must be a number or null');
        }
        update.maxRequestsPerSecond = body.maxRequestsPerSecond;
      }
      try {
        state.faults.update(update);
      } catch (err) {
        return sendProblem(res, 400, 'invalid-request', (err as Error).message);
      }
      return sendJson(res, 200, state.faults.current);
    }
    default:
      return sendProblem(res, 404, 'not-found', `no admin resource at ${path}`);
  }
}

// ── Helpers ─────────────────────────────────────────────────────────────────

/** Answers with a problem after reading (and discarding) the body, so the client sees the answer. */
async function refuse(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  type: Parameters<typeof sendProblem>[2],
  detail: string,
  headers: Record<string, string> = {},
): Promise<void> {
  await drain(req);
  sendProblem(res, status, type, detail, headers);
}

function drain(req: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    if (req.readableEnded || req.destroyed) return resolve();
    req.on('end', resolve);
    req.on('close', resolve);
    req.resume();
  });
}

async function readSmallBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= MAX_SMALL_BODY_BYTES) chunks.push(chunk);
  }
  return size <= MAX_SMALL_BODY_BYTES ? Buffer.concat(chunks) : undefined;
}

async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const body = await readSmallBody(req);
  if (body === undefined) return undefined;
  try {
    const json: unknown = JSON.parse(body.length === 0 ? '{}' : body.toString('utf8'));
    return typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** RFC 6749 §2.3.1: client id and secret in Basic are form-urlencoded first. */
function decodeFormComponent(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

function sleep(ms: number): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
