/**
 * One HTTP request through node:http, for what fetch cannot send: the same header twice
 * (fetch joins the values into one line, node:http writes one line per value).
 */
import { request } from 'node:http';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export function nodeRequest(url: string, method: string, headers: Array<[string, string]>, body?: Uint8Array | string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method });
    for (const [name, value] of headers) {
      const had = req.getHeader(name);
      req.setHeader(name, had === undefined ? value : [...(Array.isArray(had) ? had : [String(had)]), value]);
    }
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
