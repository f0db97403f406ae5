/**
 * The registered-mail hook: after ContentConsignment the recipient is told, in the
 * language of the contact directory, by the sender's default strategy; the outcome is an
 * event on the message and, once sent, a sealed NotificationForAcceptance proof.
 */
import { expect } from 'chai';
import { generalDecrypt } from 'jose';
import { metadata, pdfBytes, submit, waitForMessage } from '../helpers/service.js';
import { addContact, getNotification, insz, newDevice, startNotifyService, type Device, type NotifyService } from '../helpers/notify.js';

describe('registered mail: notice after ContentConsignment', () => {
  let ns: NotifyService;
  let sender: { id: string; apiKey: string };
  let device: Device;
  const WITH_APP = insz(401);
  const APP_OFF = insz(402);
  const NO_CONTACT = insz(403);
  const UNREACHABLE = insz(404);
  const LONG_SUBJECT = insz(405);

  before(async () => {
    ns = await startNotifyService({ sim: { deliveryDelayMs: 5, latencyMs: 20 }, env: { NOTIFY_SMS_MAX_PARTS: '2' } });
    sender = await ns.svc.newSender('Office national de sécurité sociale');
    device = await newDevice('phone-401');
    for (const r of [WITH_APP, APP_OFF, NO_CONTACT, UNREACHABLE, LONG_SUBJECT]) await ns.svc.newRecipient('citizen', r);
    await addContact(ns.svc, WITH_APP, { phone: '+32470000401', language: 'fr', devices: [device] });
    await addContact(ns.svc, APP_OFF, { phone: '+32470000402', language: 'de', devices: [await newDevice('phone-402')], off: ['phone-402'] });
    await addContact(ns.svc, UNREACHABLE, { phone: null, language: 'nl' });
    await addContact(ns.svc, LONG_SUBJECT, { phone: '+32470000405', language: 'en' });
  });
  after(async () => ns?.close());

  async function send(recipientId: string, subject: Record<string, string>): Promise<string> {
    const res = await submit(ns.svc, sender.apiKey, metadata({ recipient: { type: 'citizen', id: recipientId }, subject }), [{ name: 'main', content: pdfBytes(3000) }]);
    expect(res.status).to.be.oneOf([201, 202]);
    return (await res.json()).id;
  }
  const types = (m: any) => m.events.map((e: any) => e.type);

  it('tells the recipient in its language by GovApp, records the outcome and seals NotificationForAcceptance', async () => {
    const id = await send(WITH_APP, { nl: 'Uw beslissing', fr: 'Votre décision' });
    const m = await waitForMessage(ns.svc, sender.apiKey, id, (x) => x.evidence.some((e: any) => e.type === 'NotificationForAcceptance'));
    expect(m.status).to.equal('DEPOSITED'); // the notice does not change the message status
    expect(m.evidence.map((e: any) => e.type)).to.deep.equal(['SubmissionAcceptance', 'ContentConsignment', 'NotificationForAcceptance']);
    const t = types(m);
    expect(t.slice(0, 5)).to.deep.equal(['MessageReceived', 'SubmissionAcceptance', 'ContentConsignment', 'NotificationQueued', 'NotificationSent']);
    expect(t).to.include('NotificationForAcceptance');
    const sent = m.events.find((e: any) => e.type === 'NotificationSent');
    expect(sent.data).to.include({ status: 'SENT', channel: 'GOVAPP' });

    const [notification] = await ns.svc.rt.store.notifications.findByMessage(id);
    expect(notification).to.include({ language: 'fr', template: 'registered-mail', strategy: 'GOVAPP_FIRST', senderId: sender.id });
    // the sender can follow the notice like any of its notifications
    const view = await getNotification(ns.svc, sender.apiKey, notification!.id);
    expect(view.messageId).to.equal(id);
    const push = ns.sim!.pushes.get(view.attempts[0].id)!;
    expect(push.title).to.equal('Nouvel envoi recommandé');
    const body = new TextDecoder().decode((await generalDecrypt(push.content as never, device.privateKey)).plaintext);
    expect(body).to.include('Office national de sécurité sociale').and.include('Votre décision');

    const ev = m.evidence.find((e: any) => e.type === 'NotificationForAcceptance');
    const statement = await (await fetch(ns.svc.url + ev.href, { headers: { authorization: `Bearer ${sender.apiKey}`, accept: 'application/json' } })).json();
    expect(JSON.stringify(statement.statement)).to.include('http://uri.etsi.org/19522/Event/NotificationForAcceptance');
  });

  it('falls back to SMS when the app has notifications off, and says so on the message', async () => {
    const id = await send(APP_OFF, { de: 'Ihr Bescheid', fr: 'Votre décision' });
    const m = await waitForMessage(ns.svc, sender.apiKey, id, (x) => x.evidence.some((e: any) => e.type === 'NotificationForAcceptance'));
    expect(types(m).filter((x: string) => x.startsWith('Notification')).slice(0, 3)).to.deep.equal(['NotificationQueued', 'NotificationFallback', 'NotificationSent']);
    const fallback = m.events.find((e: any) => e.type === 'NotificationFallback');
    expect(fallback.data.reason).to.equal('GOVAPP:APP_NOTIFICATIONS_OFF');
    const [notification] = await ns.svc.rt.store.notifications.findByMessage(id);
    const sms = ns.aggregator!.requests.find((r) => r.to === '+32470000402')!;
    expect(sms.text).to.match(/^Einschreiben von Office national de sécurité sociale in Ihrer e-Box: "Ihr Bescheid"\. Bitte vor dem \d\d\.\d\d\.\d{4} öffnen\.$/);
    expect(notification!.language).to.equal('de');
  });

  it('records "not notified: no contact" when the recipient is not in the directory', async () => {
    const id = await send(NO_CONTACT, { nl: 'Uw beslissing' });
    const m = await waitForMessage(ns.svc, sender.apiKey, id, (x) => types(x).includes('NotificationNotSent'));
    expect(m.events.find((e: any) => e.type === 'NotificationNotSent').data).to.deep.equal({ reason: 'NO_CONTACT', detail: 'not notified: no contact entry for the recipient' });
    expect(await ns.svc.rt.store.notifications.findByMessage(id)).to.deep.equal([]);
    // decided with the deposit, in its transaction: the next event, and no job to send
    expect(types(m).slice(0, 4)).to.deep.equal(['MessageReceived', 'SubmissionAcceptance', 'ContentConsignment', 'NotificationNotSent']);
    const jobs = await ns.svc.rt.store.jobs.listForMessage(id);
    expect(jobs.map((j) => j.type)).to.not.include('notify.registered');
    expect(m.evidence.map((e: any) => e.type)).to.not.include('NotificationForAcceptance');
  });

  it('records the failure when the recipient cannot be reached, without a NotificationForAcceptance proof', async () => {
    const id = await send(UNREACHABLE, { nl: 'Uw beslissing' });
    const m = await waitForMessage(ns.svc, sender.apiKey, id, (x) => types(x).includes('NotificationFailed'));
    expect(m.events.find((e: any) => e.type === 'NotificationFailed').data.reason).to.equal('GOVAPP:APP_NOT_INSTALLED,SMS:NO_PHONE_NUMBER');
    expect(m.evidence.map((e: any) => e.type)).to.not.include('NotificationForAcceptance');
  });

  it('shortens only the subject, visibly, when the SMS would need more parts than allowed', async () => {
    const subject = 'Decision on your file '.repeat(11).trim(); // 241 characters
    const id = await send(LONG_SUBJECT, { en: subject });
    await waitForMessage(ns.svc, sender.apiKey, id, (x) => types(x).includes('NotificationSent'));
    const [notification] = await ns.svc.rt.store.notifications.findByMessage(id);
    expect(notification!.smsParts).to.equal(2);
    expect(notification!.sms).to.match(/^Registered letter from Office national de sécurité sociale in your e-Box: "Decision on your file .*\.\.\."\. Open it before \d\d\/\d\d\/\d{4}\.$/);
    expect(notification!.html).to.include(subject); // the GovApp body keeps it whole
    const sms = ns.aggregator!.requests.find((r) => r.to === '+32470000405')!;
    expect(sms.text).to.equal(notification!.sms);
  });
});
