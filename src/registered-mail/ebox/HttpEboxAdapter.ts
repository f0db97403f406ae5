/**
 * The e-Box adapter for a remote e-Box shaped after the Belgian e-Box publication API
 * (docs/ebox-api.md; dev/ebox-simulator is a server of that shape).
 *
 *   token        POST {baseUrl}/oauth2/token          OAuth2 client credentials, RFC 6749 §4.4
 *                                                     (client_secret_post); cached, refreshed
 *                                                     before it expires and once on a 401
 *   recipient    GET  {baseUrl}/ebox/v1/recipients/{citizen|enterprise}/{id}   → {activated}
 *   publication  POST {baseUrl}/ebox/v1/publications  multipart/form-data (RFC 7578), streamed:
 *                                                     `metadata` JSON, then one file part per
 *                                                     document; `Idempotency-Key: "<depositId>"`
 *                                                     (an RFC 8941 sf-string)
 *   events       GET  {baseUrl}/ebox/v1/events?after=&limit=   → {items, next}
 *
 * Documents are never held in memory whole: each one is opened when the request body
 * reaches it, counted and hashed as it goes out, and the upload is abandoned (the e-Box
 * never sees a complete body) if the bytes differ from the announced size or SHA-256.
 * The metadata also carries each document's digest, so the e-Box refuses what was
 * corrupted on the way.
 *
 * Errors are EboxError with the codes of EboxAdapter.ts. The client secret and the access
 * tokens are kept in private fields and never appear in an error message.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { normaliseIdentifier, type Recipient } from '../../domain/identifiers.js';
import {
  EboxError,
  type DepositReceipt,
  type EboxAdapter,
  type EboxDeposit,
  type EboxDocument,
  type HandoverEvent,
  type RecipientStatus,
} from './EboxAdapter.js';

export interface HttpEboxAdapterOptions {
  /** e.g. https://ebox.example.be (no trailing path needed) */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  /** OAuth2 scope to ask for; none = the client's default scopes */
  scope?: string;
  /** agreed at onboarding */
  messageTypeId: string;
  /** agreed at onboarding */
  senderApplicationId: string;
  /** per HTTP exchange, upload and answer included */
  timeoutMs: number;
  /** default: the global fetch */
  fetch?: typeof fetch;
  /** clock in ms for the token's lifetime; default Date.now */
  now?: () => number;
  /** refresh the token this long before it expires (at most half its lifetime); default 30 000 */
  tokenRefreshMarginMs?: number;
  /** events asked per page; default 100 */
  eventPageSize?: number;
  /** pages read per handovers() call; default 10 */
  maxEventPages?: number;
}

/** The e-Box takes at most this many documents per publication. */
export const MAX_DOCUMENTS = 6;
/** Lifetime assumed when the token answer has no `expires_in`. */
const DEFAULT_TOKEN_LIFETIME_S = 60;
/** Answers are small JSON; anything larger is not what we asked for. */
const MAX_ANSWER_BYTES = 1024 * 1024;
const ACCEPT_JSON = 'application/json, application/problem+json';

type FetchInit = RequestInit & { duplex?: 'half' };

interface AccessToken {
  value: string;
  /** when to get a new one (ms, on the adapter's clock) */
  refreshAt: number;
}

interface Answer {
  status: number;
  headers: Headers;
  /** parsed body when it was JSON */
  json: unknown;
  /** the body was application/problem+json (RFC 9457) */
  isProblem: boolean;
}

export class HttpEboxAdapter implements EboxAdapter {
  readonly name = 'ebox-http';

  readonly #baseUrl: string;
  readonly #clientId: string;
  readonly #clientSecret: string;
  readonly #scope: string | undefined;
  readonly #messageTypeId: string;
  readonly #senderApplicationId: string;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;
  readonly #now: () => number;
  readonly #refreshMarginMs: number;
  readonly #eventPageSize: number;
  readonly #maxEventPages: number;
  #token: AccessToken | undefined;
  #tokenRequest: Promise<AccessToken> | undefined;

  constructor(options: HttpEboxAdapterOptions) {
    const base = new URL(options.baseUrl);
    if (base.protocol !== 'https:' && base.protocol !== 'http:') throw new TypeError('baseUrl must be an http(s) URL');
    this.#baseUrl = base.href.replace(/\/+$/, '');
    this.#clientId = options.clientId;
    this.#clientSecret = options.clientSecret;
    this.#scope = options.scope;
    this.#messageTypeId = options.messageTypeId;
    this.#senderApplicationId = options.senderApplicationId;
    if (!(options.timeoutMs > 0)) throw new RangeError('timeoutMs must be > 0');
    this.#timeoutMs = options.timeoutMs;
    this.#fetch = options.fetch ?? fetch;
    this.#now = options.now ?? Date.now;
    this.#refreshMarginMs = options.tokenRefreshMarginMs ?? 30_000;
    this.#eventPageSize = options.eventPageSize ?? 100;
    this.#maxEventPages = options.maxEventPages ?? 10;
    if (!(this.#eventPageSize >= 1 && this.#maxEventPages >= 1)) throw new RangeError('eventPageSize and maxEventPages must be ≥ 1');
  }

  async recipientStatus(recipient: Recipient): Promise<RecipientStatus> {
    const what = `recipient status of ${recipient.type} ${recipient.id}`;
    const id = encodeURIComponent(normaliseIdentifier(recipient.id));
    const answer = await this.#authorizedGet(what, `/ebox/v1/recipients/${recipient.type}/${id}`);
    if (answer.status === 200) {
      const activated = isObject(answer.json) ? answer.json.activated : undefined;
      if (typeof activated !== 'boolean') throw new EboxError('EBOX_UNAVAILABLE', `${what}: the e-Box answered without "activated"`, false);
      return activated ? { reachable: true } : { reachable: false, reason: 'EBOX_NOT_ACTIVATED' };
    }
    if (answer.status === 404 && answer.isProblem) return { reachable: false, reason: 'RECIPIENT_UNKNOWN' };
    throw unexpectedAnswer(what, answer);
  }

  async deposit(deposit: EboxDeposit): Promise<DepositReceipt> {
    const what = `deposit ${deposit.depositId}`;
    const { documents } = deposit;
    if (documents.length < 1 || documents.length > MAX_DOCUMENTS) {
      throw new EboxError('EBOX_REJECTED', `${what}: the e-Box takes 1 to ${MAX_DOCUMENTS} documents, not ${documents.length}`, true);
    }
    if (documents.filter((d) => d.isMain).length !== 1) {
      throw new EboxError('EBOX_REJECTED', `${what}: exactly one document must be the main content`, true);
    }
    let idempotencyKey: string;
    let body: MultipartBody;
    try {
      idempotencyKey = sfString(deposit.depositId);
      const names = httpPartNames(documents);
      const metadata = publicationMetadata(deposit, names, this.#messageTypeId, this.#senderApplicationId);
      body = new MultipartBody([
        { kind: 'field', name: 'metadata', contentType: 'application/json; charset=utf-8', value: JSON.stringify(metadata) },
        ...documents.map(
          (d, i): MultipartFile => ({
            kind: 'file',
            name: names[i]!,
            fileName: d.fileName,
            contentType: d.mediaType,
            size: d.size,
            sha256: d.sha256,
            open: () => d.open(),
          }),
        ),
      ]);
    } catch (err) {
      throw new EboxError('EBOX_REJECTED', `${what}: cannot be expressed as an e-Box publication: ${(err as Error).message}`, true, { cause: err });
    }

    // The token comes first: if it cannot be had, no document is opened.
    const { token, fresh } = await this.#accessToken();
    const answer = await this.#exchange(
      what,
      `${this.#baseUrl}/ebox/v1/publications`,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token.value}`,
          accept: ACCEPT_JSON,
          'content-type': body.contentType,
          'content-length': String(body.length),
          'idempotency-key': idempotencyKey,
        },
        body: body.stream,
        duplex: 'half',
      },
      body,
    );

    switch (answer.status) {
      case 200:
      case 201:
        return readReceipt(what, answer);
      case 401:
        // Documents are opened at most once per deposit attempt, so the upload is not
        // repeated here. A token is obtained now — bad credentials show up as
        // EBOX_AUTH_FAILED at once — and the next attempt uses it.
        this.#invalidate(token);
        if (fresh) throw new EboxError('EBOX_AUTH_FAILED', `${what}: the e-Box refused a freshly obtained access token`, false);
        await this.#accessToken();
        throw new EboxError('EBOX_UNAVAILABLE', `${what}: the e-Box refused the access token before its expiry; a new one was obtained, retry`, false);
      case 404:
        if (answer.isProblem) throw new EboxError('RECIPIENT_UNREACHABLE', `${what}: ${problemText(answer)}`, true);
        break;
      case 409:
        throw new EboxError('EBOX_REJECTED', `${what}: the Idempotency-Key was already used for different content (${problemText(answer)})`, true);
      case 422:
        if (problemType(answer)?.endsWith('/not-activated')) throw new EboxError('RECIPIENT_UNREACHABLE', `${what}: ${problemText(answer)}`, true);
        break;
    }
    throw unexpectedAnswer(what, answer);
  }

  async handovers(cursor: string | undefined): Promise<{ events: HandoverEvent[]; cursor: string | undefined }> {
    const events: HandoverEvent[] = [];
    let current = cursor;
    for (let page = 0; page < this.#maxEventPages; page++) {
      const query = new URLSearchParams({ limit: String(this.#eventPageSize) });
      if (current !== undefined) query.set('after', current);
      const answer = await this.#authorizedGet('events', `/ebox/v1/events?${query}`);
      if (answer.status !== 200) throw unexpectedAnswer('events', answer);
      const read = readEventsPage(answer.json);
      events.push(...read.events);
      const advanced = read.next !== undefined && read.next !== current;
      if (advanced) current = read.next;
      if (!advanced || read.itemCount < this.#eventPageSize) break;
    }
    return { events, cursor: current };
  }

  // ── OAuth2 ────────────────────────────────────────────────────────────────

  /** The cached token, or a new one (`fresh`) when there is none or it is about to expire. */
  async #accessToken(): Promise<{ token: AccessToken; fresh: boolean }> {
    const cached = this.#token;
    if (cached && this.#now() < cached.refreshAt) return { token: cached, fresh: false };
    // one request for all callers waiting at the same time
    this.#tokenRequest ??= this.#requestToken().finally(() => {
      this.#tokenRequest = undefined;
    });
    return { token: await this.#tokenRequest, fresh: true };
  }

  #invalidate(token: AccessToken): void {
    if (this.#token === token) this.#token = undefined;
  }

  async #requestToken(): Promise<AccessToken> {
    const what = 'access token';
    const requestedAt = this.#now();
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: this.#clientId, client_secret: this.#clientSecret });
    if (this.#scope) form.set('scope', this.#scope);
    const answer = await this.#exchange(what, `${this.#baseUrl}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
    });
    const json = isObject(answer.json) ? answer.json : {};
    if (answer.status === 200) {
      const { access_token: value, token_type: type, expires_in: expiresIn } = json;
      if (typeof value !== 'string' || value === '' || typeof type !== 'string' || type.toLowerCase() !== 'bearer') {
        throw new EboxError('EBOX_UNAVAILABLE', `${what}: the token endpoint answered without a bearer access_token`, false);
      }
      const lifetimeMs = (typeof expiresIn === 'number' && expiresIn > 0 ? expiresIn : DEFAULT_TOKEN_LIFETIME_S) * 1000;
      const token = { value, refreshAt: requestedAt + lifetimeMs - Math.min(this.#refreshMarginMs, lifetimeMs / 2) };
      this.#token = token;
      return token;
    }
    // RFC 6749 §5.2: 400 or 401 with {"error": ...}
    if (answer.status === 400 || answer.status === 401 || answer.status === 403) {
      const error = typeof json.error === 'string' ? json.error : `HTTP ${answer.status}`;
      throw new EboxError('EBOX_AUTH_FAILED', `${what}: the token endpoint refused the client credentials (${error})`, false);
    }
    throw unexpectedAnswer(what, answer);
  }

  /** GET with the bearer token; on a 401 the token is renewed and the request made once more. */
  async #authorizedGet(what: string, path: string): Promise<Answer> {
    for (let attempt = 1; ; attempt++) {
      const { token } = await this.#accessToken();
      const answer = await this.#exchange(what, `${this.#baseUrl}${path}`, {
        method: 'GET',
        headers: { authorization: `Bearer ${token.value}`, accept: ACCEPT_JSON },
      });
      if (answer.status !== 401) return answer;
      this.#invalidate(token);
      if (attempt >= 2) throw new EboxError('EBOX_AUTH_FAILED', `${what}: the e-Box refused a freshly obtained access token`, false);
    }
  }

  // ── HTTP ──────────────────────────────────────────────────────────────────

  /** One request and its whole (small) answer within `timeoutMs`; transport failures become EBOX_UNAVAILABLE. */
  async #exchange(what: string, url: string, init: FetchInit, upload?: MultipartBody): Promise<Answer> {
    const signal = AbortSignal.timeout(this.#timeoutMs);
    let answer: Answer | undefined;
    let failure: unknown;
    try {
      const res = await this.#fetch(url, { ...init, signal, redirect: 'error' });
      const text = await readSmallBody(res);
      const contentType = res.headers.get('content-type') ?? '';
      let json: unknown;
      if (/^application\/([\w.+-]+\+)?json\b/i.test(contentType)) {
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
      }
      answer = { status: res.status, headers: res.headers, json, isProblem: /^application\/problem\+json\b/i.test(contentType) };
    } catch (err) {
      failure = err;
    } finally {
      upload?.dispose();
    }
    const integrity = upload?.failure;
    if (integrity instanceof DocumentIntegrityError) {
      throw new EboxError('EBOX_REJECTED', `${what}: ${integrity.message}; the upload was abandoned`, true, { cause: integrity });
    }
    if (answer) return answer;
    if (signal.aborted) throw new EboxError('EBOX_UNAVAILABLE', `${what}: no complete answer within ${this.#timeoutMs} ms`, false, { cause: failure });
    throw new EboxError('EBOX_UNAVAILABLE', `${what}: ${describeTransportError(failure)}`, false, { cause: failure });
  }
}

// ── Publication metadata (the `metadata` part) ──────────────────────────────

/**
 * The `metadata` part of a publication:
 *
 *   { recipient: {eboxType: "citizen", ssin} | {eboxType: "enterprise", enterpriseNumber},
 *     subject: {nl?, fr?, de?, en?}, messageTypeId, senderApplicationId,
 *     registeredMail, expirationDate (ISO 8601), sender: {id, name},
 *     attachments: [{httpPartName, isMainContent, mediaType, digest: {algorithm: "SHA-256", value}}] }
 *
 * Everything in it must be the same on every attempt of a deposit: the e-Box compares
 * it (with the documents' digests) to tell a retry from a different publication.
 */
export interface PublicationMetadata {
  recipient: { eboxType: 'citizen'; ssin: string } | { eboxType: 'enterprise'; enterpriseNumber: string };
  subject: Partial<Record<'nl' | 'fr' | 'de' | 'en', string>>;
  messageTypeId: string;
  senderApplicationId: string;
  registeredMail: boolean;
  expirationDate: string;
  sender: { id: string; name: string };
  attachments: Array<{
    httpPartName: string;
    isMainContent: boolean;
    mediaType: string;
    digest: { algorithm: 'SHA-256'; value: string };
  }>;
}

export function publicationMetadata(
  deposit: EboxDeposit,
  partNames: string[],
  messageTypeId: string,
  senderApplicationId: string,
): PublicationMetadata {
  const id = normaliseIdentifier(deposit.recipient.id);
  const subject: PublicationMetadata['subject'] = {};
  for (const [lang, text] of Object.entries(deposit.subject) as Array<[keyof PublicationMetadata['subject'], string | undefined]>) {
    if (text) subject[lang] = text;
  }
  return {
    recipient: deposit.recipient.type === 'citizen' ? { eboxType: 'citizen', ssin: id } : { eboxType: 'enterprise', enterpriseNumber: id },
    subject,
    messageTypeId,
    senderApplicationId,
    registeredMail: deposit.registered,
    expirationDate: deposit.expiresAt.toISOString(),
    sender: { id: deposit.sender.id, name: deposit.sender.name },
    attachments: deposit.documents.map((d, i) => ({
      httpPartName: partNames[i]!,
      isMainContent: d.isMain,
      mediaType: d.mediaType,
      digest: { algorithm: 'SHA-256', value: d.sha256.toLowerCase() },
    })),
  };
}

const PART_NAME = /^[A-Za-z0-9._-]{1,100}$/;

/** The documents' own part names when they are plain and distinct, else document1…documentN. */
export function httpPartNames(documents: Pick<EboxDocument, 'partName'>[]): string[] {
  const names = documents.map((d) => d.partName);
  const usable = names.every((n) => PART_NAME.test(n) && n !== 'metadata') && new Set(names).size === names.length;
  return usable ? names : documents.map((_, i) => `document${i + 1}`);
}

/** RFC 8941 §3.3.3 sf-string: `"` + printable ASCII with `"` and `\` escaped + `"`. */
export function sfString(value: string): string {
  if (!/^[\x20-\x7e]*$/.test(value)) throw new TypeError('an Idempotency-Key must be printable ASCII');
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

// ── multipart/form-data body (RFC 7578), streamed ───────────────────────────

export interface MultipartField {
  kind: 'field';
  name: string;
  contentType: string;
  value: string;
}

export interface MultipartFile {
  kind: 'file';
  name: string;
  fileName: string;
  contentType: string;
  /** announced size: the body's Content-Length is computed from it, and the bytes must match */
  size: number;
  /** announced lower-case hex SHA-256: the bytes must match */
  sha256: string;
  /** opened when the body reaches this part, at most once */
  open(): Readable;
}

export type MultipartPart = MultipartField | MultipartFile;

/** A document's bytes differ from its announced size or digest. */
export class DocumentIntegrityError extends Error {
  readonly code = 'DOCUMENT_INTEGRITY';
  constructor(
    readonly partName: string,
    message: string,
  ) {
    super(message);
    this.name = 'DocumentIntegrityError';
  }
}

const CRLF = Buffer.from('\r\n');

/**
 * A multipart/form-data body as a pull-driven web ReadableStream (what fetch takes with
 * `duplex: 'half'`): nothing is read before the consumer asks, each file is opened when
 * its turn comes, and only the chunk in flight is in memory. Each file is counted and
 * hashed while it streams; on a mismatch the stream errors before the part's closing
 * delimiter, so the receiver never sees a complete body. `length` is exact (computed
 * from the announced sizes), to be sent as Content-Length.
 */
export class MultipartBody {
  readonly boundary: string;
  readonly contentType: string;
  readonly length: number;
  readonly stream: ReadableStream<Uint8Array>;
  #failure: Error | undefined;
  #current: Readable | undefined;
  #disposed = false;
  readonly #chunks: AsyncGenerator<Uint8Array, void, undefined>;

  constructor(parts: MultipartPart[], boundary = `ebox-${randomUUID()}`) {
    if (!/^[A-Za-z0-9'()+_,./:=?-]{1,70}$/.test(boundary)) throw new TypeError('invalid multipart boundary');
    this.boundary = boundary;
    this.contentType = `multipart/form-data; boundary=${boundary}`;
    const heads = parts.map((p) => Buffer.from(partHead(boundary, p), 'ascii'));
    const closing = Buffer.from(`--${boundary}--\r\n`, 'ascii');
    this.length =
      heads.reduce((n, h) => n + h.length + CRLF.length, closing.length) +
      parts.reduce((n, p) => n + (p.kind === 'field' ? Buffer.byteLength(p.value, 'utf8') : p.size), 0);
    this.#chunks = this.#generate(parts, heads, closing);
    this.stream = new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          try {
            const next = await this.#chunks.next();
            if (next.done) controller.close();
            else controller.enqueue(next.value);
          } catch (err) {
            if (!this.#disposed) this.#failure ??= err as Error;
            try {
              controller.error(err);
            } catch {
              // already closed or cancelled
            }
          }
        },
        cancel: () => this.dispose(),
      },
      { highWaterMark: 0 },
    );
  }

  /** Why the body stopped early (a DocumentIntegrityError, or the error of a document's stream). */
  get failure(): Error | undefined {
    return this.#failure;
  }

  /** Stops the body: the open document stream is destroyed and no further one is opened. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#current?.destroy();
    this.#chunks.return(undefined).catch(() => undefined);
  }

  async *#generate(parts: MultipartPart[], heads: Buffer[], closing: Buffer): AsyncGenerator<Uint8Array, void, undefined> {
    for (const [i, part] of parts.entries()) {
      yield heads[i]!;
      if (part.kind === 'field') yield Buffer.from(part.value, 'utf8');
      else yield* this.#file(part);
      yield CRLF;
    }
    yield closing;
  }

  async *#file(part: MultipartFile): AsyncGenerator<Uint8Array, void, undefined> {
    if (this.#disposed) return;
    const source = part.open();
    this.#current = source;
    const hash = createHash('sha256');
    let size = 0;
    try {
      for await (const chunk of source as AsyncIterable<unknown>) {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
        if (!(bytes instanceof Uint8Array)) throw new TypeError(`part "${part.name}": the document stream gave something other than bytes`);
        size += bytes.length;
        if (size > part.size) throw new DocumentIntegrityError(part.name, `part "${part.name}" is longer than the ${part.size} bytes announced`);
        hash.update(bytes);
        yield bytes;
      }
    } finally {
      this.#current = undefined;
      source.destroy();
    }
    if (size !== part.size) throw new DocumentIntegrityError(part.name, `part "${part.name}" has ${size} bytes, ${part.size} were announced`);
    const digest = hash.digest('hex');
    if (digest !== part.sha256.toLowerCase()) {
      throw new DocumentIntegrityError(part.name, `part "${part.name}" has SHA-256 ${digest}, ${part.sha256} was announced`);
    }
  }
}

function partHead(boundary: string, part: MultipartPart): string {
  if (!PART_NAME.test(part.name)) throw new TypeError(`part name "${part.name}" must be 1 to 100 of A-Z a-z 0-9 . _ -`);
  if (!/^[\x21-\x7e]+\/[\x21-\x7e]+(?:[\x20-\x7e]*)$/.test(part.contentType)) {
    throw new TypeError(`part "${part.name}": media type "${part.contentType}" is not a printable ASCII type/subtype`);
  }
  const disposition =
    part.kind === 'file'
      ? `form-data; name="${part.name}"; filename="${encodePartFileName(part.fileName)}"`
      : `form-data; name="${part.name}"`;
  return `--${boundary}\r\nContent-Disposition: ${disposition}\r\nContent-Type: ${part.contentType}\r\n\r\n`;
}

/**
 * A file name as it goes in the part's `filename="..."` (RFC 7578 §4.2): as is when it is
 * printable ASCII without `"` `\` `%` `/`, otherwise percent-encoded UTF-8 (the e-Box wants
 * names outside ISO-8859-1 percent-encoded; encoding every non-ASCII name also keeps the
 * header ASCII, and `%` is encoded so that decoding is never ambiguous). Lone surrogates
 * become U+FFFD.
 */
export function encodePartFileName(name: string): string {
  const wellFormed = name.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
  if (/^[\x20-\x7e]*$/.test(wellFormed) && !/["\\%/]/.test(wellFormed)) return wellFormed;
  return encodeURIComponent(wellFormed);
}

// ── Event feed ──────────────────────────────────────────────────────────────

export interface EventsPage {
  /** the page's readDocument events of publications made with an Idempotency-Key */
  events: HandoverEvent[];
  /** the cursor after this page; undefined when the e-Box gave none (empty feed) */
  next: string | undefined;
  /** items on the page, handled or not */
  itemCount: number;
  /** items of other types (newDocument, …) or without an idempotency key */
  skipped: number;
}

/**
 * Reads one page of `GET /ebox/v1/events`:
 *   { items: [{eventId, type, publicationId, idempotencyKey?, occurredAt}], next: cursor | null }
 * A readDocument event becomes a HandoverEvent whose depositId is the idempotency key; other
 * types are skipped. A page that cannot be read throws EBOX_UNAVAILABLE (the cursor is not
 * advanced past events that were not understood).
 */
export function readEventsPage(json: unknown): EventsPage {
  const malformed = (why: string): EboxError => new EboxError('EBOX_UNAVAILABLE', `events: the e-Box answered an unreadable page (${why})`, false);
  if (!isObject(json) || !Array.isArray(json.items)) throw malformed('no items');
  const { items, next } = json;
  if (next !== undefined && next !== null && (typeof next !== 'string' || next === '')) throw malformed('next is not a cursor');
  if (items.length > 0 && typeof next !== 'string') throw malformed('items without a next cursor');
  const events: HandoverEvent[] = [];
  let skipped = 0;
  for (const [i, item] of items.entries()) {
    if (!isObject(item) || typeof item.type !== 'string') throw malformed(`item ${i} has no type`);
    if (item.type !== 'readDocument' || typeof item.idempotencyKey !== 'string' || item.idempotencyKey === '') {
      skipped++;
      continue;
    }
    const readAt = typeof item.occurredAt === 'string' ? new Date(item.occurredAt) : undefined;
    if (typeof item.publicationId !== 'string' || !readAt || Number.isNaN(readAt.getTime())) {
      throw malformed(`readDocument item ${i} lacks publicationId or occurredAt`);
    }
    events.push({ depositId: item.idempotencyKey, eboxMessageId: item.publicationId, readAt });
  }
  return { events, next: typeof next === 'string' ? next : undefined, itemCount: items.length, skipped };
}

// ── Answers ─────────────────────────────────────────────────────────────────

function readReceipt(what: string, answer: Answer): DepositReceipt {
  const json = isObject(answer.json) ? answer.json : {};
  const receiptDate = typeof json.receiptDate === 'string' ? new Date(json.receiptDate) : undefined;
  if (typeof json.publicationId !== 'string' || json.publicationId === '' || !receiptDate || Number.isNaN(receiptDate.getTime())) {
    // stored or not, a retry with the same Idempotency-Key tells
    throw new EboxError('EBOX_UNAVAILABLE', `${what}: the e-Box answered ${answer.status} without publicationId and receiptDate`, false);
  }
  return { eboxMessageId: json.publicationId, depositedAt: receiptDate };
}

/** 429 and 5xx: retry; 401/403: credentials; other 4xx: permanent; anything else: retry. */
function unexpectedAnswer(what: string, answer: Answer): EboxError {
  const { status } = answer;
  const text = `${what}: the e-Box answered ${problemText(answer)}`;
  if (status === 429 || status >= 500) {
    const retryAfter = answer.headers.get('retry-after');
    return new EboxError('EBOX_UNAVAILABLE', retryAfter ? `${text} (Retry-After: ${retryAfter})` : text, false);
  }
  if (status === 401 || status === 403) return new EboxError('EBOX_AUTH_FAILED', text, false);
  // a 404 that is not an API problem is a wrong URL or a gateway, not an answer about the resource
  if (status === 404 && !answer.isProblem) return new EboxError('EBOX_UNAVAILABLE', text, false);
  if (status >= 400 && status < 500) return new EboxError('EBOX_REJECTED', text, true);
  return new EboxError('EBOX_UNAVAILABLE', text, false);
}

function problemType(answer: Answer): string | undefined {
  return isObject(answer.json) && typeof answer.json.type === 'string' ? answer.json.type : undefined;
}

function problemText(answer: Answer): string {
  const json = isObject(answer.json) ? answer.json : {};
  const detail = typeof json.detail === 'string' ? json.detail : typeof json.title === 'string' ? json.title : undefined;
  return detail ? `${answer.status}: ${detail}` : `${answer.status}`;
}

async function readSmallBody(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > MAX_ANSWER_BYTES) {
      await reader.cancel();
      throw new Error(`answer larger than ${MAX_ANSWER_BYTES} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function describeTransportError(err: unknown): string {
  if (!(err instanceof Error)) return 'request failed';
  const cause = err.cause instanceof Error ? err.cause : undefined;
  const code = cause && 'code' in cause && typeof cause.code === 'string' ? ` (${cause.code})` : '';
  return `${err.message}${cause ? `: ${cause.message}` : ''}${code}`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
