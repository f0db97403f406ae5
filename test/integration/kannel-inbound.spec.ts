/**
 * Inbound SMS and sender IDs against a REAL Kannel (bearerbox + smsbox) and its fake SMS
 * centre: a "phone" writes a message on fakesmsc's standard input, bearerbox routes it to
 * smsbox, whose sms-service calls the service's /v1/callbacks/kannel/inbound with the
 * configured token (test/helpers/kannel.ts, docs/kannel.md). Without Kannel installed these
 * tests fail with a message saying how to install it; they are never skipped.
 *
 * Kannel's configuration is written before the service starts (it needs Kannel's sendsms
 * URL), so the get-url points at a small forwarder that passes each call on to the service.
 * Its token is computed with the openssl command docs/kannel.md gives operators.
 */

/** The sms-service token as docs/kannel.md tells an operator to compute it. */
function documentedInboundToken(secret: string): string {
  return execFileSync('sh', ['-c', 'printf kannel-inbound | openssl dgst -sha256 -hmac "$KANNEL_DLR_SECRET" -binary | head -c 16 | basenc --base64url | tr -d ='], { env: { ...process.env, KANNEL_DLR_SECRET: secret }, encoding: 'utf8' }).trim();
}
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { kannelDlrToken, kannelInboundToken } from '../../src/notifications/providers/KannelSmsGateway.js';
import { onPostgres } from '../helpers/database.js';
import { startKannel, type KannelHarness } from '../helpers/kannel.js';
import { adminOk, eventually, KANNEL_SECRET, postNotification, startNotifyService, waitForNotification, type NotifyService } from '../helpers/notify.js';

/** Passes every request on to `target` and records what the service answered. */
class Forwarder {
  private server: Server | undefined;
  url = '';
  target = '';
  readonly answers: Array<{ path: string; status: number }> = [];

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      void (async () => {
        const r = await fetch(this.target + req.url);
        const body = Buffer.from(await r.arrayBuffer());
        this.answers.push({ path: req.url ?? '', status: r.status });
        res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'text/plain' }).end(body);
      })().catch(() => res.writeHead(502).end());
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', () => resolve()));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

describe(`inbound SMS and sender IDs through a real Kannel (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, function () {
  this.timeout(120_000);
  let kannel: KannelHarness;
  let forwarder: Forwarder;
  let ns: NotifyService;
  let a: { id: string; apiKey: string };
  let b: { id: string; apiKey: string };

  before(async () => {
    forwarder = new Forwarder();
    await forwarder.start();
    const token = documentedInboundToken(KANNEL_SECRET);
    expect(token).to.equal(kannelInboundToken(KANNEL_SECRET));
    kannel = await startKannel({ maxMessages: 3, inboundUrl: `${forwarder.url}/v1/callbacks/kannel/inbound?token=${token}` });
    ns = await startNotifyService({
      sim: false,
      sms: false,
      env: {
        NOTIFY_SMS_PROVIDER: 'kannel',
        KANNEL_SENDSMS_URL: kannel.sendsmsUrl,
        KANNEL_USERNAME: kannel.username,
        KANNEL_PASSWORD: kannel.password,
        KANNEL_DLR_SECRET: KANNEL_SECRET,
        KANNEL_FROM: 'eBox',
        NOTIFY_SMS_MAX_PARTS: '3',
        NOTIFY_DEFAULT_STRATEGY: 'SMS_ONLY',
      },
    });
    forwarder.target = ns.svc.url;
    a = await ns.svc.newSender('Kannel sender A');
    b = await ns.svc.newSender('Kannel sender B');
  });
  after(async () => {
    await ns?.close();
    await kannel?.stop();
    await forwarder?.stop();
  });

  async function sms(sender: { apiKey: string }, phone: string, text: string): Promise<{ status: number; body: any }> {
    const res = await postNotification(ns.svc, sender.apiKey, { phoneNumber: phone, content: { fr: { sms: text } } });
    return { status: res.status, body: await res.json() };
  }

  /**
   * Waits until the notification is SENT or beyond: the transaction that moves it to SENT also
   * records which sender's SMS the number got, which a reply is attributed by. A reply that
   * comes before that is nobody's.
   */
  async function sent(sender: { apiKey: string }, id: string): Promise<void> {
    await waitForNotification(ns.svc, sender.apiKey, id, (n) => ['SENT', 'DELIVERED', 'READ'].includes(n.status));
  }

  async function replies(sender: { apiKey: string }): Promise<any[]> {
    const res = await fetch(`${ns.svc.url}/v1/notifications/replies`, { headers: { authorization: `Bearer ${sender.apiKey}` } });
    expect(res.status).to.equal(200);
    return (await res.json()).items;
  }

  it("sends with the sender's own sender ID as Kannel's from (KANNEL_FROM for the others): the fake SMSC shows it", async () => {
    await adminOk(ns.svc, 'PUT', `/v1/admin/senders/${a.id}/notifications`, { smsSenderId: 'RSZONSS' });
    await adminOk(ns.svc, 'PUT', `/v1/admin/senders/${b.id}/notifications`, { smsSenderId: '8850' });
    const phone = '+32470000801';
    const sentA = await sms(a, phone, 'Message de A.');
    expect(sentA.status, JSON.stringify(sentA.body)).to.equal(201);
    const sentB = await sms(b, phone, 'Message de B.');
    expect(sentB.status).to.equal(201);
    const c = await ns.svc.newSender('Kannel sender C');
    expect((await sms(c, phone, 'Message de C.')).status).to.equal(201);
    const got = await eventually('the three messages at the fake SMSC', () => {
      const m = kannel.received().filter((x) => x.to === phone);
      return m.length >= 3 ? m : undefined;
    });
    const from = (text: string) => got.find((m) => m.bytes.toString('utf8') === text)?.from;
    expect([from('Message de A.'), from('Message de B.'), from('Message de C.')]).to.deep.equal(['RSZONSS', '8850', 'eBox']);
  });

  it('a phone answers: Kannel calls the sms-service get-url; the reply is stored and read by the sender whose SMS it answers', async () => {
    const phone = '+32470000802';
    const n = await sms(a, phone, 'Votre rendez-vous est demain.');
    expect(n.status).to.equal(201);
    await sent(a, n.body.id);
    // SMS centres often give the number without the "+": it is stored in E.164
    await kannel.inject('32470000802', 'RSZONSS', 'Merci, bien reçu à 10h');
    const reply = await eventually('the reply', async () => (await replies(a)).find((r) => r.from === phone));
    expect(reply).to.deep.include({ notificationId: n.body.id, from: phone, to: 'RSZONSS', text: 'Merci, bien reçu à 10h', keyword: null });
    expect((await replies(b)).filter((r) => r.from === phone)).to.have.length(0);
    expect(forwarder.answers.filter((x) => x.path.includes('32470000802')).map((x) => x.status)).to.deep.equal([204]);
  });

  it('ARRÊT in UCS-2 opts the number out of that sender: the next SMS is refused 422 RECIPIENT_OPTED_OUT and Kannel gets nothing; STOP ALLE blocks every sender', async () => {
    const phone = '+32470000803';
    const first = await sms(a, phone, 'Premier message.');
    expect(first.status).to.equal(201);
    await sent(a, first.body.id);
    await kannel.inject('+32470000803', 'RSZONSS', 'ARRÊT', 'ucs2');
    const reply = await eventually('the opt-out', async () => (await replies(a)).find((r) => r.from === phone));
    expect(reply).to.include({ text: 'ARRÊT', keyword: 'OPT_OUT' });
    const optOuts = (await adminOk(ns.svc, 'GET', `/v1/admin/opt-outs/${encodeURIComponent(phone)}`)).optOuts;
    expect(optOuts.map((o: any) => [o.scope, o.senderId, o.source])).to.deep.equal([['SENDER', a.id, 'sms:kannel']]);

    const atSmsc = kannel.received().filter((m) => m.to === phone).length;
    const refused = await sms(a, phone, 'Encore un message.');
    expect(refused.status).to.equal(422);
    expect(refused.body.code).to.equal('RECIPIENT_OPTED_OUT');
    expect((await sms(b, phone, 'Message de B.')).status).to.equal(201);
    await eventually("B's message at the fake SMSC", () => kannel.received().filter((m) => m.to === phone).length === atSmsc + 1 || undefined);

    await kannel.inject('32470000803', '8850', 'stop alle');
    await eventually('the all-senders opt-out', async () => (await replies(b)).find((r) => r.from === phone && r.keyword === 'OPT_OUT_ALL'));
    expect((await sms(b, phone, 'Et encore.')).body.code).to.equal('RECIPIENT_OPTED_OUT');
    expect(kannel.received().filter((m) => m.to === phone)).to.have.length(atSmsc + 1);
  });

  it('refuses an inbound call without the sms-service token (a delivery-report token is not one), and stores a Kannel id once', async () => {
    const phone = '+32470000804';
    const hello = await sms(a, phone, 'Bonjour.');
    expect(hello.status).to.equal(201);
    await sent(a, hello.body.id);
    const base = `${ns.svc.url}/v1/callbacks/kannel/inbound`;
    const q = (token: string, id: string) => `${base}?token=${encodeURIComponent(token)}&from=%2B32470000804&to=RSZONSS&text=STOP&coding=0&id=${id}&at=${Math.floor(Date.now() / 1000)}&smsc=fake`;
    for (const token of ['', 'A'.repeat(22), kannelInboundToken('another-secret-entirely'), kannelDlrToken(KANNEL_SECRET, 'x', Math.floor(Date.now() / 1000) + 60)]) {
      const res = await fetch(q(token, 'forged'));
      expect(res.status, token).to.equal(401);
      expect((await res.json()).code).to.equal('CALLBACK_SIGNATURE_INVALID');
    }
    expect((await adminOk(ns.svc, 'GET', `/v1/admin/opt-outs/${encodeURIComponent(phone)}`)).optOuts).to.deep.equal([]);
    const good = q(kannelInboundToken(KANNEL_SECRET), '11111111-2222-4333-8444-555555555555');
    expect((await fetch(good)).status).to.equal(204);
    expect((await fetch(good)).status).to.equal(204);
    expect((await replies(a)).filter((r) => r.from === phone)).to.have.length(1);
    const odd = await fetch(`${base}?token=${kannelInboundToken(KANNEL_SECRET)}&from=%2B32470000804&to=RSZONSS&text=%00A%00&coding=2&id=odd`);
    expect(odd.status).to.equal(400);
    expect((await odd.json()).code).to.equal('MALFORMED_REQUEST');
  });
});
