/**
 * The handover is the recipient getting the document: a download broken off midway records
 * none; the first complete one records it (DocumentOpened, ContentHandover proof).
 */
import http from 'node:http';
import { expect } from 'chai';
import { onPostgres } from '../helpers/database.js';
import { metadata, pdfBytes, startTestService, submit, VALID_INSZ, waitForMessage, type TestService } from '../helpers/service.js';

describe(`handover on a broken-off download (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, function () {
  this.timeout(120_000);
  let svc: TestService;
  before(async () => {
    svc = await startTestService({ MAX_DOCUMENT_BYTES: String(40 * 1024 * 1024) });
  });
  after(async () => svc?.close());

  it('records no handover for a download the recipient breaks off, and records it for the first complete one', async () => {
    const { apiKey } = await svc.newSender();
    const token = await svc.newRecipient('citizen', VALID_INSZ);
    const doc = pdfBytes(32 * 1024 * 1024, 21);
    const res = await submit(svc, apiKey, metadata(), [{ name: 'main', content: doc }]);
    const { id } = await res.json();
    await waitForMessage(svc, apiKey, id, (m) => m.status === 'DEPOSITED');
    const entry = (await (await fetch(`${svc.url}/v1/ebox/messages`, { headers: { authorization: `Bearer ${token}` } })).json()).items[0];
    const url = `${svc.url}/v1/ebox/messages/${entry.id}/documents/0`;

    // the first chunk, then the connection dropped
    const received = await new Promise<number>((resolve) => {
      const req = http.get(url, { headers: { authorization: `Bearer ${token}` }, agent: false }, (r) => {
        let n = 0;
        r.once('data', (d: Buffer) => {
          n += d.length;
          req.destroy();
          resolve(n);
        });
      });
      req.on('error', () => undefined);
    });
    expect(received).to.be.below(doc.length);
    // give a service that records it anyway every chance to
    await new Promise((r) => setTimeout(r, 1000));
    const after = await (await fetch(`${svc.url}/v1/messages/${id}`, { headers: { authorization: `Bearer ${apiKey}` } })).json();
    expect(after.status, 'no handover for a broken-off download').to.equal('DEPOSITED');
    expect(after.events.map((e: { type: string }) => e.type)).to.not.include('DocumentOpened');

    const full = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    expect(full.status).to.equal(200);
    expect((await full.arrayBuffer()).byteLength).to.equal(doc.length);
    const consulted = await waitForMessage(svc, apiKey, id, (m) => m.status === 'CONSULTED' && m.evidence.some((e: { type: string }) => e.type === 'ContentHandover'));
    expect(consulted.events.filter((e: { type: string }) => e.type === 'DocumentOpened')).to.have.length(1);
  });
});
