/**
 * Replies and opt-outs through the HTTP SMS aggregator: the real service with its HTTP SMS
 * adapter talking to the SMS simulator (dev/notification-simulators/SmsSimulator.ts) and
 * its push adapter to the GovApp simulator, all on loopback. A "phone" answers through the
 * simulator's POST /inbound, which POSTs the signed inbound callback as an aggregator does.
 * Also: per-sender SMS sender IDs and rate-limit overrides.
 */
import { expect } from 'chai';
import { signBody } from '../../src/notifications/CallbackSignature.js';
import { SmsSimulator } from '../../dev/notification-simulators/SmsSimulator.js';
import { onPostgres } from '../helpers/database.js';
import { addContact, admin, adminOk, eventually, insz, newDevice, postNotification, SMS_HTTP_SECRET, SMS_TEXT, startNotifyService, waitForNotification, type NotifyService } from '../helpers/notify.js';

describe(`inbound SMS: replies, opt-outs, sender IDs and rate overrides (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, function () {
  this.timeout(60_000);
  let sim: SmsSimulator;
  let ns: NotifyService;
  let a: { id: string; apiKey: string };
  let b: { id: string; apiKey: string };
  /** the service's log lines, at debug level */
  const logs: string[] = [];

  before(async () => {
    sim = new SmsSimulator({ callbackSecret: SMS_HTTP_SECRET, deliveryDelayMs: 5 });
    await sim.start();
    ns = await startNotifyService({
      sms: false,
      sim: { deliveryDelayMs: 5 },
      env: { NOTIFY_SMS_PROVIDER: 'http', SMS_HTTP_URL: sim.sendUrl, SMS_HTTP_CALLBACK_SECRET: SMS_HTTP_SECRET, SMS_HTTP_FROM: 'eBox', NOTIFY_SEND_MAX_ATTEMPTS: '8', JOB_BACKOFF_BASE_MS: '100', JOB_BACKOFF_MAX_MS: '1000' },
      service: { log: logs, logLevel: 'debug' },
    });
    a = await ns.svc.newSender('Sender A');
    b = await ns.svc.newSender('Sender B');
  });
  after(async () => {
    await ns?.close();
    await sim?.stop();
  });

  async function sms(sender: { apiKey: string }, phone: string, strategy = 'SMS_ONLY', text = 'Uw afspraak is morgen.'): Promise<{ status: number; body: any }> {
    const res = await postNotification(ns.svc, sender.apiKey, { phoneNumber: phone, strategy, content: { nl: { title: 'Afspraak', html: '<p>Morgen</p>', sms: text } } });
    return { status: res.status, body: await res.json() };
  }

  async function sent(sender: { apiKey: string }, phone: string): Promise<any> {
    const r = await sms(sender, phone);
    expect(r.status, JSON.stringify(r.body)).to.equal(201);
    expect(r.body.status).to.be.oneOf(['SENT', 'DELIVERED']);
    return r.body;
  }

  /** The phone answers through the simulator (a real HTTP call that makes it POST the signed callback). */
  async function answer(from: string, text: string, id?: string): Promise<{ id: string; outcome: number | string }> {
    const res = await fetch(`${sim.url}/inbound`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ from, text, ...(id ? { id } : {}) }) });
    expect(res.status).to.equal(200);
    return res.json();
  }

  async function replies(sender: { apiKey: string }, query = ''): Promise<any> {
    const res = await fetch(`${ns.svc.url}/v1/notifications/replies${query}`, { headers: { authorization: `Bearer ${sender.apiKey}` } });
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).to.equal(200);
    return body;
  }

  it('a reply is stored once, attributed to the sender whose SMS the number received last, and only that sender reads it', async () => {
    const phone = '+32470000601';
    await sent(b, phone);
    const n = await sent(a, phone); // A's is the last the number received
    const first = await answer(phone, 'Bedankt, ik kom.');
    expect(first.outcome).to.equal(204);
    const again = await answer(phone, 'Bedankt, ik kom.', first.id); // the aggregator calls twice
    expect(again.outcome).to.equal(204);

    const page = await replies(a);
    const mine = page.items.filter((r: any) => r.from === phone);
    expect(mine).to.have.length(1);
    expect(mine[0]).to.deep.include({ notificationId: n.id, from: phone, to: 'eBox', text: 'Bedankt, ik kom.', keyword: null });
    expect((await replies(b)).items.filter((r: any) => r.from === phone)).to.have.length(0);
    // the cursor continues after what was read
    const after = await replies(a, `?cursor=${page.cursor}`);
    expect(after).to.deep.equal({ items: [], cursor: page.cursor, hasMore: false });
  });

  it('pages with limit and cursor; a bad cursor or limit is 400 QUERY_INVALID', async () => {
    const phone = '+32470000602';
    await sent(a, phone);
    for (const t of ['een', 'twee', 'drie']) expect((await answer(phone, t)).outcome).to.equal(204);
    const all = (await replies(a)).items.filter((r: any) => r.from === phone).map((r: any) => r.text);
    expect(all).to.deep.equal(['een', 'twee', 'drie']);
    const p1 = await replies(a, '?limit=1');
    expect(p1.items).to.have.length(1);
    expect(p1.hasMore).to.equal(true);
    const p2 = await replies(a, `?limit=1&cursor=${p1.cursor}`);
    expect(p2.items[0].id).to.not.equal(p1.items[0].id);
    for (const q of ['?cursor=abc', '?limit=0', '?limit=201', '?limit=x']) {
      const res = await fetch(`${ns.svc.url}/v1/notifications/replies${q}`, { headers: { authorization: `Bearer ${a.apiKey}` } });
      expect(res.status, q).to.equal(400);
      expect((await res.json()).code).to.equal('QUERY_INVALID');
    }
    const anon = await fetch(`${ns.svc.url}/v1/notifications/replies`);
    expect(anon.status).to.equal(401);
  });

  it('refuses a forged or malformed inbound callback and stores nothing', async () => {
    const phone = '+32470000603';
    await sent(a, phone);
    const url = `${ns.svc.url}/v1/callbacks/sms-http/inbound`;
    const body = JSON.stringify({ id: 'forged-1', from: phone, to: 'eBox', text: 'STOP', receivedAt: new Date().toISOString() });
    const post = (b: string, signature?: string) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(signature ? { signature } : {}) }, body: b });
    for (const sig of [undefined, signBody('not-the-secret-of-the-service', body), signBody(SMS_HTTP_SECRET, body, Math.floor(Date.now() / 1000) - 3600)]) {
      const res = await post(body, sig);
      expect(res.status).to.equal(401);
      expect(res.headers.get('content-type')).to.match(/^application\/problem\+json/);
      expect((await res.json()).code).to.equal('CALLBACK_SIGNATURE_INVALID');
    }
    for (const bad of [
      { id: 'm-1', from: 'nobody', to: 'eBox', text: 'STOP' },
      { id: 'm-2', from: phone, to: 'eBox' },
      { from: phone, to: 'eBox', text: 'STOP' },
      { id: 'm-3', from: phone, to: 'eBox', text: 'STOP', receivedAt: 'yesterday' },
      { id: 'm-4', from: phone, to: 'eBox', text: 'a\u0000b' },
    ]) {
      const raw = JSON.stringify(bad);
      const res = await post(raw, signBody(SMS_HTTP_SECRET, raw));
      expect(res.status, raw).to.equal(400);
      expect((await res.json()).code).to.equal('MALFORMED_REQUEST');
    }
    expect((await replies(a)).items.filter((r: any) => r.from === phone)).to.have.length(0);
    expect((await adminOk(ns.svc, 'GET', `/v1/admin/opt-outs/${encodeURIComponent(phone)}`)).optOuts).to.deep.equal([]);
  });

  it('STOP opts the number out of that sender: SMS_ONLY is refused 422 RECIPIENT_OPTED_OUT, GOVAPP_FIRST still pushes, another sender still sends', async () => {
    const phone = '+32470000604';
    const recipient = insz(604);
    const device = await newDevice('phone-604');
    await addContact(ns.svc, recipient, { phone, devices: [device] });
    await sent(a, phone);
    expect((await answer(phone, ' Stop! ')).outcome).to.equal(204);
    const reply = (await replies(a)).items.find((r: any) => r.from === phone);
    expect(reply.keyword).to.equal('OPT_OUT');

    const contact = await adminOk(ns.svc, 'GET', `/v1/admin/contacts/citizen/${recipient}`);
    expect(contact.optOuts).to.have.length(1);
    expect(contact.optOuts[0]).to.deep.include({ scope: 'SENDER', senderId: a.id, source: 'sms:sms-http' });

    const before = sim.messages.length;
    const refused = await sms(a, phone);
    expect(refused.status).to.equal(422);
    expect(refused.body.code).to.equal('RECIPIENT_OPTED_OUT');
    const byRecipient = await postNotification(ns.svc, a.apiKey, { recipient: { type: 'citizen', id: recipient }, strategy: 'SMS_ONLY', content: SMS_TEXT });
    expect(byRecipient.status).to.equal(422);
    expect((await byRecipient.json()).code).to.equal('RECIPIENT_OPTED_OUT');

    // GOVAPP_FIRST: pushed; the SMS it could fall back to is not reachable
    const push = await postNotification(ns.svc, a.apiKey, { recipient: { type: 'citizen', id: recipient }, strategy: 'GOVAPP_FIRST', content: SMS_TEXT });
    expect(push.status).to.be.oneOf([201, 202]);
    const pushed = await waitForNotification(ns.svc, a.apiKey, (await push.json()).id, (n) => n.status === 'DELIVERED');
    expect(pushed.channel).to.equal('GOVAPP');
    // SMS_AND_GOVAPP: the push goes, the SMS attempt fails with the reason
    const both = await postNotification(ns.svc, a.apiKey, { recipient: { type: 'citizen', id: recipient }, strategy: 'SMS_AND_GOVAPP', content: SMS_TEXT });
    const bothN = await waitForNotification(ns.svc, a.apiKey, (await both.json()).id, (n) => n.attempts.length === 2 && n.attempts.every((x: any) => x.status !== 'QUEUED' && x.status !== 'SENT'));
    expect(bothN.attempts.find((x: any) => x.channel === 'SMS')).to.deep.include({ status: 'FAILED', reason: 'RECIPIENT_OPTED_OUT' });
    expect(sim.messages.length).to.equal(before);

    // another sender is not concerned
    await sent(b, phone);
  });

  it('GOVAPP_FIRST without the app: accepted, and FAILED with SMS:RECIPIENT_OPTED_OUT', async () => {
    const phone = '+32470000605';
    const recipient = insz(605);
    await addContact(ns.svc, recipient, { phone });
    await sent(a, phone);
    expect((await answer(phone, 'ARRÊT')).outcome).to.equal(204);
    const res = await postNotification(ns.svc, a.apiKey, { recipient: { type: 'citizen', id: recipient }, strategy: 'GOVAPP_FIRST', content: SMS_TEXT });
    const n = await res.json();
    expect(res.status).to.equal(201);
    expect(n.status).to.equal('FAILED');
    expect(n.reason).to.include('SMS:RECIPIENT_OPTED_OUT');
  });

  it('an SMS queued before the STOP is not sent after it: its next try fails RECIPIENT_OPTED_OUT', async () => {
    const phone = '+32470000610';
    // the aggregator is down: the send is retried, and the phone answers STOP in between
    sim.setOptions({ failure: { kind: 'unavailable' }, inboundUrl: `${ns.svc.url}/v1/callbacks/sms-http/inbound` });
    let id: string;
    try {
      const calls = sim.calls;
      const res = await postNotification(ns.svc, a.apiKey, { phoneNumber: phone, strategy: 'SMS_ONLY', content: SMS_TEXT }, { prefer: 'respond-async' });
      expect(res.status).to.equal(202);
      id = (await res.json()).id;
      await eventually('a first try, refused by the aggregator', () => sim.calls > calls || undefined);
      expect((await answer(phone, 'STOP')).outcome).to.equal(204);
    } finally {
      sim.setOptions({ failure: { kind: 'none' }, inboundUrl: undefined });
    }
    const n = await waitForNotification(ns.svc, a.apiKey, id, (x) => x.status === 'FAILED');
    expect(n.attempts[0]).to.include({ channel: 'SMS', status: 'FAILED', reason: 'RECIPIENT_OPTED_OUT' });
    expect(sim.messages.filter((m) => m.to === phone)).to.have.length(0);
  });

  it('STOP ALLE opts out of every sender; START to one sender lifts what blocks it; the operator can remove an opt-out', async () => {
    const phone = '+32470000606';
    await sent(a, phone);
    expect((await answer(phone, 'stop  allé')).outcome).to.equal(204);
    const listed = await adminOk(ns.svc, 'GET', `/v1/admin/opt-outs/${encodeURIComponent(phone)}`);
    expect(listed.optOuts.map((o: any) => [o.scope, o.senderId])).to.deep.equal([['ALL', null]]);
    expect((await sms(a, phone)).body.code).to.equal('RECIPIENT_OPTED_OUT');
    expect((await sms(b, phone)).body.code).to.equal('RECIPIENT_OPTED_OUT');

    // the last SMS the number received is A's: START lifts A's and the all-senders opt-out
    expect((await answer(phone, 'Start')).outcome).to.equal(204);
    expect((await adminOk(ns.svc, 'GET', `/v1/admin/opt-outs/${encodeURIComponent(phone)}`)).optOuts).to.deep.equal([]);
    await sent(b, phone); // now B's is the last
    expect((await answer(phone, 'STOPP')).outcome).to.equal(204);
    expect((await sms(b, phone)).body.code).to.equal('RECIPIENT_OPTED_OUT');
    await sent(a, phone);

    const del = await admin(ns.svc, 'DELETE', `/v1/admin/opt-outs/${encodeURIComponent(phone)}/${b.id}`);
    expect(del.status).to.equal(204);
    await sent(b, phone);
    const again = await admin(ns.svc, 'DELETE', `/v1/admin/opt-outs/${encodeURIComponent(phone)}/${b.id}`);
    expect(again.status).to.equal(404);
    const badNumber = await admin(ns.svc, 'GET', '/v1/admin/opt-outs/12');
    expect(badNumber.status).to.equal(422);
    expect((await badNumber.json()).code).to.equal('PHONE_NUMBER_INVALID');
  });

  it('a STOP from a number that received no SMS (within the attribution window) opts out of every sender', async () => {
    const phone = '+32470000607';
    sim.setOptions({ inboundUrl: `${ns.svc.url}/v1/callbacks/sms-http/inbound` });
    try {
      expect((await answer(phone, 'AFMELD')).outcome).to.equal(204);
    } finally {
      sim.setOptions({ inboundUrl: undefined });
    }
    const listed = await adminOk(ns.svc, 'GET', `/v1/admin/opt-outs/${encodeURIComponent(phone)}`);
    expect(listed.optOuts.map((o: any) => o.scope)).to.deep.equal(['ALL']);
    // no sender sees a reply it cannot be attributed to
    expect((await replies(a)).items.filter((r: any) => r.from === phone)).to.have.length(0);
  });

  it("a sender's own SMS sender ID: validated (422 with a code), sent to the aggregator as \"from\"", async () => {
    const path = `/v1/admin/senders/${a.id}/notifications`;
    const bad: Array<[unknown, string]> = [
      ['ABCDEFGHIJKL', 'SMS_SENDER_ID_TOO_LONG'],
      ['+3247000000000000', 'SMS_SENDER_ID_TOO_LONG'],
      ['RSZ-ONSS', 'SMS_SENDER_ID_INVALID'],
      ['Bélgica', 'SMS_SENDER_ID_INVALID'],
      ['12', 'SMS_SENDER_ID_INVALID'],
      [' RSZ', 'SMS_SENDER_ID_INVALID'],
      ['', 'SMS_SENDER_ID_INVALID'],
      [42, 'SMS_SENDER_ID_INVALID'],
    ];
    for (const [smsSenderId, code] of bad) {
      const res = await admin(ns.svc, 'PUT', path, { smsSenderId });
      expect(res.status, String(smsSenderId)).to.equal(422);
      expect((await res.json()).code, String(smsSenderId)).to.equal(code);
    }
    expect((await adminOk(ns.svc, 'GET', path)).smsSenderId).to.equal(null);
    const unknownMember = await admin(ns.svc, 'PUT', path, { smsSenderID: 'RSZ' });
    expect((await unknownMember.json()).code).to.equal('SENDER_SETTINGS_INVALID');
    const noSender = await admin(ns.svc, 'PUT', '/v1/admin/senders/00000000-0000-4000-8000-000000000000/notifications', { smsSenderId: 'RSZ' });
    expect(noSender.status).to.equal(404);

    const set = await adminOk(ns.svc, 'PUT', path, { smsSenderId: 'RSZ ONSS' });
    expect(set).to.deep.include({ senderId: a.id, smsSenderId: 'RSZ ONSS', rateLimit: null });
    expect(set.effective.smsSenderId).to.equal('RSZ ONSS');
    const n = await sent(a, '+32470000608');
    const got = await eventually('the aggregator to receive it', () => sim.messages.find((m) => m.reference === n.attempts[0].id));
    expect(got.from).to.equal('RSZ ONSS');
    const nb = await sent(b, '+32470000608');
    expect((await eventually('B', () => sim.messages.find((m) => m.reference === nb.attempts[0].id))).from).to.equal('eBox');
    await adminOk(ns.svc, 'PUT', path, { smsSenderId: '8850' }); // a short code
    const short = await sent(a, '+32470000608');
    expect((await eventually('short code', () => sim.messages.find((m) => m.reference === short.attempts[0].id))).from).to.equal('8850');
    await adminOk(ns.svc, 'PUT', path, { smsSenderId: null });
    expect((await adminOk(ns.svc, 'GET', path)).effective.smsSenderId).to.equal('eBox');
  });

  it("a sender's own rate limit overrides the configured one, and the RateLimit fields show it", async () => {
    const c = await ns.svc.newSender('Sender C');
    const path = `/v1/admin/senders/${c.id}/notifications`;
    for (const rateLimit of [{ burst: 0, perMinute: 1 }, { burst: 2 }, { burst: 2, perMinute: -1 }, { burst: 1.5, perMinute: 1 }, 'fast']) {
      const res = await admin(ns.svc, 'PUT', path, { rateLimit });
      expect(res.status, JSON.stringify(rateLimit)).to.equal(422);
      expect((await res.json()).code).to.equal('SENDER_SETTINGS_INVALID');
    }
    expect((await adminOk(ns.svc, 'PUT', path, { rateLimit: { burst: 2, perMinute: 1 } })).effective.rateLimit).to.deep.equal({ burst: 2, perMinute: 1 });
    const body = { phoneNumber: '+32470000609', strategy: 'SMS_ONLY', content: SMS_TEXT };
    const answers: Response[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await postNotification(ns.svc, c.apiKey, body, { prefer: 'respond-async' });
      await res.arrayBuffer();
      answers.push(res);
    }
    expect(answers.map((r) => r.status)).to.deep.equal([202, 202, 429]);
    expect(answers[0]!.headers.get('ratelimit-policy')).to.equal('"notifications";q=2;w=120');
    expect(answers[2]!.headers.get('ratelimit')).to.match(/^"notifications";r=0;t=\d+$/);
    // another sender keeps the configured limit
    const other = await postNotification(ns.svc, b.apiKey, body, { prefer: 'respond-async' });
    await other.arrayBuffer();
    expect(other.headers.get('ratelimit-policy')).to.equal('"notifications";q=600;w=60');
    // perMinute 0: no limit for this sender
    await adminOk(ns.svc, 'PUT', path, { rateLimit: { burst: 1, perMinute: 0 } });
    const free = await postNotification(ns.svc, c.apiKey, body, { prefer: 'respond-async' });
    await free.arrayBuffer();
    expect(free.status).to.equal(202);
    expect(free.headers.get('ratelimit')).to.equal(null);
  });

  it('logs no phone number, and no reply text (the inbound messages above were logged by id)', () => {
    expect(logs.some((l) => l.includes('inbound SMS stored'))).to.equal(true);
    const leaked = logs.filter((l) => /\+?32470000\d{3}|Bedankt|ik kom/.test(l));
    expect(leaked, leaked.slice(0, 3).join('\n')).to.deep.equal([]);
  });
});
