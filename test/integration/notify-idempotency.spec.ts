/**
 * Idempotency-Key on POST /v1/notifications, with the semantics of POST /v1/messages: the
 * same sender, key and request → the first notification (Idempotent-Replayed: true), sent
 * and billed once, even when the requests race; the same key with another request → 409
 * naming the first; a bad key → 400 and nothing stored; a request refused for its body does
 * not use up the key. Two Idempotency-Key header lines are refused on both routes. The SMS
 * provider is the project's SMS aggregator simulator, which counts what reaches it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import * as migration from '../../migrations/20261202000200_notification_idempotency.js';
import { loadConfig } from '../../src/config.js';
import { SmsSimulator } from '../../dev/notification-simulators/SmsSimulator.js';
import { migrateLatest, openDatabase } from '../../src/store/database.js';
import { createTestDatabase, onPostgres } from '../helpers/database.js';
import { postNotification, SMS_HTTP_SECRET, SMS_TEXT, startNotifyService, waitForNotification, type NotifyService } from '../helpers/notify.js';
import { nodeRequest } from '../helpers/node-request.js';
import { metadata, pdfBytes, submit } from '../helpers/service.js';

describe(`POST /v1/notifications with Idempotency-Key (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, () => {
  let ns: NotifyService;
  let sms: SmsSimulator;
  let phoneSerial = 400;

  before(async () => {
    sms = new SmsSimulator({ callbackSecret: SMS_HTTP_SECRET, deliveryDelayMs: 5 });
    await sms.start();
    ns = await startNotifyService({ sim: false, sms: false, env: { NOTIFY_SMS_PROVIDER: 'http', SMS_HTTP_URL: sms.sendUrl, SMS_HTTP_CALLBACK_SECRET: SMS_HTTP_SECRET } });
  });
  after(async () => {
    await ns?.close();
    await sms?.stop();
  });

  /** A new sender and a number of its own, so that each test counts only its own rows and SMS. */
  async function fresh(name: string) {
    const sender = await ns.svc.newSender(name);
    const phone = `+3247000${String(phoneSerial++).padStart(4, '0')}`;
    return { ...sender, phone, body: { phoneNumber: phone, strategy: 'SMS_ONLY', content: SMS_TEXT, reference: name } };
  }

  const db = () => ns.svc.rt.store.db;
  const count = async (table: string, where: Record<string, unknown>) => Number((await db()(table).where(where).count({ n: '*' }).first())!.n);
  const smsTo = (phone: string) => sms.messages.filter((m) => m.to === phone);
  const unitsBilled = async (senderId: string) => Number((await db()('notify_usage').where({ sender_id: senderId }).sum({ u: 'units' }).first())?.u ?? 0);
  const problem = async (res: Response) => ({ status: res.status, ...(await res.json()) });

  it('answers a retry with the same key and request with the first notification, sent and billed once', async () => {
    const s = await fresh('Retrying institution');
    const key = 'b7e2c1d0-0f6e-4b8e-9d3a-2a4c5e6f7a81';
    const first = await postNotification(ns.svc, s.apiKey, s.body, { 'idempotency-key': key });
    expect(first.status).to.equal(201);
    expect(first.headers.get('idempotent-replayed')).to.equal(null);
    const n = await first.json();

    // the same request, its members in another order, the key as an RFC 8941 string
    const reordered = { reference: s.body.reference, content: s.body.content, strategy: s.body.strategy, phoneNumber: s.body.phoneNumber };
    const again = await postNotification(ns.svc, s.apiKey, reordered, { 'idempotency-key': `"${key}"` });
    expect(again.status).to.equal(201);
    expect(again.headers.get('idempotent-replayed')).to.equal('true');
    expect(again.headers.get('location')).to.equal(`/v1/notifications/${n.id}`);
    expect((await again.json()).id).to.equal(n.id);

    // later replays show the notification as it is now
    await waitForNotification(ns.svc, s.apiKey, n.id, (x) => x.status === 'DELIVERED');
    const later = await postNotification(ns.svc, s.apiKey, s.body, { 'idempotency-key': key });
    expect(later.status).to.equal(201);
    expect(await later.json()).to.include({ id: n.id, status: 'DELIVERED' });
    const async = await postNotification(ns.svc, s.apiKey, s.body, { 'idempotency-key': key, prefer: 'respond-async' });
    expect(async.status).to.equal(202);
    expect(async.headers.get('idempotent-replayed')).to.equal('true');
    expect((await async.json()).id).to.equal(n.id);

    expect(await count('notifications', { sender_id: s.id })).to.equal(1);
    expect(await count('notification_idempotency_keys', { sender_id: s.id })).to.equal(1);
    expect(smsTo(s.phone)).to.have.length(1);
    expect(smsTo(s.phone)[0]!.posts).to.equal(1);
    expect(await unitsBilled(s.id)).to.equal(1);
  });

  it('answers 409 IDEMPOTENCY_KEY_REUSED naming the first notification when the same key comes with another request', async () => {
    const s = await fresh('Careless institution');
    const key = 'reused-key-0001';
    const n = await (await postNotification(ns.svc, s.apiKey, s.body, { 'idempotency-key': key })).json();
    for (const other of [{ ...s.body, reference: 'another reference' }, { ...s.body, content: { nl: { sms: 'Een andere tekst.' } } }, { ...s.body, strategy: 'GOVAPP_FIRST' }]) {
      const p = await problem(await postNotification(ns.svc, s.apiKey, other, { 'idempotency-key': key }));
      expect(p).to.include({ status: 409, code: 'IDEMPOTENCY_KEY_REUSED', notificationId: n.id });
    }
    expect(await count('notifications', { sender_id: s.id })).to.equal(1);
    expect(smsTo(s.phone)).to.have.length(1);

    // keys are per sender: another sender's request with the same key is its own
    const t = await fresh('Other institution');
    const res = await postNotification(ns.svc, t.apiKey, { ...s.body, phoneNumber: t.phone }, { 'idempotency-key': key });
    expect(res.status).to.equal(201);
    expect(res.headers.get('idempotent-replayed')).to.equal(null);
    expect((await res.json()).id).to.not.equal(n.id);
  });

  it('refuses an invalid key with 400 IDEMPOTENCY_KEY_INVALID and keeps nothing', async () => {
    const s = await fresh('Sloppy institution');
    for (const key of ['', '   ', '""', 'x'.repeat(201), 'clé-non-ascii']) {
      expect(await problem(await postNotification(ns.svc, s.apiKey, s.body, { 'idempotency-key': key })), JSON.stringify(key)).to.include({ status: 400, code: 'IDEMPOTENCY_KEY_INVALID' });
    }
    expect(await count('notifications', { sender_id: s.id })).to.equal(0);
    expect(await count('notification_idempotency_keys', { sender_id: s.id })).to.equal(0);
    expect(smsTo(s.phone)).to.have.length(0);
  });

  it('does not use up the key on a request refused for its body', async () => {
    const s = await fresh('Learning institution');
    const key = 'first-try-was-wrong';
    const refused: Array<[unknown, string]> = [
      [{ ...s.body, template: 'toString', content: undefined }, 'NOTIFICATION_INVALID'],
      [{ ...s.body, content: { nl: { sms: 'Hallo {naam}' } } }, 'NOTIFICATION_INVALID'],
      [{ ...s.body, content: { nl: { sms: 'x'.repeat(1000) } } }, 'SMS_TOO_LONG'],
      [{ ...s.body, phoneNumber: '+3222345678' }, 'PHONE_NUMBER_INVALID'],
    ];
    for (const [body, code] of refused) {
      expect(await problem(await postNotification(ns.svc, s.apiKey, body, { 'idempotency-key': key })), code).to.include({ status: 422, code });
    }
    expect(await count('notification_idempotency_keys', { sender_id: s.id })).to.equal(0);
    const ok = await postNotification(ns.svc, s.apiKey, s.body, { 'idempotency-key': key });
    expect(ok.status).to.equal(201);
    expect(ok.headers.get('idempotent-replayed')).to.equal(null);
    expect(await count('notifications', { sender_id: s.id })).to.equal(1);
  });

  it('makes exactly one notification, one SMS and one bill of ten identical requests sent at once', async () => {
    const s = await fresh('Impatient institution');
    const key = 'ten-at-once';
    const answers = await Promise.all(
      Array.from({ length: 10 }, async () => {
        const res = await postNotification(ns.svc, s.apiKey, s.body, { 'idempotency-key': key });
        return { status: res.status, replayed: res.headers.get('idempotent-replayed'), body: await res.json() };
      }),
    );
    for (const a of answers) expect(a.status, JSON.stringify(a.body)).to.be.oneOf([201, 202]);
    const ids = new Set(answers.map((a) => a.body.id));
    expect(ids.size).to.equal(1);
    expect(answers.filter((a) => a.replayed === null)).to.have.length(1);
    expect(answers.filter((a) => a.replayed === 'true')).to.have.length(9);
    const [id] = [...ids];
    await waitForNotification(ns.svc, s.apiKey, id!, (x) => x.status === 'DELIVERED');
    expect(await count('notifications', { sender_id: s.id })).to.equal(1);
    expect(await count('notification_idempotency_keys', { sender_id: s.id })).to.equal(1);
    expect(smsTo(s.phone)).to.have.length(1);
    expect(smsTo(s.phone)[0]!.posts).to.equal(1);
    expect(await unitsBilled(s.id)).to.equal(1);
  });

  it('answers the losers of a race on the unique key as replays (ten submissions started in one turn of the event loop)', async () => {
    const s = await fresh('Racing institution');
    const sender = (await ns.svc.rt.store.senders.findById(s.id))!;
    // started together, all ten find no key and all try to create; the unique (sender, key) index lets one commit
    const results = await Promise.all(Array.from({ length: 10 }, () => ns.svc.rt.notifications.submit(sender, s.body, 'one-turn')));
    expect(new Set(results.map((r) => r.id)).size).to.equal(1);
    expect(results.filter((r) => !r.replayed)).to.have.length(1);
    await waitForNotification(ns.svc, s.apiKey, results[0]!.id, (x) => x.status === 'DELIVERED');
    expect(await count('notifications', { sender_id: s.id })).to.equal(1);
    expect(smsTo(s.phone)).to.have.length(1);
    expect(await unitsBilled(s.id)).to.equal(1);
    // a different request racing for a key already taken is told so, not answered with a 500
    const other = { ...s.body, reference: 'another request' };
    const raced = await Promise.allSettled([ns.svc.rt.notifications.submit(sender, s.body, 'contested'), ns.svc.rt.notifications.submit(sender, other, 'contested')]);
    expect(raced.filter((r) => r.status === 'fulfilled')).to.have.length(1);
    const lost = raced.find((r): r is PromiseRejectedResult => r.status === 'rejected')!;
    expect(lost.reason).to.include({ code: 'IDEMPOTENCY_KEY_REUSED' });
  });

  it('keeps the keys of /v1/messages and of /v1/notifications apart', async () => {
    const s = await fresh('Two-API institution');
    const key = 'shared-between-apis';
    expect((await postNotification(ns.svc, s.apiKey, s.body, { 'idempotency-key': key })).status).to.equal(201);
    const m = await submit(ns.svc, s.apiKey, metadata(), [{ name: 'main', content: pdfBytes(300) }], { 'idempotency-key': key });
    expect(m.status).to.be.oneOf([201, 202]);
    expect(m.headers.get('idempotent-replayed')).to.equal(null);
  });

  describe('two Idempotency-Key header lines', () => {
    it('are refused on POST /v1/notifications: 400 IDEMPOTENCY_KEY_INVALID, nothing kept', async () => {
      const s = await fresh('Doubled institution');
      const body = JSON.stringify(s.body);
      for (const lines of [
        [['Idempotency-Key', 'k1'], ['Idempotency-Key', 'k1']],
        [['Idempotency-Key', 'k1'], ['idempotency-key', 'k2']],
        [['idempotency-key', ''], ['Idempotency-Key', 'k3']],
      ]) {
        const res = await nodeRequest(`${ns.svc.url}/v1/notifications`, 'POST', [['authorization', `Bearer ${s.apiKey}`], ['content-type', 'application/json'], ...(lines as Array<[string, string]>)], body);
        expect(res.status, JSON.stringify(lines)).to.equal(400);
        expect(JSON.parse(res.body).code).to.equal('IDEMPOTENCY_KEY_INVALID');
      }
      expect(await count('notifications', { sender_id: s.id })).to.equal(0);
      expect(await count('notification_idempotency_keys', { sender_id: s.id })).to.equal(0);
      expect(smsTo(s.phone)).to.have.length(0);
    });

  });
});

describe(`migration 20261202000200_notification_idempotency (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, () => {
  it('adds the key table with one key per sender, and its down removes it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-migration-'));
    const tdb = await createTestDatabase(dir);
    const db = openDatabase(loadConfig({ APP_ENV: 'test', DATA_DIR: dir, DATABASE_URL: tdb.url }).database);
    try {
      await migrateLatest(db);
      expect(await db.schema.hasTable('notification_idempotency_keys')).to.equal(true);
      const now = new Date().toISOString();
      await db('senders').insert({ id: 's1', name: 'S', created_at: now });
      const notification = (id: string) => ({ id, sender_id: 's1', strategy: 'SMS_ONLY', status: 'QUEUED', language: 'nl', created_at: now, updated_at: now });
      await db('notifications').insert([notification('n1'), notification('n2')]);
      const key = (notificationId: string) => ({ sender_id: 's1', key: 'k', request_hash: 'a'.repeat(64), notification_id: notificationId, created_at: now });
      await db('notification_idempotency_keys').insert(key('n1'));
      let duplicate: unknown;
      await db('notification_idempotency_keys')
        .insert(key('n2'))
        .catch((err: unknown) => (duplicate = err));
      expect((duplicate as { code?: string } | undefined)?.code, 'a second row for the same sender and key').to.be.oneOf(['SQLITE_CONSTRAINT_UNIQUE', '23505']);

      await migration.down(db);
      expect(await db.schema.hasTable('notification_idempotency_keys')).to.equal(false);
      await migration.up(db);
      expect(await db.schema.hasTable('notification_idempotency_keys')).to.equal(true);
    } finally {
      await db.destroy();
      await tdb.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
