/**
 * For every operation of the OpenAPI document, what the matrix needs to call it: the real
 * ids of the owner's resources for its path parameters, a valid request for the owner (the
 * same request is sent by every caller, so that only the credential differs), its success
 * statuses, and for writes a probe — the owner's state the operation changes — that must stay
 * as it was after every caller but the owner, and must change after the owner's call.
 *
 * scope: "owned" when the path names one of the owner's resources (another sender or
 * recipient must get 404), "self" when the operation acts on the caller's own collection
 * (another sender or recipient gets its own, empty of the owner's data).
 */
import { insz } from '../helpers/notify.js';
import { pdfBytes } from '../helpers/service.js';
import { ADMIN_TOKEN, multipart, multipartBatch, NOBODY, NOBODY_PHONE, type Profile, type World } from './world.js';

export interface OpRequest {
  query?: Record<string, string>;
  body?: Buffer;
  contentType?: string;
}

export interface OpSpec {
  scope: 'owned' | 'self';
  success: number[];
  params?(w: World): Record<string, string>;
  request?(w: World, n: number): OpRequest;
  probe?(w: World): Promise<unknown>;
  /** the provider this route serves is not configured in the profile: 404 whoever asks */
  absent?(w: World): boolean;
  /** profiles that run it (default: main) */
  profiles?: Profile[];
}

const json = (value: unknown): OpRequest => ({ body: Buffer.from(JSON.stringify(value)), contentType: 'application/json' });
const m = (w: World) => w.main!;
const admin = { bearer: ADMIN_TOKEN };
const db = (w: World) => w.svc.rt.store.db;
const count = async (w: World, table: string, where: (q: any) => any): Promise<number> => Number(Object.values((await where(db(w)(table)).count({ n: '*' }).first()) ?? { n: 0 })[0]);
const receipts = (w: World, attempt: string) => count(w, 'notification_events', (q) => q.where({ attempt_id: attempt, kind: 'RECEIPT' }));
const contact = (w: World) => w.ok('GET', `/v1/admin/contacts/citizen/${w.R1.insz}`, admin);
const credentials = async (w: World) => ((await w.ok('GET', `/v1/admin/senders/${w.senders.A}/credentials`, admin)).items as any[]).map((c) => `${c.id}:${c.state}`).sort();
const clerks = async (w: World) => ((await w.ok('GET', `/v1/admin/senders/${w.senders.A}/clerks`, admin)).items as any[]).map((c) => `${c.issuer} ${c.subject}`).sort();
const tokenWorks = async (w: World, token: string) => typeof (await w.svc.rt.recipients.authenticate(token)) === 'object';
const R1 = (w: World) => ({ type: 'citizen', id: w.R1.insz });

export const SPECS: Record<string, OpSpec> = {
  // ---------------------------------------------------------------- public
  'GET /healthz': { scope: 'self', success: [200] },
  'GET /readyz': { scope: 'self', success: [200] },
  'GET /openapi.json': { scope: 'self', success: [200] },
  'POST /tsa': { scope: 'self', success: [200], request: (w) => ({ body: w.tsaQuery, contentType: 'application/timestamp-query' }) },
  'GET /metrics': { scope: 'self', success: [200] },

  // ---------------------------------------------------------------- sender
  'GET /v1/messages': { scope: 'self', success: [200] },
  'POST /v1/messages': {
    scope: 'self',
    success: [201, 202],
    request: (_w, n) => {
      const body = multipart({ recipient: { type: 'citizen', id: NOBODY }, subject: { nl: `access case ${n}` }, senderReference: `ACCESS-${n}`, documents: [{ httpPartName: 'main', isMainContent: true }] }, pdfBytes(500, n));
      return { body: body.body, contentType: body.contentType };
    },
    probe: (w) => count(w, 'messages', (q) => q.where({ sender_id: w.senders.A })),
  },
  'POST /v1/messages/batches': {
    scope: 'self',
    success: [201],
    request: (_w, n) => {
      const name = `access-${n}.pdf`;
      const body = multipartBatch([{ recipient: { type: 'citizen', id: NOBODY }, subject: { nl: `access batch ${n}` }, senderReference: `ACCESS-BATCH-${n}`, documents: [{ file: name, isMainContent: true }] }], [{ name, bytes: pdfBytes(500, n) }]);
      return { body: body.body, contentType: body.contentType };
    },
    probe: (w) => count(w, 'message_batches', (q) => q.where({ sender_id: w.senders.A })),
  },
  'GET /v1/messages/batches/{id}': { scope: 'owned', success: [200], params: (w) => ({ id: m(w).batch }) },
  'GET /v1/messages/{id}': { scope: 'owned', success: [200], params: (w) => ({ id: m(w).M1.id }) },
  'GET /v1/messages/{id}/evidence': { scope: 'owned', success: [200], params: (w) => ({ id: m(w).M1.id }) },
  'GET /v1/messages/{id}/evidence/{evidenceId}': { scope: 'owned', success: [200], params: (w) => ({ id: m(w).M1.id, evidenceId: m(w).M1.handover }) },
  'GET /v1/messages/{id}/evidence/{evidenceId}/receipt.pdf': { scope: 'owned', success: [200], params: (w) => ({ id: m(w).M1.id, evidenceId: m(w).M1.handover }) },
  'GET /v1/messages/{id}/evidence/{evidenceId}/record': { scope: 'owned', success: [200], params: (w) => ({ id: m(w).M1.id, evidenceId: m(w).M1.handover }) },
  'PUT /v1/webhook': {
    scope: 'self',
    success: [200],
    request: (w, n) => json({ url: `${w.receiverUrl}/hook-case-${n}` }),
    probe: async (w) => (await w.svc.rt.store.senders.findById(w.senders.A))?.webhookUrl,
  },
  'DELETE /v1/webhook': { scope: 'self', success: [204], probe: async (w) => (await w.svc.rt.store.senders.findById(w.senders.A))?.webhookUrl },
  'POST /v1/notifications': {
    scope: 'self',
    success: [201, 202],
    request: (_w, n) => json({ phoneNumber: NOBODY_PHONE, strategy: 'SMS_ONLY', content: { nl: { sms: `access case ${n}` } } }),
    probe: (w) => count(w, 'notifications', (q) => q.where({ sender_id: w.senders.A })),
  },
  'GET /v1/notifications': { scope: 'self', success: [200] },
  'POST /v1/notifications/batches': {
    scope: 'self',
    success: [202],
    request: (_w, n) => ({ query: { template: 'appointment-reminder', strategy: 'SMS_ONLY' }, body: Buffer.from(`phoneNumber,values.what,values.date,values.time\n${NOBODY_PHONE},access case ${n},1 May,10:00\n`), contentType: 'text/csv' }),
    probe: (w) => count(w, 'notification_batches', (q) => q.where({ sender_id: w.senders.A })),
  },
  'GET /v1/notifications/batches/{id}': { scope: 'owned', success: [200], params: (w) => ({ id: m(w).notificationBatch }) },
  'GET /v1/notifications/batches/{id}/rows': { scope: 'owned', success: [200], params: (w) => ({ id: m(w).notificationBatch }) },
  'GET /v1/notifications/{id}': { scope: 'owned', success: [200], params: (w) => ({ id: m(w).sms.notification }) },
  'DELETE /v1/notifications/{id}': {
    scope: 'owned',
    success: [200],
    params: (w) => ({ id: m(w).scheduled }),
    probe: async (w) => (await db(w)('notifications').where({ id: m(w).scheduled }).first('status'))?.status,
  },
  'GET /v1/notifications/settings': { scope: 'self', success: [200] },
  'PUT /v1/notifications/settings': { scope: 'self', success: [200], request: () => json({ defaultStrategy: 'SMS_ONLY' }), probe: (w) => w.svc.rt.notifications.defaultStrategy(w.senders.A) },
  'GET /v1/notifications/usage': { scope: 'self', success: [200] },
  'GET /v1/notifications/replies': { scope: 'self', success: [200] },

  // ---------------------------------------------------------------- recipient
  'GET /v1/ebox/messages': { scope: 'self', success: [200] },
  'GET /v1/ebox/messages/{id}': { scope: 'owned', success: [200], params: (w) => ({ id: m(w).M1.entry }) },
  'GET /v1/ebox/messages/{id}/evidence': { scope: 'owned', success: [200], params: (w) => ({ id: m(w).M1.entry }) },
  'GET /v1/ebox/messages/{id}/evidence/{evidenceId}': { scope: 'owned', success: [200], params: (w) => ({ id: m(w).M1.entry, evidenceId: m(w).M1.handover }) },
  'GET /v1/ebox/messages/{id}/evidence/{evidenceId}/receipt.pdf': { scope: 'owned', success: [200], params: (w) => ({ id: m(w).M1.entry, evidenceId: m(w).M1.handover }) },
  'GET /v1/ebox/messages/{id}/evidence/{evidenceId}/record': { scope: 'owned', success: [200], params: (w) => ({ id: m(w).M1.entry, evidenceId: m(w).M1.handover }) },
  'GET /v1/ebox/messages/{id}/documents/{position}': {
    scope: 'owned',
    success: [200],
    // M2 was not opened: any download records its handover
    params: (w) => ({ id: m(w).M2.entry, position: '0' }),
    probe: async (w) => ({
      read: (await w.ok('GET', `/v1/ebox/messages/${m(w).M2.entry}`, { bearer: w.R1.token })).read,
      evidence: await count(w, 'evidence', (q) => q.where({ message_id: m(w).M2.id })),
    }),
  },

  // ---------------------------------------------------------------- provider callbacks
  'GET /v1/callbacks/kannel': {
    scope: 'self',
    success: [204],
    profiles: ['main', 'kannel'],
    absent: (w) => w.profile !== 'kannel',
    request: (w) => ({ query: { attempt: w.kannel?.attemptA ?? 'c0ffee00-0000-4000-8000-000000000000', status: '1' } }),
    probe: async (w) => (w.kannel ? receipts(w, w.kannel.attemptA) : undefined),
  },
  'POST /v1/callbacks/govapp': {
    scope: 'self',
    success: [204],
    request: (w) => json({ pushId: m(w).push.attempt, installationId: m(w).installation, event: 'DELIVERED' }),
    probe: (w) => receipts(w, m(w).push.attempt),
  },
  'POST /v1/callbacks/sms-http': {
    scope: 'self',
    success: [204],
    request: (w) => json({ reference: m(w).sms.attempt, status: 'DELIVERED' }),
    probe: (w) => receipts(w, m(w).sms.attempt),
  },

  'GET /v1/callbacks/kannel/inbound': {
    scope: 'self',
    success: [204],
    profiles: ['main', 'kannel'],
    absent: (w) => w.profile !== 'kannel',
    request: (_w, n) => ({ query: { from: '32470333444', to: 'eBox', text: `Merci ${n}`, coding: '0', id: `access-kannel-${n}`, at: String(Math.floor(Date.now() / 1000)) } }),
    probe: (w) => count(w, 'notify_inbound_sms', (q) => q.where({ provider: 'kannel' })),
  },
  'POST /v1/callbacks/sms-http/inbound': {
    scope: 'self',
    success: [204],
    request: (w, n) => json({ id: `access-inbound-${n}`, from: w.secrets.get('A phone'), to: 'eBox', text: `Dank u ${n}` }),
    probe: (w) => count(w, 'notify_inbound_sms', (q) => q.where({ provider: 'sms-http' })),
  },

  // ---------------------------------------------------------------- admin: opt-outs and sender settings
  'GET /v1/admin/opt-outs/{phoneNumber}': { scope: 'self', success: [200], params: (w) => ({ phoneNumber: m(w).optedOutPhone }) },
  'DELETE /v1/admin/opt-outs/{phoneNumber}/{scope}': {
    scope: 'self',
    success: [204],
    params: (w) => ({ phoneNumber: m(w).optedOutPhone, scope: 'all' }),
    probe: (w) => count(w, 'notify_opt_outs', (q) => q.where({ phone_e164: m(w).optedOutPhone })),
  },
  'GET /v1/admin/senders/{id}/notifications': { scope: 'self', success: [200], params: (w) => ({ id: w.senders.A }) },
  'PUT /v1/admin/senders/{id}/notifications': {
    scope: 'self',
    success: [200],
    params: (w) => ({ id: w.senders.A }),
    request: (_w, n) => json({ smsSenderId: `Access${n % 10000}`, rateLimit: { burst: 1000, perMinute: 1000 } }),
    probe: async (w) => (await w.svc.rt.store.inbound.senderOverrides(w.senders.A)).smsSenderId,
  },

  // ---------------------------------------------------------------- admin: contacts and usage
  'PUT /v1/admin/contacts/{type}/{id}': {
    scope: 'self',
    success: [200, 201],
    params: R1,
    request: (w) => json({ phoneNumber: w.secrets.get('R1 phone'), language: 'fr' }),
    probe: async (w) => {
      const c = await contact(w);
      return { phoneNumber: c.phoneNumber, language: c.language };
    },
  },
  'GET /v1/admin/contacts/{type}/{id}': { scope: 'self', success: [200], params: R1 },
  'DELETE /v1/admin/contacts/{type}/{id}': {
    scope: 'self',
    success: [204],
    params: (w) => ({ type: 'citizen', id: m(w).contactToDelete }),
    probe: async (w) => (await w.svc.rt.store.contacts.findByRecipient('citizen', m(w).contactToDelete)) !== undefined,
  },
  'POST /v1/admin/contacts/{type}/{id}/installations': {
    scope: 'self',
    success: [201],
    params: R1,
    request: (w, n) => json({ id: `access-case-${n}`, pushToken: `push-access-${n}`, publicKey: m(w).devicePublicKey, deviceName: `case ${n}` }),
    probe: async (w) => ((await contact(w)).installations as any[]).map((i) => i.id).sort(),
  },
  'PATCH /v1/admin/contacts/{type}/{id}/installations/{installationId}': {
    scope: 'self',
    success: [200],
    params: (w) => ({ ...R1(w), installationId: m(w).installation }),
    request: () => json({ deviceName: 'renamed by the operator', notificationsEnabled: false }),
    probe: async (w) => ((await contact(w)).installations as any[]).find((i) => i.id === m(w).installation),
  },
  'DELETE /v1/admin/contacts/{type}/{id}/installations/{installationId}': {
    scope: 'self',
    success: [204],
    params: (w) => ({ ...R1(w), installationId: m(w).installationToDelete }),
    probe: async (w) => ((await contact(w)).installations as any[]).map((i) => i.id).sort(),
  },
  'GET /v1/admin/notifications/usage': { scope: 'self', success: [200] },

  // ---------------------------------------------------------------- admin: recipients
  'POST /v1/admin/recipients': {
    scope: 'self',
    success: [201],
    request: (_w, n) => json({ type: 'citizen', id: insz(400 + (n % 500)) }),
    probe: (w) => count(w, 'recipients', (q) => q),
  },
  'PATCH /v1/admin/recipients/{type}/{id}': {
    scope: 'self',
    success: [204],
    params: (w) => ({ type: 'citizen', id: m(w).R5.insz }),
    request: () => json({ activated: false }),
    probe: async (w) => Boolean((await db(w)('recipients').where({ type: 'citizen', identifier: m(w).R5.insz }).first()).ebox_activated),
  },
  'POST /v1/admin/recipients/{type}/{id}/token': { scope: 'self', success: [201], params: (w) => ({ type: 'citizen', id: m(w).R4.insz }), probe: (w) => tokenWorks(w, m(w).R4.token) },
  'DELETE /v1/admin/recipients/{type}/{id}/token': { scope: 'self', success: [204], params: (w) => ({ type: 'citizen', id: m(w).R6.insz }), probe: (w) => tokenWorks(w, m(w).R6.token) },

  // ---------------------------------------------------------------- admin: senders and credentials
  'POST /v1/admin/senders': { scope: 'self', success: [201], request: (_w, n) => json({ name: `Access case ${n}` }), probe: (w) => count(w, 'senders', (q) => q) },
  'GET /v1/admin/senders': { scope: 'self', success: [200] },
  'GET /v1/admin/senders/{id}/credentials': { scope: 'self', success: [200], params: (w) => ({ id: w.senders.A }) },
  'POST /v1/admin/senders/{id}/credentials': { scope: 'self', success: [201], params: (w) => ({ id: w.senders.A }), request: (_w, n) => json({ name: `case ${n}` }), probe: credentials },
  'DELETE /v1/admin/senders/{id}/credentials/{credentialId}': {
    scope: 'self',
    success: [204],
    params: (w) => ({ id: w.senders.A, credentialId: m(w).keyToRevoke.id }),
    probe: async (w) => ({ states: await credentials(w), works: (await w.call('GET', '/v1/notifications/settings', { bearer: m(w).keyToRevoke.key })).status }),
  },
  'POST /v1/admin/senders/{id}/credentials/{credentialId}/rotate': {
    scope: 'self',
    success: [201],
    params: (w) => ({ id: w.senders.A, credentialId: m(w).keyToRotate.id }),
    request: () => json({ graceSeconds: 0 }),
    probe: credentials,
  },

  // ---------------------------------------------------------------- admin: clerks of senders
  'GET /v1/admin/senders/{id}/clerks': { scope: 'self', success: [200], params: (w) => ({ id: w.senders.A }) },
  'POST /v1/admin/senders/{id}/clerks': {
    scope: 'self',
    success: [201],
    params: (w) => ({ id: w.senders.A }),
    request: (_w, n) => json({ issuer: 'https://idp.example', subject: `clerk-case-${n}`, name: `Clerk ${n}` }),
    probe: clerks,
  },
  'DELETE /v1/admin/senders/{id}/clerks': {
    scope: 'self',
    success: [204],
    params: (w) => ({ id: w.senders.A }),
    request: (w) => ({ query: m(w).clerkToRemove }),
    probe: clerks,
  },

  // ---------------------------------------------------------------- admin: jobs
  'GET /v1/admin/jobs': { scope: 'self', success: [200] },
  'POST /v1/admin/jobs/{id}/retry': {
    scope: 'self',
    success: [204],
    params: (w) => ({ id: String(m(w).deadJob) }),
    probe: async (w) => {
      const job = await w.svc.rt.store.jobs.find(m(w).deadJob);
      return { status: job?.status, runAt: job?.runAt };
    },
  },
};
