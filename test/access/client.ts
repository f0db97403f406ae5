/**
 * The access suite's HTTP(S) client. It can send what fetch cannot: the same header on two
 * lines, and a TLS client certificate. One keep-alive agent per TLS identity (no client
 * certificate, or one of the test certificates), so that a connection authenticated with
 * one certificate never carries another caller's request.
 */
import http from 'node:http';
import https from 'node:https';

export interface TlsIdentity {
  name: string;
  cert?: Buffer;
  key?: Buffer;
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** body as text (latin1: every byte stays one character, for searching binary bodies too) */
  text: string;
}

export interface Request {
  method: string;
  /** path and query */
  path: string;
  /** header lines in order; a name given twice is sent on two lines */
  headers?: Array<[string, string]>;
  body?: Buffer;
  tls?: TlsIdentity;
}

export class Client {
  private readonly agents = new Map<string, http.Agent>();

  constructor(
    readonly baseUrl: string,
    /** the server certificate to trust, over TLS */
    private readonly ca?: Buffer,
  ) {}

  private agent(identity: TlsIdentity | undefined): http.Agent {
    const name = identity?.name ?? '';
    let agent = this.agents.get(name);
    if (!agent) {
      agent = this.baseUrl.startsWith('https:')
        ? new https.Agent({ keepAlive: true, maxSockets: 4, ca: this.ca, cert: identity?.cert, key: identity?.key })
        : new http.Agent({ keepAlive: true, maxSockets: 4 });
      this.agents.set(name, agent);
    }
    return agent;
  }

  send(req: Request): Promise<Answer> {
    const url = new URL(req.path, this.baseUrl);
    const lib = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const r = lib.request(url, { method: req.method, agent: this.agent(req.tls) });
      for (const [name, value] of req.headers ?? []) {
        const had = r.getHeader(name);
        r.setHeader(name, had === undefined ? value : [...(Array.isArray(had) ? had : [String(had)]), value]);
      }
      if (req.body !== undefined) r.setHeader('content-length', String(req.body.length));
      r.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString('latin1') });
        });
        res.on('error', reject);
      });
      r.on('error', reject);
      r.end(req.body);
    });
  }

  close(): void {
    for (const a of this.agents.values()) a.destroy();
    this.agents.clear();
  }
}

/** A distinct client address per request (TEST-NET-2 and the benchmarking range), sent as X-Forwarded-For to a service that trusts loopback proxies. */
export class Addresses {
  private n = 0;
  next(): string {
    const i = this.n++;
    return `198.${18 + ((i >> 16) & 1)}.${(i >> 8) & 0xff}.${i & 0xff}`;
  }
}
