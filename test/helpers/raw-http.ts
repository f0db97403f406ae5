/**
 * HTTP over a bare socket, for requests no well-behaved client would send: bodies cut short,
 * chunked encodings that stop, connections dropped mid-upload.
 */
import net from 'node:net';

export interface RawAnswer {
  /** undefined when the connection closed before any answer */
  status?: number;
  headers: Record<string, string>;
  body: string;
  /** everything received, as text */
  raw: string;
}

export interface RawRequestOptions {
  /**
   * after writing: 'wait' (default) keeps the connection open until one whole answer has come;
   * 'end' half-closes (FIN: Node's server then treats the request as abandoned); 'destroy'
   * drops the connection at once
   */
  after?: 'end' | 'destroy' | 'wait';
  /** give up waiting for an answer after this long (the connection is destroyed) */
  timeoutMs?: number;
  /** pause between chunks */
  pauseMs?: number;
}

/** Writes `chunks` to host:port, then reads whatever comes back until the server closes or the time is up. */
/** Writes `chunks` in order (a promised chunk is awaited: the rest of a body sent later). */
export function rawRequest(url: string, chunks: Array<string | Buffer | Promise<string | Buffer>>, options: RawRequestOptions = {}): Promise<RawAnswer> {
  const { port, hostname } = new URL(url);
  const after = options.after ?? 'wait';
  return new Promise((resolve) => {
    const socket = net.connect({ port: Number(port), host: hostname, allowHalfOpen: true });
    const received: Buffer[] = [];
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(parseAnswer(Buffer.concat(received).toString('latin1')));
    };
    const timer = setTimeout(finish, options.timeoutMs ?? 10_000);
    socket.on('data', (d) => {
      received.push(d);
      if (after === 'wait' && answerComplete(Buffer.concat(received).toString('latin1'))) finish();
    });
    socket.on('end', finish);
    socket.on('close', finish);
    socket.on('error', finish);
    socket.on('connect', async () => {
      for (const c of chunks) {
        const chunk = await c;
        if (socket.destroyed) return;
        socket.write(chunk);
        if (options.pauseMs) await new Promise((r) => setTimeout(r, options.pauseMs));
      }
      if (after === 'end') socket.end();
      else if (after === 'destroy') {
        // let the bytes leave before the reset
        await new Promise((r) => setTimeout(r, 50));
        finish();
      }
    });
  });
}

/** Whether `raw` holds one whole answer (by its Content-Length, or the last chunk of a chunked one). */
function answerComplete(raw: string): boolean {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const head = raw.slice(0, end);
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (length) return raw.length - end - 4 >= Number(length[1]);
  if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) return raw.endsWith('\r\n0\r\n\r\n');
  return false;
}

function parseAnswer(raw: string): RawAnswer {
  const m = /^HTTP\/1\.[01] (\d{3})[^\r\n]*\r\n([\s\S]*?)\r\n\r\n([\s\S]*)$/.exec(raw);
  if (!m) return { headers: {}, body: '', raw };
  const headers: Record<string, string> = {};
  for (const line of m[2]!.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  let body = m[3]!;
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) body = dechunk(body);
  return { status: Number(m[1]), headers, body, raw };
}

function dechunk(s: string): string {
  let out = '';
  let rest = s;
  for (;;) {
    const m = /^([0-9a-fA-F]+)[^\r\n]*\r\n/.exec(rest);
    if (!m) return out;
    const n = parseInt(m[1]!, 16);
    if (n === 0) return out;
    out += rest.slice(m[0].length, m[0].length + n);
    rest = rest.slice(m[0].length + n + 2);
  }
}

/** A multipart body's pieces: the metadata part and the head of one document part (its bytes follow). */
export function multipartHead(boundary: string, metadataJson: string, partName = 'main', fileName = 'doc.pdf', type = 'application/pdf'): string {
  return (
    `--${boundary}\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n${metadataJson}\r\n` +
    `--${boundary}\r\nContent-Disposition: form-data; name="${partName}"; filename="${fileName}"\r\nContent-Type: ${type}\r\n\r\n`
  );
}

export function requestHead(path: string, headers: Record<string, string | number>): string {
  return `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n')}\r\n\r\n`;
}
