/**
 * An RFC 3161 TSA over HTTP for the tests that need one they can take down or make hang: the
 * built-in TSA's code with the test development PKI's TSA key, behind a node:http server.
 * `intercept` sees each request's response first: it answers it (a 503), keeps it (a TSA that
 * never answers) and returns true, or returns false to have the token served.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { ensureDevPki, loadSigningIdentity, TimeStampAuthority } from '../../src/crypto/index.js';
import { TEST_CERTS_DIR } from './paths.js';

export interface HttpTsa {
  /** what TSA_URL should be */
  url: string;
  server: http.Server;
  close(): Promise<void>;
}

export async function startHttpTsa(intercept: (res: http.ServerResponse) => boolean = () => false, policyOid = '2.25.1'): Promise<HttpTsa> {
  const pki = await ensureDevPki(path.join(TEST_CERTS_DIR, 'p256'), 'ECDSA-P256');
  const tsa = new TimeStampAuthority(await loadSigningIdentity({ keyFile: pki.tsaKey, certFile: pki.tsaCert, chainFile: pki.root }), { policyOid });
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      if (intercept(res)) return;
      const reply = await tsa.respond(new Uint8Array(Buffer.concat(chunks)));
      res.writeHead(200, { 'content-type': 'application/timestamp-reply' }).end(Buffer.from(reply));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/tsr`,
    server,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
