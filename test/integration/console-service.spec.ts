/**
 * The service behind the sender's console (src/registered-mail/console.ts), on a real
 * service and database: filters (status, period, reference, recipient), keyset paging that
 * stays stable while messages arrive, another sender's messages never visible whatever the
 * filter, a message's timeline (events, proofs, notifications, webhook deliveries), the
 * month's usage, and the bundle of a selection — a tar the system's `tar` reads, whose
 * manifest names the SHA-256 of each proof, refused past 500 messages.
 * Runs on SQLite, and on PostgreSQL with TEST_DATABASE_URL.
 */
import { createHash, randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ServiceError } from '../../src/domain/errors.js';
import type { MessageRecord } from '../../src/domain/records.js';
import type { ConsoleFilter } from '../../src/registered-mail/index.js';
import { onPostgres } from '../helpers/database.js';
import { metadata, pdfBytes, startTestService, submit, VALID_INSZ, VALID_KBO, waitForMessage, type TestService } from '../helpers/service.js';

describe(`The sender's console: service (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, function () {
  this.timeout(120_000);
  let svc: TestService;
  let receiver: http.Server;
  let work: string;
  let a: { id: string; apiKey: string };
  let b: { id: string; apiKey: string };
  const ids: Record<string, string> = {};

  const send = async (sender: { apiKey: string }, overrides: Record<string, unknown>) => {
    const res = await submit(svc, sender.apiKey, metadata(overrides), [{ name: 'main', content: pdfBytes(1500, Object.keys(ids).length + 1) }]);
    expect(res.status).to.equal(201);
    const id = (await res.json()).id as string;
    await waitForMessage(svc, sender.apiKey, id, (m) => m.status === 'DEPOSITED');
    return id;
  };
  const filter = (q: Record<string, unknown>): ConsoleFilter => svc.rt.senderConsole.parseQuery(q);
  const list = async (senderId: string, q: Record<string, unknown>): Promise<MessageRecord[]> => (await svc.rt.senderConsole.messages(senderId, filter(q))).items;
  const code = async (p: Promise<unknown> | (() => unknown)): Promise<string> => {
    try {
      await (typeof p === 'function' ? p() : p);
    } catch (err) {
      if (err instanceof ServiceError) return err.code;
      throw err;
    }
    throw new Error('no error');
  };

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-console-'));
    // a webhook receiver that always fails: deliveries are retried and their failure class recorded
    receiver = http.createServer((req, res) => req.resume().on('end', () => res.writeHead(503).end()));
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    svc = await startTestService({ WEBHOOK_ALLOW_PRIVATE_TARGETS: '127.0.0.1/32', WEBHOOK_MAX_ATTEMPTS: '2' });
    a = await svc.newSender('Sender A');
    b = await svc.newSender('Sender B');
    await svc.newRecipient('citizen', VALID_INSZ);
    await svc.newRecipient('enterprise', VALID_KBO);
    await svc.rt.webhooks.configure(a.id, `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`);
    ids.a1 = await send(a, { senderReference: 'FILE-1' });
    ids.a2 = await send(a, { senderReference: 'FILE-2', recipient: { type: 'enterprise', id: VALID_KBO } });
    ids.a3 = await send(a, { senderReference: 'FILE-1' });
    ids.b1 = await send(b, { senderReference: 'FILE-1' });
  });
  after(async () => {
    await svc?.close();
    await new Promise((r) => receiver?.close(r));
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('lists the sender\'s own messages, newest first, filtered by reference, recipient, status and period', async () => {
    expect((await list(a.id, {})).map((m) => m.id)).to.deep.equal([ids.a3, ids.a2, ids.a1]);
    expect((await list(a.id, { reference: 'FILE-1' })).map((m) => m.id)).to.deep.equal([ids.a3, ids.a1]);
    expect((await list(a.id, { recipientType: 'enterprise', recipientId: '0403.019.261' })).map((m) => m.id)).to.deep.equal([ids.a2]);
    expect((await list(a.id, { recipientType: 'citizen', recipientId: VALID_INSZ, reference: 'FILE-2' })).map((m) => m.id)).to.deep.equal([]);
    expect((await list(a.id, { status: 'DEPOSITED' })).length).to.equal(3);
    expect((await list(a.id, { status: 'CONSULTED' })).length).to.equal(0);
    const today = new Date().toISOString().slice(0, 10);
    expect((await list(a.id, { from: today, to: today })).length).to.equal(3);
    expect((await list(a.id, { to: '2000-01-01' })).length).to.equal(0);
    const second = (await svc.rt.store.messages.findById(ids.a2))!.submittedAt;
    // from is inclusive, to (a date-time) exclusive
    expect((await list(a.id, { from: second })).map((m) => m.id)).to.deep.equal([ids.a3, ids.a2]);
    expect((await list(a.id, { to: second })).map((m) => m.id)).to.deep.equal([ids.a1]);
    // empty fields of a GET form are no condition
    expect((await list(a.id, { status: '', reference: ' ', from: '' })).length).to.equal(3);
  });

  it('never shows another sender\'s message, whatever the filter', async () => {
    expect((await list(b.id, { reference: 'FILE-1' })).map((m) => m.id)).to.deep.equal([ids.b1]);
    expect((await list(a.id, { reference: 'FILE-1', recipientType: 'citizen', recipientId: VALID_INSZ })).map((m) => m.id)).to.not.include(ids.b1);
    // fields that are not the console's are ignored, not obeyed
    expect((await list(a.id, { senderId: b.id, sender_id: b.id })).map((m) => m.id)).to.not.include(ids.b1);
    expect(await code(svc.rt.senderConsole.timeline(a.id, ids.b1))).to.equal('NOT_FOUND');
    expect(await code(svc.rt.senderConsole.proof(a.id, ids.b1, randomUUID()))).to.equal('NOT_FOUND');
    const bProof = (await svc.rt.senderConsole.timeline(b.id, ids.b1)).proofs[0]!;
    expect(await code(svc.rt.senderConsole.proof(a.id, ids.b1, bProof.id))).to.equal('NOT_FOUND');
    expect(await code(svc.rt.senderConsole.proof(a.id, ids.a1, bProof.id))).to.equal('NOT_FOUND');
  });

  it('refuses a malformed filter with QUERY_INVALID', async () => {
    for (const q of [
      { status: 'LOST' },
      { from: '2026-02-30' },
      { from: 'yesterday' },
      { from: '2026-05-02', to: '2026-05-01' },
      { recipientType: 'planet', recipientId: '1' },
      { recipientId: VALID_INSZ },
      { recipientType: 'citizen' },
      { limit: '0' },
      { limit: '1000' },
      { cursor: 'bm90IGEgY3Vyc29y' },
      { reference: ['a', 'b'] },
      { reference: 'x\u0000y' },
    ]) {
      expect(await code(() => filter(q)), JSON.stringify(q)).to.equal('QUERY_INVALID');
    }
  });

  it('pages by keyset: a page continues after the last one seen, even when messages arrive in between', async () => {
    const first = await svc.rt.senderConsole.messages(a.id, filter({ limit: '2' }));
    expect(first.items.map((m) => m.id)).to.deep.equal([ids.a3, ids.a2]);
    expect(first.cursor).to.be.a('string');
    ids.a4 = await send(a, { senderReference: 'FILE-4' });
    const second = await svc.rt.senderConsole.messages(a.id, filter({ limit: '2', cursor: first.cursor }));
    expect(second.items.map((m) => m.id)).to.deep.equal([ids.a1]);
    expect(second.cursor).to.equal(undefined);
    // the new message leads a fresh first page
    expect((await list(a.id, { limit: '1' })).map((m) => m.id)).to.deep.equal([ids.a4]);
  });

  it('tells a message\'s timeline: events in order, each proof with its type and time, notifications, webhook deliveries', async () => {
    // a notification of the message as the notification engine records it (channel, status)
    const now = new Date().toISOString();
    const nid = randomUUID();
    await svc.rt.store.notifications.insert({
      id: nid, senderId: a.id, messageId: ids.a1, recipientType: 'citizen', recipientId: VALID_INSZ, phone: null, strategy: 'SMS_ONLY', status: 'DELIVERED', reason: null,
      language: 'nl', title: null, html: null, sms: 'x', smsEncoding: 'GSM-7', smsParts: 1, template: 'registered-mail', reference: null, sendAt: null, validUntil: null,
      batchId: null, batchRow: null, createdAt: now, updatedAt: now,
    });
    await svc.rt.store.notifications.insertAttempt({
      id: randomUUID(), notificationId: nid, channel: 'SMS', status: 'DELIVERED', reason: null, provider: 'test', providerRef: null, units: 1, targets: {},
      sentAt: now, deliveredAt: now, readAt: null, deferredUntil: null, handedOverAt: now, createdAt: now, updatedAt: now,
    });
    let t = await svc.rt.senderConsole.timeline(a.id, ids.a1);
    const deadline = Date.now() + 30_000;
    while (!(t.webhooks.length > 0 && t.webhooks.every((w) => w.delivery === 'dead')) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      t = await svc.rt.senderConsole.timeline(a.id, ids.a1);
    }
    expect(t.message.id).to.equal(ids.a1);
    expect(t.documents.map((d) => d.partName)).to.deep.equal(['main']);
    const seqs = t.events.map((e) => e.seq);
    expect(seqs).to.deep.equal([...seqs].sort((x, y) => x - y));
    expect(t.events.length).to.be.greaterThan(1);
    expect(t.proofs.map((p) => p.type)).to.deep.equal(['SubmissionAcceptance', 'ContentConsignment']);
    for (const p of t.proofs) {
      expect(p.createdAt).to.match(/^\d{4}-\d{2}-\d{2}T/);
      const e = await svc.rt.senderConsole.proof(a.id, ids.a1, p.id);
      expect(createHash('sha256').update(e.der).digest('hex')).to.equal(p.sha256);
    }
    expect(t.notifications).to.have.length(1);
    expect(t.notifications[0]).to.include({ id: nid, status: 'DELIVERED' });
    expect(t.notifications[0]!.attempts).to.deep.equal([{ channel: 'SMS', status: 'DELIVERED', reason: null, sentAt: now, deliveredAt: now }]);
    expect(t.webhooks.length).to.be.greaterThan(0);
    for (const w of t.webhooks) expect(w).to.include({ delivery: 'dead', attempts: 2, lastError: 'HTTP_503' });
    // sender B's message has none of A's webhook deliveries and no notifications
    const tb = await svc.rt.senderConsole.timeline(b.id, ids.b1);
    expect(tb.webhooks).to.deep.equal([]);
    expect(tb.notifications).to.deep.equal([]);
  });

  it('counts the month\'s usage: messages submitted and notifications by channel', async () => {
    const month = new Date().toISOString().slice(0, 7);
    await svc.rt.store.usage.add(a.id, month, 'SMS', 2);
    await svc.rt.store.usage.add(b.id, month, 'SMS', 5);
    const u = await svc.rt.senderConsole.usage(a.id);
    expect(u.month).to.equal(month);
    expect(u.messages).to.equal(4);
    expect(u.notifications).to.deep.equal([{ channel: 'SMS', messages: 1, units: 2 }]);
    expect((await svc.rt.senderConsole.usage(a.id, '2001-01')).messages).to.equal(0);
    expect(await code(svc.rt.senderConsole.usage(a.id, '2026-13'))).to.equal('QUERY_INVALID');
  });

  it('bundles the selection\'s proofs with a manifest of their SHA-256, as a tar the system\'s tar reads', async () => {
    const bundle = await svc.rt.senderConsole.bundle(a.id, filter({ reference: 'FILE-1', limit: '1' }));
    expect(bundle.messages).to.equal(2);
    const file = path.join(work, bundle.fileName);
    const out = fs.createWriteStream(file);
    for await (const chunk of bundle.stream) out.write(chunk);
    await new Promise((r) => out.end(r));
    expect(fs.statSync(file).size % 512).to.equal(0);
    const dir = path.join(work, 'x');
    fs.mkdirSync(dir);
    execFileSync('tar', ['-xf', file, '-C', dir]);
    const listed = execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).trim().split('\n');
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.format).to.equal('registered-mail-console-bundle/1');
    expect(manifest.sender).to.deep.equal({ id: a.id, name: 'Sender A' });
    expect(manifest.messages.map((m: { id: string }) => m.id)).to.deep.equal([ids.a3, ids.a1]);
    expect(listed.sort()).to.deep.equal([...manifest.files.map((f: { path: string }) => f.path), 'manifest.json'].sort());
    expect(manifest.files).to.have.length(4);
    for (const f of manifest.files) {
      const bytes = fs.readFileSync(path.join(dir, f.path));
      expect(createHash('sha256').update(bytes).digest('hex')).to.equal(f.sha256);
      expect(bytes.length).to.equal(f.size);
      // the bytes are the proof as sealed
      const proof = await svc.rt.senderConsole.proof(a.id, f.path.split('/')[1], f.evidenceId);
      expect(Buffer.compare(bytes, Buffer.from(proof.der))).to.equal(0);
    }
    // nothing of sender B
    expect(JSON.stringify(manifest)).to.not.contain(ids.b1);
  });

  it('refuses a bundle of more than 500 messages with SELECTION_TOO_LARGE, and takes 500', async () => {
    const c = await svc.newSender('Sender C');
    const base = Date.parse('2020-01-01T00:00:00.000Z');
    await svc.rt.store.transaction(async (tx) => {
      for (let i = 0; i < 501; i++) {
        const at = new Date(base + i * 1000).toISOString();
        await tx.messages.insert(
          { id: randomUUID(), senderId: c.id, recipientType: 'citizen', recipientId: VALID_INSZ, subject: { en: 'x' }, senderReference: i === 0 ? 'OLDEST' : 'BULK', status: 'REJECTED', submittedAt: at, updatedAt: at, expiresAt: null, eboxMessageId: null, documentsPurgedAt: null },
          [],
        );
      }
    });
    expect(await code(svc.rt.senderConsole.bundle(c.id, filter({})))).to.equal('SELECTION_TOO_LARGE');
    const ok = await svc.rt.senderConsole.bundle(c.id, filter({ reference: 'BULK' }));
    expect(ok.messages).to.equal(500);
    let size = 0;
    for await (const chunk of ok.stream) size += chunk.length;
    expect(size).to.be.greaterThan(1024);
  });
});
