/** What the provider simulators share: their HTTP server's life cycle and JSON helpers (node:http). */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signBody } from '../../src/notifications/CallbackSignature.js';

/** Reads the whole request body; a body over `limit` bytes destroys the request. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) req.destroy(new Error('body too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The body as a JSON object, or undefined when it is not one. */
export function parseObject(body: Buffer): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(body.toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Answers with `value` as JSON (no body when `value` is undefined). */
export function json(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  if (value === undefined) {
    res.writeHead(status, headers).end();
    return;
  }
  const text = JSON.stringify(value);
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

/**
 * What the provider simulators share: a node:http server on a given port (0: any), timers
 * that `stop` cancels (delayed receipts), and requests deliberately left hanging that `stop`
 * destroys. A subclass answers in `handle`; a handler that throws is a 500 with `errorBody`.
 */
export abstract class SimulatorServer {
  private server: Server | undefined;
  protected readonly timers = new Set<NodeJS.Timeout>();
  protected readonly hanging = new Set<ServerResponse>();
  url = '';

  protected abstract handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  protected abstract errorBody(err: unknown): unknown;

  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err) => {
        if (!res.headersSent) json(res, 500, this.errorBody(err));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    const addr = server.address() as AddressInfo;
    this.url = `http://${host.includes(':') ? `[${host}]` : host}:${addr.port}`;
    return this.url;
  }

  /** Whether the server is listening (a receipt loop gives up once it stops). */
  protected get running(): boolean {
    return this.server !== undefined;
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /**
   * POSTs a signed callback (a receipt, a delivery report) as a provider would: up to four
   * attempts with growing pauses until an answer that is not a 5xx, given up when the
   * simulator stops. `record.outcome` follows the last answer (status or error message).
   */
  protected async postSigned(url: string, signatureHeader: string, secret: string, body: string, record: { outcome: number | string }): Promise<number | string> {
    for (let attempt = 0; attempt < 4; attempt++) {
      if (attempt > 0) await new Promise((r) => this.later(50 * 2 ** attempt, () => r(undefined)));
      if (!this.running) return record.outcome;
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', [signatureHeader]: signBody(secret, body) },
          body,
          signal: AbortSignal.timeout(5000),
        });
        await res.arrayBuffer();
        record.outcome = res.status;
        if (res.ok || (res.status >= 400 && res.status < 500)) return res.status;
      } catch (err) {
        record.outcome = (err as Error).message;
      }
    }
    return record.outcome;
  }

  /** Runs `fn` after `ms`, unless the simulator stops first. */
  protected later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }
}
