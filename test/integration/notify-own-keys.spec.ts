/**
 * Every lookup keyed by what a client sends is an own-property lookup: the names that
 * every plain object inherits (`toString`, `constructor`, `__proto__`, `hasOwnProperty`,
 * `valueOf`) given as a template id, a strategy, a language, a placeholder, a value name, a
 * content or subject language, a default strategy, a month, a contact language, a route
 * parameter, or in a provider's report are refused with the stable code of that field (or
 * found to name nothing), never a 500, never a text taken from Object.prototype.
 */
import { expect } from 'chai';
import { signBody } from '../../src/notifications/CallbackSignature.js';
import { kannelDlrToken } from '../../src/notifications/providers/KannelSmsGateway.js';
import { onPostgres } from '../helpers/database.js';
import { runScript } from '../helpers/process.js';
import { addContact, admin, GOVAPP_SECRET, insz, KANNEL_SECRET, newDevice, postNotification, SMS_HTTP_SECRET, SMS_TEXT, startNotifyService, type NotifyService } from '../helpers/notify.js';
import { metadata, pdfBytes, submit } from '../helpers/service.js';

/** Names every plain object answers to without owning them. */
const INHERITED = ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf'] as const;

/** `base` with `key` as an own, enumerable member — even "__proto__" — so JSON.stringify sends it. */
function withOwn(base: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  return out;
}

describe(`user-keyed lookups are own-property lookups (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, () => {
  let ns: NotifyService;
  let apiKey: string;
  const APP = insz(301);
  const recipient = { type: 'citizen', id: APP };
  const CONTENT = { nl: { title: 'Herinnering', html: '<p>Morgen.</p>', sms: 'Morgen.' } };

  before(async () => {
    ns = await startNotifyService({ sim: { deliveryDelayMs: 5, readAfterMs: null } });
    apiKey = (await ns.svc.newSender('Prototype tester')).apiKey;
    await addContact(ns.svc, APP, { phone: '+32470000301', language: 'nl', devices: [await newDevice('own-keys-1')] });
  });
  after(async () => ns?.close());

  const problem = async (res: Response) => ({ status: res.status, ...(await res.json()) });
  const auth = () => ({ authorization: `Bearer ${apiKey}` });
  async function rows() {
    const db = ns.svc.rt.store.db;
    const count = async (table: string) => Number((await db(table).count({ n: '*' }).first())!.n);
    return { notifications: await count('notifications'), jobs: await count('jobs'), usage: await count('notify_usage') };
  }

  describe('POST /v1/notifications', () => {
    it('refuses an inherited name as template, strategy or language: 422 NOTIFICATION_INVALID, nothing left behind', async () => {
      const before = await rows();
      for (const name of INHERITED) {
        for (const body of [withOwn({ recipient }, 'template', name), withOwn({ recipient, content: CONTENT }, 'strategy', name), withOwn({ recipient, content: CONTENT }, 'language', name)]) {
          expect(await problem(await postNotification(ns.svc, apiKey, body)), JSON.stringify(body)).to.include({ status: 422, code: 'NOTIFICATION_INVALID' });
        }
      }
      expect(await rows()).to.deep.equal(before);
    });

    it('refuses an inherited name as a content language: 422 NOTIFICATION_INVALID', async () => {
      for (const name of INHERITED) {
        const body = { recipient, content: withOwn({}, name, CONTENT.nl) };
        expect(await problem(await postNotification(ns.svc, apiKey, body)), name).to.include({ status: 422, code: 'NOTIFICATION_INVALID' });
      }
    });

    it('refuses a placeholder named after an inherited member that has no value, in the SMS, the title and the HTML body', async () => {
      const before = await rows();
      for (const name of INHERITED.filter((n) => n !== '__proto__')) {
        const texts = [
          { strategy: 'SMS_ONLY', content: { nl: { sms: `Hallo {${name}}` } } },
          { strategy: 'GOVAPP_ONLY', content: { nl: { title: `Hallo {${name}}`, html: '<p>x</p>' } } },
          { strategy: 'GOVAPP_ONLY', content: { nl: { title: 'Hallo', html: `<p>{${name}}</p>` } } },
        ];
        for (const t of texts) {
          const p = await problem(await postNotification(ns.svc, apiKey, { recipient, ...t }));
          expect(p, JSON.stringify(t)).to.include({ status: 422, code: 'NOTIFICATION_INVALID', placeholder: name });
        }
      }
      expect(await rows()).to.deep.equal(before);
    });

    it('keeps "{__proto__}" as text: it is no placeholder name (they start with a letter), so nothing is looked up', async () => {
      const res = await postNotification(ns.svc, apiKey, { recipient, strategy: 'SMS_ONLY', content: { nl: { sms: 'Hallo {__proto__}' } } });
      expect(res.status).to.equal(201);
      const n = await res.json();
      expect(ns.aggregator!.requests.find((r) => r.reference === n.attempts[0].id)!.text).to.equal('Hallo {__proto__}');
    });

    it('takes a value named after an inherited member as the sender gave it, and refuses "__proto__" as a value name', async () => {
      for (const name of INHERITED.filter((n) => n !== '__proto__')) {
        const res = await postNotification(ns.svc, apiKey, { recipient, strategy: 'SMS_ONLY', content: { nl: { sms: `Hallo {${name}}` } }, values: { [name]: 'Ann' } });
        expect(res.status, name).to.equal(201);
        const n = await res.json();
        expect(ns.aggregator!.requests.find((r) => r.reference === n.attempts[0].id)!.text).to.equal('Hallo Ann');
      }
      const proto = withOwn({ recipient, template: 'document-available' }, 'values', withOwn({ subject: 'Attest' }, '__proto__', 'x'));
      expect(await problem(await postNotification(ns.svc, apiKey, proto))).to.include({ status: 422, code: 'NOTIFICATION_INVALID' });
    });

    it('answers 404 for an inherited name as a notification id', async () => {
      for (const name of INHERITED) {
        expect(await problem(await fetch(`${ns.svc.url}/v1/notifications/${name}`, { headers: auth() })), name).to.include({ status: 404, code: 'NOT_FOUND' });
      }
    });
  });

  it('PUT /v1/notifications/settings refuses an inherited name as defaultStrategy: 422 NOTIFICATION_INVALID', async () => {
    for (const name of INHERITED) {
      const res = await fetch(`${ns.svc.url}/v1/notifications/settings`, { method: 'PUT', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify({ defaultStrategy: name }) });
      expect(await problem(res), name).to.include({ status: 422, code: 'NOTIFICATION_INVALID' });
    }
    const settings = await (await fetch(`${ns.svc.url}/v1/notifications/settings`, { headers: auth() })).json();
    expect(settings.defaultStrategy).to.equal('GOVAPP_FIRST');
  });

  it('GET /v1/notifications/usage and the admin usage refuse an inherited name as month: 400 QUERY_INVALID', async () => {
    for (const name of INHERITED) {
      expect(await problem(await fetch(`${ns.svc.url}/v1/notifications/usage?month=${name}`, { headers: auth() })), name).to.include({ status: 400, code: 'QUERY_INVALID' });
      expect(await problem(await admin(ns.svc, 'GET', `/v1/admin/notifications/usage?month=${name}`)), name).to.include({ status: 400, code: 'QUERY_INVALID' });
      // a query parameter of that name is not a month either
      expect((await fetch(`${ns.svc.url}/v1/notifications/usage?${name}=2026-01`, { headers: auth() })).status, name).to.equal(200);
    }
  });

  it('the admin contact directory refuses an inherited name as language or recipient type', async () => {
    const R = insz(302);
    for (const name of INHERITED) {
      expect(await problem(await admin(ns.svc, 'PUT', `/v1/admin/contacts/citizen/${R}`, { phoneNumber: '+32470000302', language: name })), name).to.include({ status: 422, code: 'CONTACT_INVALID' });
      expect(await problem(await admin(ns.svc, 'PUT', `/v1/admin/contacts/${name}/${R}`, { phoneNumber: '+32470000302' })), name).to.include({ status: 422, code: 'RECIPIENT_INVALID' });
    }
    expect((await admin(ns.svc, 'GET', `/v1/admin/contacts/citizen/${R}`)).status).to.equal(404);
  });

  it('scripts/contacts.ts refuses an inherited name as --language (CONTACT_INVALID)', async () => {
    let failure: unknown;
    try {
      await runScript('scripts/contacts.ts', ['set', '--type', 'citizen', '--id', insz(303), '--language', 'constructor'], { ...ns.svc.env, PORT: '0' });
    } catch (err) {
      failure = err;
    }
    expect(String((failure as Error | undefined)?.message)).to.match(/CONTACT_INVALID/);
  });

  describe('provider reports', () => {
    const postGovApp = (body: Record<string, unknown>) => {
      const text = JSON.stringify(body);
      return fetch(`${ns.svc.url}/v1/callbacks/govapp`, { method: 'POST', headers: { 'content-type': 'application/json', 'govapp-signature': signBody(GOVAPP_SECRET, text) }, body: text });
    };
    const postSmsReport = (body: Record<string, unknown>) => {
      const text = JSON.stringify(body);
      return fetch(`${ns.svc.url}/v1/callbacks/sms-http`, { method: 'POST', headers: { 'content-type': 'application/json', signature: signBody(SMS_HTTP_SECRET, text) }, body: text });
    };

    it('GovApp receipts: an inherited name as push, installation or event names nothing (404, 400)', async () => {
      const n = await (await postNotification(ns.svc, apiKey, { recipient, strategy: 'GOVAPP_ONLY', content: CONTENT })).json();
      const pushId = n.attempts[0].id;
      const before = (await ns.svc.rt.store.notifications.findAttempt(pushId))!;
      for (const name of INHERITED) {
        expect(await problem(await postGovApp({ pushId: name, installationId: 'own-keys-1', event: 'READ' })), name).to.include({ status: 404, code: 'NOT_FOUND' });
        expect(await problem(await postGovApp({ pushId, installationId: name, event: 'READ' })), name).to.include({ status: 404, code: 'NOT_FOUND' });
        expect(await problem(await postGovApp({ pushId, installationId: 'own-keys-1', event: name })), name).to.include({ status: 400, code: 'MALFORMED_REQUEST' });
      }
      // the fields under an own "__proto__" member are not the receipt's fields
      expect(await problem(await postGovApp(withOwn({}, '__proto__', { pushId, installationId: 'own-keys-1', event: 'READ' })))).to.include({ status: 400, code: 'MALFORMED_REQUEST' });
      expect((await ns.svc.rt.store.notifications.findAttempt(pushId))!.readAt).to.equal(before.readAt);
    });

    it('HTTP SMS reports: an inherited name as reference names nothing (404); as status it records the report and changes nothing', async () => {
      const n = await (await postNotification(ns.svc, apiKey, { recipient, strategy: 'SMS_ONLY', content: SMS_TEXT })).json();
      const reference = n.attempts[0].id;
      for (const name of INHERITED) {
        expect(await problem(await postSmsReport({ reference: name, status: 'DELIVERED' })), name).to.include({ status: 404, code: 'NOT_FOUND' });
        expect((await postSmsReport({ reference, status: name })).status, name).to.equal(204);
      }
      expect(await problem(await postSmsReport(withOwn({}, '__proto__', { reference, status: 'DELIVERED' })))).to.include({ status: 400, code: 'MALFORMED_REQUEST' });
      expect((await ns.svc.rt.store.notifications.find(n.id))!.status).to.equal('SENT');
    });

    it('Kannel reports: an inherited name as attempt (with its valid token) names nothing (404); as status it is 400', async () => {
      const kannel = await startNotifyService({
        sim: false,
        sms: false,
        env: { NOTIFY_SMS_PROVIDER: 'kannel', KANNEL_SENDSMS_URL: 'http://127.0.0.1:9/cgi-bin/sendsms', KANNEL_USERNAME: 'u', KANNEL_PASSWORD: 'p', KANNEL_DLR_SECRET: KANNEL_SECRET },
      });
      try {
        const get = (q: string) => fetch(`${kannel.svc.url}/v1/callbacks/kannel?${q}`);
        for (const name of INHERITED) {
          const token = encodeURIComponent(kannelDlrToken(KANNEL_SECRET, name, Math.floor(Date.now() / 1000) + 3600));
          expect(await problem(await get(`attempt=${name}&token=${token}&status=1`)), name).to.include({ status: 404, code: 'NOT_FOUND' });
          expect(await problem(await get(`attempt=${name}&token=x&status=1`)), name).to.include({ status: 401, code: 'CALLBACK_SIGNATURE_INVALID' });
          expect(await problem(await get(`attempt=${name}&token=${token}&status=${name}`)), name).to.include({ status: 400, code: 'MALFORMED_REQUEST' });
          expect(await problem(await get(`${name}=1&token=${token}&status=1`)), name).to.include({ status: 401, code: 'CALLBACK_SIGNATURE_INVALID' });
        }
      } finally {
        await kannel.close();
      }
    });
  });

  describe('/v1/messages', () => {
    it('refuses an inherited name as a subject language (422 SUBJECT_INVALID) or recipient type (422 RECIPIENT_INVALID)', async () => {
      for (const name of INHERITED) {
        const subject = await submit(ns.svc, apiKey, JSON.stringify(metadata({ subject: withOwn({}, name, 'Uw beslissing') })), [{ name: 'main', content: pdfBytes(200) }]);
        expect(await problem(subject), name).to.include({ status: 422, code: 'SUBJECT_INVALID' });
        const mixed = await submit(ns.svc, apiKey, JSON.stringify(metadata({ subject: withOwn({ nl: 'Uw beslissing' }, name, 'x') })), [{ name: 'main', content: pdfBytes(200) }]);
        expect(await problem(mixed), name).to.include({ status: 422, code: 'SUBJECT_INVALID' });
        const type = await submit(ns.svc, apiKey, JSON.stringify(metadata({ recipient: { type: name, id: APP } })), [{ name: 'main', content: pdfBytes(200) }]);
        expect(await problem(type), name).to.include({ status: 422, code: 'RECIPIENT_INVALID' });
      }
    });

    it('GET /v1/messages keeps every query parameter in the next link, "__proto__" included', async () => {
      const key = (await ns.svc.newSender('Lister')).apiKey;
      for (let i = 0; i < 2; i++) expect((await submit(ns.svc, key, metadata(), [{ name: 'main', content: pdfBytes(300, i + 1) }])).status).to.be.oneOf([201, 202]);
      for (const name of INHERITED) {
        const page = await (await fetch(`${ns.svc.url}/v1/messages?limit=1&${name}=x`, { headers: { authorization: `Bearer ${key}` } })).json();
        expect(page.items).to.have.length(1);
        const next = new URL(page.next, ns.svc.url).searchParams;
        expect(next.get(name), name).to.equal('x');
        expect(next.get('limit')).to.equal('1');
      }
    });
  });
});

