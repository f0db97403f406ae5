/**
 * The seeded generator of hostile requests. Case `index` of a run seeded `seed` is a pure
 * function of (seed, index, the OpenAPI document, the run's credentials and ids): replaying
 * one case needs only the seed and its index (`npm run test:fuzz -- --seed S --case N`).
 *
 * Families (weights in FAMILIES):
 * - multipart: POST /v1/messages from a valid submission, mutated: truncated bodies, bad,
 *   missing or duplicated boundaries, 1,000 parts, 60 KiB part headers, hostile file names
 *   (`../`, NUL, CR/LF, U+202E, lone surrogates, invalid UTF-8), huge, non-JSON, deeply
 *   nested or prototype-keyed metadata, edge identifiers, undeclared, duplicated or empty
 *   document parts, odd media types, odd framing, Idempotency-Key reuse;
 * - json: every route that takes a JSON body, with the same JSON mutations, wrong media
 *   types, empty bodies, non-object tops, compressed bodies and bodies that disagree with
 *   their Content-Length;
 * - query: repeated keys, `a[]=`, `a[x]=`, huge and non-UTF-8 values, garbage cursors,
 *   edge limits, dates and months;
 * - path: hostile path parameters (traversal, encoded slashes, 10 KB ids, non-UUIDs) and
 *   unknown paths;
 * - headers: huge and duplicated headers, Authorization and Idempotency-Key oddities,
 *   Accept, Range, Expect, Content-Encoding, Host, Upgrade;
 * - method: methods a path does not declare;
 * - raw: what only a socket can send: bodies cut with the connection left open and then
 *   dropped, broken chunked encodings, pipelined requests and garbage, HTTP/1.0,
 *   absolute-form and odd request targets, header injection, request smuggling shapes,
 *   request lines that are not HTTP.
 *
 * Credentials are valid most of the time (the interesting code is behind authentication).
 */
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { Rng } from './prng.js';
import { methodsOf, routesOf, sample, type Realm, type Route, type Schema } from './routes.js';
import { EDGE_NUMBERS, hostileFileName, hostileString, IDENTIFIERS, ODD_DATES, ODD_MONTHS, oddMediaType, PHONES, WEBHOOK_URLS } from './values.js';
import { encodeRequest, type Exchange, type Header, type RequestSpec } from './wire.js';

export type Family = 'multipart' | 'json' | 'query' | 'path' | 'headers' | 'method' | 'raw';

export const FAMILIES: ReadonlyArray<readonly [number, Family]> = [
  [30, 'multipart'],
  [20, 'json'],
  [12, 'query'],
  [12, 'path'],
  [10, 'headers'],
  [6, 'method'],
  [10, 'raw'],
];

/** What the generator needs to know of the running service. */
export interface FuzzContext {
  /** host:port, for Host headers and absolute-form targets */
  authority: string;
  /** the service's /openapi.json */
  doc: Schema;
  credentials: {
    /** the main sender's API key */
    sender: string;
    /** a second sender's key: valid, but none of the ids below is its own */
    otherSender: string;
    /** the e-Box token of the recipient the main message went to */
    recipient: string;
    admin: string;
    metrics: string;
  };
  ids: {
    messageId: string;
    evidenceId: string;
    eboxMessageId: string;
    notificationId: string;
    /** a sender and credential the admin routes may revoke and rotate (never the main sender's) */
    victimSenderId: string;
    victimCredentialId: string;
    /** a recipient the admin routes may deactivate and re-token (never the main recipient) */
    victimRecipientId: string;
    /** the recipient of the main message, valid in metadata */
    recipientId: string;
  };
  /** a device public key (JWK, EC P-256) for GovApp installations */
  deviceJwk: Record<string, string>;
}

export interface FuzzCase {
  seed: string;
  index: number;
  family: Family;
  /** what the case does, for the report and replay */
  title: string;
  exchange: Exchange;
  /** a complete, well-framed request went out and the connection stayed open: an answer is due */
  answerDue: boolean;
  /** a 2xx answer to this case creates a row */
  creates?: 'message' | 'notification';
}

/** Builds case `index` of the run seeded `seed`. */
export function generateCase(ctx: FuzzContext, seed: string, index: number): FuzzCase {
  const rng = Rng.forCase(seed, index);
  const family = rng.weighted(FAMILIES);
  const g = new CaseBuilder(ctx, rng, seed);
  const built = (
    {
      multipart: () => g.multipart(),
      json: () => g.json(),
      query: () => g.query(),
      path: () => g.path(),
      headers: () => g.headers(),
      method: () => g.method(),
      raw: () => g.raw(),
    } as const
  )[family]();
  return { seed, index, family, ...built };
}

type Built = Omit<FuzzCase, 'seed' | 'index' | 'family'>;

/** Marks a place in a JSON value whose text is written as is (numbers JSON.stringify cannot write). */
const RAW_TOKEN = '\u0001RAW:';
const RAW_TOKEN_RE = /"\\u0001RAW:((?:[^"\\]|\\.)*?)\\u0001"/g;

function rawJsonToken(text: string): string {
  return `${RAW_TOKEN}${text}\u0001`;
}

/** JSON text of `v`, with raw tokens written as is. */
function toJson(v: unknown): string {
  const text = JSON.stringify(v) ?? 'null';
  return text.replace(RAW_TOKEN_RE, (_m, t: string) => JSON.parse(`"${t}"`));
}

/** Sets a key on an object as an own, enumerable property, `__proto__` included. */
function defineKey(o: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__', 'isAdmin'];

class CaseBuilder {
  private readonly routes: Route[];

  constructor(
    private readonly ctx: FuzzContext,
    private readonly rng: Rng,
    private readonly seed: string,
  ) {
    this.routes = routesOf(ctx.doc);
  }

  // ---------------------------------------------------------------- common pieces

  private route(filter: (r: Route) => boolean = () => true): Route {
    const candidates = this.routes.filter(filter);
    return this.rng.pick(candidates.length ? candidates : this.routes);
  }

  /** Authorization for a realm: valid most of the time, else missing, wrong, malformed or another realm's. */
  private auth(realm: Realm): { headers: Header[]; valid: boolean; sender?: 'main' | 'other' } {
    const { rng, ctx } = this;
    const valid = realm === 'none' ? undefined : { sender: ctx.credentials.sender, recipient: ctx.credentials.recipient, admin: ctx.credentials.admin, metrics: ctx.credentials.metrics }[realm];
    if (valid !== undefined && rng.chance(0.85)) {
      if (realm === 'sender' && rng.chance(0.08)) return { headers: [['Authorization', `Bearer ${ctx.credentials.otherSender}`]], valid: true, sender: 'other' };
      return { headers: [['Authorization', `${rng.pick(['Bearer', 'Bearer', 'Bearer', 'bearer', 'BEARER'])} ${valid}`]], valid: true, sender: realm === 'sender' ? 'main' : undefined };
    }
    if (realm === 'none' && rng.chance(0.8)) return { headers: [], valid: true };
    // another realm's credential (a sender's key is valid for the other sender's realm too)
    const c = ctx.credentials;
    const otherRealms = { sender: [c.recipient, c.admin, c.metrics], recipient: [c.sender, c.admin, c.metrics], admin: [c.sender, c.recipient, c.metrics], metrics: [c.sender, c.recipient, c.admin], none: Object.values(c) }[realm];
    const bad = rng.pick<() => Header[]>([
      () => [],
      () => [['Authorization', 'Bearer rmk_0000000000000000000000000000000000000000']],
      () => [['Authorization', `Bearer ${rng.pick(otherRealms)}`]],
      () => [['Authorization', 'Bearer']],
      () => [['Authorization', 'Bearer ']],
      () => [['Authorization', `Basic ${Buffer.from('admin:admin').toString('base64')}`]],
      () => [['Authorization', `Bearer ${'A'.repeat(rng.pick([100, 1000, 8000]))}`]],
      () => [['Authorization', Buffer.concat([Buffer.from('Bearer '), Buffer.from([0xff, 0xfe, 0x80, 0xc3])])]],
      () => [['Authorization', `Bearer ${ctx.credentials.sender} extra`]],
      () => [['Authorization', `Bearer\t${ctx.credentials.sender}`]],
      () => [['Authorization', `Token ${ctx.credentials.sender}`]],
      () => [['Authorization', `Bearer ${ctx.credentials.sender}%00`]],
    ])();
    return { headers: bad, valid: false };
  }

  private base(extra: Header[] = []): Header[] {
    return [['Host', this.ctx.authority], ...extra, ['Connection', 'close']];
  }

  /** A value for a path parameter the service knows (the run's message, evidence, recipient…). */
  private knownParam(template: string, name: string): string {
    const ids = this.ctx.ids;
    if (template.startsWith('/v1/messages/')) return name === 'evidenceId' ? ids.evidenceId : ids.messageId;
    if (template.startsWith('/v1/ebox/')) return name === 'position' ? '0' : ids.eboxMessageId;
    if (template.startsWith('/v1/notifications/')) return ids.notificationId;
    if (template.startsWith('/v1/admin/senders/')) return name === 'credentialId' ? ids.victimCredentialId : ids.victimSenderId;
    if (template.startsWith('/v1/admin/recipients/')) return name === 'type' ? 'citizen' : ids.victimRecipientId;
    if (template.startsWith('/v1/admin/contacts/')) return name === 'type' ? 'citizen' : name === 'installationId' ? this.rng.uuid() : ids.recipientId;
    if (template.startsWith('/v1/admin/jobs/')) return String(this.rng.between(1, 5));
    return this.rng.uuid();
  }

  /** A hostile path parameter value, already in request-target form (percent-encoded where it needs to be). */
  private hostileParam(template: string, name: string): string {
    const { rng } = this;
    const known = this.knownParam(template, name);
    return rng.pick<() => string>([
      () => '..',
      () => '.',
      () => '%2e%2e',
      () => '..%2f..%2f..%2fetc%2fpasswd',
      () => '%2F',
      () => `${known}%2Fevidence`,
      () => `${known}%5C..`,
      () => '%00',
      () => `${known}%00`,
      () => '%ff%fe',
      () => '%c0%ae%c0%ae',
      () => '%',
      () => '%zz',
      () => 'x'.repeat(10_000),
      () => rng.uuid(),
      () => known.toUpperCase(),
      () => `%7B${known}%7D`,
      () => `${known}%20`,
      () => `%20${known}`,
      () => '-'.repeat(36),
      () => '0'.repeat(36),
      () => 'ffffffff-ffff-ffff-ffff-ffffffffffff',
      () => '00000000-0000-0000-0000-000000000000',
      () => pct(hostileString(rng)),
      () => pct(rng.pick(IDENTIFIERS)),
      () => rng.pick(EDGE_NUMBERS).replace(/ /g, '%20').replace(/\+/g, '%2B') || '%20',
      () => '%E2%80%AE',
      () => '%F0%9F%98%80',
      () => ';',
      () => '~',
      () => '*',
      () => known.slice(0, 35),
      () => `${known}0`,
      () => this.ctx.ids.messageId,
      () => this.ctx.ids.victimSenderId,
      () => rng.pick(['citizen', 'enterprise', 'CITIZEN', 'company', '__proto__', 'constructor']),
    ])();
  }

  /** The route's path with its parameters filled: known values, or hostile ones with probability `hostile`. */
  private fillPath(route: Route, hostile = 0): string {
    return route.template.replace(/\{([^}]+)\}/g, (_m, name: string) => (this.rng.chance(hostile) ? this.hostileParam(route.template, name) : pct(this.knownParam(route.template, name))));
  }

  /** Hints for schema sampling: values the service would accept for fields it knows. */
  private hint = (name: string): unknown => {
    const { rng, ctx } = this;
    switch (name) {
      case 'id':
        return rng.chance(0.7) ? ctx.ids.recipientId : rng.pick(IDENTIFIERS);
      case 'phoneNumber':
        return rng.chance(0.7) ? PHONES[0] : rng.pick(PHONES);
      case 'url':
        return rng.pick(WEBHOOK_URLS);
      case 'expiresAt':
        return rng.chance(0.5) ? new Date(Date.UTC(2030, 0, 1)).toISOString() : rng.pick(ODD_DATES);
      case 'x':
      case 'y':
        return ctx.deviceJwk[name];
      case 'pushToken':
        return `push-${rng.chars(16)}`;
      case 'certificate':
        return rng.pick(['-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n', 'not a certificate', '']);
      case 'values':
        return { what: 'Medical examination', date: '12/01/2027', time: '10:30' };
      case 'content':
        return { nl: { title: 'Titel', html: '<p>Hallo</p>', sms: 'Hallo' } };
      case 'name':
      case 'reference':
      case 'deviceName':
        return rng.chance(0.6) ? `fuzz ${rng.chars(8)}` : undefined;
      case 'graceSeconds':
        return rng.between(0, 60);
      default:
        return undefined;
    }
  };

  // ---------------------------------------------------------------- JSON mutations

  /** A value nested `depth` levels deep, as JSON text (JSON.stringify itself overflows on 10,000 levels). */
  private deep(depth: number): string {
    const kind = this.rng.pick(['array', 'object', 'mixed']);
    const leaf = this.rng.pick(['1', '"x"', 'null', 'true']);
    const open: string[] = [];
    const close: string[] = [];
    for (let i = 0; i < depth; i++) {
      const array = kind === 'array' || (kind === 'mixed' && i % 2 === 1);
      open.push(array ? '[' : '{"a":');
      close.push(array ? ']' : '}');
    }
    return rawJsonToken(open.join('') + leaf + close.reverse().join(''));
  }

  private protoKeyed(v: unknown, depth = 0): unknown {
    if (depth > 6) return v;
    if (Array.isArray(v)) return v.map((x) => this.protoKeyed(x, depth + 1));
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) defineKey(out, k, this.protoKeyed(x, depth + 1));
      for (const key of this.rng.chance(0.5) ? PROTO_KEYS : [this.rng.pick(PROTO_KEYS)]) {
        defineKey(out, key, this.rng.pick<() => unknown>([() => ({ polluted: true }), () => ({ prototype: { polluted: true } }), () => 'x', () => null, () => [], () => 1])());
      }
      return out;
    }
    return v;
  }

  /** Every string of a value (keys too, now and then) with a NUL or another control character in it. */
  private controlChars(v: unknown, depth = 0): unknown {
    const { rng } = this;
    const taint = (s: string) => {
      if (s.startsWith(RAW_TOKEN)) return s;
      const c = rng.pick(['\u0000', '\u0000', '\u0001', '\u001b', '\u007f', '\u0085', '\r\n', '\t']);
      const at = rng.int(s.length + 1);
      return s.slice(0, at) + c + s.slice(at);
    };
    if (typeof v === 'string') return taint(v);
    if (depth > 8) return v;
    if (Array.isArray(v)) return v.map((x) => this.controlChars(x, depth + 1));
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) defineKey(out, rng.chance(0.1) ? taint(k) : k, this.controlChars(x, depth + 1));
      return out;
    }
    return v;
  }

  /** Strings made longer than the columns they may end in (100, 200, 255, 1,000, 2,000 characters…), one in three. */
  private longStrings(v: unknown, depth = 0): unknown {
    const { rng } = this;
    if (typeof v === 'string') return rng.chance(0.35) && !v.startsWith(RAW_TOKEN) ? rng.pick(['x', 'é', '😀']).repeat(rng.pick([101, 201, 256, 501, 1001, 2001, 65_537])) : v;
    if (depth > 8) return v;
    if (Array.isArray(v)) return v.map((x) => this.longStrings(x, depth + 1));
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) defineKey(out, k, this.longStrings(x, depth + 1));
      return out;
    }
    return v;
  }

  /** Paths to every node of a JSON value. */
  private nodes(v: unknown, path: Array<string | number> = [], out: Array<Array<string | number>> = []): Array<Array<string | number>> {
    out.push(path);
    if (out.length > 500) return out;
    if (Array.isArray(v)) v.forEach((x, i) => this.nodes(x, [...path, i], out));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) this.nodes(x, [...path, k], out);
    return out;
  }

  /** Replaces the node at `path` (the root when empty). */
  private replaceAt(v: unknown, path: Array<string | number>, f: (old: unknown) => unknown): unknown {
    if (path.length === 0) return f(v);
    const [head, ...rest] = path;
    if (Array.isArray(v)) return v.map((x, i) => (i === head ? this.replaceAt(x, rest, f) : x));
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) defineKey(out, k, k === head ? this.replaceAt(x, rest, f) : x);
      return out;
    }
    return v;
  }

  private someNode(v: unknown): Array<string | number> {
    return this.rng.pick(this.nodes(v));
  }

  /** One JSON mutation of a value; returns the new value. */
  private mutateValue(v: unknown, kinds: string[] = []): { value: unknown; kind: string } {
    const { rng } = this;
    const kind = rng.pick([
      'deep',
      'huge-string',
      'huge-array',
      'proto',
      'proto',
      'type-swap',
      'type-swap',
      'hostile-string',
      'hostile-string',
      'hostile-string',
      'control-chars',
      'long-strings',
      'drop-key',
      'extra-key',
      'top-level',
      'edge-number',
      'identifier',
    ]);
    kinds.push(kind);
    switch (kind) {
      case 'deep': {
        const depth = rng.pick([100, 1000, 3000, 10_000]);
        return { value: rng.chance(0.3) ? this.deep(depth) : this.replaceAt(v, this.someNode(v), () => this.deep(depth)), kind: `deep(${depth})` };
      }
      case 'huge-string': {
        const n = rng.pick([4_000, 15_000, 60_000, 200_000, 1_100_000]);
        return { value: this.replaceAt(v, this.someNode(v), () => 'x'.repeat(n)), kind: `huge-string(${n})` };
      }
      case 'huge-array': {
        const n = rng.pick([1_000, 10_000, 100_000]);
        // as text: later mutations treat it as one leaf rather than walk 100,000 nodes
        const item = rng.pick(['0', '"a"', '{}', 'null']);
        return { value: this.replaceAt(v, this.someNode(v), () => rawJsonToken(`[${new Array(n).fill(item).join(',')}]`)), kind: `huge-array(${n})` };
      }
      case 'proto':
        return { value: this.protoKeyed(v), kind };
      case 'type-swap':
        return {
          value: this.replaceAt(v, this.someNode(v), () => rng.pick<() => unknown>([() => null, () => 0, () => -1, () => true, () => 'true', () => [], () => ({}), () => [1, 2], () => '', () => ({ a: 1 })])()),
          kind,
        };
      case 'hostile-string':
        return { value: this.replaceAt(v, this.someNode(v), () => hostileString(rng)), kind };
      case 'control-chars':
        return { value: this.controlChars(v), kind };
      case 'long-strings':
        return { value: this.longStrings(v), kind };
      case 'drop-key': {
        const path = this.someNode(v);
        if (path.length === 0) return { value: {}, kind };
        const parent = path.slice(0, -1);
        const key = path[path.length - 1]!;
        return {
          value: this.replaceAt(v, parent, (p) => {
            if (Array.isArray(p)) return p.filter((_x, i) => i !== key);
            const out: Record<string, unknown> = {};
            for (const [k, x] of Object.entries(p as object)) if (k !== key) defineKey(out, k, x);
            return out;
          }),
          kind,
        };
      }
      case 'extra-key':
        return {
          value: this.replaceAt(v, this.someNode(v), (p) => {
            if (!p || typeof p !== 'object' || Array.isArray(p)) return p;
            const out: Record<string, unknown> = { ...p };
            defineKey(out, rng.pick(['extra', 'id', 'status', 'senderId', 'isAdmin', '', ' ', hostileString(rng)]), rng.pick([1, 'x', true, null, {}]));
            return out;
          }),
          kind,
        };
      case 'top-level':
        return { value: rng.pick<unknown>([null, [], [v], 0, -1, 'string', true, false, {}, [null]]), kind };
      case 'edge-number':
        return { value: this.replaceAt(v, this.someNode(v), () => rawJsonToken(rng.pick(['1e400', '-1e400', '1e-400', '-0', '9007199254740993', '123456789012345678901234567890', '0.1e1', '1E+2', '0e0']))), kind };
      case 'identifier':
        return { value: this.replaceAt(v, this.someNode(v), () => rng.pick(IDENTIFIERS)), kind };
    }
    return { value: v, kind };
  }

  /** JSON text mutations: what a value cannot express. */
  private mutateText(text: string): { body: Buffer; kind: string } {
    const { rng } = this;
    const kind = rng.pick(['truncate', 'trailing-comma', 'bom', 'comment', 'single-quotes', 'nan', 'duplicate-keys', 'invalid-utf8', 'lone-surrogate', 'nul', 'whitespace', 'empty', 'not-json']);
    const b = (s: string) => Buffer.from(s, 'utf8');
    switch (kind) {
      case 'truncate':
        return { body: b(text.slice(0, rng.int(Math.max(1, text.length)))), kind };
      case 'trailing-comma':
        return { body: b(text.replace(/([}\]])$/, ',$1')), kind };
      case 'bom':
        return { body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), b(text)]), kind };
      case 'comment':
        return { body: b(`/* c */${text}// end`), kind };
      case 'single-quotes':
        return { body: b(text.replace(/"/g, "'")), kind };
      case 'nan':
        return { body: b(text.replace(/:\s*("[^"]*"|\d+|true|false|null)/, ':NaN')), kind };
      case 'duplicate-keys':
        return { body: b(text.startsWith('{') && text.length > 2 ? `{"a":1,"a":2,"__proto__":{"x":1},"__proto__":{"y":2},${text.slice(1)}` : text), kind };
      case 'invalid-utf8': {
        const at = text.indexOf('"') >= 0 ? text.indexOf('"') + 1 : 0;
        const bytes = rng.pick([[0xff], [0xfe, 0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0x80]]);
        return { body: Buffer.concat([b(text.slice(0, at)), Buffer.from(bytes), b(text.slice(at))]), kind };
      }
      case 'lone-surrogate':
        return { body: b(text.replace(/"([^"]*)"(?=\s*[,}\]])/, '"$1\\ud800"')), kind };
      case 'nul':
        return { body: b(text.replace(/"([^"]*)"(?=\s*[,}\]])/, '"$1\\u0000"')), kind };
      case 'whitespace':
        return { body: b(`${' '.repeat(rng.pick([1, 1000, 100_000]))}${text}\n\t\r `), kind };
      case 'empty':
        return { body: Buffer.alloc(0), kind };
      default:
        return { body: rng.bytes(rng.between(1, 200)), kind };
    }
  }

  /** A JSON body: a valid-ish instance of `schema` with 0–3 mutations. */
  private jsonBody(schema: Schema | undefined, base?: unknown): { body: Buffer; kinds: string[]; value: unknown } {
    const { rng } = this;
    let value = base ?? sample(this.ctx.doc, schema, rng, this.hint);
    const kinds: string[] = [];
    const n = rng.weighted([
      [20, 0],
      [55, 1],
      [20, 2],
      [5, 3],
    ] as const);
    for (let i = 0; i < n; i++) value = this.mutateValue(value, kinds).value;
    let body: Buffer = Buffer.from(toJson(value), 'utf8');
    if (rng.chance(0.15)) {
      const t = this.mutateText(body.toString('utf8'));
      body = t.body;
      kinds.push(t.kind);
    }
    return { body, kinds, value };
  }

  // ---------------------------------------------------------------- multipart

  multipart(): Built {
    const { rng, ctx } = this;
    const route = this.route((r) => r.method === 'POST' && r.template === '/v1/messages');
    const auth = this.auth(route.realm);
    const boundary = `fz${rng.chars(rng.between(4, 30), 'abcdefghijklmnopqrstuvwxyz0123456789-_')}`;
    const docCount = rng.weighted([
      [70, 1],
      [20, 2],
      [10, 3],
    ] as const);
    const partNames = Array.from({ length: docCount }, (_, i) => (i === 0 ? 'main' : `annex${i}`));
    let meta: unknown = {
      recipient: { type: 'citizen', id: rng.chance(0.9) ? ctx.ids.recipientId : rng.pick(IDENTIFIERS) },
      subject: { nl: 'Uw beslissing', fr: 'Votre décision' },
      senderReference: `FUZZ-${rng.chars(6)}`,
      documents: partNames.map((n, i) => ({ httpPartName: n, isMainContent: i === 0 })),
    };
    interface Part {
      head: Buffer[];
      body: Buffer;
    }
    const line = (s: string | Buffer) => (Buffer.isBuffer(s) ? s : Buffer.from(s, 'utf8'));
    const docPart = (name: string | Buffer, fileName: string | Buffer = `${typeof name === 'string' ? name : 'doc'}.pdf`, type = 'application/pdf', size?: number): Part => ({
      head: [Buffer.concat([line('Content-Disposition: form-data; name="'), line(name), line('"; filename="'), line(fileName), line('"')]), line(`Content-Type: ${type}`)],
      body: this.pdf(size ?? rng.weighted([
        [60, rng.between(1, 4096)],
        [35, rng.between(4097, 64 * 1024)],
        [5, 1024 * 1024 + rng.between(1, 4096)],
      ] as const)),
    });
    const metaAsFile = rng.chance(0.2);
    let metaText: Buffer | undefined;
    const docs: Part[] = partNames.map((n) => docPart(n));
    const extraParts: Part[] = [];
    let metadataFirst = true;
    let metadataCount = 1;
    let contentType: string | undefined;
    let closing = true;
    let preamble = '';
    let lineEnd = '\r\n';
    const headers: Header[] = [];
    let cut: 'none' | 'declared' | 'open' = 'none';
    let framing: RequestSpec['framing'] = 'length';
    let lengthDelta = 0;
    let gzip = false;
    const kinds: string[] = [];

    const mutations = rng.weighted([
      [15, 0],
      [60, 1],
      [20, 2],
      [5, 3],
    ] as const);
    for (let m = 0; m < mutations; m++) {
      const kind = rng.pick([
        'meta-json', 'meta-json', 'meta-json', 'meta-not-json', 'meta-huge', 'meta-deep', 'meta-huge-array', 'meta-proto', 'meta-proto', 'identifier', 'identifier',
        'doc-undeclared', 'doc-duplicated', 'doc-empty', 'doc-missing', 'doc-media', 'doc-media', 'doc-filename', 'doc-filename', 'doc-filename', 'doc-name',
        'many-parts', 'huge-part-header', 'metadata-twice', 'metadata-last', 'no-metadata', 'disposition', 'field-doc', 'too-many-docs', 'preamble', 'lf-only',
        'boundary-mismatch', 'boundary-missing', 'boundary-duplicated', 'boundary-odd', 'content-type', 'no-closing', 'truncate', 'truncate', 'cut-open', 'chunked',
        'length-more', 'length-less', 'idempotency', 'idempotency', 'expect', 'gzip', 'nested-multipart', 'part-headers',
      ]);
      kinds.push(kind);
      switch (kind) {
        case 'meta-json':
          meta = this.mutateValue(meta, kinds).value;
          break;
        case 'meta-not-json':
          metaText = rng.pick<() => Buffer>([() => line(''), () => line('{'), () => line('<xml/>'), () => rng.bytes(rng.between(1, 300)), () => line('null'), () => line('"string"'), () => line('[]'), () => line('{"recipient":')])();
          break;
        case 'meta-huge':
          meta = { ...(meta as object), senderReference: 'x'.repeat(rng.pick([60_000, 66_000, 200_000])) };
          break;
        case 'meta-deep':
          meta = this.replaceAt(meta, this.someNode(meta), () => this.deep(rng.pick([1000, 5000, 10_000])));
          break;
        case 'meta-huge-array':
          meta = { ...(meta as object), documents: rawJsonToken(JSON.stringify(new Array(rng.pick([7, 100, 10_000, 30_000])).fill(0).map((_, i) => (rng.chance(0.5) ? 0 : { httpPartName: `p${i}`, isMainContent: i === 0 })))) };
          break;
        case 'meta-proto':
          meta = this.protoKeyed(meta);
          break;
        case 'identifier': {
          const r = { type: rng.pick(['citizen', 'enterprise', 'enterprise', 'CITIZEN', 'person', '']), id: rng.chance(0.9) ? rng.pick(IDENTIFIERS) : rng.pick<unknown>([85073003328, null, ['85073003328'], { id: '85073003328' }]) };
          meta = { ...(meta as object), recipient: r };
          break;
        }
        case 'doc-undeclared':
          extraParts.push(docPart(`extra${rng.int(3)}`));
          break;
        case 'doc-duplicated':
          extraParts.push(docPart(rng.pick(partNames), 'again.pdf', 'application/pdf', rng.pick([1, 100, 200_000])));
          break;
        case 'doc-empty':
          if (docs.length) rng.pick(docs).body = Buffer.alloc(0);
          break;
        case 'doc-missing':
          docs.splice(rng.int(docs.length), 1);
          break;
        case 'doc-media':
          if (docs.length) rng.pick(docs).head[1] = line(`Content-Type: ${oddMediaType(rng)}`);
          break;
        case 'doc-filename':
          if (docs.length) {
            const d = rng.pick(docs);
            const fn = hostileFileName(rng);
            const name = partNames[docs.indexOf(d)] ?? 'main';
            d.head[0] = rng.pick<() => Buffer>([
              () => Buffer.concat([line(`Content-Disposition: form-data; name="${name}"; filename="`), line(fn), line('"')]),
              () => line(`Content-Disposition: form-data; name="${name}"; filename*=UTF-8''${pct(typeof fn === 'string' ? fn : fn.toString('latin1'))}`),
              () => line(`Content-Disposition: form-data; name="${name}"; filename*=UTF-8''%ff%fe%2e%2e%2f`),
              () => line(`Content-Disposition: form-data; name="${name}"; filename*=ISO-8859-1''%e9t%e9.pdf`),
              () => line(`Content-Disposition: form-data; name="${name}"; filename="a.pdf"; filename*=UTF-8''..%2f..%2fb.pdf`),
              () => line(`Content-Disposition: form-data; name="${name}"; filename=unquoted name.pdf`),
              () => line(`Content-Disposition: form-data; name="${name}"; filename=""`),
            ])();
          }
          break;
        case 'doc-name':
          if (docs.length) {
            const d = rng.pick(docs);
            const name = rng.pick<string | Buffer>(['', ' ', 'a b', '../main', 'main\u0000', 'main\r\n', 'é', '😀', 'x'.repeat(200), 'metadata', '__proto__', 'constructor', Buffer.from([0xff, 0xfe])]);
            d.head[0] = Buffer.concat([line('Content-Disposition: form-data; name="'), line(name), line('"; filename="d.pdf"')]);
          }
          break;
        case 'many-parts': {
          const n = rng.pick([51, 200, 1000]);
          for (let i = 0; i < n; i++) extraParts.push({ head: [line(`Content-Disposition: form-data; name="p${i}"; filename="p${i}.pdf"`), line('Content-Type: application/pdf')], body: line('x') });
          kinds.push(`parts(${n})`);
          break;
        }
        case 'huge-part-header': {
          const n = rng.pick([8 * 1024, 16 * 1024, 60 * 1024]);
          const d = docs.length ? rng.pick(docs) : docPart('main');
          if (!docs.includes(d)) docs.push(d);
          if (rng.chance(0.5)) d.head.push(line(`X-Padding: ${'p'.repeat(n)}`));
          else d.head[0] = line(`Content-Disposition: form-data; name="${partNames[docs.indexOf(d)] ?? 'main'}"; filename="${'f'.repeat(n)}.pdf"`);
          kinds.push(`header(${n})`);
          break;
        }
        case 'metadata-twice':
          metadataCount = 2;
          break;
        case 'metadata-last':
          metadataFirst = false;
          break;
        case 'no-metadata':
          metadataCount = 0;
          break;
        case 'disposition':
          if (docs.length) {
            rng.pick(docs).head[0] = line(
              rng.pick([
                'Content-Disposition: attachment; filename="a.pdf"',
                'Content-Disposition: form-data',
                'Content-Disposition: form-data; name=main; filename=a.pdf',
                'Content-Disposition: form-data; name="main"; name="other"; filename="a.pdf"',
                'Content-Disposition: form-data; name*=UTF-8\'\'m%C3%A4in; filename="a.pdf"',
                'Content-Disposition: form-data; ;;; name="main"; filename="a.pdf"',
                'Content-Disposition:',
                'Content-Disposition: form-data; name="main"; filename="a.pdf"; size=-1; creation-date="yesterday"',
                'X-Not-Disposition: yes',
              ]),
            );
          }
          break;
        case 'field-doc':
          if (docs.length) docs[0]!.head = [line(`Content-Disposition: form-data; name="${partNames[0]}"`)];
          break;
        case 'too-many-docs': {
          const names = Array.from({ length: rng.pick([7, 12]) }, (_, i) => (i === 0 ? 'main' : `annex${i}`));
          meta = { ...(meta as object), documents: names.map((n, i) => ({ httpPartName: n, isMainContent: i === 0 })) };
          docs.length = 0;
          for (const n of names) docs.push(docPart(n, `${n}.pdf`, 'application/pdf', rng.between(1, 100)));
          partNames.splice(0, partNames.length, ...names);
          break;
        }
        case 'preamble':
          preamble = rng.pick(['This is a preamble.\r\n', '\r\n\r\n', `--${boundary}x\r\n`, rng.bytes(50).toString('latin1')]);
          break;
        case 'lf-only':
          lineEnd = '\n';
          break;
        case 'boundary-mismatch':
          contentType = `multipart/form-data; boundary=${boundary}X`;
          break;
        case 'boundary-missing':
          contentType = rng.pick(['multipart/form-data', 'multipart/form-data;', 'multipart/form-data; boundary=', 'multipart/form-data; boundary=""', 'multipart/form-data; charset=utf-8']);
          break;
        case 'boundary-duplicated':
          contentType = `multipart/form-data; boundary=${boundary}; boundary=${rng.chance(0.5) ? boundary : 'other'}`;
          break;
        case 'boundary-odd':
          contentType = rng.pick([
            `multipart/form-data; boundary="${boundary}"`,
            `multipart/form-data; BOUNDARY=${boundary}`,
            `multipart/form-data; boundary=${'b'.repeat(200)}`,
            `multipart/form-data; boundary="a b:c/d?e"`,
            `multipart/form-data; boundary=${boundary}; charset=utf-16`,
            `multipart/form-data; boundary=é${boundary}`,
            `multipart/form-data; boundary=${boundary}; ${'x=y; '.repeat(500)}`,
            `multipart/form-data; boundary=--`,
          ]);
          break;
        case 'content-type':
          contentType = rng.pick([`multipart/mixed; boundary=${boundary}`, `Multipart/Form-Data; boundary=${boundary}`, `multipart/related; boundary=${boundary}`, 'application/json', 'text/plain', 'application/x-www-form-urlencoded', '', `multipart/form-data ; boundary = ${boundary}`]);
          break;
        case 'no-closing':
          closing = false;
          break;
        case 'truncate':
          cut = 'declared';
          break;
        case 'cut-open':
          cut = 'open';
          break;
        case 'chunked':
          framing = 'chunked';
          break;
        case 'length-more':
          lengthDelta = rng.between(1, 5000);
          break;
        case 'length-less':
          lengthDelta = -rng.between(1, 200);
          break;
        case 'idempotency':
          headers.push([
            'Idempotency-Key',
            rng.pick<string | Buffer>([
              `fuzz-${createHash('sha256').update(this.seed).digest('hex').slice(0, 8)}-${rng.int(4)}`,
              rng.uuid(),
              `"${rng.uuid()}"`,
              '',
              '""',
              '"unterminated',
              'x'.repeat(201),
              Buffer.from([0xc3, 0xa9, 0xff]),
              'a, b',
            ]),
          ]);
          if (rng.chance(0.1)) headers.push(['Idempotency-Key', rng.uuid()]);
          break;
        case 'expect':
          headers.push(['Expect', rng.pick(['100-continue', '100-continue', 'garbage'])]);
          break;
        case 'gzip':
          gzip = true;
          break;
        case 'nested-multipart':
          extraParts.push({
            head: [line('Content-Disposition: form-data; name="nested"; filename="n"'), line('Content-Type: multipart/mixed; boundary=inner')],
            body: line('--inner\r\nContent-Type: text/plain\r\n\r\nhello\r\n--inner--'),
          });
          break;
        case 'part-headers':
          if (docs.length) {
            rng.pick(docs).head.push(
              line(rng.pick(['Content-Transfer-Encoding: base64', 'Content-Length: 5', 'Content-Length: -1', 'Content-Type: application/pdf', 'NoColonHere', ': empty name', 'X-A:\u0000', 'Content-Disposition: form-data; name="other"'])),
            );
          }
          break;
      }
    }

    // a body left unfinished (cut, or shorter than its Content-Length) is dropped after a while:
    // framed by Content-Length (chunked coding as encodeRequest writes it always ends, and
    // the server could accept it unseen); any other request waits for its answer
    const unfinished = cut === 'open' || lengthDelta > 0;
    if (unfinished) framing = 'length';
    const after: Exchange['after'] = unfinished ? 'drop' : 'wait';
    const dropAfterMs = unfinished ? rng.between(10, 200) : undefined;

    // serialise
    const metaBody = metaText ?? Buffer.from(toJson(meta), 'utf8');
    const metaPart: Part = metaAsFile
      ? { head: [line('Content-Disposition: form-data; name="metadata"; filename="meta.json"'), line('Content-Type: application/json')], body: metaBody }
      : { head: [line('Content-Disposition: form-data; name="metadata"')], body: metaBody };
    const metaParts = Array.from({ length: metadataCount }, () => metaPart);
    const all = metadataFirst ? [...metaParts, ...docs, ...extraParts] : [...docs, ...extraParts, ...metaParts];
    const pieces: Buffer[] = [Buffer.from(preamble, 'latin1')];
    for (const p of all) {
      pieces.push(line(`--${boundary}${lineEnd}`));
      for (const h of p.head) pieces.push(h, line(lineEnd));
      pieces.push(line(lineEnd), p.body, line(lineEnd));
    }
    if (closing) pieces.push(line(`--${boundary}--${lineEnd}`));
    let body = Buffer.concat(pieces);
    if (gzip) {
      body = gzipSync(body);
      headers.push(['Content-Encoding', 'gzip']);
    }
    const full = body.length;
    if (cut !== 'none') body = body.subarray(0, rng.int(full));
    const reqHeaders: Header[] = [...auth.headers, ['Content-Type', contentType ?? `multipart/form-data; boundary=${boundary}`], ...headers];
    if (framing === 'length') {
      const declared = cut === 'open' ? full : body.length + lengthDelta;
      reqHeaders.push(['Content-Length', String(Math.max(0, declared))]);
    }
    const spec: RequestSpec = { method: 'POST', target: '/v1/messages', headers: this.base(reqHeaders), body, framing: framing === 'length' ? 'none' : framing, chunkSizes: [rng.between(1, 2000), rng.between(1, 65536)] };
    const bytes = encodeRequest(spec);
    const chunks = cut === 'open' || lengthDelta > 0 ? [bytes] : this.split(bytes);
    const title = `POST /v1/messages ${auth.valid ? (auth.sender === 'other' ? 'other-sender' : 'auth') : 'no-auth'} ${docs.length} doc(s) +${extraParts.length} part(s) [${kinds.join(', ') || 'valid'}] ${body.length}/${full} bytes${framing === 'chunked' ? ' chunked' : ''}`;
    return {
      title,
      exchange: { chunks, after, dropAfterMs, methods: ['POST'] },
      answerDue: after === 'wait',
      creates: auth.valid ? 'message' : undefined,
    };
  }

  /** A document's bytes: a PDF header and seeded noise. */
  private pdf(size: number): Buffer {
    if (size === 0) return Buffer.alloc(0);
    const head = Buffer.from('%PDF-1.7\n');
    return Buffer.concat([head, this.rng.bytes(Math.max(0, size - head.length))]).subarray(0, size);
  }

  /** Cuts the request bytes in a few writes now and then (a client that sends in pieces). */
  private split(bytes: Buffer): Buffer[] {
    if (!this.rng.chance(0.15) || bytes.length < 4) return [bytes];
    const cuts = Array.from({ length: this.rng.between(1, 4) }, () => this.rng.between(1, bytes.length - 1)).sort((a, b) => a - b);
    const out: Buffer[] = [];
    let at = 0;
    for (const c of cuts) {
      if (c > at) out.push(bytes.subarray(at, c));
      at = c;
    }
    out.push(bytes.subarray(at));
    return out;
  }

  // ---------------------------------------------------------------- JSON bodies

  json(): Built {
    const { rng } = this;
    const route = rng.chance(0.85) ? this.route((r) => r.body.some((b) => b.type === 'application/json')) : this.route((r) => r.body.length === 0);
    const auth = this.auth(route.realm);
    const schema = route.body.find((b) => b.type === 'application/json')?.schema;
    const { body: json, kinds } = this.jsonBody(schema);
    let body = json;
    const headers: Header[] = [...auth.headers];
    const type = rng.weighted<string | undefined>([
      [70, 'application/json'],
      [5, 'application/json; charset=utf-8'],
      [3, 'APPLICATION/JSON'],
      [3, 'application/json; charset=utf-16'],
      [3, 'application/json; charset=latin1'],
      [3, 'text/plain'],
      [3, undefined],
      [2, 'application/x-www-form-urlencoded'],
      [2, 'multipart/form-data; boundary=x'],
      [2, 'application/vnd.api+json'],
      [2, 'application/problem+json'],
      [1, 'application/json; charset="utf-8"; charset=ascii'],
      [1, `application/json; ${'p=v; '.repeat(300)}`],
    ] as const);
    if (type !== undefined) headers.push(['Content-Type', type]);
    const encoding = rng.weighted([
      [90, 'none'],
      [4, 'gzip'],
      [2, 'gzip-bomb'],
      [2, 'garbage-deflate'],
      [2, 'br-label'],
    ] as const);
    if (encoding === 'gzip') {
      body = gzipSync(body);
      headers.push(['Content-Encoding', 'gzip']);
    } else if (encoding === 'gzip-bomb') {
      body = gzipBomb(rng.pick([1, 4, 16]));
      headers.push(['Content-Encoding', 'gzip']);
    } else if (encoding === 'garbage-deflate') {
      headers.push(['Content-Encoding', 'deflate']);
    } else if (encoding === 'br-label') {
      headers.push(['Content-Encoding', rng.pick(['br', 'compress', 'identity', 'gzip, gzip', 'x-unknown'])]);
    }
    if (encoding !== 'none') kinds.push(`encoding:${encoding}`);
    if (route.template === '/v1/notifications' && rng.chance(0.5)) headers.push(['Prefer', 'respond-async']);
    if (rng.chance(0.1)) headers.push(['Idempotency-Key', rng.chance(0.5) ? `fuzz-n-${rng.int(4)}` : rng.uuid()]);
    const framing = rng.weighted([
      [80, 'length'],
      [10, 'chunked'],
      [5, 'length-more'],
      [5, 'length-less'],
    ] as const);
    let after: Exchange['after'] = 'wait';
    if (framing === 'length-more') {
      headers.push(['Content-Length', String(body.length + rng.between(1, 1000))]);
      after = 'drop';
    } else if (framing === 'length-less') {
      headers.push(['Content-Length', String(Math.max(0, body.length - rng.between(1, Math.max(1, body.length))))]);
    }
    kinds.push(framing);
    const method = route.body.length ? route.method : rng.pick([route.method, 'POST', 'PUT', 'PATCH']);
    const target = this.fillPath(route, 0.05);
    const spec: RequestSpec = { method, target, headers: this.base(headers), body, framing: framing === 'chunked' ? 'chunked' : framing === 'length' ? 'length' : 'none', chunkSizes: [rng.between(1, 100), rng.between(1, 5000)] };
    return {
      title: `${method} ${route.template} ${auth.valid ? 'auth' : 'no-auth'} [${kinds.join(', ') || 'valid'}] ${type ?? 'no type'} ${body.length} bytes`,
      exchange: { chunks: after === 'drop' ? [encodeRequest(spec)] : this.split(encodeRequest(spec)), after, dropAfterMs: rng.between(10, 200), methods: [method] },
      answerDue: after === 'wait',
      creates: method === 'POST' && route.template === '/v1/notifications' && auth.valid ? 'notification' : undefined,
    };
  }

  // ---------------------------------------------------------------- query strings

  query(): Built {
    const { rng } = this;
    const route = this.route((r) => r.method === 'GET');
    const auth = this.auth(route.realm);
    const known = route.params.filter((p) => p.in === 'query').map((p) => p.name);
    const names = [...known, ...(known.length ? known : []), 'status', 'since', 'cursor', 'limit', 'month', 'attempt', 'token', '__proto__', 'constructor', 'x'];
    const valueFor = (name: string): string => {
      switch (name) {
        case 'status':
          return rng.pick(['ACCEPTED', 'accepted', 'RECEIVED', 'pending', 'dead', 'x', '', '%00', 'ACCEPTED%00']);
        case 'since':
          return pct(rng.pick(ODD_DATES));
        case 'cursor':
          return this.cursor();
        case 'limit':
          return pct(rng.pick(EDGE_NUMBERS));
        case 'month':
          return pct(rng.pick(ODD_MONTHS));
        case 'attempt':
          return rng.chance(0.5) ? rng.uuid() : pct(hostileString(rng));
        case 'token':
          return rng.chars(rng.between(0, 64));
        default:
          return pct(hostileString(rng));
      }
    };
    const pairs: string[] = [];
    const kinds: string[] = [];
    const n = rng.between(1, 4);
    for (let i = 0; i < n; i++) {
      const name = rng.pick(names);
      const kind = rng.pick(['plain', 'plain', 'repeated', 'array', 'object', 'deep', 'huge', 'non-utf8', 'bad-escape', 'empty-key', 'separators', 'proto']);
      kinds.push(`${name}:${kind}`);
      switch (kind) {
        case 'plain':
          pairs.push(`${name}=${valueFor(name)}`);
          break;
        case 'repeated':
          pairs.push(`${name}=${valueFor(name)}`, `${name}=${valueFor(name)}`);
          break;
        case 'array':
          pairs.push(`${name}[]=${valueFor(name)}`, `${name}[]=${valueFor(name)}`);
          break;
        case 'object':
          pairs.push(`${name}[x]=${valueFor(name)}`);
          break;
        case 'deep':
          pairs.push(`${name}${'[a]'.repeat(rng.pick([5, 50, 500]))}=1`);
          break;
        case 'huge':
          pairs.push(`${name}=${'v'.repeat(rng.pick([1000, 8000, 12_000, 20_000]))}`);
          break;
        case 'non-utf8':
          pairs.push(`${name}=${rng.pick(['%ff%fe', '%c0%80', '%ed%a0%80', '%80', '%f4%90%80%80', 'a%ffb'])}`);
          break;
        case 'bad-escape':
          pairs.push(`${name}=${rng.pick(['%', '%z', '%zz', '%u0041', '%%', '100%'])}`);
          break;
        case 'empty-key':
          pairs.push(rng.pick(['=x', '', '&', '==', `${name}`, `${name}=a=b`]));
          break;
        case 'separators':
          pairs.push(`${name}=${valueFor(name)};${name}=${valueFor(name)}`);
          break;
        case 'proto':
          pairs.push(rng.pick(['__proto__[polluted]=1', 'constructor[prototype][polluted]=1', '__proto__=x', 'hasOwnProperty=1', 'toString=1']));
          break;
      }
    }
    const target = `${this.fillPath(route, 0.05)}?${pairs.join('&')}`;
    const method = 'GET';
    const spec: RequestSpec = { method, target, headers: this.base(auth.headers) };
    return {
      title: `GET ${route.template} ${auth.valid ? 'auth' : 'no-auth'} [${kinds.join(', ')}] ${target.length} chars`,
      exchange: { chunks: [encodeRequest(spec)], after: 'wait', methods: [method] },
      answerDue: true,
    };
  }

  /** Pagination cursors: garbage, and base64url of JSON the service never wrote. */
  private cursor(): string {
    const { rng } = this;
    const b64 = (s: string | Buffer) => Buffer.from(s).toString(rng.chance(0.8) ? 'base64url' : 'base64').replace(/\+/g, '%2B').replace(/\//g, '%2F').replace(/=/g, '%3D');
    return rng.pick<() => string>([
      () => rng.chars(rng.between(0, 50), 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_'),
      () => b64('null'),
      () => b64('[]'),
      () => b64('[1,2]'),
      () => b64('["a"]'),
      () => b64('{"0":"a","1":"b"}'),
      () => b64('["2026-01-01T00:00:00.000Z","x\\u0000"]'),
      () => b64('["\\u0000","\\u0000"]'),
      () => b64(`["${'9'.repeat(5000)}","${rng.uuid()}"]`),
      () => b64('["2026-01-01T00:00:00.000Z",{"__proto__":{"x":1}}]'),
      () => b64(`["${new Date().toISOString()}","${rng.uuid()}"]`),
      () => b64(JSON.stringify([hostileString(rng), hostileString(rng)])),
      () => b64(rng.bytes(rng.between(1, 100))),
      () => b64(`${'['.repeat(5000)}${']'.repeat(5000)}`),
      () => '%ff%fe',
    ])();
  }

  // ---------------------------------------------------------------- paths

  path(): Built {
    const { rng } = this;
    let method: string;
    let target: string;
    let title: string;
    let headers: Header[];
    if (rng.chance(0.6)) {
      const route = this.route((r) => r.params.some((p) => p.in === 'path'));
      const auth = this.auth(route.realm);
      method = route.method;
      target = this.fillPath(route, 1);
      headers = [...auth.headers];
      title = `${method} ${route.template} ${auth.valid ? 'auth' : 'no-auth'} hostile params`;
      if (route.body.some((b) => b.type === 'application/json')) {
        const body = Buffer.from(toJson(sample(this.ctx.doc, route.body[0]!.schema, rng, this.hint)));
        const spec: RequestSpec = { method, target, headers: this.base([...headers, ['Content-Type', 'application/json']]), body };
        return { title: `${title} ${target.length} chars`, exchange: { chunks: [encodeRequest(spec)], after: 'wait', methods: [method] }, answerDue: true };
      }
    } else {
      const ids = this.ctx.ids;
      target = rng.pick([
        '/',
        '//',
        '/v1',
        '/v1/',
        '/v1/messages/',
        '//v1//messages',
        '/V1/MESSAGES',
        '/v1/messages/.',
        '/v1/messages/..',
        '/v1/./messages',
        '/v1/messages/%2e%2e/',
        '/v1/messages;jsessionid=1',
        '/v1/messages%00',
        '/v1/messages%2f',
        `/v1/messages/${ids.messageId}/`,
        `/v1/messages/${ids.messageId}/evidence/`,
        `/v1/messages/${ids.messageId}/evidence/${ids.evidenceId}/x`,
        `/v1/messages/${ids.messageId}/../${ids.messageId}`,
        `/v1/ebox/messages/${ids.eboxMessageId}/documents/`,
        `/v1/ebox/messages/${ids.eboxMessageId}/documents/0/x`,
        `/v1/messages/${'a'.repeat(10_000)}`,
        '/%',
        '/%zz',
        '/..%2f..%2f..%2fetc%2fpasswd',
        '/../../../../etc/passwd',
        '/tsa/',
        '/healthz/x',
        '/openapi.json/..',
        '/v1/admin',
        '/v1/admin/',
        '/v1/admin/x',
        '/v1/callbacks',
        '/v1/callbacks/unknown',
        '/.env',
        '/.git/config',
        '/favicon.ico',
        '/v2/messages',
        '/v1/messages/%E2%80%AE',
        '/v1/notifications/settings/x',
        '/v1/webhook/x',
        `/${'x/'.repeat(2000)}`,
      ]);
      method = rng.pick(['GET', 'GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS']);
      const realm: Realm = target.startsWith('/v1/admin') ? 'admin' : target.startsWith('/v1/ebox') ? 'recipient' : target.startsWith('/v1/') ? 'sender' : 'none';
      const auth = this.auth(realm);
      headers = [...auth.headers];
      title = `${method} ${target.slice(0, 80)}${target.length > 80 ? '…' : ''} ${auth.valid ? 'auth' : 'no-auth'} unknown path`;
    }
    const spec: RequestSpec = { method, target, headers: this.base(headers) };
    return { title: `${title} ${target.length} chars`, exchange: { chunks: [encodeRequest(spec)], after: 'wait', methods: [method] }, answerDue: true };
  }

  // ---------------------------------------------------------------- headers

  headers(): Built {
    const { rng, ctx } = this;
    const route = this.route();
    const auth = this.auth(route.realm);
    let headers: Header[] = [...auth.headers];
    let body: Buffer | undefined;
    if (route.body.some((b) => b.type === 'application/json')) {
      body = Buffer.from(toJson(sample(ctx.doc, route.body.find((b) => b.type === 'application/json')!.schema, rng, this.hint)));
      headers.push(['Content-Type', 'application/json']);
    } else if (route.body.some((b) => b.type === 'multipart/form-data')) {
      const boundary = 'hb';
      body = Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n${JSON.stringify({ recipient: { type: 'citizen', id: ctx.ids.recipientId }, subject: { nl: 'x' }, documents: [{ httpPartName: 'main', isMainContent: true }] })}\r\n--${boundary}\r\nContent-Disposition: form-data; name="main"; filename="a.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.7 header fuzz\r\n--${boundary}--\r\n`,
      );
      headers.push(['Content-Type', `multipart/form-data; boundary=${boundary}`]);
    } else if (route.body.length) {
      body = rng.bytes(rng.between(0, 200));
      headers.push(['Content-Type', route.body[0]!.type]);
    }
    const kinds: string[] = [];
    let host = true;
    let answerDue = true;
    const n = rng.between(1, 3);
    for (let i = 0; i < n; i++) {
      const kind = rng.pick([
        'huge', 'huge', 'too-large', 'many', 'dup-auth', 'dup-auth', 'auth-odd', 'idempotency', 'idempotency', 'accept', 'accept', 'range', 'content-type', 'forwarded',
        'prefer', 'conditional', 'expect', 'content-encoding', 'accept-encoding', 'cookie', 'host', 'transfer-encoding', 'upgrade', 'non-ascii', 'empty-values',
      ]);
      kinds.push(kind);
      switch (kind) {
        case 'huge':
          headers.push([rng.pick(['X-Pad', 'User-Agent', 'Referer', 'Accept-Language']), 'h'.repeat(rng.pick([1000, 8000, 14_000]))]);
          break;
        case 'too-large':
          headers.push(['X-Pad', 'h'.repeat(rng.pick([17_000, 64_000]))]);
          break;
        case 'many':
          for (let j = 0; j < rng.pick([50, 101, 500]); j++) headers.push([`X-H${j}`, String(j)]);
          break;
        case 'dup-auth': {
          const valid = auth.headers[0] ?? ['Authorization', `Bearer ${ctx.credentials.sender}`];
          const other: Header = ['Authorization', rng.pick([`Bearer ${ctx.credentials.otherSender}`, 'Bearer wrong', `Bearer ${ctx.credentials.admin}`, 'Basic eDp5'])];
          headers = headers.filter(([k]) => k.toLowerCase() !== 'authorization');
          headers.push(...(rng.chance(0.5) ? [valid, other] : [other, valid]));
          break;
        }
        case 'auth-odd':
          headers = headers.filter(([k]) => k.toLowerCase() !== 'authorization');
          headers.push([
            rng.pick(['Authorization', 'authorization', 'AUTHORIZATION', 'Authorisation', 'Proxy-Authorization']),
            rng.pick([`Bearer  ${ctx.credentials.sender}`, `Bearer ${ctx.credentials.sender} `, `  Bearer ${ctx.credentials.sender}`, `Bearer ${ctx.credentials.sender},Bearer x`, `Bearer "${ctx.credentials.sender}"`, 'Bearer null', 'Bearer undefined', 'Bearer __proto__']),
          ]);
          break;
        case 'idempotency':
          headers.push([
            'Idempotency-Key',
            rng.pick<string | Buffer>(['', '""', '"a\\"b"', '"\\', `"${'k'.repeat(200)}"`, 'k'.repeat(201), Buffer.from([0x80, 0xff]), 'a, b', ' ', '\t', rng.uuid(), '"x" "y"', '?0', ':cHJldGVuZA==:']),
          ]);
          if (rng.chance(0.3)) headers.push(['Idempotency-Key', rng.uuid()]);
          break;
        case 'accept':
          headers.push([
            'Accept',
            rng.pick(['', '*/*;q=0', 'application/json;q=0, */*;q=0', 'text/html', 'application/pkcs7-mime;q=abc', 'application/json;q=1.0001', ',,,,', 'application/json, '.repeat(500), '*/*;q=0.5;q=1', '*', 'application/*', 'image/png', 'application/problem+json']),
          ]);
          break;
        case 'range':
          headers.push(['Range', rng.pick(['bytes=0-0', 'bytes=-1', 'bytes=999999999999-', `bytes=${Array.from({ length: 1000 }, (_, j) => `${j}-${j}`).join(',')}`, 'items=0-1', 'bytes=5-1', 'bytes=', 'bytes=a-b'])]);
          break;
        case 'content-type':
          headers = headers.filter(([k]) => k.toLowerCase() !== 'content-type');
          headers.push(['Content-Type', oddMediaType(rng)]);
          break;
        case 'forwarded':
          headers.push([rng.pick(['X-Forwarded-For', 'Forwarded', 'X-Real-IP', 'X-Forwarded-Proto', 'X-Forwarded-Host']), rng.pick(['1.2.3.4', '127.0.0.1, 10.0.0.1', 'for=unknown', 'garbage', '', '::1', 'x'.repeat(4000), '1.2.3.4'.repeat(300)])]);
          break;
        case 'prefer':
          headers.push(['Prefer', rng.pick(['respond-async', 'respond-async, '.repeat(1000), 'wait=abc', 'wait=99999999999', 'return=minimal', 'handling=strict'])]);
          break;
        case 'conditional':
          headers.push([rng.pick(['If-None-Match', 'If-Match', 'If-Modified-Since', 'If-Unmodified-Since', 'If-Range']), rng.pick(['*', 'W/"x"', '"a", "b"', 'garbage', 'Tue, 31 Feb 2026 00:00:00 GMT', ''])]);
          break;
        case 'expect':
          headers.push(['Expect', rng.pick(['100-continue', 'garbage', '100-continue, 100-continue', ''])]);
          break;
        case 'content-encoding':
          headers.push(['Content-Encoding', rng.pick(['gzip', 'deflate', 'br', 'identity', 'x', 'gzip, deflate', ''])]);
          break;
        case 'accept-encoding':
          headers.push(['Accept-Encoding', rng.pick(['gzip', 'br;q=1.0, *;q=0', '*;q=0', 'identity;q=0', 'x'.repeat(5000)])]);
          break;
        case 'cookie':
          headers.push(['Cookie', rng.pick(['a=b', `s=${'c'.repeat(8000)}`, '__proto__=1', '=;;=;', 'a'.repeat(100)])]);
          break;
        case 'host':
          host = false;
          headers.push(...rng.pick<Header[]>([[], [['Host', '']], [['Host', 'evil.example']], [['Host', ctx.authority], ['Host', 'evil.example']], [['Host', '127.0.0.1:99999']], [['Host', '[::1']], [['Host', 'a'.repeat(3000)]]]));
          break;
        case 'transfer-encoding':
          headers.push(['Transfer-Encoding', rng.pick(['identity', 'gzip, chunked', 'chunked, chunked', 'chunked;q=1', 'x'])]);
          answerDue = false;
          break;
        case 'upgrade':
          headers.push(['Upgrade', rng.pick(['websocket', 'h2c', 'TLS/1.2', 'x'])], ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='], ['Sec-WebSocket-Version', '13'], ['HTTP2-Settings', 'AAMAAABkAAQAAP__']);
          headers = headers.map(([k, v]) => (k === 'Connection' ? [k, 'Upgrade'] : [k, v]));
          break;
        case 'non-ascii':
          headers.push([rng.pick(['X-Name', 'User-Agent', 'Accept-Language']), Buffer.from([0xc3, 0xa9, 0xff, 0xfe, 0x80])]);
          break;
        case 'empty-values':
          headers.push(['Accept', ''], ['Content-Language', ''], ['User-Agent', '']);
          break;
      }
    }
    const all: Header[] = host ? this.base(headers) : [...headers, ['Connection', 'close']];
    const method = route.method;
    const spec: RequestSpec = { method, target: this.fillPath(route, 0.05), headers: all, body, framing: body ? 'length' : 'none' };
    return {
      title: `${method} ${route.template} ${auth.valid ? 'auth' : 'no-auth'} [${kinds.join(', ')}]`,
      exchange: { chunks: [encodeRequest(spec)], after: answerDue ? 'wait' : 'end', methods: [method] },
      answerDue,
      creates: route.template === '/v1/messages' && method === 'POST' ? 'message' : route.template === '/v1/notifications' && method === 'POST' ? 'notification' : undefined,
    };
  }

  // ---------------------------------------------------------------- methods

  method(): Built {
    const { rng } = this;
    const route = this.route();
    const declared = methodsOf(this.ctx.doc, route.template);
    const candidates = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE', 'PROPFIND', 'MKCOL', 'LOCK', 'COPY', 'MOVE', 'PURGE', 'SEARCH', 'QUERY', 'LINK', 'get', 'Get', 'FOO', 'M-SEARCH'].filter(
      (m) => !declared.includes(m),
    );
    const method = rng.pick(candidates);
    const auth = this.auth(route.realm);
    const body = rng.chance(0.3) ? Buffer.from(toJson(sample(this.ctx.doc, route.body[0]?.schema, rng, this.hint))) : undefined;
    const headers: Header[] = [...auth.headers];
    if (body) headers.push(['Content-Type', rng.pick(['application/json', 'multipart/form-data; boundary=x', 'text/plain'])]);
    const spec: RequestSpec = { method, target: this.fillPath(route, 0.1), headers: this.base(headers), body };
    return {
      title: `${method} ${route.template} (declares ${declared.join(', ')}) ${auth.valid ? 'auth' : 'no-auth'}${body ? ' with body' : ''}`,
      exchange: { chunks: [encodeRequest(spec)], after: 'wait', methods: [method] },
      answerDue: true,
    };
  }

  // ---------------------------------------------------------------- raw sockets

  raw(): Built {
    const { rng, ctx } = this;
    const kind = rng.pick(['cut-open', 'cut-open', 'broken-chunked', 'broken-chunked', 'pipelined-garbage', 'pipelined', 'http10', 'absolute-form', 'header-injection', 'header-injection', 'smuggling', 'request-line', 'empty', 'slow', 'half-close']);
    const auth = (realm: Realm) => this.auth(realm).headers;
    const senderAuth = auth('sender');
    const b = (s: string) => Buffer.from(s, 'latin1');
    const simple = (method: string, target: string, headers: Header[], close = true) =>
      encodeRequest({ method, target, headers: [['Host', ctx.authority], ...headers, ...(close ? [['Connection', 'close'] as Header] : [])] });
    switch (kind) {
      case 'cut-open': {
        const route = this.route((r) => r.body.length > 0);
        const bodyType = route.body[0]!.type;
        const full = bodyType === 'application/json' ? Buffer.from(toJson(sample(ctx.doc, route.body[0]!.schema, rng, this.hint))) : this.pdf(rng.between(100, 200_000));
        const chunked = rng.chance(0.4);
        const head = encodeRequest({
          method: route.method,
          target: this.fillPath(route),
          headers: [['Host', ctx.authority], ...auth(route.realm), ['Content-Type', bodyType === 'multipart/form-data' ? 'multipart/form-data; boundary=cut' : bodyType], ...(chunked ? [['Transfer-Encoding', 'chunked'] as Header] : [['Content-Length', String(full.length + rng.between(0, 10_000))] as Header])],
        });
        const body = bodyType === 'multipart/form-data' ? Buffer.concat([b('--cut\r\nContent-Disposition: form-data; name="main"; filename="a.pdf"\r\nContent-Type: application/pdf\r\n\r\n'), full]) : full;
        const sent = body.subarray(0, rng.int(body.length));
        const payload = chunked ? Buffer.concat([b(`${(sent.length + rng.between(1, 5000)).toString(16)}\r\n`), sent]) : sent;
        return {
          title: `raw cut-open ${route.method} ${route.template}: ${sent.length} of ${body.length} body bytes${chunked ? ' (chunked)' : ''}, then dropped`,
          exchange: { chunks: [head, payload], after: 'drop', dropAfterMs: rng.between(5, 300), pauseMs: rng.between(0, 20), methods: [route.method] },
          answerDue: false,
        };
      }
      case 'broken-chunked': {
        const route = this.route((r) => r.body.length > 0);
        const head = encodeRequest({
          method: route.method,
          target: this.fillPath(route),
          headers: [['Host', ctx.authority], ...auth(route.realm), ['Content-Type', route.body[0]!.type === 'multipart/form-data' ? 'multipart/form-data; boundary=x' : route.body[0]!.type], ['Transfer-Encoding', 'chunked'], ['Connection', 'close']],
        });
        const broken = rng.pick([
          'zz\r\nhello\r\n0\r\n\r\n',
          '5\r\nhelloXX0\r\n\r\n',
          'ffffffffffffffffffff\r\nx\r\n',
          '-1\r\nx\r\n0\r\n\r\n',
          `5;${'e'.repeat(rng.pick([100, 20_000]))}\r\nhello\r\n0\r\n\r\n`,
          '5\r\nhello\r\n0\r\nX-Trailer: y\r\nbad trailer\r\n\r\n',
          ' 5\r\nhello\r\n0\r\n\r\n',
          '5\nhello\n0\n\n',
          '0x5\r\nhello\r\n0\r\n\r\n',
          '3\r\nhello\r\n0\r\n\r\n',
          '5\r\nhello\r\n',
          '\r\n\r\n',
          '5\r\nhe',
          '0\r\n',
          '1\r\n{\r\n0\r\n\r\n',
        ]);
        return {
          title: `raw broken-chunked ${route.method} ${route.template}: ${JSON.stringify(broken.slice(0, 40))}`,
          exchange: { chunks: [head, b(broken)], after: 'end', methods: [route.method] },
          answerDue: false,
        };
      }
      case 'pipelined-garbage': {
        const first = simple('GET', '/healthz', [], false);
        const garbage = rng.pick<() => Buffer>([() => rng.bytes(rng.between(1, 500)), () => b('GARBAGE\r\n\r\n'), () => b('GET /healthz HTTP/1.1\r\nHost\r\n\r\n'), () => b('\r\n\r\n\r\n'), () => b(`POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello${'GET / HTTP/1.1\r\n'}`)])();
        return { title: `raw pipelined GET /healthz then ${garbage.length} bytes of garbage`, exchange: { chunks: [Buffer.concat([first, garbage])], after: 'end', methods: ['GET', 'GET'] }, answerDue: false };
      }
      case 'pipelined': {
        const n = rng.between(2, 30);
        const reqs: Buffer[] = [];
        const methods: string[] = [];
        for (let i = 0; i < n; i++) {
          const route = this.route((r) => r.method === 'GET' || r.method === 'HEAD');
          const method = rng.chance(0.2) ? 'HEAD' : 'GET';
          methods.push(method);
          reqs.push(simple(method, this.fillPath(route), auth(route.realm), i === n - 1));
        }
        return { title: `raw ${n} pipelined GET/HEAD requests`, exchange: { chunks: [Buffer.concat(reqs)], after: 'wait', methods }, answerDue: true };
      }
      case 'http10': {
        const route = this.route((r) => r.method === 'GET');
        const v = rng.pick([
          () => b(`GET ${this.fillPath(route)} HTTP/1.0\r\n${headerText(auth(route.realm))}\r\n`),
          () => b(`GET ${this.fillPath(route)} HTTP/1.0\r\nConnection: keep-alive\r\n${headerText(auth(route.realm))}\r\nGET /healthz HTTP/1.0\r\n\r\n`),
          () => Buffer.concat([b(`POST /v1/messages HTTP/1.0\r\n${headerText(senderAuth)}Content-Type: multipart/form-data; boundary=x\r\n\r\n--x\r\n`), this.pdf(100)]),
          () => b(`GET ${this.fillPath(route)} HTTP/1.0\r\nTransfer-Encoding: chunked\r\n${headerText(auth(route.realm))}\r\n0\r\n\r\n`),
          () => b(`GET ${this.fillPath(route)}\r\n\r\n`),
        ])();
        return { title: `raw HTTP/1.0 ${route.template}: ${JSON.stringify(v.toString('latin1').slice(0, 60))}`, exchange: { chunks: [v], after: 'end', methods: ['GET', 'GET'] }, answerDue: false };
      }
      case 'absolute-form': {
        const route = this.route((r) => r.method === 'GET');
        const path = this.fillPath(route);
        const target = rng.pick([`http://${ctx.authority}${path}`, `http://evil.example${path}`, `https://${ctx.authority}${path}`, `//${ctx.authority}${path}`, '*', path.slice(1), `http://${ctx.authority}`, `${path}#fragment`, `${path}?`, `HTTP://${ctx.authority.toUpperCase()}${path}`]);
        const method = target === '*' ? rng.pick(['OPTIONS', 'GET']) : 'GET';
        return { title: `raw absolute-form ${method} ${target.slice(0, 80)}`, exchange: { chunks: [simple(method, target, auth(route.realm))], after: 'wait', methods: [method] }, answerDue: true };
      }
      case 'header-injection': {
        const v = rng.pick([
          `GET /healthz HTTP/1.1\r\nHost: ${ctx.authority}\r\nX-A: a\r\nb\r\nConnection: close\r\n\r\n`,
          `GET /healthz HTTP/1.1\nHost: ${ctx.authority}\nConnection: close\n\n`,
          `GET /healthz HTTP/1.1\rHost: ${ctx.authority}\rConnection: close\r\r`,
          `GET /healthz HTTP/1.1\r\nHost: ${ctx.authority}\r\nX-A: a\u0000b\r\nConnection: close\r\n\r\n`,
          `GET /healthz HTTP/1.1\r\nHost : ${ctx.authority}\r\nConnection: close\r\n\r\n`,
          `GET /healthz HTTP/1.1\r\nHost: ${ctx.authority}\r\nX-Folded: a\r\n  continued\r\nConnection: close\r\n\r\n`,
          `GET /healthz HTTP/1.1\r\nHost: ${ctx.authority}\r\nX(A): b\r\nConnection: close\r\n\r\n`,
          `GET /healthz HTTP/1.1\r\nHost: ${ctx.authority}\r\nNoColon\r\nConnection: close\r\n\r\n`,
          `GET /healthz HTTP/1.1\r\nHost: ${ctx.authority}\r\n: empty\r\nConnection: close\r\n\r\n`,
          `GET /healthz HTTP/1.1\r\nHost: ${ctx.authority}\r\n${'N'.repeat(20_000)}: v\r\nConnection: close\r\n\r\n`,
          `GET /v1/messages HTTP/1.1\r\nHost: ${ctx.authority}\r\nAuthorization: Bearer ${ctx.credentials.sender}\r\nIdempotency-Key: a\r\nX-Injected: b\r\nConnection: close\r\n\r\n`,
          `GET /v1/messages?x=%0d%0aSet-Cookie:%20a=b HTTP/1.1\r\nHost: ${ctx.authority}\r\nAuthorization: Bearer ${ctx.credentials.sender}\r\nConnection: close\r\n\r\n`,
          `GET /v1/messages/%0d%0aX-Injected:%201 HTTP/1.1\r\nHost: ${ctx.authority}\r\nAuthorization: Bearer ${ctx.credentials.sender}\r\nConnection: close\r\n\r\n`,
          `GET /healthz HTTP/1.1\r\nHost: ${ctx.authority}\r\nX-\u00e9: v\r\nConnection: close\r\n\r\n`,
        ]);
        return { title: `raw header injection: ${JSON.stringify(v.slice(0, 90))}`, exchange: { chunks: [b(v)], after: 'end', methods: ['GET'] }, answerDue: false };
      }
      case 'smuggling': {
        const a = headerText(senderAuth);
        const v = rng.pick([
          `POST /v1/messages HTTP/1.1\r\nHost: x\r\n${a}Content-Length: 4\r\nTransfer-Encoding: chunked\r\nContent-Type: multipart/form-data; boundary=x\r\n\r\n0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n`,
          `POST /v1/webhook HTTP/1.1\r\nHost: x\r\n${a}Content-Length: 5\r\nContent-Length: 6\r\nContent-Type: application/json\r\n\r\n{"a":1}`,
          `PUT /v1/webhook HTTP/1.1\r\nHost: x\r\n${a}Content-Length: 7\r\nContent-Length: 7\r\nContent-Type: application/json\r\n\r\n{"a":1}`,
          `PUT /v1/webhook HTTP/1.1\r\nHost: x\r\n${a}Content-Length: -1\r\nContent-Type: application/json\r\n\r\n{}`,
          `PUT /v1/webhook HTTP/1.1\r\nHost: x\r\n${a}Content-Length: 1e1\r\nContent-Type: application/json\r\n\r\n{}`,
          `PUT /v1/webhook HTTP/1.1\r\nHost: x\r\n${a}Content-Length: +2\r\nContent-Type: application/json\r\n\r\n{}`,
          `PUT /v1/webhook HTTP/1.1\r\nHost: x\r\n${a}Content-Length: 2, 2\r\nContent-Type: application/json\r\n\r\n{}`,
          `PUT /v1/webhook HTTP/1.1\r\nHost: x\r\n${a}Content-Length: 99999999999999999999\r\nContent-Type: application/json\r\n\r\n{}`,
          `PUT /v1/webhook HTTP/1.1\r\nHost: x\r\n${a}Transfer-Encoding: xchunked\r\nContent-Type: application/json\r\n\r\n2\r\n{}\r\n0\r\n\r\n`,
          `PUT /v1/webhook HTTP/1.1\r\nHost: x\r\n${a}Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\nContent-Type: application/json\r\n\r\n2\r\n{}\r\n0\r\n\r\n`,
          `PUT /v1/webhook HTTP/1.1\r\nHost: x\r\n${a}Transfer-Encoding:\tchunked\r\nContent-Type: application/json\r\n\r\n2\r\n{}\r\n0\r\n\r\n`,
          `GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 30\r\n\r\nGET /v1/admin/jobs HTTP/1.1\r\n\r\n`,
        ]);
        return { title: `raw smuggling shape: ${JSON.stringify(v.replace(a, 'Authorization: …\r\n').slice(0, 100))}`, exchange: { chunks: [b(v)], after: 'end', methods: ['POST', 'GET'] }, answerDue: false };
      }
      case 'request-line': {
        const v = rng.pick<() => Buffer>([
          () => rng.bytes(rng.between(1, 2000)),
          () => Buffer.from('16030100a5010000a10303' + '00'.repeat(32), 'hex'),
          () => b('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
          () => b('GET / HTTP/9.9\r\nHost: x\r\n\r\n'),
          () => b('GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n'),
          () => b('GET  /healthz  HTTP/1.1\r\nHost: x\r\n\r\n'),
          () => b('GET /healthz http/1.1\r\nHost: x\r\n\r\n'),
          () => b(`GET /${'a'.repeat(rng.pick([20_000, 100_000]))} HTTP/1.1\r\nHost: x\r\n\r\n`),
          () => b('\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
          () => b('\r\n\r\n'),
          () => b('GET\r\n\r\n'),
          () => b('GET /healthz\tHTTP/1.1\r\nHost: x\r\n\r\n'),
          () => b('GET /heal\u0000thz HTTP/1.1\r\nHost: x\r\n\r\n'),
          () => b('GET /héalthz HTTP/1.1\r\nHost: x\r\n\r\n'),
          () => Buffer.concat([b('GET /'), Buffer.from([0xff, 0xfe, 0x80]), b(' HTTP/1.1\r\nHost: x\r\n\r\n')]),
          () => b('CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n'),
        ])();
        return { title: `raw request line: ${JSON.stringify(v.toString('latin1').slice(0, 60))} (${v.length} bytes)`, exchange: { chunks: [v], after: 'end', methods: ['GET'] }, answerDue: false };
      }
      case 'empty':
        return { title: 'raw connection closed without a byte', exchange: { chunks: [], after: rng.chance(0.5) ? 'end' : 'drop', dropAfterMs: rng.between(1, 50), methods: [] }, answerDue: false };
      case 'slow': {
        const route = this.route((r) => r.method === 'GET');
        const bytes = simple('GET', this.fillPath(route), auth(route.realm));
        const pieces: Buffer[] = [];
        const size = rng.between(1, 16);
        for (let i = 0; i < bytes.length; i += size) pieces.push(bytes.subarray(i, i + size));
        return { title: `raw GET ${route.template} in ${pieces.length} pieces of ${size} bytes`, exchange: { chunks: pieces, pauseMs: 1, after: 'wait', methods: ['GET'] }, answerDue: true };
      }
      default: {
        const route = this.route();
        const body = route.body.length ? Buffer.from(toJson(sample(ctx.doc, route.body[0]!.schema, rng, this.hint))) : undefined;
        const bytes = encodeRequest({ method: route.method, target: this.fillPath(route), headers: [['Host', ctx.authority], ...auth(route.realm), ...(body ? [['Content-Type', route.body[0]!.type] as Header] : [])], body });
        return { title: `raw ${route.method} ${route.template} then half-close`, exchange: { chunks: [bytes], after: 'end', methods: [route.method] }, answerDue: false };
      }
    }
  }
}

const bombs = new Map<number, Buffer>();

/** `{"a":"aaaa…"}` of `mib` MiB, gzipped (a few KiB): made once per size. */
function gzipBomb(mib: number): Buffer {
  let b = bombs.get(mib);
  if (!b) {
    b = gzipSync(Buffer.concat([Buffer.from('{"a":"'), Buffer.alloc(mib * 1024 * 1024, 0x61), Buffer.from('"}')]));
    bombs.set(mib, b);
  }
  return b;
}

/** Percent-encodes the UTF-8 bytes of `s` but unreserved characters (lone surrogates become U+FFFD, where encodeURIComponent throws). */
function pct(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) out += /[A-Za-z0-9\-._~]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

function headerText(headers: Header[]): string {
  return headers.map(([k, v]) => `${k}: ${Buffer.isBuffer(v) ? v.toString('latin1') : v}\r\n`).join('');
}
