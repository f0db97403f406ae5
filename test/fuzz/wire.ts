/**
 * HTTP/1.1 on a bare socket, byte for byte: the fuzzer writes requests no client library
 * would send (duplicated or injected header lines, bodies that disagree with their framing,
 * broken chunked encodings, garbage after a request) and reads back every answer the
 * server gives, or notes that none came.
 */
import net from 'node:net';

export type Header = readonly [name: string, value: string | Buffer];

export interface RequestSpec {
  method: string;
  /** the request-target as sent (origin-form, absolute-form, `*`…), bytes allowed */
  target: string | Buffer;
  version?: string;
  headers: Header[];
  body?: Buffer;
  /**
   * how the body is framed: `length` adds a Content-Length (unless one is in `headers`),
   * `chunked` adds Transfer-Encoding: chunked and cuts the body in `chunkSizes`, `none` adds nothing
   */
  framing?: 'length' | 'chunked' | 'none';
  chunkSizes?: number[];
}

/** The bytes of one request. */
export function encodeRequest(spec: RequestSpec): Buffer {
  const version = spec.version ?? 'HTTP/1.1';
  const body = spec.body ?? Buffer.alloc(0);
  const framing = spec.framing ?? (body.length > 0 ? 'length' : 'none');
  const headers = [...spec.headers];
  const has = (n: string) => headers.some(([k]) => k.toLowerCase() === n);
  if (framing === 'length' && !has('content-length')) headers.push(['Content-Length', String(body.length)]);
  if (framing === 'chunked' && !has('transfer-encoding')) headers.push(['Transfer-Encoding', 'chunked']);
  const parts: Buffer[] = [Buffer.from(`${spec.method} `, 'latin1'), Buffer.isBuffer(spec.target) ? spec.target : Buffer.from(spec.target, 'latin1'), Buffer.from(` ${version}\r\n`, 'latin1')];
  for (const [k, v] of headers) parts.push(Buffer.from(`${k}: `, 'latin1'), Buffer.isBuffer(v) ? v : Buffer.from(v, 'latin1'), Buffer.from('\r\n'));
  parts.push(Buffer.from('\r\n'));
  parts.push(framing === 'chunked' ? chunk(body, spec.chunkSizes) : body);
  return Buffer.concat(parts);
}

/** A body in chunked transfer coding, cut at the given sizes (the rest in one chunk), with its last chunk. */
export function chunk(body: Buffer, sizes: number[] = []): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  for (const n of [...sizes, Infinity]) {
    if (at >= body.length) break;
    const piece = body.subarray(at, Math.min(body.length, at + Math.max(1, n)));
    at += piece.length;
    out.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
  }
  out.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(out);
}

export interface Exchange {
  /** written in order, with `pauseMs` between them */
  chunks: Buffer[];
  pauseMs?: number;
  /**
   * after the last chunk: `wait` reads until the server closes the connection (requests
   * ask for Connection: close); `end` half-closes first; `drop` waits `dropAfterMs` and
   * resets the connection, with the request left unfinished
   */
  after: 'wait' | 'end' | 'drop';
  dropAfterMs?: number;
  /** the methods of the requests in order, to know which answers carry no body (HEAD) */
  methods: string[];
}

export interface ParsedResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface Outcome {
  responses: ParsedResponse[];
  /** everything received, as latin1 text */
  raw: string;
  /** who ended the exchange: the server (close or reset), the client (drop), or the time limit */
  end: 'server' | 'client' | 'timeout';
  ms: number;
}

export function exchange(port: number, ex: Exchange, timeoutMs: number): Promise<Outcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const received: Buffer[] = [];
    let settled = false;
    let writing = true;
    const finish = (end: Outcome['end']) => {
      if (settled) return;
      settled = true;
      writing = false;
      clearTimeout(timer);
      socket.destroy();
      const raw = Buffer.concat(received).toString('latin1');
      resolve({ responses: parseResponses(raw, ex.methods), raw, end, ms: Date.now() - started });
    };
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    socket.on('data', (d) => received.push(d));
    socket.on('end', () => finish('server'));
    socket.on('close', () => finish('server'));
    socket.on('error', () => finish('server'));
    socket.on('connect', async () => {
      for (const c of ex.chunks) {
        if (!writing || socket.destroyed) return;
        await new Promise<void>((r) => (socket.write(c) ? r() : socket.once('drain', r).once('close', r)));
        if (ex.pauseMs) await new Promise((r) => setTimeout(r, ex.pauseMs));
      }
      if (!writing || socket.destroyed) return;
      if (ex.after === 'end') socket.end();
      else if (ex.after === 'drop') setTimeout(() => finish('client'), ex.dropAfterMs ?? 50);
    });
  });
}

/** Every answer in `raw`, in order: framed by Content-Length or chunked coding, else to the end. */
export function parseResponses(raw: string, methods: string[]): ParsedResponse[] {
  const out: ParsedResponse[] = [];
  let at = 0;
  let request = 0;
  while (at < raw.length) {
    const m = /^HTTP\/\d\.\d (\d{3})[^\r\n]*\r\n/.exec(raw.slice(at, at + 200));
    if (!m) break;
    const headEnd = raw.indexOf('\r\n\r\n', at);
    if (headEnd < 0) {
      out.push({ status: Number(m[1]), headers: {}, body: '' });
      break;
    }
    const headers: Record<string, string> = {};
    for (const line of raw.slice(at + m[0].length, headEnd).split('\r\n')) {
      const i = line.indexOf(':');
      if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    const status = Number(m[1]);
    let bodyStart = headEnd + 4;
    let body = '';
    if (status >= 100 && status < 200) {
      out.push({ status, headers, body });
      at = bodyStart;
      continue;
    }
    const method = methods[request++] ?? 'GET';
    if (method === 'HEAD' || status === 204 || status === 304) {
      at = bodyStart;
    } else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      for (;;) {
        const lineEnd = raw.indexOf('\r\n', bodyStart);
        if (lineEnd < 0) {
          bodyStart = raw.length;
          break;
        }
        const n = parseInt(raw.slice(bodyStart, lineEnd), 16);
        if (!(n > 0)) {
          bodyStart = raw.indexOf('\r\n', lineEnd + 2) >= 0 ? raw.indexOf('\r\n', lineEnd + 2) + 2 : raw.length;
          break;
        }
        body += raw.slice(lineEnd + 2, lineEnd + 2 + n);
        bodyStart = lineEnd + 2 + n + 2;
      }
      at = bodyStart;
    } else if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length']);
      body = raw.slice(bodyStart, bodyStart + n);
      at = bodyStart + n;
    } else {
      body = raw.slice(bodyStart);
      at = raw.length;
    }
    out.push({ status, headers, body });
  }
  return out;
}
