/**
 * An external RFC 3161 TSA that misbehaves on demand: an HTTP server (what TSA_URL points
 * at) in front of the project's own TimeStampAuthority, signing with the development
 * PKI's TSA key, so that a token it grants is one the proofs' verifier accepts.
 *
 * Modes:
 *   serve          answers as a TSA should
 *   reject         a TimeStampResp with PKIStatus rejection (failInfo systemFailure)
 *   hang           takes the request and never answers (beyond TSA_TIMEOUT_MS)
 *   http-500       HTTP 500, no TimeStampResp
 *   garbage        200 application/timestamp-reply whose body is not DER
 *   wrong-imprint  a valid token, granted, for other data (another message imprint)
 *   wrong-nonce    a valid token for the right data with another nonce
 *
 * Counts what it answered in each mode, and how many tokens it granted in `serve`.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { TimeStampAuthority } from '../../src/crypto/index.js';
import { encodeTimeStampReq, parseTimeStampReq } from '../../src/crypto/TimeStampReq.js';
import { encodeTimeStampResp } from '../../src/crypto/TimeStampResp.js';

export const TSA_FAULTS = ['reject', 'hang', 'http-500', 'garbage', 'wrong-imprint', 'wrong-nonce'] as const;
export type TsaFault = (typeof TSA_FAULTS)[number];
export type TsaMode = 'serve' | TsaFault;

export class FaultyTsa {
  private server: http.Server | undefined;
  private readonly held = new Set<http.ServerResponse>();
  mode: TsaMode = 'serve';
  url = '';
  readonly answered: Record<TsaMode, number> = { serve: 0, reject: 0, hang: 0, 'http-500': 0, garbage: 0, 'wrong-imprint': 0, 'wrong-nonce': 0 };

  constructor(private readonly tsa: TimeStampAuthority) {}

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('error', () => res.destroy());
      req.on('end', () => void this.answer(new Uint8Array(Buffer.concat(chunks)), res).catch(() => res.destroy()));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/tsr`;
    return this.url;
  }

  /** Sets the mode; leaving `hang` lets go of the requests held (their connections are dropped). */
  set(mode: TsaMode): void {
    this.mode = mode;
    if (mode !== 'hang') {
      for (const res of this.held) res.destroy();
      this.held.clear();
    }
  }

  private async answer(request: Uint8Array, res: http.ServerResponse): Promise<void> {
    const mode = this.mode;
    this.answered[mode]++;
    const reply = (body: Uint8Array) => void res.writeHead(200, { 'content-type': 'application/timestamp-reply' }).end(Buffer.from(body));
    switch (mode) {
      case 'serve':
        return reply(await this.tsa.respond(request));
      case 'reject':
        return reply(encodeTimeStampResp({ status: 'rejection', statusString: 'fault injected: the TSA refuses', failInfo: ['systemFailure'] }));
      case 'hang':
        this.held.add(res);
        res.on('close', () => this.held.delete(res));
        return;
      case 'http-500':
        res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error');
        return;
      case 'garbage':
        return reply(randomBytes(200));
      case 'wrong-imprint':
      case 'wrong-nonce': {
        const req = parseTimeStampReq(request);
        const other =
          mode === 'wrong-imprint'
            ? { ...req, messageImprint: { ...req.messageImprint, hashedMessage: new Uint8Array(createHash('sha256').update(randomBytes(32)).digest()) } }
            : { ...req, nonce: (req.nonce ?? 0n) + 1n };
        return reply(await this.tsa.respond(encodeTimeStampReq(other)));
      }
    }
  }

  async close(): Promise<void> {
    this.set('serve');
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
