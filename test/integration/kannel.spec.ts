/**
 * The SMS channel against a REAL Kannel (bearerbox + smsbox) and its fake SMS centre,
 * started here on free loopback ports. Without Kannel installed these tests fail with a
 * message saying how to install it; they are never skipped.
 *
 * Delivery reports: the fake SMSC sends two per message, 8 (accepted by the SMSC) and 1
 * (delivered), a few ms apart in either order. To test both orders deterministically the
 * dlr-url Kannel is given points at a small relay that holds the two real reports of a
 * message and forwards them to the service in the order the test asks for.
 */
import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { kannelDlrToken } from '../../src/notifications/providers/KannelSmsGateway.js';
import { smscText, startKannel, type KannelHarness, type SmscMessage } from '../helpers/kannel.js';
import { addContact, eventually, getNotification, insz, KANNEL_SECRET, postNotification, startNotifyService, type NotifyService } from '../helpers/notify.js';

/** Holds Kannel's reports per attempt and forwards them, once all arrived, in a chosen order. */
class DlrRelay {
  private server: Server | undefined;
  url = '';
  target = '';
  private readonly order = new Map<string, number[]>();
  private readonly started = new Set<string>();
  readonly held = new Map<string, Array<{ status: number; path: string }>>();
  /** per attempt: [dlr status forwarded, HTTP status of the service, notification status right after] */
  readonly forwarded = new Map<string, Array<[number, number, string]>>();
  observe: (attemptId: string) => Promise<string> = async () => '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      res.writeHead(204).end();
      const u = new URL(req.url ?? '/', 'http://relay');
      const attempt = u.searchParams.get('attempt') ?? '';
      const list = this.held.get(attempt) ?? [];
      list.push({ status: Number(u.searchParams.get('status')), path: u.pathname + u.search });
      this.held.set(attempt, list);
      this.maybeForward(attempt);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', () => resolve()));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  /** Forward the reports of `attempt`, once they all arrived, in this order of DLR statuses. */
  expect(attempt: string, order: number[]): void {
    this.order.set(attempt, order);
    this.maybeForward(attempt);
  }

  private maybeForward(attempt: string): void {
    const order = this.order.get(attempt);
    const list = this.held.get(attempt) ?? [];
    if (!order || list.length < order.length || this.started.has(attempt)) return;
    this.started.add(attempt);
    void this.forward(attempt, order, list);
  }

  private async forward(attempt: string, order: number[], list: Array<{ status: number; path: string }>): Promise<void> {
    const done: Array<[number, number, string]> = [];
    for (const status of order) {
      const report = list.find((r) => r.status === status);
      if (!report) {
        done.push([status, 0, 'missing']);
        continue;
      }
      const res = await fetch(this.target + report.path);
      await res.arrayBuffer();
      done.push([status, res.status, await this.observe(attempt)]);
    }
    this.forwarded.set(attempt, done);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

describe('SMS through a real Kannel with its fake SMSC', function () {
  this.timeout(120_000);
  let kannel: KannelHarness;
  let ns: NotifyService;
  let relay: DlrRelay;
  let apiKey: string;
  const RECIPIENT = insz(301);
  const PHONE = '+32470000301';
  const DLR_LIFETIME = 2 * 86_400;

  before(async () => {
    kannel = await startKannel({ maxMessages: 3 });
    ns = await startNotifyService({
      sim: false,
      sms: false,
      env: {
        NOTIFY_SMS_PROVIDER: 'kannel',
        KANNEL_SENDSMS_URL: kannel.sendsmsUrl,
        KANNEL_USERNAME: kannel.username,
        KANNEL_PASSWORD: kannel.password,
        KANNEL_DLR_SECRET: KANNEL_SECRET,
        KANNEL_DLR_TOKEN_LIFETIME_SECONDS: String(DLR_LIFETIME),
        KANNEL_FROM: 'eBox',
        NOTIFY_SMS_MAX_PARTS: '3',
        NOTIFY_DEFAULT_STRATEGY: 'SMS_ONLY',
      },
    });
    relay = new DlrRelay();
    await relay.start();
    relay.target = ns.svc.url;
    ns.svc.rt.notifications.setCallbackBaseUrl(relay.url);
    apiKey = (await ns.svc.newSender('Kannel tester')).apiKey;
    await addContact(ns.svc, RECIPIENT, { phone: PHONE, language: 'fr' });
  });
  after(async () => {
    await relay?.stop();
    await ns?.close();
    await kannel?.stop();
  });

  async function sendSms(sms: string, lang = 'fr'): Promise<Response> {
    return postNotification(ns.svc, apiKey, { recipient: { type: 'citizen', id: RECIPIENT }, content: { [lang]: { sms } } });
  }

  /** The message the fake SMSC received for `text`, once all its parts are in. */
  async function received(text: string, encoding: 'GSM-7' | 'UCS-2'): Promise<SmscMessage> {
    return eventually(`the fake SMSC to receive ${JSON.stringify(text.slice(0, 30))}…`, () =>
      kannel.received().find((m) => m.to === PHONE && m.parts === m.announcedParts && (encoding === 'GSM-7' || m.bytes.length % 2 === 0) && smscText(m, encoding) === text),
    );
  }

  for (const order of [
    [8, 1],
    [1, 8],
  ]) {
    it(`moves the status with the real delivery reports, ${order[0]} then ${order[1]}`, async () => {
      const res = await sendSms(`Rappel : rendez-vous demain (${order.join('-')}).`);
      const n = await res.json();
      expect(res.status, JSON.stringify(n)).to.equal(201);
      expect(n.status).to.equal('SENT');
      const attemptId = n.attempts[0].id;
      relay.observe = async () => (await getNotification(ns.svc, apiKey, n.id)).status;
      relay.expect(attemptId, order);
      const forwarded = await eventually('both reports forwarded', () => relay.forwarded.get(attemptId));
      // 8 = accepted by the SMSC → SENT; 1 = delivered → DELIVERED; a late 8 does not move it back
      expect(forwarded).to.deep.equal(order[0] === 8 ? [[8, 204, 'SENT'], [1, 204, 'DELIVERED']] : [[1, 204, 'DELIVERED'], [8, 204, 'DELIVERED']]);
      const final = await getNotification(ns.svc, apiKey, n.id);
      expect(final.attempts[0]).to.include({ status: 'DELIVERED', provider: 'kannel', units: 1 });
      expect(final.attempts[0].deliveredAt).to.be.a('string');
      // the send and report 8 both say SENT: the history lists it once
      expect(final.history.filter((h: any) => h.scope === 'attempt').map((h: any) => h.status)).to.deep.equal(['QUEUED', 'SENT', 'DELIVERED']);
      const receipts = await ns.svc.rt.store.notifications.events(n.id);
      expect(receipts.filter((e) => e.kind === 'RECEIPT').map((e) => e.detail.dlrStatus)).to.deep.equal(order);
      await received(`Rappel : rendez-vous demain (${order.join('-')}).`, 'GSM-7');
    });
  }

  it('refuses forged reports: a wrong token, or an attempt it never issued', async () => {
    const n = await (await sendSms('Un autre rappel.')).json();
    const attemptId = n.attempts[0].id;
    relay.expect(attemptId, [8, 1]);
    relay.observe = async () => '';
    await eventually('the real reports', () => relay.forwarded.get(attemptId));
    const before = (await getNotification(ns.svc, apiKey, n.id)).attempts[0];
    const bad = await fetch(`${ns.svc.url}/v1/callbacks/kannel?attempt=${attemptId}&token=${'A'.repeat(22)}&status=16`);
    expect(bad.status).to.equal(401);
    expect((await bad.json()).code).to.equal('CALLBACK_SIGNATURE_INVALID');
    const unknownId = '00000000-0000-4000-8000-000000000000';
    const unknown = await fetch(`${ns.svc.url}/v1/callbacks/kannel?attempt=${unknownId}&token=${kannelDlrToken(KANNEL_SECRET, unknownId, Math.floor(Date.now() / 1000) + 60)}&status=1`);
    expect(unknown.status).to.equal(404);
    const noToken = await fetch(`${ns.svc.url}/v1/callbacks/kannel?attempt=${attemptId}&status=2`);
    expect(noToken.status).to.equal(401);
    expect((await getNotification(ns.svc, apiKey, n.id)).attempts[0]).to.deep.equal(before);
  });

  it('delivery-report tokens expire: the token Kannel got lasts KANNEL_DLR_TOKEN_LIFETIME_SECONDS; after that a report is refused like a forged one', async () => {
    const sentFrom = Math.floor(Date.now() / 1000);
    const n = await (await sendSms('Rappel : le jeton expire.')).json();
    const sentTo = Math.floor(Date.now() / 1000);
    const attemptId = n.attempts[0].id;
    // the real reports Kannel sends, as they reached the relay (not forwarded: the attempt stays SENT)
    const [report] = await eventually('Kannel to call the dlr-url', () => relay.held.get(attemptId));
    const token = new URL(report!.path, 'http://relay').searchParams.get('token')!;
    const [exp, mac] = token.split('.');
    expect(Number(exp)).to.be.within(sentFrom + DLR_LIFETIME, sentTo + DLR_LIFETIME);

    const report1 = (t: string) => fetch(`${ns.svc.url}/v1/callbacks/kannel?attempt=${attemptId}&token=${encodeURIComponent(t)}&status=1`);
    const before = (await getNotification(ns.svc, apiKey, n.id)).attempts[0];
    expect(before.status).to.equal('SENT');
    // computed with the right secret for this attempt, but its second has passed
    const expired = await report1(kannelDlrToken(KANNEL_SECRET, attemptId, sentFrom - 1));
    expect(expired.status).to.equal(401);
    expect(expired.headers.get('content-type')).to.match(/^application\/problem\+json/);
    expect((await expired.json()).code).to.equal('CALLBACK_SIGNATURE_INVALID');
    // the real token with its expiry moved later (or earlier) is not ours
    for (const moved of [Number(exp) + 86_400, Number(exp) - 1]) {
      const res = await report1(`${moved}.${mac}`);
      expect(res.status).to.equal(401);
      expect((await res.json()).code).to.equal('CALLBACK_SIGNATURE_INVALID');
    }
    expect((await getNotification(ns.svc, apiKey, n.id)).attempts[0]).to.deep.equal(before);
    // the real token, within its lifetime, is taken
    expect((await report1(token)).status).to.equal(204);
    expect((await getNotification(ns.svc, apiKey, n.id)).attempts[0].status).to.equal('DELIVERED');
  });

  describe('texts Kannel would cut are refused before sending', () => {
    async function rowCounts() {
      const db = ns.svc.rt.store.db;
      const count = async (t: string) => Number((await db(t).count({ n: '*' }).first())!.n);
      return { notifications: await count('notifications'), jobs: await count('jobs') };
    }

    it('Kannel itself drops the parts beyond max-messages, still answering 202 (why we count first)', async () => {
      const text = 'a'.repeat(460); // 4 GSM-7 parts of 153
      const u = new URL(kannel.sendsmsUrl);
      for (const [k, v] of Object.entries({ username: kannel.username, password: kannel.password, from: 'eBox', to: '+32470000399', text, charset: 'UTF-8' })) u.searchParams.set(k, v);
      const res = await fetch(u);
      expect(res.status).to.equal(202);
      const got = await eventually('the cut message', () => kannel.received().find((m) => m.to === '+32470000399' && m.parts === 3));
      expect(got.announcedParts).to.equal(3);
      expect(smscText(got, 'GSM-7')).to.equal('a'.repeat(459)); // one character silently lost
    });

    const cases: Array<{ name: string; fits: string; tooLong: string; encoding: 'GSM-7' | 'UCS-2'; parts: number }> = [
      { name: 'GSM-7: 459 septets fit in 3 × 153, 460 do not', fits: 'a'.repeat(459), tooLong: 'a'.repeat(460), encoding: 'GSM-7', parts: 4 },
      {
        // part 1: 152 × b (the escape pair of € does not fit in its last septet); part 2: € + 151 × c;
        // part 3: [ + 149 × d + ] = 153 septets. One more character is 459 septets in all — 3 parts
        // if escapes could be split, but 4 as Kannel and phones split them.
        name: 'GSM-7 with extension characters: € [ ] take two septets, and an escape pair is never split',
        fits: 'b'.repeat(152) + '€' + 'c'.repeat(151) + '[' + 'd'.repeat(149) + ']',
        tooLong: 'b'.repeat(152) + '€' + 'c'.repeat(151) + '[' + 'd'.repeat(149) + ']e',
        encoding: 'GSM-7',
        parts: 4,
      },
      { name: 'UCS-2 ("België"): 201 code units fit in 3 × 67, 202 do not', fits: 'België '.repeat(28) + 'Belgi', tooLong: 'België '.repeat(28) + 'België', encoding: 'UCS-2', parts: 4 },
      {
        // Kannel cuts every 67 code units, through a surrogate pair: 66 + 😀 + 133 is 3 parts at
        // Kannel (4 if the pair were kept whole), so it is allowed and billed as 3
        name: 'UCS-2 with a surrogate pair on a part boundary: counted as Kannel splits it, the pair cut',
        fits: 'a'.repeat(66) + '😀' + 'b'.repeat(133),
        tooLong: 'a'.repeat(66) + '😀' + 'b'.repeat(134),
        encoding: 'UCS-2',
        parts: 4,
      },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const before = await rowCounts();
        const refused = await sendSms(c.tooLong);
        const problem = await refused.json();
        expect(refused.status).to.equal(422);
        expect(problem).to.include({ code: 'SMS_TOO_LONG', parts: c.parts, maxParts: 3, encoding: c.encoding });
        expect(await rowCounts()).to.deep.equal(before); // nothing queued, so nothing sent

        const res = await sendSms(c.fits);
        const n = await res.json();
        expect(res.status, JSON.stringify(n)).to.equal(201);
        expect(n.sms).to.deep.equal({ encoding: c.encoding, parts: 3 });
        const got = await received(c.fits, c.encoding);
        expect(got.parts).to.equal(3);
        // billed as the parts Kannel sent
        const final = await getNotification(ns.svc, apiKey, n.id);
        expect(final.attempts[0]).to.include({ provider: 'kannel', units: 3 });
      });
    }

    it('Kannel itself cuts a surrogate pair at a part boundary (what the count above follows)', async () => {
      const text = 'a'.repeat(66) + '😀' + 'b'.repeat(133);
      const u = new URL(kannel.sendsmsUrl);
      for (const [k, v] of Object.entries({ username: kannel.username, password: kannel.password, from: 'eBox', to: '+32470000398', text, charset: 'UTF-8', coding: '2' })) u.searchParams.set(k, v);
      expect((await fetch(u)).status).to.equal(202);
      const got = await eventually('the three parts', () => kannel.received().find((m) => m.to === '+32470000398' && m.parts === 3));
      expect(got.announcedParts).to.equal(3);
      const parts = got.partBytes;
      expect(parts.map((p) => p.length)).to.deep.equal([134, 134, 134]); // 67 code units each
      expect(parts[0]!.subarray(132).toString('hex')).to.equal('d83d'); // high surrogate ends part 1
      expect(parts[1]!.subarray(0, 2).toString('hex')).to.equal('de00'); // low surrogate starts part 2
      expect(smscText(got, 'UCS-2')).to.equal(text);
    });
  });

  it('sends UCS-2 with coding=2 so accented letters arrive intact (not "?")', async () => {
    const text = 'Reçu : votre décision est prête. België, Köln, Ærø.';
    const n = await (await sendSms(text)).json();
    expect(n.sms).to.deep.equal({ encoding: 'UCS-2', parts: 1 });
    const got = await received(text, 'UCS-2');
    expect(got.type).to.equal('ucs-2');
  });
});
