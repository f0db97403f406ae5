/**
 * The registered-mail hook: after ContentConsignment the recipient is told, in the
 * language of the contact directory, by the sender's default strategy; the outcome is an
 * event on the message and, once sent, a sealed NotificationForAcceptance proof.
 */
import { expect } from 'chai';
import { createHmac } from 'node:crypto';
import { generalDecrypt } from 'jose';
import { statementProblems } from '../../src/domain/EvidenceStatement.js';
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
  const GERMAN = insz(406);
  const DANISH = insz(407);
  const DIGEST_KEY = 'address-digest-key-of-the-notify-tests-0123456789';
  /** HMAC-SHA256 computed here, independently of the service's code */
  const hmacHex = (text: string) => createHmac('sha256', DIGEST_KEY).update(text).digest('hex');

  /** The NotificationForAcceptance proof of a message: its statement (JSON) and its DER. */
  async function noticeProof(m: any): Promise<{ statement: any; der: Buffer }> {
    const ev = m.evidence.find((e: any) => e.type === 'NotificationForAcceptance');
    const auth = { authorization: `Bearer ${sender.apiKey}` };
    const statement = (await (await fetch(ns.svc.url + ev.href, { headers: { ...auth, accept: 'application/json' } })).json()).statement;
    const der = Buffer.from(await (await fetch(ns.svc.url + ev.href, { headers: { ...auth, accept: 'application/pkcs7-mime' } })).arrayBuffer());
    return { statement, der };
  }

  before(async () => {
    ns = await startNotifyService({ sim: { deliveryDelayMs: 5, latencyMs: 20 }, env: { NOTIFY_SMS_MAX_PARTS: '2', EVIDENCE_ADDRESS_DIGEST_KEY: DIGEST_KEY } });
    sender = await ns.svc.newSender('Office national de sécurité sociale');
    device = await newDevice('phone-401');
    for (const r of [WITH_APP, APP_OFF, NO_CONTACT, UNREACHABLE, LONG_SUBJECT, GERMAN, DANISH]) await ns.svc.newRecipient('citizen', r);
    await addContact(ns.svc, WITH_APP, { phone: '+32470000401', language: 'fr', devices: [device] });
    await addContact(ns.svc, APP_OFF, { phone: '+32470000402', language: 'de', devices: [await newDevice('phone-402')], off: ['phone-402'] });
    await addContact(ns.svc, UNREACHABLE, { phone: null, language: 'nl' });
    await addContact(ns.svc, LONG_SUBJECT, { phone: '+32470000405', language: 'en' });
    await addContact(ns.svc, GERMAN, { phone: '+32470000406', language: 'de' });
    await addContact(ns.svc, DANISH, { phone: '+32470000407', language: 'da' });
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

    const { statement, der } = await noticeProof(m);
    expect(statement.ERDSEventId).to.equal('http://uri.etsi.org/19522/Event/NotificationForAcceptance');
    // the proof says how the recipient was told: this notification, by GovApp, to this installation
    expect(statement.NotificationDetails).to.deep.equal({
      NotificationIdentifier: notification!.id,
      Deliveries: [
        {
          Channel: 'GOVAPP',
          SentTime: view.attempts[0].sentAt,
          AddressDigest: {
            DigestMethod: 'http://www.w3.org/2001/04/xmldsig-more#hmac-sha256',
            KeyIdentifier: createHmac('sha256', DIGEST_KEY).update('registered-mail address-digest key identifier').digest().subarray(0, 8).toString('hex'),
            DigestValue: hmacHex('govapp:phone-401'),
          },
        },
      ],
    });
    expect(statementProblems(statement)).to.deep.equal([]);
    // and keeps the address itself out of the sealed bytes
    for (const clear of ['phone-401', '+32470000401']) expect(der.includes(Buffer.from(clear)), clear).to.equal(false);
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
    // the proof names the SMS channel and the number only as its keyed digest
    const { statement, der } = await noticeProof(m);
    const view = await getNotification(ns.svc, sender.apiKey, notification!.id);
    const smsAttempt = view.attempts.find((a: any) => a.channel === 'SMS');
    expect(statement.NotificationDetails.NotificationIdentifier).to.equal(notification!.id);
    expect(statement.NotificationDetails.Deliveries).to.have.length(1);
    expect(statement.NotificationDetails.Deliveries[0]).to.deep.include({ Channel: 'SMS', SentTime: smsAttempt.sentAt });
    expect(statement.NotificationDetails.Deliveries[0].AddressDigest.DigestValue).to.equal(hmacHex('tel:+32470000402'));
    // keyed: the plain SHA-256 a dictionary of numbers would find is not what is there
    expect(statement.NotificationDetails.Deliveries[0].AddressDigest.DigestValue).not.to.equal(createHmac('sha256', '').update('tel:+32470000402').digest('hex'));
    for (const clear of ['+32470000402', '32470000402', '470000402']) expect(der.includes(Buffer.from(clear)), clear).to.equal(false);
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

  it('tells a German reader of a letter in Dutch and French in German, quoting the French subject', async () => {
    const id = await send(GERMAN, { nl: 'Uw beslissing', fr: 'Votre décision' });
    const m = await waitForMessage(ns.svc, sender.apiKey, id, (x) => types(x).includes('NotificationSent'));
    const [notification] = await ns.svc.rt.store.notifications.findByMessage(id);
    expect(notification!.language).to.equal('de');
    const sms = ns.aggregator!.requests.find((r) => r.to === '+32470000406')!;
    expect(sms.text).to.match(/^Einschreiben von Office national de sécurité sociale in Ihrer e-Box: "Votre décision"\. Bitte vor dem \d\d\.\d\d\.\d{4} öffnen\.$/);
    // the message's history says which language the subject was quoted in
    expect(m.events.find((e: any) => e.type === 'NotificationQueued').data).to.deep.include({ language: 'de', subjectLanguage: 'fr' });
  });

  it('tells a Danish reader in Danish, quoting the subject in English', async () => {
    const id = await send(DANISH, { nl: 'Uw beslissing', en: 'Your decision' });
    const m = await waitForMessage(ns.svc, sender.apiKey, id, (x) => types(x).includes('NotificationSent'));
    const [notification] = await ns.svc.rt.store.notifications.findByMessage(id);
    expect(notification!.language).to.equal('da');
    const sms = ns.aggregator!.requests.find((r) => r.to === '+32470000407')!;
    expect(sms.text).to.match(/^Anbefalet brev fra Office national de sécurité sociale i din e-Box: "Your decision"\. Åbn det inden \d\d\.\d\d\.\d{4}\.$/);
    expect(m.events.find((e: any) => e.type === 'NotificationQueued').data).to.deep.include({ language: 'da', subjectLanguage: 'en' });
  });
});
