/**
 * A letter's first proof sealed at intake (SUBMIT_SEAL=intake, the default): the message, its
 * events, the proof and the `deposit` job are written in the intake's one transaction, and
 * the 201 carries them as written. When the proof cannot be sealed within SUBMIT_WAIT_MS (a TSA
 * that does not answer), the message commits RECEIVED with an `accept` job instead, answered
 * 202, and the job seals the one proof it gets once the TSA answers. A proof sealed for a
 * transaction that does not commit is never stored nor given out.
 */
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { onPostgres } from '../helpers/database.js';
import { startHttpTsa, type HttpTsa } from '../helpers/http-tsa.js';
import { metadata, pdfBytes, startTestService, submit, VALID_INSZ, waitForMessage, type TestService } from '../helpers/service.js';

describe(`first proof sealed at intake (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, function () {
  this.timeout(60_000);
  let svc: TestService;
  let tsa: HttpTsa;
  /** TSA requests held without an answer while true */
  let hang = false;
  const held: http.ServerResponse[] = [];
  let apiKey: string;

  before(async () => {
    tsa = await startHttpTsa((res) => {
      if (!hang) return false;
      held.push(res);
      return true;
    });
    svc = await startTestService({ TSA_URL: tsa.url, SUBMIT_WAIT_MS: '1500', WEBHOOK_ALLOW_PRIVATE_TARGETS: '127.0.0.1/32' });
    ({ apiKey } = await svc.newSender('Intake sender'));
    await svc.newRecipient('citizen', VALID_INSZ);
  });

  after(async () => {
    for (const res of held.splice(0)) res.destroy();
    await svc?.close();
    await tsa?.close();
  });

  async function jobTypes(messageId: string): Promise<string[]> {
    return (await svc.rt.store.jobs.listForMessage(messageId)).map((j) => j.type).sort();
  }

  it('writes message, events, proof and deposit job in one transaction, and answers 201 with what it wrote', async () => {
    const res = await submit(svc, apiKey, metadata({ senderReference: 'INTAKE-1' }), [{ name: 'main', content: pdfBytes(4000, 1) }]);
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).to.equal(201);
    expect(body.status).to.equal('ACCEPTED');
    expect(body.evidence.map((e: { type: string }) => e.type)).to.deep.equal(['SubmissionAcceptance']);
    expect(res.headers.get('location')).to.equal(`/v1/messages/${body.id}`);
    // the answer is what the database holds for the proof
    const stored = await svc.rt.store.evidence.listForMessage(body.id);
    expect(stored.map((e) => e.id)).to.deep.equal(body.evidence.map((e: { id: string }) => e.id));
    // no `accept` job: the intake decided
    expect(await jobTypes(body.id)).to.not.include('accept');
    const events = await svc.rt.store.events.listForMessage(body.id);
    expect(events.map((e) => e.type).slice(0, 2)).to.deep.equal(['MessageReceived', 'SubmissionAcceptance']);
    expect(events[1]!.data).to.include({ evidenceId: stored[0]!.id, evidenceSha256: stored[0]!.sha256, status: 'ACCEPTED' });
    // and the letter goes on by its deposit job
    const m = await waitForMessage(svc, apiKey, body.id, (x) => x.status === 'DEPOSITED');
    expect(m.evidence.map((e: { type: string }) => e.type)).to.deep.equal(['SubmissionAcceptance', 'ContentConsignment']);
    expect(m.events.map((e: { type: string }) => e.type).slice(0, 3)).to.deep.equal(['MessageReceived', 'SubmissionAcceptance', 'ContentConsignment']);
  });

  it('rejects an unknown recipient at intake: 201 REJECTED with its SubmissionRejection, and no deposit', async () => {
    const res = await submit(svc, apiKey, metadata({ recipient: { type: 'enterprise', id: '0428759497' } }), [{ name: 'main', content: pdfBytes(3000, 2) }]);
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).to.equal(201);
    expect(body.status).to.equal('REJECTED');
    expect(body.evidence.map((e: { type: string }) => e.type)).to.deep.equal(['SubmissionRejection']);
    expect(await jobTypes(body.id)).to.deep.equal([]);
    const events = await svc.rt.store.events.listForMessage(body.id);
    expect(events.map((e) => e.type)).to.deep.equal(['MessageReceived', 'SubmissionRejection']);
  });

  it("lists the sender's webhook delivery of the new status in the 201", async () => {
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const hooked = await svc.newSender('Hooked intake sender');
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      const put = await fetch(`${svc.url}/v1/webhook`, { method: 'PUT', headers: { authorization: `Bearer ${hooked.apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ url }) });
      expect(put.status).to.equal(200);
      const res = await submit(svc, hooked.apiKey, metadata(), [{ name: 'main', content: pdfBytes(2000, 3) }]);
      const body = await res.json();
      expect(res.status, JSON.stringify(body)).to.equal(201);
      expect(body.callbacks).to.have.length(1);
      expect(body.callbacks[0]).to.include({ evidenceId: body.evidence[0].id, status: 'ACCEPTED' });
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('a TSA that does not answer within SUBMIT_WAIT_MS: 202 RECEIVED, then one proof by the accept job once it answers', async () => {
    hang = true;
    let res: Response;
    try {
      res = await submit(svc, apiKey, metadata({ senderReference: 'INTAKE-HUNG' }), [{ name: 'main', content: pdfBytes(2500, 4) }]);
    } finally {
      hang = false;
    }
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).to.equal(202);
    expect(body.status).to.equal('RECEIVED');
    expect(body.evidence).to.deep.equal([]);
    expect(held.length).to.be.greaterThan(0);
    // the intake's own try, still waiting for its token, gets it now: nothing of it is kept
    for (const r of held.splice(0)) r.destroy();
    const m = await waitForMessage(svc, apiKey, body.id, (x) => x.status === 'DEPOSITED');
    expect(m.evidence.map((e: { type: string }) => e.type)).to.deep.equal(['SubmissionAcceptance', 'ContentConsignment']);
    expect(m.events.filter((e: { type: string }) => e.type === 'SubmissionAcceptance')).to.have.length(1);
    expect((await svc.rt.store.jobs.listForMessage(body.id)).find((j) => j.type === 'accept')?.status).to.equal('done');
  });

  it('with Prefer: respond-async the intake does not seal: 202 at once, the accept job seals', async () => {
    const res = await submit(svc, apiKey, metadata(), [{ name: 'main', content: pdfBytes(2000, 5) }], { prefer: 'respond-async' });
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).to.equal(202);
    expect(res.headers.get('preference-applied')).to.equal('respond-async');
    expect(await jobTypes(body.id)).to.include('accept');
    await waitForMessage(svc, apiKey, body.id, (x) => x.status === 'DEPOSITED');
  });

  it('two requests with one Idempotency-Key, both sealed: one message, one proof stored', async () => {
    const key = `intake-race-${Date.now()}`;
    const parts = [{ name: 'main', content: pdfBytes(2000, 6) }];
    const answers = await Promise.all(Array.from({ length: 4 }, () => submit(svc, apiKey, metadata({ senderReference: 'INTAKE-RACE' }), parts, { 'idempotency-key': key })));
    const bodies = await Promise.all(answers.map((r) => r.json()));
    const ids = new Set(bodies.map((b) => b.id));
    expect(ids.size, JSON.stringify(bodies.map((b) => b.code ?? b.status))).to.equal(1);
    const [id] = [...ids] as string[];
    const m = await waitForMessage(svc, apiKey, id!, (x) => x.status === 'DEPOSITED');
    expect(m.evidence.map((e: { type: string }) => e.type)).to.deep.equal(['SubmissionAcceptance', 'ContentConsignment']);
    // the proofs the losing requests sealed were never recorded
    const acceptances = await svc.rt.store.db('evidence').where({ type: 'SubmissionAcceptance' }).join('messages', 'messages.id', 'evidence.message_id').where('messages.sender_reference', 'INTAKE-RACE');
    expect(acceptances).to.have.length(1);
  });
});
