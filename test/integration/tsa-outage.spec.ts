/**
 * The TSA goes down (answers 503) for a while: submissions keep being accepted (202,
 * durable), and every proof appears once it is back.
 */
import { expect } from 'chai';
import { onPostgres } from '../helpers/database.js';
import { startHttpTsa, type HttpTsa } from '../helpers/http-tsa.js';
import { metadata, pdfBytes, startTestService, submit, VALID_INSZ, waitForMessage, type TestService } from '../helpers/service.js';

describe(`TSA outage (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, () => {
  let svc: TestService;
  let tsaServer: HttpTsa;
  let down = true;
  let refused = 0;

  before(async () => {
    tsaServer = await startHttpTsa((res) => {
      if (!down) return false;
      refused++;
      res.writeHead(503, { 'retry-after': '1' }).end('down for maintenance');
      return true;
    });
    svc = await startTestService({ TSA_URL: tsaServer.url, SUBMIT_WAIT_MS: '300', CHECKPOINT_INTERVAL_MS: '3600000' });
    await svc.newRecipient('citizen', VALID_INSZ);
  });
  after(async () => {
    await svc?.close();
    await tsaServer?.close();
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
