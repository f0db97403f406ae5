/** Small HTTP helpers shared by the provider simulators (node:http, JSON bodies). */
import type { IncomingMessage, ServerResponse } from 'node:http';

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
