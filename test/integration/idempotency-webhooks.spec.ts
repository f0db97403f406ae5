import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { GENESIS_HASH, verifyEventChain, checkpointImprintData } from '../../src/domain/EventChain.js';
import { parseTimeStampToken } from '../../src/crypto/index.js';
import { verifyWebhookSignature } from '../../src/registered-mail/webhooks.js';
import { onPostgres } from '../helpers/database.js';
import { nodeRequest } from '../helpers/node-request.js';
import { metadata, pdfBytes, startTestService, submit, VALID_INSZ, waitForMessage, type TestService } from '../helpers/service.js';

describe(`Idempotency-Key, webhooks and the event log (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, () => {
  let svc: TestService;
  let sender: { id: string; apiKey: string };

  before(async () => {
    // the webhook test's receiver listens on loopback, which webhooks may not reach by default
    svc = await startTestService({ WEBHOOK_ALLOW_PRIVATE_TARGETS: '127.0.0.1/32' });
    sender = await svc.newSender('Idempotent sender');
    await svc.newRecipient('citizen', VALID_INSZ);
  });
  after(async () => svc?.close());

  const countMessages = async () => Number((await svc.rt.store.db('messages').where({ sender_id: sender.id }).count({ n: '*' }).first())?.n);

  it('a retry with the same key and body returns the first answer; never a second message', async () => {
    const doc = pdfBytes(4000, 5);
    const key = '"7f0c3a52-9d0e-4a57-8a4e-3c1d2b6f9e10"';
    const first = await submit(svc, sender.apiKey, metadata(), [{ name: 'main', content: doc }], { 'idempotency-key': key });
    expect(first.status).to.equal(201);
    const a = await first.json();
    const before = await countMessages();
    const again = await submit(svc, sender.apiKey, metadata(), [{ name: 'main', content: doc }], { 'idempotency-key': key });
    expect(again.status).to.equal(201);
    expect(again.headers.get('idempotent-replayed')).to.equal('true');
    expect((await again.json()).id).to.equal(a.id);
    expect(await countMessages()).to.equal(before);
  });

  it('the same key with a different body is a 409 that names the first message', async () => {
    const key = 'key-409-' + Date.now();
    const first = await submit(svc, sender.apiKey, metadata(), [{ name: 'main', content: pdfBytes(100, 1) }], { 'idempotency-key': key });
    const a = await first.json();
    const before = await countMessages();
    const other = await submit(svc, sender.apiKey, metadata(), [{ name: 'main', content: pdfBytes(100, 2) }], { 'idempotency-key': key });
    expect(other.status).to.equal(409);
    const problem = await other.json();
    expect(problem.code).to.equal('IDEMPOTENCY_KEY_REUSED');
    expect(problem.messageId).to.equal(a.id);
    expect(await countMessages()).to.equal(before);
  });

  it('concurrent identical requests with one key make one message', async () => {
    const key = 'race-' + Date.now();
    const doc = pdfBytes(50_000, 9);
    const answers = await Promise.all(Array.from({ length: 6 }, () => submit(svc, sender.apiKey, metadata(), [{ name: 'main', content: doc }], { 'idempotency-key': key })));
    const ids = new Set<string>();
    for (const r of answers) {
      expect(r.status).to.be.oneOf([201, 202]);
      ids.add((await r.json()).id);
    }
    expect(ids.size).to.equal(1);
    const rows = await svc.rt.store.db('idempotency_keys').where({ key });
    expect(rows).to.have.length(1);
  });

  it('keys are scoped per sender, and a malformed key is refused', async () => {
    const other = await svc.newSender('Other idempotent sender');
    const key = 'shared-key-' + Date.now();
    const a = await (await submit(svc, sender.apiKey, metadata(), [{ name: 'main', content: 'x' }], { 'idempotency-key': key })).json();
    const b = await (await submit(svc, other.apiKey, metadata(), [{ name: 'main', content: 'x' }], { 'idempotency-key': key })).json();
    expect(a.id).to.not.equal(b.id);
    const bad = await submit(svc, sender.apiKey, metadata(), [{ name: 'main', content: 'x' }], { 'idempotency-key': 'x'.repeat(201) });
    expect(bad.status).to.equal(400);
    expect((await bad.json()).code).to.equal('IDEMPOTENCY_KEY_INVALID');
  });

  it('two Idempotency-Key header lines are refused: 400 IDEMPOTENCY_KEY_INVALID, nothing kept', async () => {
    const form = new FormData();
    form.append('metadata', JSON.stringify(metadata()));
    form.append('main', new Blob([new Uint8Array(pdfBytes(300, 3))], { type: 'application/pdf' }), 'main.pdf');
    const encoded = new Request('http://127.0.0.1/', { method: 'POST', body: form });
    const body = new Uint8Array(await encoded.arrayBuffer());
    const before = await countMessages();
    // Node would join the lines into one value "k, k": a key that is neither of them
    for (const lines of [
      [['Idempotency-Key', 'dup-1'], ['Idempotency-Key', 'dup-1']],
      [['Idempotency-Key', 'dup-2'], ['idempotency-key', 'dup-3']],
    ]) {
      const res = await nodeRequest(`${svc.url}/v1/messages`, 'POST', [['authorization', `Bearer ${sender.apiKey}`], ['content-type', encoded.headers.get('content-type')!], ...(lines as Array<[string, string]>)], body);
      expect(res.status, JSON.stringify(lines)).to.equal(400);
      expect(JSON.parse(res.body).code).to.equal('IDEMPOTENCY_KEY_INVALID');
    }
    expect(await countMessages()).to.equal(before);
    expect(await svc.rt.store.db('idempotency_keys').where({ sender_id: sender.id }).whereLike('key', 'dup-%')).to.have.length(0);
  });

  it('POSTs each status change to the sender\'s webhook with a valid HMAC, retrying failures', async () => {
    const received: Array<{ body: any; valid: boolean }> = [];
    let failuresLeft = 2;
    let secret = '';
    const server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (d) => (raw += d));
      req.on('end', () => {
        if (failuresLeft-- > 0) {
          res.writeHead(503).end();
          return;
        }
        received.push({ body: JSON.parse(raw), valid: verifyWebhookSignature(secret, String(req.headers['webhook-signature']), raw) });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const hooked = await svc.newSender('Hooked sender');
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      const put = await fetch(`${svc.url}/v1/webhook`, { method: 'PUT', headers: { authorization: `Bearer ${hooked.apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ url }) });
      expect(put.status).to.equal(200);
      secret = (await put.json()).secret;
      const bad = await fetch(`${svc.url}/v1/webhook`, { method: 'PUT', headers: { authorization: `Bearer ${hooked.apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ url: 'ftp://x' }) });
      expect(bad.status).to.equal(422);

      const { id } = await (await submit(svc, hooked.apiKey, metadata(), [{ name: 'main', content: pdfBytes(300) }])).json();
      const m = await waitForMessage(svc, hooked.apiKey, id, (x) => x.callbacks.length === 2 && x.callbacks.every((c: any) => c.delivery === 'done'));
      expect(received.map((r) => r.body.status).sort()).to.deep.equal(['ACCEPTED', 'DEPOSITED']);
      expect(received.every((r) => r.valid)).to.equal(true);
      expect(m.callbacks.reduce((n: number, c: any) => n + c.attempts, 0)).to.equal(4); // two failed attempts, then two deliveries
      expect(verifyWebhookSignature('wrong-secret', 't=1,v1=' + '0'.repeat(64), '{}')).to.equal(false);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('chains every event row to the one before; editing or deleting a row is detected', async () => {
    const rows = await svc.rt.store.events.range(1);
    expect(rows.length).to.be.greaterThan(5);
    expect(rows[0]!.prevHash).to.equal(GENESIS_HASH);
    expect(verifyEventChain(rows)).to.equal(undefined);

    const victim = rows[3]!;
    const edited = rows.map((r) => (r.seq === victim.seq ? { ...r, data: { ...r.data, tampered: true } } : r));
    expect(verifyEventChain(edited)).to.deep.include({ kind: 'HASH_MISMATCH', seq: victim.seq });
    const retyped = rows.map((r) => (r.seq === victim.seq ? { ...r, type: 'ContentHandover' } : r));
    expect(verifyEventChain(retyped)?.seq).to.equal(victim.seq);
    const deleted = rows.filter((r) => r.seq !== victim.seq);
    expect(verifyEventChain(deleted)).to.deep.include({ kind: 'SEQUENCE_GAP', seq: victim.seq + 1 });
    // deleting a row and renumbering the rest still breaks the chain
    const renumbered = deleted.map((r) => (r.seq > victim.seq ? { ...r, seq: r.seq - 1 } : r));
    expect(verifyEventChain(renumbered)?.seq).to.equal(victim.seq);

    // and the same in the database itself
    await svc.rt.store.db('events').where({ seq: victim.seq }).update({ data: JSON.stringify({ rewritten: true }) });
    expect(verifyEventChain(await svc.rt.store.events.range(1))).to.deep.include({ kind: 'HASH_MISMATCH', seq: victim.seq });
    await svc.rt.store.db('events').where({ seq: victim.seq }).update({ data: JSON.stringify(victim.data) });
    expect(verifyEventChain(await svc.rt.store.events.range(1))).to.equal(undefined);
  });

  it('time-stamps the head of the log as a checkpoint', async () => {
    expect(await svc.rt.maintenance.checkpoint()).to.equal(true);
    const cp = (await svc.rt.store.checkpoints.latest())!;
    const head = (await svc.rt.store.events.head())!;
    expect(cp.eventSeq).to.equal(head.seq);
    expect(cp.headHash).to.equal(head.hash);
    const token = parseTimeStampToken(cp.token);
    expect(Buffer.from(token.messageImprint.hashedMessage).toString('hex')).to.equal(createHash('sha256').update(checkpointImprintData(head.seq, head.hash)).digest('hex'));
    expect(await svc.rt.maintenance.checkpoint()).to.equal(false); // nothing new since
  });
});
