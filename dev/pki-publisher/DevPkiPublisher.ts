/**
 * The development PKI's publisher: a node:http server that serves the root's CRL at
 * `/pki/root.crl` (DER, application/pkix-crl), where the development certificates'
 * cRLDistributionPoints point (DEV_CRL_URL, http://127.0.0.1:8079/pki/root.crl). With
 * SEAL_REVOCATION=crl the service fetches it at every seal (CAdES-B-LT, docs/revocation.md).
 *
 * The on-disk development PKI keeps no root private key (DevPki.ts), so no fresh CRL can be
 * issued for it: the publisher serves the file `root.crl` written with the PKI (read at each
 * request, so a replaced file is served at once; its nextUpdate is ten years on). An
 * in-memory PKI, which keeps the root's key, can hand the publisher any CRL it issues (tests).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const CRL_PATH = '/pki/root.crl';

export class DevPkiPublisher {
  private server: Server | undefined;
  url = '';
  /** requests answered, for tests and the log */
  served = 0;
  /** while true, every request gets 503 (an outage of the distribution point, for tests) */
  down = false;

  constructor(private crl: () => Uint8Array | Promise<Uint8Array>) {}

  /** Serves another CRL from now on. */
  publish(crl: () => Uint8Array | Promise<Uint8Array>): void {
    this.crl = crl;
  }

  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { allow: 'GET, HEAD' }).end();
      if (path !== CRL_PATH) return void res.writeHead(404).end();
      if (this.down) return void res.writeHead(503, { 'retry-after': '1' }).end();
      Promise.resolve()
        .then(() => this.crl())
        .then(
          (der) => {
            this.served++;
            res.writeHead(200, { 'content-type': 'application/pkix-crl', 'content-length': der.length, 'cache-control': 'no-cache' }).end(req.method === 'HEAD' ? undefined : der);
          },
          () => res.writeHead(500).end(),
        );
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

  get crlUrl(): string {
    return `${this.url}${CRL_PATH}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
