/**
 * When to send: `sendAt` (SCHEDULED until then, a dispatch job row whose run_at is sendAt,
 * so a restart loses nothing), cancelling (DELETE, CANCELLED while nothing was handed to a
 * provider), validity (`validUntil`, EXPIRED with VALIDITY_ELAPSED, no SMS fallback once it
 * is over), the sender's quiet hours in the recipient's time zone (an SMS deferred to their
 * end, a push not), and the sender's listing. Through the real service, its SMS adapter
 * talking to a fake aggregator and its GovApp adapter to the simulator, all on loopback.
 *
 * Where a test must not depend on how long anything takes, the time to wait is an hour or
 * more and the test ends it by moving the job's run_at to now — what the clock would do —
 * then waits for the job to be done. Where the clock itself must pass a point (a validity
 * a few seconds long), the test waits for that condition, bounded; nothing asserts a duration.
 */
import { expect } from 'chai';
import { onPostgres } from '../helpers/database.js';
import { wallTime } from '../../src/notifications/QuietHours.js';
import {
  addContact,
  admin,
  adminOk,
  eventually,
  FakeAggregator,
  getNotification,
  insz,
  newDevice,
  postNotification,
  SMS_TEXT,
  startNotifyService,
  waitForNotification,
  type NotifyService,
} from '../helpers/notify.js';
import type { TestService } from '../helpers/service.js';

const HOUR_MS = 3_600_000;
const ASYNC = { prefer: 'respond-async' };

interface JobRow {
  id: number;
  status: string;
  run_at: string;
  type: string;
  dedupe_key: string;
}

const jobs = (svc: TestService, dedupeKey: string): Promise<JobRow[]> => svc.rt.store.db('jobs').where({ dedupe_key: dedupeKey }).select('id', 'status', 'run_at', 'type', 'dedupe_key');
const jobsLike = (svc: TestService, prefix: string): Promise<JobRow[]> => svc.rt.store.db('jobs').where('dedupe_key', 'like', `${prefix}%`).orderBy('id').select('id', 'status', 'run_at', 'type', 'dedupe_key');

/** The clock reaches the job's run_at: it becomes due now, then runs. */
async function runNow(svc: TestService, dedupeKey: string): Promise<void> {
  const updated = await svc.rt.store.db('jobs').where({ dedupe_key: dedupeKey, status: 'pending' }).update({ run_at: new Date().toISOString() });
  expect(updated, `one pending job ${dedupeKey}`).to.equal(1);
  await eventually(`job ${dedupeKey} to be done`, async () => (await jobs(svc, dedupeKey))[0]?.status === 'done' || undefined);
}

const notificationHistory = (n: any) => n.history.filter((h: any) => h.scope === 'notification').map((h: any) => `${h.status}${h.reason ? `:${h.reason}` : ''}`);
const attemptHistory = (n: any) => n.history.filter((h: any) => h.scope === 'attempt').map((h: any) => `${h.channel}:${h.status}${h.reason ? `:${h.reason}` : ''}`);
const smsTo = (ns: NotifyService, n: any) => ns.aggregator!.requests.filter((r) => n.attempts.some((a: any) => a.id === r.reference)).map((r) => r.to);
const problem = async (res: Response) => ({ status: res.status, ...(await res.json()) });

async function post(ns: NotifyService, apiKey: string, body: Record<string, unknown>, status: number, headers: Record<string, string> = {}): Promise<any> {
  const res = await postNotification(ns.svc, apiKey, { strategy: 'SMS_ONLY', content: SMS_TEXT, ...body }, headers);
  const json = await res.json();
  expect(res.status, JSON.stringify(json)).to.equal(status);
  return json;
}

function del(svc: TestService, apiKey: string, id: string): Promise<Response> {
  return fetch(`${svc.url}/v1/notifications/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${apiKey}` } });
}

async function list(svc: TestService, apiKey: string, query: string): Promise<Response> {
  return fetch(`${svc.url}/v1/notifications${query}`, { headers: { authorization: `Bearer ${apiKey}` } });
}

async function putSettings(svc: TestService, apiKey: string, body: unknown): Promise<Response> {
  return fetch(`${svc.url}/v1/notifications/settings`, { method: 'PUT', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

const inOneHour = () => new Date(Date.now() + HOUR_MS).toISOString();
/** "HH:MM" of an instant in a zone */
const hhmm = (t: number, zone: string) => {
  const w = wallTime(t, zone);
  return `${String(w.hour).padStart(2, '0')}:${String(w.minute).padStart(2, '0')}`;
};

describe(`when to send: sendAt, cancel, validity, quiet hours, listing (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, function () {
  this.timeout(60_000);

  describe('one service', () => {
    let ns: NotifyService;
    let apiKey: string;
    let otherKey: string;
    const SMS_PERSON = insz(401);
    const APP_PERSON = insz(402);
    const NL_PERSON = insz(403);
    const TOKYO_PERSON = insz(404);

    before(async () => {
      ns = await startNotifyService({ env: { NOTIFY_PUSH_DELIVERY_TIMEOUT_MS: String(HOUR_MS) }, sim: { deliveryDelayMs: null } });
      apiKey = (await ns.svc.newSender('Scheduling sender')).apiKey;
      otherKey = (await ns.svc.newSender('Another sender')).apiKey;
      await addContact(ns.svc, SMS_PERSON, { phone: '+32470000401' });
      await addContact(ns.svc, APP_PERSON, { phone: '+32470000402', devices: [await newDevice('phone-402')] });
      await addContact(ns.svc, NL_PERSON, { phone: '+31612000403' });
      await adminOk(ns.svc, 'PUT', `/v1/admin/contacts/citizen/${TOKYO_PERSON}`, { phoneNumber: '+32470000404', language: 'nl', timeZone: 'Asia/Tokyo' });
    });
    after(async () => ns?.close());

    async function counts() {
      const db = ns.svc.rt.store.db;
      return { notifications: Number((await db('notifications').count({ n: '*' }).first())!.n), jobs: Number((await db('jobs').count({ n: '*' }).first())!.n) };
    }

    it('refuses a sendAt or validUntil it cannot keep, with NOTIFICATION_INVALID, and leaves nothing behind', async () => {
      const before = await counts();
      const recipient = { type: 'citizen', id: SMS_PERSON };
      const soon = Date.now() + HOUR_MS;
      const bad: unknown[] = [
        { sendAt: '2030-01-01T09:00:00' }, // no offset
        { sendAt: '2030-01-01' },
        { sendAt: 'tomorrow' },
        { sendAt: 1767254400000 },
        { sendAt: new Date(Date.now() - 10 * 60_000).toISOString() }, // past beyond the skew
        { sendAt: new Date(Date.now() + 91 * 86_400_000).toISOString() },
        { sendAt: new Date(soon).toISOString(), validUntil: new Date(soon).toISOString() }, // not after sendAt
        { sendAt: new Date(soon).toISOString(), validUntil: new Date(soon - 1000).toISOString() },
        { validUntil: new Date(Date.now() - 1000).toISOString() },
        { validUntil: '2030-13-01T00:00:00Z' },
        { sendAt: new Date(soon).toISOString(), validUntil: new Date(soon + 91 * 86_400_000).toISOString() },
      ];
      for (const extra of bad) {
        const p = await problem(await postNotification(ns.svc, apiKey, { recipient, strategy: 'SMS_ONLY', content: SMS_TEXT, ...(extra as object) }));
        expect(p, JSON.stringify(extra)).to.include({ status: 422, code: 'NOTIFICATION_INVALID' });
      }
      expect(await counts()).to.deep.equal(before);
      expect(ns.aggregator!.requests).to.have.length(0);
    });

    it('sendAt: SCHEDULED at once (202), a dispatch job at sendAt; sent when the clock gets there', async () => {
      const sendAt = new Date(Date.now() + 2 * HOUR_MS);
      // given with an offset, kept as the instant it names
      const local = new Date(sendAt.getTime() + 2 * HOUR_MS).toISOString().replace('Z', '+02:00');
      const n = await post(ns, apiKey, { recipient: { type: 'citizen', id: SMS_PERSON }, sendAt: local, reference: 'sched-1' }, 202);
      expect(n).to.include({ status: 'SCHEDULED', sendAt: sendAt.toISOString(), validUntil: new Date(sendAt.getTime() + 86_400_000).toISOString() });
      expect(n.attempts).to.deep.equal([]);
      expect(notificationHistory(n)).to.deep.equal(['SCHEDULED']);
      const [dispatch] = await jobs(ns.svc, `notify-dispatch:${n.id}`);
      expect(dispatch).to.include({ status: 'pending', type: 'notify.dispatch' });
      expect(Date.parse(dispatch!.run_at)).to.equal(sendAt.getTime());
      const [expiry] = await jobs(ns.svc, `notify-expire:${n.id}`);
      expect(expiry).to.include({ status: 'pending', type: 'notify.expire' });
      expect(Date.parse(expiry!.run_at)).to.equal(Date.parse(n.validUntil));
      expect((await getNotification(ns.svc, apiKey, n.id)).status).to.equal('SCHEDULED');

      await runNow(ns.svc, `notify-dispatch:${n.id}`);
      const sent = await waitForNotification(ns.svc, apiKey, n.id, (x) => x.status === 'SENT');
      expect(notificationHistory(sent)).to.deep.equal(['SCHEDULED', 'QUEUED', 'SENT']);
      expect(smsTo(ns, sent)).to.deep.equal(['+32470000401']);
      // the expiry job, when it comes, finds it handed over: nothing changes
      await runNow(ns.svc, `notify-expire:${n.id}`);
      expect((await getNotification(ns.svc, apiKey, n.id)).status).to.equal('SENT');
    });

    it('a sendAt a little in the past (clock skew) is now: sent at once', async () => {
      const n = await post(ns, apiKey, { recipient: { type: 'citizen', id: SMS_PERSON }, sendAt: new Date(Date.now() - 60_000).toISOString() }, 201);
      expect(n.status).to.equal('SENT');
      expect(n.sendAt).to.equal(null);
    });

    it('cancel: a scheduled notification becomes CANCELLED, its dispatch does nothing; again is the same answer', async () => {
      const n = await post(ns, apiKey, { recipient: { type: 'citizen', id: SMS_PERSON }, sendAt: inOneHour() }, 202);
      expect((await del(ns.svc, otherKey, n.id)).status, "another sender's").to.equal(404);
      const res = await del(ns.svc, apiKey, n.id);
      const cancelled = await res.json();
      expect(res.status, JSON.stringify(cancelled)).to.equal(200);
      expect(cancelled).to.include({ status: 'CANCELLED', reason: 'CANCELLED_BY_SENDER' });
      expect(notificationHistory(cancelled)).to.deep.equal(['SCHEDULED', 'CANCELLED:CANCELLED_BY_SENDER']);
      await runNow(ns.svc, `notify-dispatch:${n.id}`);
      const after = await getNotification(ns.svc, apiKey, n.id);
      expect(after.status).to.equal('CANCELLED');
      expect(after.attempts).to.deep.equal([]);
      expect(smsTo(ns, after)).to.deep.equal([]);
      const again = await del(ns.svc, apiKey, n.id);
      expect(again.status).to.equal(200);
      expect(notificationHistory(await again.json())).to.deep.equal(['SCHEDULED', 'CANCELLED:CANCELLED_BY_SENDER']);
      expect((await del(ns.svc, apiKey, '00000000-0000-4000-8000-000000000000')).status).to.equal(404);
    });

    it('cancel: 409 NOTIFICATION_NOT_CANCELLABLE once an attempt was handed to its provider', async () => {
      const n = await post(ns, apiKey, { recipient: { type: 'citizen', id: SMS_PERSON } }, 201);
      expect(n.status).to.equal('SENT');
      const p = await problem(await del(ns.svc, apiKey, n.id));
      expect(p).to.include({ status: 409, code: 'NOTIFICATION_NOT_CANCELLABLE', notificationId: n.id });
      expect((await getNotification(ns.svc, apiKey, n.id)).status).to.equal('SENT');
    });

    it('settings: quiet hours are checked, kept apart from the default strategy, and null removes them', async () => {
      const get = async () => (await fetch(`${ns.svc.url}/v1/notifications/settings`, { headers: { authorization: `Bearer ${otherKey}` } })).json();
      expect(await get()).to.include({ defaultStrategy: 'GOVAPP_FIRST', quietHours: null });
      for (const bad of [{}, { quietHours: { start: '21:00' } }, { quietHours: { start: '21:00', end: '21:00' } }, { quietHours: { start: '25:00', end: '08:00' } }, { quietHours: '21-08' }, { quiet: null }, { defaultStrategy: 'FAX' }]) {
        expect(await problem(await putSettings(ns.svc, otherKey, bad)), JSON.stringify(bad)).to.include({ status: 422, code: 'NOTIFICATION_INVALID' });
      }
      // one bad member: neither is written
      await problem(await putSettings(ns.svc, otherKey, { defaultStrategy: 'SMS_ONLY', quietHours: { start: '21:00' } }));
      expect(await get()).to.include({ defaultStrategy: 'GOVAPP_FIRST', quietHours: null });
      const set = await putSettings(ns.svc, otherKey, { quietHours: { start: '22:00', end: '07:00' } });
      expect(set.status).to.equal(200);
      expect(await set.json()).to.deep.include({ defaultStrategy: 'GOVAPP_FIRST', quietHours: { start: '22:00', end: '07:00' } });
      expect(await (await putSettings(ns.svc, otherKey, { defaultStrategy: 'SMS_ONLY' })).json()).to.deep.include({ defaultStrategy: 'SMS_ONLY', quietHours: { start: '22:00', end: '07:00' } });
      expect(await (await putSettings(ns.svc, otherKey, { quietHours: null })).json()).to.deep.include({ defaultStrategy: 'SMS_ONLY', quietHours: null });
      // the contact directory checks its time zone
      const refused = await admin(ns.svc, 'PUT', `/v1/admin/contacts/citizen/${insz(499)}`, { phoneNumber: '+32470000499', timeZone: 'Mars/Olympus_Mons' });
      expect(await problem(refused)).to.include({ status: 422, code: 'CONTACT_INVALID' });
      expect((await admin(ns.svc, 'GET', `/v1/admin/contacts/citizen/${insz(499)}`)).status).to.equal(404);
      expect(await adminOk(ns.svc, 'GET', `/v1/admin/contacts/citizen/${TOKYO_PERSON}`)).to.include({ timeZone: 'Asia/Tokyo' });
    });

    describe('quiet hours around now, in Brussels', () => {
      let window: { start: string; end: string };

      before(async () => {
        // from an hour ago to two hours from now, Brussels time: now is quiet there (and in
        // Amsterdam), not in Tokyo (7 or 8 hours ahead)
        const now = Date.now();
        window = { start: hhmm(now - HOUR_MS, 'Europe/Brussels'), end: hhmm(now + 2 * HOUR_MS, 'Europe/Brussels') };
        const res = await putSettings(ns.svc, apiKey, { quietHours: window });
        expect(res.status).to.equal(200);
      });
      after(async () => {
        await putSettings(ns.svc, apiKey, { quietHours: null });
      });

      it('an SMS is deferred to their end: the attempt shows deferredUntil, the send job runs then; nothing is sent before', async () => {
        const n = await post(ns, apiKey, { recipient: { type: 'citizen', id: NL_PERSON } }, 202, ASYNC);
        const deferred = await waitForNotification(ns.svc, apiKey, n.id, (x) => x.attempts[0]?.deferredUntil);
        const a = deferred.attempts[0];
        expect(a).to.include({ channel: 'SMS', status: 'QUEUED', provider: null });
        expect(hhmm(Date.parse(a.deferredUntil), 'Europe/Amsterdam')).to.equal(window.end);
        expect(Date.parse(a.deferredUntil)).to.be.greaterThan(Date.now());
        expect(deferred.status).to.equal('QUEUED');
        expect(attemptHistory(deferred)).to.deep.equal(['SMS:QUEUED', 'SMS:QUEUED:QUIET_HOURS']);
        const sendJobs = await jobsLike(ns.svc, `notify-send:${a.id}`);
        expect(sendJobs.map((j) => j.status)).to.deep.equal(['done', 'pending']);
        expect(Date.parse(sendJobs[1]!.run_at)).to.equal(Date.parse(a.deferredUntil));
        expect(smsTo(ns, deferred)).to.deep.equal([]);

        // the end of the quiet hours comes (the sender has lifted them meanwhile, so the real
        // clock does not put the send off again): sent once
        await putSettings(ns.svc, apiKey, { quietHours: null });
        try {
          await runNow(ns.svc, sendJobs[1]!.dedupe_key);
        } finally {
          await putSettings(ns.svc, apiKey, { quietHours: window });
        }
        const sent = await waitForNotification(ns.svc, apiKey, n.id, (x) => x.status === 'SENT');
        expect(attemptHistory(sent)).to.deep.equal(['SMS:QUEUED', 'SMS:QUEUED:QUIET_HOURS', 'SMS:SENT']);
        expect(smsTo(ns, sent)).to.deep.equal(['+31612000403']);
      });

      it("a recipient whose own time zone is outside them (Tokyo) gets the SMS at once; a push is never deferred", async () => {
        const tokyo = await post(ns, apiKey, { recipient: { type: 'citizen', id: TOKYO_PERSON } }, 201);
        expect(tokyo.status).to.equal('SENT');
        expect(tokyo.attempts[0].deferredUntil).to.equal(null);
        const push = await post(ns, apiKey, { recipient: { type: 'citizen', id: APP_PERSON }, strategy: 'GOVAPP_ONLY' }, 201);
        expect(push.status).to.equal('SENT');
        expect(push.channel).to.equal('GOVAPP');
      });

      it('a deferred SMS can be cancelled; its send job then does nothing', async () => {
        const n = await post(ns, apiKey, { phoneNumber: '+32470000411' }, 202, ASYNC);
        const deferred = await waitForNotification(ns.svc, apiKey, n.id, (x) => x.attempts[0]?.deferredUntil);
        const res = await del(ns.svc, apiKey, n.id);
        const cancelled = await res.json();
        expect(res.status, JSON.stringify(cancelled)).to.equal(200);
        expect(cancelled.status).to.equal('CANCELLED');
        expect(cancelled.attempts.map((a: any) => `${a.channel}:${a.status}:${a.reason}`)).to.deep.equal(['SMS:CANCELLED:CANCELLED_BY_SENDER']);
        expect(notificationHistory(cancelled)).to.deep.equal(['QUEUED', 'CANCELLED:CANCELLED_BY_SENDER']);
        const [, pending] = await jobsLike(ns.svc, `notify-send:${deferred.attempts[0].id}`);
        await runNow(ns.svc, pending!.dedupe_key);
        const after = await getNotification(ns.svc, apiKey, n.id);
        expect(after.status).to.equal('CANCELLED');
        expect(smsTo(ns, after)).to.deep.equal([]);
      });

      it('an SMS whose validity ends before the quiet hours do is EXPIRED then, never sent', async () => {
        const validUntil = new Date(Date.now() + 1500).toISOString();
        const n = await post(ns, apiKey, { recipient: { type: 'citizen', id: NL_PERSON }, validUntil }, 202, ASYNC);
        expect(n.validUntil).to.equal(validUntil);
        const expired = await waitForNotification(ns.svc, apiKey, n.id, (x) => x.status === 'EXPIRED');
        expect(expired.reason).to.equal('VALIDITY_ELAPSED');
        expect(expired.attempts.map((a: any) => `${a.channel}:${a.status}:${a.reason}`)).to.deep.equal(['SMS:EXPIRED:VALIDITY_ELAPSED']);
        expect(expired.attempts[0].deferredUntil).to.be.a('string');
        expect(notificationHistory(expired)).to.deep.equal(['QUEUED', 'EXPIRED:VALIDITY_ELAPSED']);
        expect(smsTo(ns, expired)).to.deep.equal([]);
        const p = await problem(await del(ns.svc, apiKey, n.id));
        expect(p).to.include({ status: 409, code: 'NOTIFICATION_NOT_CANCELLABLE' });
      });
    });

    describe('quiet hours on the nights clocks change, with the service clock fixed', () => {
      let nightKey: string;
      before(async () => {
        nightKey = (await ns.svc.newSender('Night sender')).apiKey;
        expect((await putSettings(ns.svc, nightKey, { quietHours: { start: '21:00', end: '08:00' } })).status).to.equal(200);
      });
      afterEach(() => {
        ns.svc.rt.notifications.engine.clock = Date.now;
      });

      // an Amsterdam number: 22:30 local the evening before the change, 08:00 local the morning after
      for (const [night, clock, end] of [
        ['spring forward (28–29 March 2026): 22:30 CET → 08:00 CEST', '2026-03-28T21:30:00Z', '2026-03-29T06:00:00.000Z'],
        ['fall back (24–25 October 2026): 22:30 CEST → 08:00 CET', '2026-10-24T20:30:00Z', '2026-10-25T07:00:00.000Z'],
      ] as const) {
        it(night, async () => {
          ns.svc.rt.notifications.engine.clock = () => Date.parse(clock);
          const n = await post(ns, nightKey, { recipient: { type: 'citizen', id: NL_PERSON } }, 202, ASYNC);
          // the deferred job's run_at is already past on the real clock: it runs, and the
          // end it was deferred to has come, so it sends
          const sent = await waitForNotification(ns.svc, nightKey, n.id, (x) => x.status === 'SENT');
          expect(sent.attempts[0].deferredUntil).to.equal(end);
          expect(attemptHistory(sent)).to.deep.equal(['SMS:QUEUED', 'SMS:QUEUED:QUIET_HOURS', 'SMS:SENT']);
          const sendJobs = await jobsLike(ns.svc, `notify-send:${sent.attempts[0].id}`);
          expect(sendJobs.map((j) => j.status)).to.deep.equal(['done', 'done']);
          expect(new Date(sendJobs[1]!.run_at).toISOString(), 'the deferred send job is due at the end').to.equal(end);
          expect(smsTo(ns, sent)).to.deep.equal(['+31612000403']);
        });
      }
    });

    it('a push SENT whose validity is over: no SMS fallback is sent when no device reports it delivered', async () => {
      const validUntil = new Date(Date.now() + 1500).toISOString();
      const n = await post(ns, apiKey, { recipient: { type: 'citizen', id: APP_PERSON }, strategy: 'GOVAPP_FIRST', validUntil }, 201);
      expect(n.status).to.equal('SENT');
      const push = n.attempts[0];
      await eventually('the validity to be over', () => Date.now() > Date.parse(validUntil) || undefined);
      await eventually('the expiry job to be done', async () => (await jobs(ns.svc, `notify-expire:${n.id}`))[0]?.status === 'done' || undefined);
      await runNow(ns.svc, `notify-delivery-check:${push.id}`);
      const after = await getNotification(ns.svc, apiKey, n.id);
      expect(after.status).to.equal('SENT');
      expect(after.attempts.map((a: any) => `${a.channel}:${a.status}`)).to.deep.equal(['GOVAPP:SENT']);
      expect(smsTo(ns, after)).to.deep.equal([]);
    });

    describe('the listing', () => {
      let lister: string;
      const made: any[] = [];

      before(async () => {
        lister = (await ns.svc.newSender('Listing sender')).apiKey;
        made.push(await post(ns, lister, { recipient: { type: 'citizen', id: SMS_PERSON }, reference: 'L-a' }, 201));
        made.push(await post(ns, lister, { phoneNumber: '+32470000421', reference: 'L-b' }, 201));
        made.push(await post(ns, lister, { recipient: { type: 'citizen', id: SMS_PERSON }, sendAt: inOneHour(), reference: 'L-a' }, 202));
        made.push(await post(ns, lister, { phoneNumber: '+32470000422', sendAt: inOneHour(), reference: 'L-c' }, 202));
        expect((await del(ns.svc, lister, made[3].id)).status).to.equal(200);
        made.push(await post(ns, lister, { phoneNumber: '+32470000421', reference: 'L-d' }, 201));
      });

      async function all(query: string): Promise<any[]> {
        const items: any[] = [];
        let next: string | null = `/v1/notifications${query}`;
        for (let pages = 0; next && pages < 20; pages++) {
          const res: Response = await fetch(ns.svc.url + next, { headers: { authorization: `Bearer ${lister}` } });
          const body: any = await res.json();
          expect(res.status, JSON.stringify(body)).to.equal(200);
          items.push(...body.items);
          next = body.next;
        }
        return items;
      }

      it('newest first, in pages cut by an opaque cursor, only the sender\'s own', async () => {
        const ids = made.map((n) => n.id).reverse();
        expect((await all('')).map((n) => n.id)).to.deep.equal(ids);
        const page = await (await list(ns.svc, lister, '?limit=2')).json();
        expect(page.items.map((n: any) => n.id)).to.deep.equal(ids.slice(0, 2));
        expect(page.next).to.match(/^\/v1\/notifications\?limit=2&cursor=[A-Za-z0-9_-]+$/);
        expect((await all('?limit=2')).map((n) => n.id)).to.deep.equal(ids);
        expect(page.items[0]).to.deep.include({ href: `/v1/notifications/${ids[0]}`, reference: 'L-d', phoneNumber: '+32470000421', recipient: null, status: 'SENT' });
        const other = await (await list(ns.svc, otherKey, '')).json();
        expect(other.items.filter((n: any) => ids.includes(n.id))).to.deep.equal([]);
      });

      it('filters: status, reference, phone number, recipient, creation time', async () => {
        const ids = (items: any[]) => items.map((n) => n.id);
        expect(ids(await all('?status=CANCELLED'))).to.deep.equal([made[3].id]);
        expect(ids(await all('?status=SCHEDULED'))).to.deep.equal([made[2].id]);
        expect(ids(await all('?reference=L-a'))).to.deep.equal([made[2].id, made[0].id]);
        expect(ids(await all('?reference=L-a&status=SENT'))).to.deep.equal([made[0].id]);
        expect(ids(await all(`?phoneNumber=${encodeURIComponent('+32 470 00 04 21')}`))).to.deep.equal([made[4].id, made[1].id]);
        expect(ids(await all(`?recipientType=citizen&recipientId=${SMS_PERSON}`))).to.deep.equal([made[2].id, made[0].id]);
        expect(ids(await all('?recipientType=enterprise'))).to.deep.equal([]);
        const from = made[2].createdAt;
        const to = made[4].createdAt;
        expect(ids(await all(`?createdFrom=${encodeURIComponent(from)}&createdTo=${encodeURIComponent(to)}`))).to.deep.equal([made[3].id, made[2].id].filter((id) => made.find((n) => n.id === id).createdAt < to));
        expect(ids(await all(`?createdFrom=${encodeURIComponent(to)}`))).to.include(made[4].id);
      });

      it('a filter it cannot read is 400 QUERY_INVALID', async () => {
        for (const q of [
          '?status=LOST',
          '?limit=0',
          '?limit=501',
          '?limit=ten',
          '?createdFrom=yesterday',
          '?createdFrom=2026-12-01',
          '?createdFrom=2026-12-02T00:00:00Z&createdTo=2026-12-01T00:00:00Z',
          '?cursor=bm90LWEtY3Vyc29y',
          `?recipientId=${SMS_PERSON}`,
          '?recipientType=citizen&recipientId=85073003329',
          '?recipientType=robot',
          '?phoneNumber=0470123456',
          '?status=SENT&status=QUEUED',
          '?sort=oldest',
        ]) {
          expect(await problem(await list(ns.svc, lister, q)), q).to.include({ status: 400, code: 'QUERY_INVALID' });
        }
      });
    });
  });

  describe('a scheduled notification and a validity across a restart', () => {
    let aggregator: FakeAggregator;
    let first: NotifyService | undefined;
    let second: NotifyService | undefined;

    before(async () => {
      aggregator = new FakeAggregator();
      await aggregator.start();
    });
    after(async () => {
      await first?.close();
      await second?.close();
      await aggregator.stop();
    });

    it('the restarted service dispatches at sendAt, once; a notification whose validity passed while it was down is EXPIRED, not sent', async () => {
      const PERSON = insz(431);
      first = await startNotifyService({ sim: false, sms: aggregator, service: { keepData: true, worker: false } });
      const apiKey = (await first.svc.newSender('Restarted sender')).apiKey;
      await addContact(first.svc, PERSON, { phone: '+32470000431' });
      const later = await post(first, apiKey, { recipient: { type: 'citizen', id: PERSON }, sendAt: inOneHour() }, 202);
      const soon = Date.now() + 1500;
      const brief = await post(first, apiKey, { recipient: { type: 'citizen', id: PERSON }, sendAt: new Date(soon - 500).toISOString(), validUntil: new Date(soon).toISOString() }, 202);
      const reuse = { dataDir: first.svc.dataDir, database: first.svc.database };
      await first.close();
      first = undefined;

      // while it is down the clock passes the brief one's sendAt and validUntil
      await eventually('the brief validity to be over', () => Date.now() > soon || undefined);
      second = await startNotifyService({ sim: false, sms: aggregator, service: { reuse } });
      const expired = await waitForNotification(second.svc, apiKey, brief.id, (x) => x.status === 'EXPIRED');
      expect(expired.reason).to.equal('VALIDITY_ELAPSED');
      expect(expired.attempts).to.deep.equal([]);
      expect(notificationHistory(expired)).to.deep.equal(['SCHEDULED', 'EXPIRED:VALIDITY_ELAPSED']);

      expect((await getNotification(second.svc, apiKey, later.id)).status).to.equal('SCHEDULED');
      await runNow(second.svc, `notify-dispatch:${later.id}`);
      const sent = await waitForNotification(second.svc, apiKey, later.id, (x) => x.status === 'SENT');
      expect(aggregator.requests.filter((r) => r.reference === sent.attempts[0].id).map((r) => r.to)).to.deep.equal(['+32470000431']);
      expect(aggregator.requests).to.have.length(1);
    });
  });
});
