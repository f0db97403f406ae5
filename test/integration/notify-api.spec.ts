/**
 * The notification API end to end: validation at the edge, synchronous and asynchronous
 * answers, sender isolation, GovApp receipts (simulator) and forged ones, the encrypted
 * body as the push backend sees it, rate limit, usage and its price, settings, and the
 * contact directory (admin API and script).
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import { expect } from 'chai';
import { generalDecrypt } from 'jose';
import { signBody } from '../../src/notifications/CallbackSignature.js';
import { runScript } from '../helpers/process.js';
import {
  addContact,
  admin,
  adminOk,
  GOVAPP_SECRET,
  getNotification,
  insz,
  newDevice,
  postNotification,
  SMS_HTTP_SECRET,
  SMS_TEXT,
  startNotifyService,
  waitForNotification,
  type Device,
  type NotifyService,
} from '../helpers/notify.js';

describe('notification API', () => {
  let ns: NotifyService;
  let apiKey: string;
  let devices: Device[];
  const APP = insz(201);
  const SMS_ONLY_RECIPIENT = insz(202);
  const HTML = '<p onclick="steal()">Votre <b>décision</b> est prête.<script>alert(1)</script><img src="https://tracker.example/p.png"></p>';
  const CONTENT = { fr: { title: 'Nouvelle décision', html: HTML, sms: 'Votre décision est disponible dans votre e-Box.' } };

  before(async () => {
    ns = await startNotifyService({
      sim: { deliveryDelayMs: 5, readAfterMs: null },
      env: { NOTIFY_PRICE_SMS_PART: '0.05', NOTIFY_PRICE_PUSH: '0.01', NOTIFY_PRICE_CURRENCY: 'DKK', NOTIFY_SMS_MAX_PARTS: '2' },
    });
    apiKey = (await ns.svc.newSender('API tester')).apiKey;
    devices = [await newDevice('inst-1'), await newDevice('inst-2')];
    await addContact(ns.svc, APP, { phone: '+32470000201', language: 'fr', devices });
    await addContact(ns.svc, SMS_ONLY_RECIPIENT, { phone: '+32470000202', language: 'de' });
  });
  after(async () => ns?.close());

  const problem = async (res: Response) => ({ status: res.status, ...(await res.json()) });

  describe('validation at the edge', () => {
    async function counts() {
      const db = ns.svc.rt.store.db;
      return { notifications: Number((await db('notifications').count({ n: '*' }).first())!.n), jobs: Number((await db('jobs').count({ n: '*' }).first())!.n) };
    }

    it('answers problems with stable codes and leaves nothing behind', async () => {
      const before = await counts();
      const recipient = { type: 'citizen', id: APP };
      const bad: Array<[unknown, number, string]> = [
        [{ content: CONTENT }, 422, 'NOTIFICATION_INVALID'], // no addressee
        [{ recipient, phoneNumber: '+32470000201', content: CONTENT }, 422, 'NOTIFICATION_INVALID'],
        [{ recipient: { type: 'citizen', id: '85073003329' }, content: CONTENT }, 422, 'RECIPIENT_INVALID'],
        [{ phoneNumber: '+3222345678', content: CONTENT }, 422, 'PHONE_NUMBER_INVALID'], // a Brussels fixed line
        [{ phoneNumber: '0470123456', content: CONTENT }, 422, 'PHONE_NUMBER_INVALID'], // not E.164
        [{ recipient, strategy: 'CARRIER_PIGEON', content: CONTENT }, 422, 'NOTIFICATION_INVALID'],
        [{ recipient, language: 'es', content: CONTENT }, 422, 'NOTIFICATION_INVALID'],
        [{ recipient, template: 'nope' }, 422, 'NOTIFICATION_INVALID'],
        [{ recipient, template: 'appointment-reminder', values: { what: 'x' } }, 422, 'NOTIFICATION_INVALID'], // {date} missing
        [{ recipient, content: { es: { sms: 'hola' } } }, 422, 'NOTIFICATION_INVALID'],
        [{ recipient, strategy: 'GOVAPP_ONLY', content: { fr: { sms: 'no title, no html' } } }, 422, 'NOTIFICATION_INVALID'],
        [{ recipient, strategy: 'GOVAPP_ONLY', content: { fr: { title: 'T', html: '<script>only()</script>' } } }, 422, 'NOTIFICATION_INVALID'],
        [{ recipient, strategy: 'SMS_ONLY', content: { fr: { sms: 'x'.repeat(307) } } }, 422, 'SMS_TOO_LONG'], // 3 parts, 2 allowed
        [{ recipient, content: CONTENT, extra: 1 }, 422, 'NOTIFICATION_INVALID'],
      ];
      for (const [body, status, code] of bad) {
        const p = await problem(await postNotification(ns.svc, apiKey, body));
        expect(p, JSON.stringify(body)).to.include({ status, code });
      }
      const missing = await problem(await postNotification(ns.svc, apiKey, { recipient, template: 'appointment-reminder', values: { what: 'x', time: '10:00' } }));
      expect(missing).to.include({ code: 'NOTIFICATION_INVALID', placeholder: 'date' });
      const tooLong = await problem(await postNotification(ns.svc, apiKey, { recipient, strategy: 'SMS_ONLY', content: { fr: { sms: 'Reçu '.repeat(30) } } }));
      expect(tooLong).to.include({ code: 'SMS_TOO_LONG', encoding: 'UCS-2', parts: 3, maxParts: 2 });
      expect(tooLong.nonGsmCharacters).to.deep.equal(['ç']);
      expect((await fetch(`${ns.svc.url}/v1/notifications`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'text/plain' }, body: 'x' })).status).to.equal(415);
      expect((await fetch(`${ns.svc.url}/v1/notifications`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, body: '{' })).status).to.equal(400);
      expect((await postNotification(ns.svc, 'rmk_wrong', { recipient, content: CONTENT })).status).to.equal(401);
      expect(await counts()).to.deep.equal(before);
    });

    it("a literal { in the sender's own text is text, not a template error", async () => {
      const sms = 'Uw code {A-17} geldt tot {date}; antwoord niet met { of }.';
      const res = await postNotification(ns.svc, apiKey, {
        recipient: { type: 'citizen', id: SMS_ONLY_RECIPIENT },
        strategy: 'SMS_ONLY',
        values: { date: '12/01/2027' },
        content: { nl: { sms } },
      });
      const n = await res.json();
      expect(res.status, JSON.stringify(n)).to.equal(201);
      const sent = ns.aggregator!.requests.find((r) => r.reference === n.attempts[0].id)!;
      expect(sent.text).to.equal('Uw code {A-17} geldt tot 12/01/2027; antwoord niet met { of }.');
      expect(n.sms).to.deep.equal({ encoding: 'GSM-7', parts: 1 }); // { and } take two septets each
    });

    it('transliterates when asked, so a text that was too long as UCS-2 fits in GSM-7', async () => {
      const sms = 'Votre décision est prête. '.repeat(5); // UCS-2 (ê): 130 units, 2 parts; transliterated: 130 septets, 1 part
      const res = await postNotification(ns.svc, apiKey, { recipient: { type: 'citizen', id: SMS_ONLY_RECIPIENT }, strategy: 'SMS_ONLY', smsTransliterate: true, content: { fr: { sms } } });
      const n = await res.json();
      expect(res.status).to.equal(201);
      expect(n.sms).to.deep.equal({ encoding: 'GSM-7', parts: 1 });
      const sent = ns.aggregator!.requests.find((r) => r.reference === n.attempts[0].id)!;
      expect(sent.text).to.equal('Votre décision est prete. '.repeat(5));
    });
    it('writes in Danish: the built-in templates and own texts, dates as Danes write them', async () => {
      const phoneNumber = '+4520123456'; // a Danish mobile number
      const res = await postNotification(ns.svc, apiKey, { phoneNumber, strategy: 'SMS_ONLY', language: 'da', template: 'appointment-reminder', values: { what: 'Samtale om din pension', date: '07.01.2027', time: '10.30' } });
      const n = await res.json();
      expect(res.status, JSON.stringify(n)).to.equal(201);
      expect(n.language).to.equal('da');
      expect(n.sms).to.deep.equal({ encoding: 'GSM-7', parts: 1 }); // æ, ø, å are GSM-7
      const sent = ns.aggregator!.requests.find((r) => r.reference === n.attempts[0].id)!;
      expect(sent.text).to.equal('Påmindelse fra API tester: Samtale om din pension den 07.01.2027 kl. 10.30.');
      // own text: a Danish reader gets the English one before the Dutch one (its fallback chain)
      const own = await (await postNotification(ns.svc, apiKey, { phoneNumber, strategy: 'SMS_ONLY', language: 'da', content: { nl: { sms: 'Hallo' }, en: { sms: 'Hello' } } })).json();
      expect(own.language).to.equal('en');
    });
  });

  describe('synchronous and asynchronous answers', () => {
    it('waits for the send status by default (201)', async () => {
      const res = await postNotification(ns.svc, apiKey, { recipient: { type: 'citizen', id: SMS_ONLY_RECIPIENT }, strategy: 'SMS_ONLY', content: SMS_TEXT });
      const n = await res.json();
      expect(res.status).to.equal(201);
      expect(n.status).to.equal('SENT');
      expect(res.headers.get('location')).to.equal(`/v1/notifications/${n.id}`);
      expect(n.language).to.equal('nl'); // the only language given, although the recipient prefers de
    });

    it('answers 202 at once with Prefer: respond-async', async () => {
      const res = await postNotification(ns.svc, apiKey, { recipient: { type: 'citizen', id: SMS_ONLY_RECIPIENT }, strategy: 'SMS_ONLY', content: SMS_TEXT }, { prefer: 'respond-async' });
      const n = await res.json();
      expect(res.status).to.equal(202);
      expect(res.headers.get('preference-applied')).to.equal('respond-async');
      expect(n.status).to.be.oneOf(['QUEUED', 'SENT']);
      await waitForNotification(ns.svc, apiKey, n.id, (x) => x.status === 'SENT');
    });

    it('shows a notification to its sender only', async () => {
      const n = await (await postNotification(ns.svc, apiKey, { phoneNumber: '+32470000299', strategy: 'SMS_ONLY', template: 'document-available', values: { subject: 'Attest' } })).json();
      expect(n.phoneNumber).to.equal('+32470000299');
      const other = (await ns.svc.newSender('Someone else')).apiKey;
      expect((await fetch(`${ns.svc.url}/v1/notifications/${n.id}`, { headers: { authorization: `Bearer ${other}` } })).status).to.equal(404);
      expect((await fetch(`${ns.svc.url}/v1/notifications/${n.id}`)).status).to.equal(401);
      expect((await fetch(`${ns.svc.url}/v1/notifications/00000000-0000-4000-8000-000000000000`, { headers: { authorization: `Bearer ${apiKey}` } })).status).to.equal(404);
    });

    it('matches its OpenAPI schema', async () => {
      const doc = await (await fetch(`${ns.svc.url}/openapi.json`)).json();
      const ajv = new Ajv2020({ strict: false, validateFormats: false });
      ajv.addSchema({ $id: 'openapi', components: doc.components });
      const validate = (ref: string, v: unknown) => {
        const fn = ajv.getSchema(`openapi#/components/schemas/${ref}`)!;
        expect(fn(v), `${ref}: ${JSON.stringify(fn.errors)}`).to.equal(true);
      };
      const n = await (await postNotification(ns.svc, apiKey, { recipient: { type: 'citizen', id: APP }, strategy: 'GOVAPP_FIRST', content: CONTENT })).json();
      validate('Notification', n);
      validate('NotificationRequest', { recipient: { type: 'citizen', id: APP }, strategy: 'GOVAPP_FIRST', content: CONTENT });
      validate('NotificationSettings', await (await fetch(`${ns.svc.url}/v1/notifications/settings`, { headers: { authorization: `Bearer ${apiKey}` } })).json());
      validate('NotificationUsage', await (await fetch(`${ns.svc.url}/v1/notifications/usage`, { headers: { authorization: `Bearer ${apiKey}` } })).json());
      validate('Contact', await adminOk(ns.svc, 'GET', `/v1/admin/contacts/citizen/${APP}`));
    });
  });

  describe('GovApp: end-to-end encryption and receipts', () => {
    let n: any;
    let pushId: string;

    before(async () => {
      const res = await postNotification(ns.svc, apiKey, { recipient: { type: 'citizen', id: APP }, strategy: 'GOVAPP_ONLY', content: CONTENT });
      n = await res.json();
      pushId = n.attempts[0].id;
    });

    it('the push backend gets the title in clear and a JWE that each device decrypts to the sanitised HTML', async () => {
      const push = ns.sim!.pushes.get(pushId)!;
      expect(push.title).to.equal('Nouvelle décision');
      expect(push.messageId).to.equal(n.id);
      expect(JSON.stringify(push)).to.not.include('est prête');
      for (const d of devices) {
        const { plaintext, protectedHeader } = await generalDecrypt(push.content as never, d.privateKey);
        expect(new TextDecoder().decode(plaintext)).to.equal('<p>Votre <b>décision</b> est prête.</p>');
        expect(protectedHeader).to.deep.include({ messageId: n.id, enc: 'A256GCM' });
      }
      const stranger = await newDevice('stranger');
      let failed: unknown;
      try {
        await generalDecrypt(push.content as never, stranger.privateKey);
      } catch (err) {
        failed = err;
      }
      expect(failed).to.have.property('code', 'ERR_JWE_DECRYPTION_FAILED');
    });

    it('moves to DELIVERED on the app\'s receipts, then READ when the user opens it', async () => {
      const delivered = await waitForNotification(ns.svc, apiKey, n.id, (x) => x.status === 'DELIVERED');
      expect(delivered.attempts[0].readAt).to.equal(null);
      expect(await ns.sim!.read(pushId, 'inst-2')).to.equal(204);
      const read = await getNotification(ns.svc, apiKey, n.id);
      expect(read.status).to.equal('READ');
      expect(read.attempts[0].readAt).to.be.a('string');
      expect(read.history.filter((h: any) => h.scope === 'notification').map((h: any) => h.status)).to.deep.equal(['QUEUED', 'SENT', 'DELIVERED', 'READ']);
      const attempt = await ns.svc.rt.store.notifications.findAttempt(pushId);
      expect((attempt!.targets.devices as any[]).map((d) => [d.installationId, d.status]).sort()).to.deep.equal([
        ['inst-1', 'DELIVERED'],
        ['inst-2', 'READ'],
      ]);
    });

    it('refuses forged receipts: bad HMAC, stale signature, unknown push or installation', async () => {
      const before = await getNotification(ns.svc, apiKey, n.id);
      const post = (body: object, signature: string | undefined) =>
        fetch(`${ns.svc.url}/v1/callbacks/govapp`, { method: 'POST', headers: { 'content-type': 'application/json', ...(signature ? { 'govapp-signature': signature } : {}) }, body: JSON.stringify(body) });
      const receipt = { pushId, installationId: 'inst-1', event: 'READ', at: new Date().toISOString() };
      const text = JSON.stringify(receipt);
      const wrongKey = await post(receipt, signBody('not-the-shared-secret-at-all', text));
      expect(await problem(wrongKey)).to.include({ status: 401, code: 'CALLBACK_SIGNATURE_INVALID' });
      expect((await post(receipt, undefined)).status).to.equal(401);
      expect((await post(receipt, signBody(GOVAPP_SECRET, text, Math.floor(Date.now() / 1000) - 3600))).status).to.equal(401);
      const tampered = await fetch(`${ns.svc.url}/v1/callbacks/govapp`, { method: 'POST', headers: { 'content-type': 'application/json', 'govapp-signature': signBody(GOVAPP_SECRET, text) }, body: text.replace('inst-1', 'inst-2') });
      expect(tampered.status).to.equal(401);
      const unknownPush = { ...receipt, pushId: '00000000-0000-4000-8000-000000000000' };
      expect(await problem(await post(unknownPush, signBody(GOVAPP_SECRET, JSON.stringify(unknownPush))))).to.include({ status: 404, code: 'NOT_FOUND' });
      const unknownDevice = { ...receipt, installationId: 'inst-9' };
      expect((await post(unknownDevice, signBody(GOVAPP_SECRET, JSON.stringify(unknownDevice)))).status).to.equal(404);
      const after = await getNotification(ns.svc, apiKey, n.id);
      expect(after.attempts).to.deep.equal(before.attempts);
    });
  });

  it('refuses forged reports of the HTTP SMS aggregator too', async () => {
    const n = await (await postNotification(ns.svc, apiKey, { recipient: { type: 'citizen', id: SMS_ONLY_RECIPIENT }, strategy: 'SMS_ONLY', content: SMS_TEXT })).json();
    const reference = n.attempts[0].id;
    expect(await ns.aggregator!.report(reference, 'FAILED', 'a-secret-that-is-not-the-shared-one')).to.equal(401);
    const unknown = JSON.stringify({ reference: '00000000-0000-4000-8000-000000000000', status: 'DELIVERED' });
    const res = await fetch(`${ns.svc.url}/v1/callbacks/sms-http`, { method: 'POST', headers: { 'content-type': 'application/json', signature: signBody(SMS_HTTP_SECRET, unknown) }, body: unknown });
    expect(res.status).to.equal(404);
    expect((await getNotification(ns.svc, apiKey, n.id)).status).to.equal('SENT');
    expect(await ns.aggregator!.report(reference, 'DELIVERED')).to.equal(204);
    expect((await getNotification(ns.svc, apiKey, n.id)).status).to.equal('DELIVERED');
  });

  describe('usage and settings', () => {
    it('counts SMS parts and pushes per sender and month, priced', async () => {
      const key = (await ns.svc.newSender('Billed institution')).apiKey;
      const sms = await (await postNotification(ns.svc, key, { recipient: { type: 'citizen', id: SMS_ONLY_RECIPIENT }, strategy: 'SMS_ONLY', content: { de: { sms: 'x'.repeat(200) } } })).json();
      expect(sms).to.deep.include({ status: 'SENT', sms: { encoding: 'GSM-7', parts: 2 } });
      const push = await (await postNotification(ns.svc, key, { recipient: { type: 'citizen', id: APP }, strategy: 'GOVAPP_ONLY', content: CONTENT })).json();
      expect(push.status).to.be.oneOf(['SENT', 'DELIVERED']);
      const month = new Date().toISOString().slice(0, 7);
      const usage = await (await fetch(`${ns.svc.url}/v1/notifications/usage?month=${month}`, { headers: { authorization: `Bearer ${key}` } })).json();
      expect(usage).to.deep.include({ month, currency: 'DKK', amount: '0.12' });
      expect(usage.senders).to.have.length(1);
      expect(usage.senders[0].lines).to.deep.equal([
        { channel: 'GOVAPP', messages: 1, units: 2, unitPrice: '0.01', amount: '0.02' },
        { channel: 'SMS', messages: 1, units: 2, unitPrice: '0.05', amount: '0.10' },
      ]);
      const all = await adminOk(ns.svc, 'GET', `/v1/admin/notifications/usage?month=${month}`);
      expect(all.senders.map((s: any) => s.senderName)).to.include.members(['Billed institution', 'API tester']);
      expect((await fetch(`${ns.svc.url}/v1/admin/notifications/usage`, { headers: { authorization: `Bearer ${key}` } })).status).to.equal(401);
      expect((await fetch(`${ns.svc.url}/v1/notifications/usage?month=2026-13`, { headers: { authorization: `Bearer ${key}` } })).status).to.equal(400);
      const empty = await (await fetch(`${ns.svc.url}/v1/notifications/usage?month=2001-01`, { headers: { authorization: `Bearer ${key}` } })).json();
      expect(empty).to.deep.include({ amount: '0.00' });
    });

    it('keeps a default strategy per sender', async () => {
      const key = (await ns.svc.newSender('SMS-minded')).apiKey;
      const auth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
      expect((await (await fetch(`${ns.svc.url}/v1/notifications/settings`, { headers: auth })).json()).defaultStrategy).to.equal('GOVAPP_FIRST');
      expect((await fetch(`${ns.svc.url}/v1/notifications/settings`, { method: 'PUT', headers: auth, body: JSON.stringify({ defaultStrategy: 'FAX_ONLY' }) })).status).to.equal(422);
      const put = await (await fetch(`${ns.svc.url}/v1/notifications/settings`, { method: 'PUT', headers: auth, body: JSON.stringify({ defaultStrategy: 'SMS_ONLY' }) })).json();
      expect(put.defaultStrategy).to.equal('SMS_ONLY');
      expect(put.strategies.map((s: any) => s.name)).to.deep.equal(['GOVAPP_FIRST', 'GOVAPP_ONLY', 'SMS_ONLY', 'SMS_AND_GOVAPP']);
      const n = await (await postNotification(ns.svc, key, { recipient: { type: 'citizen', id: APP }, content: CONTENT })).json();
      expect(n.strategy).to.equal('SMS_ONLY');
      expect(n.attempts.map((a: any) => a.channel)).to.deep.equal(['SMS']);
    });
  });

  describe('contact directory', () => {
    const R = insz(220);

    it('is managed over the admin API, with validation', async () => {
      expect((await fetch(`${ns.svc.url}/v1/admin/contacts/citizen/${R}`, { method: 'PUT', headers: { authorization: `Bearer ${apiKey}` } })).status).to.equal(401);
      expect(await problem(await admin(ns.svc, 'PUT', `/v1/admin/contacts/citizen/${R}`, { phoneNumber: '+3222345678' }))).to.include({ status: 422, code: 'PHONE_NUMBER_INVALID' });
      expect(await problem(await admin(ns.svc, 'PUT', `/v1/admin/contacts/citizen/${R}`, { phoneNumber: '+32470000220', language: 'it' }))).to.include({ status: 422, code: 'CONTACT_INVALID' });
      expect(await problem(await admin(ns.svc, 'PUT', '/v1/admin/contacts/citizen/123', { phoneNumber: '+32470000220' }))).to.include({ status: 422, code: 'RECIPIENT_INVALID' });
      expect(await problem(await admin(ns.svc, 'GET', `/v1/admin/contacts/citizen/${R}`))).to.include({ status: 404 });
      const created = await admin(ns.svc, 'PUT', `/v1/admin/contacts/citizen/${R}`, { phoneNumber: '+32 470 00 02 20', language: 'de' });
      expect(created.status).to.equal(201);
      expect(await created.json()).to.deep.include({ phoneNumber: '+32470000220', language: 'de', installations: [] });
      expect((await admin(ns.svc, 'PUT', `/v1/admin/contacts/citizen/${R}`, { phoneNumber: '+32470000221', language: 'en' })).status).to.equal(200);

      const d = await newDevice('dev-220');
      const { privateKey } = await (await import('jose')).generateKeyPair('ECDH-ES+A256KW', { crv: 'P-256', extractable: true });
      const privateJwk = await (await import('jose')).exportJWK(privateKey);
      expect(await problem(await admin(ns.svc, 'POST', `/v1/admin/contacts/citizen/${R}/installations`, { id: 'dev-220', pushToken: 't', publicKey: privateJwk }))).to.include({ status: 422, code: 'DEVICE_KEY_INVALID' });
      expect(await problem(await admin(ns.svc, 'POST', `/v1/admin/contacts/citizen/${R}/installations`, { id: 'dev-220', publicKey: d.publicJwk }))).to.include({ status: 422, code: 'CONTACT_INVALID' });
      const inst = await adminOk(ns.svc, 'POST', `/v1/admin/contacts/citizen/${R}/installations`, { id: 'dev-220', pushToken: 'tok', publicKey: d.publicJwk, deviceName: 'Phone' });
      expect(inst).to.deep.include({ id: 'dev-220', notificationsEnabled: true, deviceName: 'Phone' });
      expect(await problem(await admin(ns.svc, 'POST', `/v1/admin/contacts/citizen/${R}/installations`, { id: 'dev-220', pushToken: 'tok', publicKey: d.publicJwk }))).to.include({ status: 409, code: 'INSTALLATION_EXISTS' });
      expect((await adminOk(ns.svc, 'PATCH', `/v1/admin/contacts/citizen/${R}/installations/dev-220`, { notificationsEnabled: false })).notificationsEnabled).to.equal(false);
      const contact = await adminOk(ns.svc, 'GET', `/v1/admin/contacts/citizen/${R}`);
      expect(contact).to.deep.include({ phoneNumber: '+32470000221', language: 'en' });
      expect(contact.installations.map((i: any) => [i.id, i.notificationsEnabled])).to.deep.equal([['dev-220', false]]);
      expect((await admin(ns.svc, 'DELETE', `/v1/admin/contacts/citizen/${R}/installations/dev-220`)).status).to.equal(204);
      expect((await admin(ns.svc, 'DELETE', `/v1/admin/contacts/citizen/${R}/installations/dev-220`)).status).to.equal(404);
      expect((await admin(ns.svc, 'DELETE', `/v1/admin/contacts/citizen/${R}`)).status).to.equal(204);
      expect((await admin(ns.svc, 'GET', `/v1/admin/contacts/citizen/${R}`)).status).to.equal(404);
    });

    it('is managed by scripts/contacts.ts too', async () => {
      const R2 = insz(221);
      const env = { ...ns.svc.env, PORT: '0' };
      const set = JSON.parse(await runScript('scripts/contacts.ts', ['set', '--type', 'citizen', '--id', R2, '--phone', '+32470000222', '--language', 'fr'], env));
      expect(set).to.deep.include({ phoneNumber: '+32470000222', language: 'fr' });
      await expectScriptError(runScript('scripts/contacts.ts', ['set', '--type', 'citizen', '--id', R2, '--phone', '+3222345678'], env), /PHONE_NUMBER_INVALID/);
      expect((await adminOk(ns.svc, 'GET', `/v1/admin/contacts/citizen/${R2}`)).phoneNumber).to.equal('+32470000222');
    });
  });
});

async function expectScriptError(p: Promise<string>, pattern: RegExp): Promise<void> {
  try {
    await p;
  } catch (err) {
    expect(String((err as Error).message)).to.match(pattern);
    return;
  }
  expect.fail('the script should have failed');
}
