/**
 * Each strategy against recipients with the app installed (notifications on), with the
 * app but notifications off, without the app, and against failing providers — through the
 * real service, its GovApp push adapter talking to the simulator and its HTTP SMS adapter
 * talking to a fake aggregator, all on loopback.
 */
import { expect } from 'chai';
import { addContact, insz, newDevice, postNotification, SMS_TEXT, startNotifyService, waitForNotification, type Device, type NotifyService } from '../helpers/notify.js';

describe('notification strategies', () => {
  let ns: NotifyService;
  let apiKey: string;
  let devices: Device[];
  const APP = insz(101); // two devices, notifications on
  const APP_OFF = insz(102); // one device, notifications off
  const NO_APP = insz(103); // a mobile number only
  const NOTHING = insz(104); // neither

  before(async () => {
    ns = await startNotifyService({ env: { NOTIFY_SEND_MAX_ATTEMPTS: '3', GOVAPP_TIMEOUT_MS: '300' }, sim: { deliveryDelayMs: 5 } });
    apiKey = (await ns.svc.newSender('Strategy tester')).apiKey;
    devices = [await newDevice('phone-a'), await newDevice('tablet-a')];
    await addContact(ns.svc, APP, { phone: '+32470000101', devices });
    await addContact(ns.svc, APP_OFF, { phone: '+32470000102', devices: [await newDevice('phone-off')], off: ['phone-off'] });
    await addContact(ns.svc, NO_APP, { phone: '+32470000103' });
    await addContact(ns.svc, NOTHING, { phone: null });
  });
  after(async () => ns?.close());
  afterEach(() => {
    ns.sim!.setOptions({ failure: { kind: 'none' } });
    ns.aggregator!.down = false;
  });

  async function send(strategy: string, recipientId: string): Promise<any> {
    const res = await postNotification(ns.svc, apiKey, { recipient: { type: 'citizen', id: recipientId }, strategy, content: SMS_TEXT });
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).to.be.oneOf([201, 202]);
    return body;
  }
  const attempt = (n: any, channel: string) => n.attempts.find((a: any) => a.channel === channel);
  const smsRequests = (n: any) => ns.aggregator!.requests.filter((r) => n.attempts.some((a: any) => a.id === r.reference));
  const pushes = (n: any) => [...ns.sim!.pushes.values()].filter((p) => p.messageId === n.id);
  const notificationHistory = (n: any) => n.history.filter((h: any) => h.scope === 'notification').map((h: any) => h.status);
  /** The history of the attempt on `channel` (one attempt per channel per notification). */
  const attemptHistory = (n: any, channel: string) => n.history.filter((h: any) => h.scope === 'attempt' && h.channel === channel).map((h: any) => h.status);

  describe('GOVAPP_FIRST', () => {
    it('app installed: pushes to every device; the app reports delivery; no SMS', async () => {
      const n = await waitForNotification(ns.svc, apiKey, (await send('GOVAPP_FIRST', APP)).id, (x) => x.status === 'DELIVERED');
      expect(n.channel).to.equal('GOVAPP');
      expect(n.fallback).to.equal(null);
      expect(n.attempts.map((a: any) => a.channel)).to.deep.equal(['GOVAPP']);
      expect(attempt(n, 'GOVAPP').units).to.equal(2);
      expect(pushes(n)[0]!.devices.map((d) => d.installationId).sort()).to.deep.equal(['phone-a', 'tablet-a']);
      expect(smsRequests(n)).to.have.length(0);
      expect(notificationHistory(n)).to.deep.equal(['QUEUED', 'SENT', 'DELIVERED']);
      expect(attemptHistory(n, 'GOVAPP')).to.deep.equal(['QUEUED', 'SENT', 'DELIVERED']); // sent once, not twice
    });

    it('a delivery report that comes before the send is recorded: the history still says SENT, once, then DELIVERED', async () => {
      ns.sim!.setOptions({ receiptsBeforeAnswer: true });
      try {
        const n = await waitForNotification(ns.svc, apiKey, (await send('GOVAPP_FIRST', APP)).id, (x) => x.status === 'DELIVERED' && x.attempts[0]?.provider !== null);
        expect(notificationHistory(n)).to.deep.equal(['QUEUED', 'SENT', 'DELIVERED']);
        expect(n.history.filter((h: any) => h.scope === 'attempt' && h.status === 'SENT')).to.have.length(1);
        expect(smsRequests(n)).to.have.length(0);
      } finally {
        ns.sim!.setOptions({ receiptsBeforeAnswer: false });
      }
    });

    it('app with notifications off: falls back to SMS, and the fallback is recorded', async () => {
      const n = await send('GOVAPP_FIRST', APP_OFF);
      expect(n.status).to.equal('SENT'); // synchronous answer: the SMS went out
      expect(n.channel).to.equal('SMS');
      expect(n.fallback).to.deep.equal({ from: 'GOVAPP', to: 'SMS', reason: 'APP_NOTIFICATIONS_OFF' });
      expect(attempt(n, 'GOVAPP')).to.include({ status: 'FALLBACK', reason: 'APP_NOTIFICATIONS_OFF' });
      expect(notificationHistory(n)).to.deep.equal(['QUEUED', 'FALLBACK', 'SENT']);
      expect(attemptHistory(n, 'GOVAPP')).to.deep.equal(['FALLBACK']);
      expect(attemptHistory(n, 'SMS')).to.deep.equal(['QUEUED', 'SENT']);
      expect(smsRequests(n).map((r) => r.to)).to.deep.equal(['+32470000102']);
      expect(pushes(n)).to.have.length(0);
    });

    it('no app: falls back to SMS (APP_NOT_INSTALLED)', async () => {
      const n = await send('GOVAPP_FIRST', NO_APP);
      expect(n.status).to.equal('SENT');
      expect(n.fallback).to.deep.equal({ from: 'GOVAPP', to: 'SMS', reason: 'APP_NOT_INSTALLED' });
      expect(smsRequests(n).map((r) => r.to)).to.deep.equal(['+32470000103']);
    });

    it('failing push backend: retried with backoff, then falls back to SMS', async () => {
      ns.sim!.setOptions({ failure: { kind: 'unavailable' } });
      const calls = ns.sim!.calls;
      const n = await send('GOVAPP_FIRST', APP);
      expect(n.status).to.equal('SENT');
      expect(ns.sim!.calls - calls).to.equal(3); // NOTIFY_SEND_MAX_ATTEMPTS
      expect(n.fallback).to.deep.equal({ from: 'GOVAPP', to: 'SMS', reason: 'PROVIDER_UNAVAILABLE' });
      expect(notificationHistory(n)).to.deep.equal(['QUEUED', 'FALLBACK', 'SENT']);
      expect(smsRequests(n)).to.have.length(1);
    });

    it('push backend that does not answer: each timeout is retried, then falls back to SMS', async () => {
      ns.sim!.setOptions({ failure: { kind: 'hang' } });
      const calls = ns.sim!.calls;
      const n = await send('GOVAPP_FIRST', APP);
      expect(ns.sim!.calls - calls).to.equal(3);
      expect(n.fallback).to.deep.equal({ from: 'GOVAPP', to: 'SMS', reason: 'PROVIDER_UNAVAILABLE' });
      expect(n.status).to.equal('SENT');
    });

    it('push refused for good: not retried, falls back at once', async () => {
      ns.sim!.setOptions({ failure: { kind: 'reject' } });
      const calls = ns.sim!.calls;
      const n = await send('GOVAPP_FIRST', APP);
      expect(ns.sim!.calls - calls).to.equal(1);
      expect(n.fallback).to.deep.equal({ from: 'GOVAPP', to: 'SMS', reason: 'PUSH_REJECTED' });
      expect(n.status).to.equal('SENT');
    });

    it('both providers failing: FAILED with both reasons', async () => {
      ns.sim!.setOptions({ failure: { kind: 'unavailable' } });
      ns.aggregator!.down = true;
      const n = await send('GOVAPP_FIRST', APP);
      expect(n.status).to.equal('FAILED');
      expect(n.reason).to.equal('GOVAPP:PROVIDER_UNAVAILABLE,SMS:PROVIDER_UNAVAILABLE');
      expect(notificationHistory(n)).to.deep.equal(['QUEUED', 'FALLBACK', 'FAILED']);
    });

    it('a push backend that recovers within the retry budget: no fallback', async () => {
      ns.sim!.setOptions({ failure: { kind: 'fail-first', count: 2 } });
      const n = await waitForNotification(ns.svc, apiKey, (await send('GOVAPP_FIRST', APP)).id, (x) => x.status === 'DELIVERED');
      expect(n.fallback).to.equal(null);
      expect(n.attempts.map((a: any) => a.channel)).to.deep.equal(['GOVAPP']);
    });
  });

  describe('GOVAPP_ONLY', () => {
    it('app installed: delivered by push', async () => {
      const n = await waitForNotification(ns.svc, apiKey, (await send('GOVAPP_ONLY', APP)).id, (x) => x.status === 'DELIVERED');
      expect(n.channel).to.equal('GOVAPP');
      expect(smsRequests(n)).to.have.length(0);
    });

    it('app with notifications off: FAILED, no SMS', async () => {
      const n = await send('GOVAPP_ONLY', APP_OFF);
      expect(n).to.include({ status: 'FAILED', reason: 'GOVAPP:APP_NOTIFICATIONS_OFF', fallback: null });
      expect(smsRequests(n)).to.have.length(0);
    });

    it('no app: FAILED (APP_NOT_INSTALLED)', async () => {
      const n = await send('GOVAPP_ONLY', NO_APP);
      expect(n).to.include({ status: 'FAILED', reason: 'GOVAPP:APP_NOT_INSTALLED' });
    });

    it('failing push backend: FAILED after the retries, no fallback', async () => {
      ns.sim!.setOptions({ failure: { kind: 'unavailable' } });
      const n = await send('GOVAPP_ONLY', APP);
      expect(n).to.include({ status: 'FAILED', reason: 'GOVAPP:PROVIDER_UNAVAILABLE', fallback: null });
      expect(n.attempts).to.have.length(1);
    });
  });

  describe('SMS_ONLY', () => {
    it('app installed: still SMS only; a delivery report moves it to DELIVERED', async () => {
      const n = await send('SMS_ONLY', APP);
      expect(n.status).to.equal('SENT');
      expect(pushes(n)).to.have.length(0);
      const sms = attempt(n, 'SMS');
      expect(await ns.aggregator!.report(sms.id, 'DELIVERED')).to.equal(204);
      const done = await waitForNotification(ns.svc, apiKey, n.id, (x) => x.status === 'DELIVERED');
      expect(attempt(done, 'SMS').deliveredAt).to.be.a('string');
      expect(attemptHistory(done, 'SMS')).to.deep.equal(['QUEUED', 'SENT', 'DELIVERED']);
      expect(notificationHistory(done)).to.deep.equal(['QUEUED', 'SENT', 'DELIVERED']);
    });

    it('app with notifications off, and no app: SMS', async () => {
      for (const r of [APP_OFF, NO_APP]) {
        const n = await send('SMS_ONLY', r);
        expect(n).to.include({ status: 'SENT', channel: 'SMS' });
      }
    });

    it('no mobile number: FAILED (NO_PHONE_NUMBER)', async () => {
      const n = await send('SMS_ONLY', NOTHING);
      expect(n).to.include({ status: 'FAILED', reason: 'SMS:NO_PHONE_NUMBER' });
    });

    it('failing aggregator: retried, then FAILED', async () => {
      ns.aggregator!.down = true;
      const before = ns.aggregator!.requests.length;
      const n = await send('SMS_ONLY', NO_APP);
      expect(n).to.include({ status: 'FAILED', reason: 'SMS:PROVIDER_UNAVAILABLE' });
      expect(ns.aggregator!.requests.length - before).to.equal(3);
    });

    it('a number the aggregator refuses as invalid: FAILED at once, not retried', async () => {
      ns.aggregator!.invalidNumbers.add('+32470000103');
      try {
        const before = ns.aggregator!.requests.length;
        const n = await send('SMS_ONLY', NO_APP);
        expect(n).to.include({ status: 'FAILED', reason: 'SMS:PHONE_NUMBER_INVALID' });
        expect(ns.aggregator!.requests.length - before).to.equal(1);
      } finally {
        ns.aggregator!.invalidNumbers.clear();
      }
    });
  });

  describe('SMS_AND_GOVAPP', () => {
    it('app installed: both channels; the furthest status wins', async () => {
      const n = await waitForNotification(ns.svc, apiKey, (await send('SMS_AND_GOVAPP', APP)).id, (x) => x.status === 'DELIVERED');
      expect(n.attempts.map((a: any) => [a.channel, a.status]).sort()).to.deep.equal([
        ['GOVAPP', 'DELIVERED'],
        ['SMS', 'SENT'],
      ]);
      expect(n.channel).to.equal('GOVAPP');
      // each attempt's SENT once; the notification's own SENT once, whichever attempt got there first
      expect(attemptHistory(n, 'GOVAPP')).to.deep.equal(['QUEUED', 'SENT', 'DELIVERED']);
      expect(attemptHistory(n, 'SMS')).to.deep.equal(['QUEUED', 'SENT']);
      expect(notificationHistory(n)).to.deep.equal(['QUEUED', 'SENT', 'DELIVERED']);
    });

    it('app with notifications off / no app: SMS sent, GovApp recorded as FAILED with its reason', async () => {
      for (const [r, reason] of [
        [APP_OFF, 'APP_NOTIFICATIONS_OFF'],
        [NO_APP, 'APP_NOT_INSTALLED'],
      ] as const) {
        const n = await send('SMS_AND_GOVAPP', r);
        expect(n.status).to.equal('SENT');
        expect(attempt(n, 'GOVAPP')).to.include({ status: 'FAILED', reason });
        expect(attempt(n, 'SMS')).to.include({ status: 'SENT' });
      }
    });

    it('failing push backend: the SMS still goes; GovApp FAILED', async () => {
      ns.sim!.setOptions({ failure: { kind: 'unavailable' } });
      const n = await send('SMS_AND_GOVAPP', APP);
      const settled = await waitForNotification(ns.svc, apiKey, n.id, (x) => x.attempts.every((a: any) => a.status !== 'QUEUED'));
      expect(settled.status).to.equal('SENT');
      expect(attempt(settled, 'GOVAPP')).to.include({ status: 'FAILED', reason: 'PROVIDER_UNAVAILABLE' });
      expect(settled.fallback).to.equal(null);
    });
  });
});
