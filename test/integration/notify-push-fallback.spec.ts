/**
 * GOVAPP_FIRST that waits: a push the GovApp backend accepted but that no device reports
 * DELIVERED within NOTIFY_PUSH_DELIVERY_TIMEOUT_MS falls back to SMS, once. The wait is a
 * delayed job (a `notify.delivery-check` row whose run_at is the end of the wait), so a
 * restart loses nothing. Through the real service, its GovApp adapter talking to the
 * simulator (which here delivers a push only when the test says the phone is online) and
 * its SMS adapter talking to a fake aggregator, all on loopback.
 *
 * Where a test must not depend on how long anything takes, the wait is an hour and the
 * test ends it by moving the job's run_at to now — what the clock would do — and then
 * waits for the job to be done.
 */
import { expect } from 'chai';
import { onPostgres } from '../helpers/database.js';
import { GovAppSimulator } from '../../dev/notification-simulators/GovAppSimulator.js';
import { addContact, eventually, FakeAggregator, getNotification, GOVAPP_SECRET, insz, newDevice, postNotification, SMS_TEXT, startNotifyService, waitForNotification, type NotifyService } from '../helpers/notify.js';
import type { TestService } from '../helpers/service.js';

const HOUR_MS = 3_600_000;

interface JobRow {
  status: string;
  run_at: string;
  type: string;
}

function checkJobs(svc: TestService, attemptId: string): Promise<JobRow[]> {
  return svc.rt.store.db('jobs').where({ dedupe_key: `notify-delivery-check:${attemptId}` }).select('status', 'run_at', 'type');
}

/** The end of the wait: the check job becomes due now (as the clock would make it), then runs. */
async function endTheWait(svc: TestService, attemptId: string): Promise<void> {
  const updated = await svc.rt.store.db('jobs').where({ dedupe_key: `notify-delivery-check:${attemptId}`, status: 'pending' }).update({ run_at: new Date().toISOString() });
  expect(updated, 'one pending delivery check').to.equal(1);
  await eventually('the delivery check to be done', async () => (await checkJobs(svc, attemptId))[0]?.status === 'done' || undefined);
}

const attempt = (n: any, channel: string) => n.attempts.find((a: any) => a.channel === channel);
const notificationHistory = (n: any) => n.history.filter((h: any) => h.scope === 'notification').map((h: any) => h.status);
const attemptHistory = (n: any, channel: string) => n.history.filter((h: any) => h.scope === 'attempt' && h.channel === channel).map((h: any) => `${h.status}${h.reason ? `:${h.reason}` : ''}`);

async function send(ns: NotifyService, apiKey: string, strategy: string, recipientId: string): Promise<any> {
  const res = await postNotification(ns.svc, apiKey, { recipient: { type: 'citizen', id: recipientId }, strategy, content: SMS_TEXT });
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).to.equal(201);
  return body;
}

describe(`GOVAPP_FIRST waits for the push's delivery, then falls back to SMS (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, function () {
  this.timeout(60_000);

  describe('a push no device reports delivered', () => {
    // an hour, ended by the test: a wait of 300 ms could end before the POST was answered on a
    // loaded machine, and the answer then told FALLBACK, not SENT
    const WAIT_MS = HOUR_MS;
    let ns: NotifyService;
    let apiKey: string;
    const APP = insz(301);

    before(async () => {
      ns = await startNotifyService({ env: { NOTIFY_PUSH_DELIVERY_TIMEOUT_MS: String(WAIT_MS) }, sim: { deliveryDelayMs: null } });
      apiKey = (await ns.svc.newSender('Waiting sender')).apiKey;
      await addContact(ns.svc, APP, { phone: '+32470000301', devices: [await newDevice('phone-301'), await newDevice('tablet-301')] });
    });
    after(async () => ns?.close());

    it('falls back to SMS once after the wait; a DELIVERED that comes later does not undo it, and the history shows both', async () => {
      const first = await send(ns, apiKey, 'GOVAPP_FIRST', APP);
      expect(first.status).to.equal('SENT');
      expect(first.channel).to.equal('GOVAPP');
      const push = attempt(first, 'GOVAPP');

      const jobs = await checkJobs(ns.svc, push.id);
      expect(jobs).to.have.length(1);
      expect(jobs[0]!.type).to.equal('notify.delivery-check');
      expect(Date.parse(jobs[0]!.run_at)).to.be.at.least(Date.parse(push.sentAt) + WAIT_MS);
      await endTheWait(ns.svc, push.id);

      const n = await waitForNotification(ns.svc, apiKey, first.id, (x) => attempt(x, 'SMS')?.status === 'SENT');
      expect(n.status).to.equal('SENT');
      expect(n.channel).to.equal('SMS');
      expect(n.fallback).to.deep.equal({ from: 'GOVAPP', to: 'SMS', reason: 'PUSH_NOT_DELIVERED' });
      expect(attempt(n, 'GOVAPP')).to.include({ status: 'FALLBACK', reason: 'PUSH_NOT_DELIVERED', deliveredAt: null });
      expect(notificationHistory(n)).to.deep.equal(['QUEUED', 'SENT', 'FALLBACK', 'SENT']);
      const smsTo = () => ns.aggregator!.requests.filter((r) => r.reference === attempt(n, 'SMS').id).map((r) => r.to);
      expect(smsTo()).to.deep.equal(['+32470000301']);
      expect((await checkJobs(ns.svc, push.id)).map((j) => j.status)).to.deep.equal(['done']);

      // the phone comes online: both devices report the push delivered, one reads it
      expect(await ns.sim!.deliver(push.id, 'phone-301')).to.equal(204);
      expect(await ns.sim!.deliver(push.id, 'tablet-301')).to.equal(204);
      expect(await ns.sim!.read(push.id, 'phone-301')).to.equal(204);
      const after = await getNotification(ns.svc, apiKey, first.id);
      expect(after.status).to.equal('SENT'); // the SMS's status: the fallback stands
      expect(after.fallback).to.deep.equal({ from: 'GOVAPP', to: 'SMS', reason: 'PUSH_NOT_DELIVERED' });
      expect(attempt(after, 'GOVAPP').status).to.equal('FALLBACK');
      expect(attempt(after, 'GOVAPP').deliveredAt).to.be.a('string');
      expect(attempt(after, 'GOVAPP').readAt).to.be.a('string');
      const pushHistory = attemptHistory(after, 'GOVAPP');
      expect(pushHistory[0]).to.equal('QUEUED');
      expect(pushHistory.slice(1, -3).every((h: string) => h === 'SENT')).to.equal(true);
      expect(pushHistory.slice(-3)).to.deep.equal(['FALLBACK:PUSH_NOT_DELIVERED', 'DELIVERED:AFTER_FALLBACK', 'READ:AFTER_FALLBACK']);
      expect(notificationHistory(after)).to.deep.equal(['QUEUED', 'SENT', 'FALLBACK', 'SENT']);
      expect(smsTo()).to.have.length(1);

      // the SMS's own delivery report moves the notification on, as ever
      expect(await ns.aggregator!.report(attempt(n, 'SMS').id, 'DELIVERED')).to.equal(204);
      const delivered = await getNotification(ns.svc, apiKey, first.id);
      expect(delivered.status).to.equal('DELIVERED');
      expect(delivered.channel).to.equal('SMS');
      expect(notificationHistory(delivered)).to.deep.equal(['QUEUED', 'SENT', 'FALLBACK', 'SENT', 'DELIVERED']);
    });
  });

  describe('an hour to wait', () => {
    let ns: NotifyService;
    let apiKey: string;
    const APP = insz(311);
    const APP_NO_PHONE = insz(312);

    before(async () => {
      ns = await startNotifyService({ env: { NOTIFY_PUSH_DELIVERY_TIMEOUT_MS: String(HOUR_MS) }, sim: { deliveryDelayMs: null } });
      apiKey = (await ns.svc.newSender('Patient sender')).apiKey;
      await addContact(ns.svc, APP, { phone: '+32470000311', devices: [await newDevice('phone-311')] });
      await addContact(ns.svc, APP_NO_PHONE, { phone: null, devices: [await newDevice('phone-312')] });
    });
    after(async () => ns?.close());

    it('a push delivered in time: the check finds it delivered and sends no SMS', async () => {
      const first = await send(ns, apiKey, 'GOVAPP_FIRST', APP);
      const push = attempt(first, 'GOVAPP');
      const [job] = await checkJobs(ns.svc, push.id);
      expect(job!.status).to.equal('pending');
      expect(Date.parse(job!.run_at)).to.be.at.least(Date.parse(push.sentAt) + HOUR_MS);

      expect(await ns.sim!.deliver(push.id, 'phone-311')).to.equal(204);
      await endTheWait(ns.svc, push.id);
      const n = await getNotification(ns.svc, apiKey, first.id);
      expect(n.status).to.equal('DELIVERED');
      expect(n.fallback).to.equal(null);
      expect(n.attempts.map((a: any) => `${a.channel}:${a.status}`)).to.deep.equal(['GOVAPP:DELIVERED']);
      expect(notificationHistory(n)).to.deep.equal(['QUEUED', 'SENT', 'DELIVERED']);
      expect(ns.aggregator!.requests.filter((r) => n.attempts.some((a: any) => a.id === r.reference))).to.have.length(0);
    });

    it('no number to fall back to: the push is not given up, and a late delivery still counts', async () => {
      const first = await send(ns, apiKey, 'GOVAPP_FIRST', APP_NO_PHONE);
      const push = attempt(first, 'GOVAPP');
      await endTheWait(ns.svc, push.id);
      const waiting = await getNotification(ns.svc, apiKey, first.id);
      expect(waiting.status).to.equal('SENT');
      expect(waiting.attempts.map((a: any) => `${a.channel}:${a.status}`)).to.deep.equal(['GOVAPP:SENT']);
      expect(await ns.sim!.deliver(push.id, 'phone-312')).to.equal(204);
      const n = await getNotification(ns.svc, apiKey, first.id);
      expect(n.status).to.equal('DELIVERED');
      expect(n.fallback).to.equal(null);
    });

    it('GOVAPP_ONLY has nothing to fall back to: no check is scheduled', async () => {
      const first = await send(ns, apiKey, 'GOVAPP_ONLY', APP);
      expect(first.status).to.equal('SENT');
      expect(await checkJobs(ns.svc, attempt(first, 'GOVAPP').id)).to.deep.equal([]);
    });
  });

  describe('a restart during the wait', () => {
    let sim: GovAppSimulator;
    let aggregator: FakeAggregator;
    let before_: NotifyService | undefined;
    let after_: NotifyService | undefined;

    before(async () => {
      sim = new GovAppSimulator({ callbackSecret: GOVAPP_SECRET, deliveryDelayMs: null });
      await sim.start();
      aggregator = new FakeAggregator();
      await aggregator.start();
    });
    after(async () => {
      await before_?.close();
      await after_?.close();
      await sim.stop();
      await aggregator.stop();
    });

    it('the check is a row in the job table: the restarted service falls back', async () => {
      const APP = insz(321);
      const env = { NOTIFY_PUSH_DELIVERY_TIMEOUT_MS: String(HOUR_MS) };
      before_ = await startNotifyService({ env, sim, sms: aggregator, service: { keepData: true } });
      const apiKey = (await before_.svc.newSender('Restarted sender')).apiKey;
      await addContact(before_.svc, APP, { phone: '+32470000321', devices: [await newDevice('phone-321')] });
      const first = await send(before_, apiKey, 'GOVAPP_FIRST', APP);
      const push = attempt(first, 'GOVAPP');
      const reuse = { dataDir: before_.svc.dataDir, database: before_.svc.database };
      await before_.close();
      before_ = undefined;

      after_ = await startNotifyService({ env, sim, sms: aggregator, service: { reuse } });
      await endTheWait(after_.svc, push.id);
      const n = await waitForNotification(after_.svc, apiKey, first.id, (x) => attempt(x, 'SMS')?.status === 'SENT');
      expect(n.fallback).to.deep.equal({ from: 'GOVAPP', to: 'SMS', reason: 'PUSH_NOT_DELIVERED' });
      expect(aggregator.requests.filter((r) => r.reference === attempt(n, 'SMS').id).map((r) => r.to)).to.deep.equal(['+32470000321']);
    });
  });
});
