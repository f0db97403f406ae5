/**
 * Bulk notifications, POST /v1/notifications/batches: CSV and JSON lines, each row checked
 * as a single POST of it would be (the same problem code), accepted rows sent as ordinary
 * notifications through the HTTP SMS simulator until the batch is DONE, per-row results
 * paged, another sender's batch invisible, Idempotency-Key, whole-batch refusals that leave
 * nothing behind, and a 20,000-row batch whose jobs yield to a single notification.
 */
import http from 'node:http';
import { expect } from 'chai';
import { SmsSimulator } from '../../dev/notification-simulators/SmsSimulator.js';
import { onPostgres } from '../helpers/database.js';
import { addContact, eventually, getNotification, insz, postNotification, SMS_HTTP_SECRET, startNotifyService, waitForNotification, type NotifyService } from '../helpers/notify.js';

const CONTENT = { nl: { sms: 'Beste {name}, uw afspraak is op {date}.' }, fr: { sms: 'Cher {name}, votre rendez-vous est le {date}.' } };

describe(`bulk notifications: POST /v1/notifications/batches (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, function () {
  this.timeout(180_000);
  let ns: NotifyService;
  let sms: SmsSimulator;
  let serial = 0;

  before(async () => {
    sms = new SmsSimulator({ callbackSecret: SMS_HTTP_SECRET, deliveryDelayMs: 5 });
    await sms.start();
    ns = await startNotifyService({
      sim: false,
      sms: false,
      env: { NOTIFY_SMS_PROVIDER: 'http', SMS_HTTP_URL: sms.sendUrl, SMS_HTTP_CALLBACK_SECRET: SMS_HTTP_SECRET, NOTIFY_DEFAULT_STRATEGY: 'SMS_ONLY', NOTIFY_BATCH_MAX_ROWS: '25000', NOTIFY_RATE_LIMIT_PER_MINUTE: '60' },
    });
  });
  after(async () => {
    await ns?.close();
    await sms?.stop();
  });

  /** A number no other test uses. */
  const phone = () => `+32471${String(++serial).padStart(6, '0')}`;

  function postBatch(apiKey: string, type: string, body: string, query = '', headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${ns.svc.url}/v1/notifications/batches${query}`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': type, ...headers }, body });
  }

  async function get(apiKey: string, path: string): Promise<{ status: number; body: any }> {
    const res = await fetch(ns.svc.url + path, { headers: { authorization: `Bearer ${apiKey}` } });
    return { status: res.status, body: await res.json() };
  }

  /** Every row of the batch, page by page. */
  async function allRows(apiKey: string, id: string, query = ''): Promise<any[]> {
    const out: any[] = [];
    let cursor: string | null = null;
    do {
      const page = await get(apiKey, `/v1/notifications/batches/${id}/rows?limit=7${query}${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).to.equal(200);
      out.push(...page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor !== null);
    return out;
  }

  async function waitDone(apiKey: string, id: string): Promise<any> {
    return eventually(`batch ${id} DONE`, async () => {
      const b = (await get(apiKey, `/v1/notifications/batches/${id}`)).body;
      return b.status === 'DONE' ? b : undefined;
    }, 60_000);
  }

  /** The problem code a single POST of this body gets. */
  async function singleCode(apiKey: string, body: unknown): Promise<string> {
    const res = await postNotification(ns.svc, apiKey, body, { prefer: 'respond-async' });
    const json: any = await res.json();
    expect(res.status, JSON.stringify(json)).to.be.within(400, 499);
    return json.code;
  }

  async function tableCount(table: string, where: Record<string, unknown> = {}): Promise<number> {
    const row = await ns.svc.rt.store.db(table).where(where).count({ n: '*' }).first();
    return Number(row!.n);
  }

  it('CSV: good rows are sent, bad rows refused with the code a single POST gets; progress reaches DONE', async () => {
    const sender = await ns.svc.newSender('CSV sender');
    const [p1, p2, p3] = [phone(), phone(), phone()];
    const csv = [
      'phoneNumber,language,reference,values.what,values.date,values.time',
      `${p1},nl,R1,Controle,1 maart,10:00`,
      `+3212,nl,R2,Controle,1 maart,10:00`, // not a mobile number
      `${p2},fr,R3,"Contrôle, annuel",2 mars,11:00`, // quoted comma
      `${p3},xx,R4,Controle,1 maart,10:00`, // language
      `${phone()},nl,R5,Controle,1 maart`, // a cell short
      `${phone()},nl,R6,,1 maart,10:00`, // {what} without a value
      `${p3},en,R7,${'x'.repeat(600)},1 March,10:00`, // too long for 3 parts
    ].join('\r\n');
    const res = await postBatch(sender.apiKey, 'text/csv', csv, '?template=appointment-reminder&strategy=SMS_ONLY');
    const batch: any = await res.json();
    expect(res.status, JSON.stringify(batch)).to.equal(202);
    expect(res.headers.get('location')).to.equal(`/v1/notifications/batches/${batch.id}`);
    expect(batch).to.deep.include({ format: 'csv', strategy: 'SMS_ONLY', template: 'appointment-reminder', rows: { total: 7, accepted: 2, refused: 5 } });

    const rows = await allRows(sender.apiKey, batch.id);
    expect(rows.map((r) => [r.row, r.result])).to.deep.equal([[1, 'accepted'], [2, 'refused'], [3, 'accepted'], [4, 'refused'], [5, 'refused'], [6, 'refused'], [7, 'refused']]);
    const single = { template: 'appointment-reminder', strategy: 'SMS_ONLY' };
    const expected = [
      await singleCode(sender.apiKey, { ...single, phoneNumber: '+3212', language: 'nl', values: { what: 'Controle', date: '1 maart', time: '10:00' } }),
      await singleCode(sender.apiKey, { ...single, phoneNumber: p3, language: 'xx', values: { what: 'Controle', date: '1 maart', time: '10:00' } }),
      'MALFORMED_REQUEST',
      await singleCode(sender.apiKey, { ...single, phoneNumber: p3, language: 'nl', values: { date: '1 maart', time: '10:00' } }),
      await singleCode(sender.apiKey, { ...single, phoneNumber: p3, language: 'en', values: { what: 'x'.repeat(600), date: '1 March', time: '10:00' } }),
    ];
    expect(expected).to.deep.equal(['PHONE_NUMBER_INVALID', 'NOTIFICATION_INVALID', 'MALFORMED_REQUEST', 'NOTIFICATION_INVALID', 'SMS_TOO_LONG']);
    const refused = await allRows(sender.apiKey, batch.id, '&result=refused');
    expect(refused.map((r) => r.code)).to.deep.equal(expected);
    for (const r of refused) expect(r.detail).to.be.a('string').and.not.equal('');
    expect((await allRows(sender.apiKey, batch.id, '&result=accepted')).map((r) => r.row)).to.deep.equal([1, 3]);

    const done = await waitDone(sender.apiKey, batch.id);
    expect(done.rows).to.deep.equal({ total: 7, accepted: 2, refused: 5 });
    expect(done.notifications.QUEUED + done.notifications.FALLBACK).to.equal(0);
    expect(done.notifications.SENT + done.notifications.DELIVERED).to.equal(2);
    const second = await getNotification(ns.svc, sender.apiKey, rows[2].notificationId);
    expect(second).to.deep.include({ phoneNumber: p2, language: 'fr', reference: 'R3', template: 'appointment-reminder' });
    expect(second.batch).to.deep.equal({ id: batch.id, row: 3, href: `/v1/notifications/batches/${batch.id}` });
    const sent = sms.messages.find((m) => m.to === p2);
    expect(sent?.text).to.equal('Rappel de CSV sender : Contrôle, annuel le 2 mars à 11:00.');
  });

  it('JSON lines: a batch line with own content, rows by number or recipient (the directory\'s language), unreadable rows refused', async () => {
    const sender = await ns.svc.newSender('NDJSON sender');
    const citizen = insz(700 + (serial % 200));
    const contactPhone = phone();
    await addContact(ns.svc, citizen, { phone: contactPhone, language: 'fr' });
    const [p1, p2] = [phone(), phone()];
    const lines = [
      JSON.stringify({ batch: { content: CONTENT, strategy: 'SMS_ONLY', values: { date: '3 april' } } }),
      JSON.stringify({ phoneNumber: p1, values: { name: 'An' }, reference: 'A' }),
      '',
      JSON.stringify({ recipient: { type: 'citizen', id: citizen }, values: { name: 'Jean', date: '4 avril' } }),
      '{"phoneNumber": "+32470', // not JSON
      JSON.stringify({ recipient: { type: 'citizen', id: '12345678901' }, values: { name: 'X' } }),
      JSON.stringify({ phoneNumber: p2, values: { name: 'Bo' }, strategy: 'GOVAPP_ONLY' }), // batch-wide member in a row
      JSON.stringify({ phoneNumber: p2, values: { name: 'Bo' }, language: 'de' }), // no text in de: fr, a German reader's first fallback
      JSON.stringify([1, 2]),
    ].join('\n');
    const res = await postBatch(sender.apiKey, 'application/x-ndjson', lines);
    const batch: any = await res.json();
    expect(res.status, JSON.stringify(batch)).to.equal(202);
    expect(batch).to.deep.include({ format: 'ndjson', strategy: 'SMS_ONLY', template: null, rows: { total: 7, accepted: 3, refused: 4 } });
    const rows = await allRows(sender.apiKey, batch.id);
    expect(rows.map((r) => r.code ?? r.result)).to.deep.equal(['accepted', 'accepted', 'MALFORMED_REQUEST', 'RECIPIENT_INVALID', 'NOTIFICATION_INVALID', 'accepted', 'NOTIFICATION_INVALID']);
    const base = { content: CONTENT, strategy: 'SMS_ONLY' };
    expect(await singleCode(sender.apiKey, { ...base, recipient: { type: 'citizen', id: '12345678901' }, values: { name: 'X', date: '3 april' } })).to.equal('RECIPIENT_INVALID');
    expect(await singleCode(sender.apiKey, [1, 2])).to.equal('NOTIFICATION_INVALID');

    await waitDone(sender.apiKey, batch.id);
    const byCitizen = await getNotification(ns.svc, sender.apiKey, rows[1].notificationId);
    expect(byCitizen).to.deep.include({ language: 'fr', recipient: { type: 'citizen', id: citizen } });
    expect(sms.messages.find((m) => m.to === contactPhone)?.text).to.equal('Cher Jean, votre rendez-vous est le 4 avril.');
    expect(sms.messages.find((m) => m.to === p1)?.text).to.equal('Beste An, uw afspraak is op 3 april.');
    expect(sms.messages.filter((m) => m.to === p2).map((m) => m.text)).to.deep.equal(['Cher Bo, votre rendez-vous est le 3 april.']);
  });

  it('refuses a row as a single POST would: SMS only to a number that answered STOP, and a row that asks to be scheduled', async () => {
    const sender = await ns.svc.newSender('Opt-out batch sender');
    const [stopped, fine] = [phone(), phone()];
    // the number gets this sender's SMS, and answers STOP through the aggregator
    expect((await postNotification(ns.svc, sender.apiKey, { phoneNumber: stopped, strategy: 'SMS_ONLY', content: { nl: { sms: 'Uw afspraak is morgen.' } } })).status).to.equal(201);
    const inbound = await fetch(`${sms.url}/inbound`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ from: stopped, text: 'STOP' }) });
    expect(inbound.status).to.equal(200);
    expect((await inbound.json()).outcome).to.equal(204);
    const single = { content: { nl: { sms: 'Hallo' } }, strategy: 'SMS_ONLY' };
    expect(await singleCode(sender.apiKey, { ...single, phoneNumber: stopped })).to.equal('RECIPIENT_OPTED_OUT');
    const lines = [
      JSON.stringify({ batch: single }),
      JSON.stringify({ phoneNumber: stopped }),
      JSON.stringify({ phoneNumber: fine }),
      JSON.stringify({ phoneNumber: fine, sendAt: new Date(Date.now() + 3_600_000).toISOString() }),
      JSON.stringify({ phoneNumber: fine, validUntil: new Date(Date.now() + 3_600_000).toISOString() }),
    ].join('\n');
    const res = await postBatch(sender.apiKey, 'application/x-ndjson', lines);
    const batch: any = await res.json();
    expect(res.status, JSON.stringify(batch)).to.equal(202);
    const rows = await allRows(sender.apiKey, batch.id);
    expect(rows.map((r) => r.code ?? r.result)).to.deep.equal(['RECIPIENT_OPTED_OUT', 'accepted', 'NOTIFICATION_INVALID', 'NOTIFICATION_INVALID']);
    await waitDone(sender.apiKey, batch.id);
    expect(sms.messages.filter((m) => m.to === stopped)).to.have.length(1); // the one before the STOP
  });

  it("another sender's batch, its rows and its notifications are 404", async () => {
    const owner = await ns.svc.newSender('Owner');
    const other = await ns.svc.newSender('Other');
    const res = await postBatch(owner.apiKey, 'text/csv', `phoneNumber\n${phone()}\n`, '?template=document-available&values.subject=Brief');
    const batch: any = await res.json();
    expect(res.status, JSON.stringify(batch)).to.equal(202);
    const [row] = await allRows(owner.apiKey, batch.id);
    for (const path of [`/v1/notifications/batches/${batch.id}`, `/v1/notifications/batches/${batch.id}/rows`, `/v1/notifications/${row.notificationId}`]) {
      const r = await get(other.apiKey, path);
      expect(r.status, path).to.equal(404);
      expect(r.body.code).to.equal('NOT_FOUND');
    }
    expect((await get(owner.apiKey, `/v1/notifications/batches/${batch.id}`)).status).to.equal(200);
  });

  it('Idempotency-Key: the same batch again is the first one, a different one 409; nothing written twice', async () => {
    const sender = await ns.svc.newSender('Careful sender');
    const csv = `phoneNumber,values.subject\n${phone()},Brief\n${phone()},Brief\n`;
    const headers = { 'idempotency-key': 'batch-2026-12-03' };
    const first = await postBatch(sender.apiKey, 'text/csv', csv, '?template=document-available', headers);
    const a: any = await first.json();
    expect(first.status).to.equal(202);
    const again = await postBatch(sender.apiKey, 'text/csv', csv, '?template=document-available', headers);
    const b: any = await again.json();
    expect(again.status).to.equal(202);
    expect(again.headers.get('idempotent-replayed')).to.equal('true');
    expect(b.id).to.equal(a.id);
    const other = await postBatch(sender.apiKey, 'text/csv', csv, '?template=document-available&strategy=SMS_AND_GOVAPP', headers);
    const c: any = await other.json();
    expect(other.status).to.equal(409);
    expect(c).to.include({ code: 'IDEMPOTENCY_KEY_REUSED', batchId: a.id });
    expect(await tableCount('notification_batches', { sender_id: sender.id })).to.equal(1);
    expect(await tableCount('notifications', { sender_id: sender.id })).to.equal(2);
  });

  it('a batch refused as a whole (header, media type, settings, too many rows) is a problem and leaves nothing behind', async () => {
    const sender = await ns.svc.newSender('Refused sender');
    const cases: Array<[string, string, string, number, string]> = [
      ['text/csv', `phoneNumber,colour\n${phone()},red\n`, '?template=document-available', 400, 'BATCH_INVALID'],
      ['text/plain', `${phone()}\n`, '', 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['text/csv', `phoneNumber\n${phone()}\n`, '?template=no-such-template', 422, 'NOTIFICATION_INVALID'],
      ['text/csv', `phoneNumber\n${phone()}\n`, '?template=document-available&colour=red', 400, 'QUERY_INVALID'],
      ['text/csv', `phoneNumber\n"${phone()}\n`, '?template=document-available', 400, 'MALFORMED_REQUEST'],
      ['application/x-ndjson', JSON.stringify({ batch: { template: 'document-available', priority: 1 } }), '', 400, 'BATCH_INVALID'],
      ['application/x-ndjson', `${JSON.stringify({ batch: { template: 'document-available' } })}\n{}`, '?strategy=SMS_ONLY', 400, 'BATCH_INVALID'],
      // more rows than NOTIFY_BATCH_MAX_ROWS (25,000): refused once the first chunks were written
      ['text/csv', `phoneNumber,values.subject\n${Array.from({ length: 25_001 }, (_, i) => `+32472${String(i).padStart(6, '0')},Brief`).join('\n')}\n`, '?template=document-available', 413, 'BATCH_TOO_LARGE'],
    ];
    for (const [type, body, query, status, code] of cases) {
      const res = await postBatch(sender.apiKey, type, body, query);
      const problem: any = await res.json();
      expect(res.status, `${code}: ${JSON.stringify(problem)}`).to.equal(status);
      expect(res.headers.get('content-type')).to.match(/^application\/problem\+json/);
      expect(problem.code).to.equal(code);
    }
    expect(await tableCount('notification_batches', { sender_id: sender.id })).to.equal(0);
    expect(await tableCount('notifications', { sender_id: sender.id })).to.equal(0);
    // no refusal, notification or history entry of a discarded batch is left
    const db = ns.svc.rt.store.db;
    const orphanRefusals = await db('notification_batch_refusals').whereNotIn('batch_id', db('notification_batches').select('id')).count({ n: '*' }).first();
    expect(Number(orphanRefusals!.n)).to.equal(0);
    const orphanEvents = await db('notification_events').whereNotIn('notification_id', db('notifications').select('id')).count({ n: '*' }).first();
    expect(Number(orphanEvents!.n)).to.equal(0);
    expect(await tableCount('notifications', { batch_id: null, sender_id: sender.id })).to.equal(0);
  });

  it('a client gone mid-batch: the rows written so far are deleted, nothing is sent', async () => {
    const sender = await ns.svc.newSender('Gone sender');
    const head = `phoneNumber,values.subject\n${Array.from({ length: 5000 }, (_, i) => `+32474${String(i).padStart(6, '0')},Brief`).join('\n')}\n`;
    const url = new URL(`${ns.svc.url}/v1/notifications/batches?template=document-available&strategy=SMS_ONLY`);
    const req = http.request({ host: url.hostname, port: url.port, path: url.pathname + url.search, method: 'POST', headers: { authorization: `Bearer ${sender.apiKey}`, 'content-type': 'text/csv', 'content-length': String(10 * head.length) } });
    req.on('error', () => undefined);
    req.write(head);
    // the first chunk of 2,000 rows is written (RECEIVING: not shown, not sent)…
    await eventually('a chunk written', async () => (await tableCount('notifications', { sender_id: sender.id })) >= 2000 || undefined);
    const receiving = await ns.svc.rt.store.db('notifications').where({ sender_id: sender.id }).first();
    expect((await get(sender.apiKey, `/v1/notifications/${receiving.id}`)).status).to.equal(404);
    expect(await tableCount('jobs', { dedupe_key: `notify-dispatch:${receiving.id}` })).to.equal(0);
    // …and the client goes away
    req.destroy();
    await eventually('the batch discarded', async () => (await tableCount('notification_batches', { sender_id: sender.id })) === 0 || undefined);
    expect(await tableCount('notifications', { sender_id: sender.id })).to.equal(0);
    expect(sms.messages.filter((m) => m.to.startsWith('+32474'))).to.deep.equal([]);
  });

  it('20,000 rows accepted in one request; their jobs yield: a single notification sent meanwhile goes first', async () => {
    const sender = await ns.svc.newSender('Bulk sender');
    // the aggregator's rate limit paces the batch (429 + Retry-After, retried without spending attempts)
    sms.setOptions({ ratePerSecond: 50 });
    const n = 20_000;
    const lines = [JSON.stringify({ batch: { template: 'document-available', strategy: 'SMS_ONLY' } })];
    for (let i = 0; i < n; i++) lines.push(JSON.stringify({ phoneNumber: `+32473${String(i).padStart(6, '0')}`, values: { subject: `Brief ${i}` }, reference: `bulk-${i}` }));
    const res = await postBatch(sender.apiKey, 'application/x-ndjson', lines.join('\n'));
    const batch: any = await res.json();
    expect(res.status, JSON.stringify(batch)).to.equal(202);
    expect(batch.rows).to.deep.equal({ total: n, accepted: n, refused: 0 });
    expect(await tableCount('jobs', { type: 'notify.dispatch', priority: 1 })).to.be.at.least(n);

    const single = await ns.svc.newSender('Single sender');
    const post = await postNotification(ns.svc, single.apiKey, { phoneNumber: phone(), template: 'document-available', values: { subject: 'Dringend' }, strategy: 'SMS_ONLY' }, { prefer: 'respond-async' });
    const one: any = await post.json();
    expect(post.status, JSON.stringify(one)).to.equal(202);
    await waitForNotification(ns.svc, single.apiKey, one.id, (x) => x.status === 'SENT' || x.status === 'DELIVERED', 60_000);
    const progress = (await get(sender.apiKey, `/v1/notifications/batches/${batch.id}`)).body;
    // the batch is far from done when the single notification, posted after it, is out
    expect(progress.notifications.QUEUED).to.be.greaterThan(n / 2);
    expect(progress.status).to.be.oneOf(['ACCEPTED', 'SENDING']);
    const last = await allRows(sender.apiKey, batch.id, '&result=refused');
    expect(last).to.deep.equal([]);
    const page = await get(sender.apiKey, `/v1/notifications/batches/${batch.id}/rows?cursor=${n - 2}`);
    expect(page.body.items.map((r: any) => r.row)).to.deep.equal([n - 1, n]);
    expect(page.body.nextCursor).to.equal(null);
    sms.setOptions({ ratePerSecond: 0 });
  });
});
