/**
 * An RFC 3161 TSA over HTTP for the evidence-record tests: the built-in TSA's code with a key
 * the test chooses and may change while the service runs (a second TSA taking over), and the
 * imprint of every request it answered, so that a test can count the time-stamps asked for a
 * tree's root.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { TimeStampAuthority, type SigningIdentity } from '../../src/crypto/index.js';
import { parseTimeStampReq } from '../../src/crypto/TimeStampReq.js';

export interface RecordTsa {
  url: string;
  /** hex of each request's messageImprint, in the order answered */
  imprints: string[];
  /** while true, every request is answered 503 (an outage) */
  down: boolean;
  /** answers with this identity from now on */
  use(identity: SigningIdentity): void;
  close(): Promise<void>;
}

export async function startRecordTsa(identity: SigningIdentity, policyOid = '2.25.4998'): Promise<RecordTsa> {
  let tsa = new TimeStampAuthority(identity, { policyOid });
  const imprints: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      if (handle.down) return void res.writeHead(503).end('down');
      const body = new Uint8Array(Buffer.concat(chunks));
      try {
        imprints.push(Buffer.from(parseTimeStampReq(body).messageImprint.hashedMessage).toString('hex'));
      } catch {
        // the TSA answers a malformed request itself
      }
      const reply = await tsa.respond(body);
      res.writeHead(200, { 'content-type': 'application/timestamp-reply' }).end(Buffer.from(reply));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const handle: RecordTsa = {
    down: false,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/tsr`,
    imprints,
    use(next) {
      tsa = new TimeStampAuthority(next, { policyOid });
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  return handle;
}
