/**
 * The TSA goes down (answers 503) for a while: submissions keep being accepted (202,
 * durable), and every proof appears once it is back.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { expect } from 'chai';
import { ensureDevPki, loadSigningIdentity, TimeStampAuthority } from '../../src/crypto/index.js';
import { onPostgres } from '../helpers/database.js';
import { TEST_CERTS_DIR } from '../helpers/paths.js';
import { metadata, pdfBytes, startTestService, submit, VALID_INSZ, waitForMessage, type TestService } from '../helpers/service.js';

describe(`TSA outage (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, () => {
  let svc: TestService;
  let tsaServer: http.Server;
  let down = true;
  let refused = 0;

  before(async () => {
    const pki = await ensureDevPki(path.join(TEST_CERTS_DIR, 'p256'), 'ECDSA-P256');
    const tsa = new TimeStampAuthority(await loadSigningIdentity({ keyFile: pki.tsaKey, certFile: pki.tsaCert, chainFile: pki.root }), { policyOid: '2.25.1' });
    tsaServer = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', async () => {
        if (down) {
          refused++;
          res.writeHead(503, { 'retry-after': '1' }).end('down for maintenance');
          return;
        }
        const reply = await tsa.respond(new Uint8Array(Buffer.concat(chunks)));
        res.writeHead(200, { 'content-type': 'application/timestamp-reply' }).end(Buffer.from(reply));
      });
    });
    await new Promise<void>((r) => tsaServer.listen(0, '127.0.0.1', r));
    svc = await startTestService({ TSA_URL: `http://127.0.0.1:${(tsaServer.address() as AddressInfo).port}/tsr`, SUBMIT_WAIT_MS: '300', CHECKPOINT_INTERVAL_MS: '3600000' });
    await svc.newRecipient('citizen', VALID_INSZ);
  });
  after(async () => {
    await svc?.close();
    await new Promise<void>((r) => tsaServer.close(() => r()));
  });

  it('accepts during the outage and produces every proof after it', async () => {
    const { apiKey } = await svc.newSender('Outage sender');
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await submit(svc, apiKey, metadata({ senderReference: `OUT-${i}` }), [{ name: 'main', content: pdfBytes(2000 + i, i + 1) }]);
      expect(res.status).to.equal(202);
      const body = await res.json();
      expect(body.status).to.equal('RECEIVED');
      expect(body.evidence).to.deep.equal([]);
      ids.push(body.id);
    }
    // still nothing sealed while the TSA refuses
    await new Promise((r) => setTimeout(r, 300));
    expect(refused).to.be.greaterThan(0);
    for (const id of ids) expect((await waitForMessage(svc, apiKey, id, () => true)).status).to.equal('RECEIVED');

    down = false;
    for (const id of ids) {
      const m = await waitForMessage(svc, apiKey, id, (x) => x.status === 'DEPOSITED');
      expect(m.evidence.map((e: any) => e.type)).to.deep.equal(['SubmissionAcceptance', 'ContentConsignment']);
    }
    // no message's work was given up (a periodic checkpoint that met the outage is simply redone in a later slot)
    const dead = await svc.rt.store.jobs.list({ status: 'dead' });
    expect(dead.filter((j) => j.messageId !== null)).to.deep.equal([]);
  });
});
