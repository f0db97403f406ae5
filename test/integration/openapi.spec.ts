/**
 * The OpenAPI document against the real service. It lists exactly the routes the app serves,
 * and every status it documents for every operation is answered for real here — 2xx, 4xx as
 * problem+json, 429 from a throttled address — and each answer is checked against it: status,
 * media type, and the JSON body against its schema with formats on; the document closes the
 * objects of its answers, so a member it does not name fails too. An operation or status the
 * document lists that no call here exercised fails the coverage check, which names them.
 *
 * Fixtures: the access suite's two worlds (test/access/world.ts — TLS with client
 * certificates, admin and metrics tokens, SMS and GovApp simulators as providers, a Kannel
 * profile) and a small plain service (SUBMIT_WAIT_MS=0 for a 202, a 2,000-byte document limit
 * for a 413, a purged message for a 410).
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { Express } from 'express';
import { signBody } from '../../src/notifications/CallbackSignature.js';
import { createApp } from '../../src/http/app.js';
import { createLogger } from '../../src/logger.js';
import { Addresses, Client, type Answer, type TlsIdentity } from '../access/client.js';
import { AnswerValidator, operations, type Operation } from '../access/document.js';
import { SPECS } from '../access/operations.js';
import { ADMIN_TOKEN, buildWorld, METRICS_TOKEN, multipart, multipartBatch, NOBODY_PHONE, type World } from '../access/world.js';
import { insz, newDevice } from '../helpers/notify.js';
import { pdfBytes, startTestService, VALID_INSZ, waitForMessage, type TestService } from '../helpers/service.js';
import { zip } from '../helpers/zip.js';
import { isPagePath } from '../../src/http/pages/paths.js';

/**
 * Documented statuses this test does not produce, each with where it is produced. Each must
 * stay documented and unexercised here (else it leaves this list).
 */
const PRODUCED_ELSEWHERE: Record<string, string> = {
  'GET /readyz 507': 'STORAGE_FULL of the blob store: test/integration/outages.spec.ts (a full tmpfs)',
};

/** Every METHOD /path the express app serves, with :params written {params}. */
function servedRoutes(app: Express): string[] {
  const out: string[] = [];
  const walk = (stack: any[]) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const m of Object.keys(layer.route.methods)) out.push(`${m.toUpperCase()} ${String(layer.route.path).replace(/:(\w+)/g, '{$1}')}`);
      } else if (layer.handle?.stack) {
        walk(layer.handle.stack);
      }
    }
  };
  walk((app as any).router.stack);
  // the pages for people are not part of the API (src/http/pages/paths.ts)
  return [...new Set(out)].filter((r) => !isPagePath(r.slice(r.indexOf(' ') + 1))).sort();
}

interface Target {
  name: string;
  client: Client;
  addresses: Addresses;
  operations: Map<string, Operation>;
  validator: AnswerValidator;
}

interface Call {
  bearer?: string;
  json?: unknown;
  body?: Buffer;
  contentType?: string;
  headers?: Array<[string, string]>;
  address?: string;
  tls?: TlsIdentity;
}

async function target(name: string, client: Client, addresses: Addresses): Promise<Target> {
  const doc = JSON.parse((await client.send({ method: 'GET', path: '/openapi.json' })).body.toString('utf8'));
  return { name, client, addresses, operations: new Map(operations(doc).map((o) => [o.key, o])), validator: new AnswerValidator(doc) };
}

describe('OpenAPI document', function () {
  this.timeout(600_000);
  let main: World;
  let kannel: World;
  let small: TestService;
  let smallClient: Client;
  let T: { main: Target; kannel: Target; small: Target };
  let doc: any;
  /** "METHOD /path status" of every answer checked */
  const exercised = new Set<string>();
  /** what was wrong, per answer */
  let mismatches: string[] = [];

  before(async () => {
    main = await buildWorld('main');
    kannel = await buildWorld('kannel');
    small = await startTestService({ ADMIN_TOKEN, TRUST_PROXY: 'loopback', SUBMIT_WAIT_MS: '0', MAX_DOCUMENT_BYTES: '2000' });
    smallClient = new Client(small.url);
    T = {
      main: await target('main', main.client, main.addresses),
      kannel: await target('kannel', kannel.client, kannel.addresses),
      small: await target('small', smallClient, new Addresses()),
    };
    doc = main.doc;
  });
  after(async () => {
    smallClient?.close();
    await small?.close();
    await kannel?.close();
    await main?.close();
  });

  /** One call: it must answer `status`, as the document describes; recorded for the coverage check. */
  async function hit(t: Target, key: string, status: number, path: string, c: Call = {}): Promise<Answer> {
    const op = t.operations.get(key);
    if (!op) throw new Error(`${key}: not an operation of the document`);
    const headers: Array<[string, string]> = [['x-forwarded-for', c.address ?? t.addresses.next()], ...(c.headers ?? [])];
    if (c.bearer) headers.push(['authorization', `Bearer ${c.bearer}`]);
    let body = c.body;
    if (c.json !== undefined) {
      body = Buffer.from(JSON.stringify(c.json));
      headers.push(['content-type', 'application/json']);
    } else if (c.contentType) headers.push(['content-type', c.contentType]);
    const answer = await t.client.send({ method: op.method, path, headers, body, tls: c.tls });
    const where = `${key} (${t.name}: ${op.method} ${path})`;
    if (answer.status !== status) mismatches.push(`${where}: expected ${status}, got ${answer.status} ${answer.body.toString('utf8').slice(0, 300)}`);
    for (const wrong of t.validator.check(op, answer)) mismatches.push(`${where} ${answer.status}: ${wrong}`);
    exercised.add(`${key} ${answer.status}`);
    return answer;
  }
  const json = (a: Answer) => JSON.parse(a.body.toString('utf8'));
  const admin = { bearer: ADMIN_TOKEN };
  const unknownId = () => randomUUID();

  /** Each group ends by listing everything that did not match, not only the first. */
  function expectNoMismatch(): void {
    const found = mismatches;
    mismatches = [];
    expect(found, `\n${found.join('\n')}`).to.deep.equal([]);
  }

  it('is OpenAPI 3.1 and lists exactly the routes the app serves', () => {
    expect(doc.openapi).to.equal('3.1.0');
    const documented = [...T.main.operations.keys()].sort();
    expect(servedRoutes(createApp(main.svc.rt, createLogger('silent')))).to.deep.equal(documented);
  });

  it('closes every object schema of an answer (additionalProperties: false), in the document itself', () => {
    const open: string[] = [];
    const seen = new Set<unknown>();
    const visit = (schema: any, where: string): void => {
      if (!schema || typeof schema !== 'object' || seen.has(schema)) return;
      seen.add(schema);
      if (schema.$ref) return visit(schema.$ref.replace(/^#\//, '').split('/').reduce((n: any, p: string) => n?.[p], doc), schema.$ref);
      const objectLike = schema.type === 'object' || (Array.isArray(schema.type) && schema.type.includes('object'));
      // a free-form object (no members described: event data, the statement, this document) is allowed open
      if (objectLike && schema.properties && schema.additionalProperties !== false && schema.unevaluatedProperties !== false) open.push(where);
      for (const [k, v] of Object.entries(schema.properties ?? {})) visit(v, `${where}.${k}`);
      if (schema.items) visit(schema.items, `${where}[]`);
      for (const k of ['oneOf', 'anyOf', 'allOf'] as const) for (const [i, s] of (schema[k] ?? []).entries()) visit(s, `${where}/${k}${i}`);
    };
    for (const op of T.main.operations.values()) {
      for (const [status, r] of Object.entries<any>(op.responses)) {
        const response = r.$ref ? doc.components.responses[r.$ref.split('/').pop()] : r;
        // this document itself is described by its first members only
        if (op.key === 'GET /openapi.json') continue;
        for (const [type, media] of Object.entries<any>(response.content ?? {})) visit(media.schema, `${op.key} ${status} ${type}`);
      }
    }
    expect(open, open.join('\n')).to.deep.equal([]);
  });

  it('public routes, the TSA and metrics', async () => {
    await hit(T.main, 'GET /healthz', 200, '/healthz');
    await hit(T.main, 'GET /readyz', 200, '/readyz');
    await hit(T.main, 'GET /openapi.json', 200, '/openapi.json');
    await hit(T.main, 'POST /tsa', 200, '/tsa', { body: main.tsaQuery, contentType: 'application/timestamp-query' });
    await hit(T.main, 'POST /tsa', 415, '/tsa', { body: main.tsaQuery, contentType: 'text/plain' });
    await hit(T.main, 'GET /metrics', 200, '/metrics', { bearer: METRICS_TOKEN });
    await hit(T.main, 'GET /metrics', 401, '/metrics');
    expectNoMismatch();
  });

  it('registered messages: submission, lists, message, evidence, webhook', async () => {
    const A = { bearer: main.keys.A };
    const M1 = main.main!.M1;
    const letter = (subject: string, to = main.R2.insz, bytes = pdfBytes(900, 4)) =>
      multipart({ recipient: { type: 'citizen', id: to }, subject: { nl: subject }, senderReference: `OPENAPI-${subject}`, documents: [{ httpPartName: 'main', isMainContent: true }] }, bytes);
    const submit = (status: number, m: { body: Buffer; contentType: string }, extra: Call = {}) => hit(T.main, 'POST /v1/messages', status, '/v1/messages', { ...A, body: m.body, contentType: m.contentType, ...extra });

    const key = randomUUID();
    const created = json(await submit(201, letter('accepted'), { headers: [['idempotency-key', key]] }));
    await submit(201, letter('accepted'), { headers: [['idempotency-key', key]] }); // the replay
    await submit(409, letter('another request'), { headers: [['idempotency-key', key]] });
    await submit(400, { body: Buffer.from('--x\r\nContent-Disposition: form-data; name="main"; filename="a.pdf"\r\n\r\n%PDF\r\n--x--\r\n'), contentType: 'multipart/form-data; boundary=x' }); // no metadata
    await submit(401, letter('no credential'), { bearer: undefined });
    await submit(415, { body: Buffer.from('{}'), contentType: 'application/json' });
    await submit(422, letter('bad recipient', '12345678901'));
    // small service: 202 (answered before its first proof is sealed) and 413
    const s = await small.newSender();
    await small.newRecipient('citizen', VALID_INSZ);
    const pending = json(await hit(T.small, 'POST /v1/messages', 202, '/v1/messages', { bearer: s.apiKey, ...letterBody(letter('sealed later', VALID_INSZ)) }));
    await hit(T.small, 'POST /v1/messages', 413, '/v1/messages', { bearer: s.apiKey, ...letterBody(letter('too large', VALID_INSZ, pdfBytes(3000, 5))) });
    await waitForMessage(small, s.apiKey, pending.id, (m) => m.status === 'DEPOSITED');

    await hit(T.main, 'GET /v1/messages', 200, '/v1/messages?limit=1', A); // a page with `next`
    await hit(T.main, 'GET /v1/messages', 200, `/v1/messages?status=CONSULTED&since=${encodeURIComponent('2020-01-01T00:00:00Z')}`, A);
    await hit(T.main, 'GET /v1/messages', 400, '/v1/messages?limit=0', A);
    await hit(T.main, 'GET /v1/messages', 401, '/v1/messages');
    await hit(T.main, 'GET /v1/messages/{id}', 200, `/v1/messages/${M1.id}`, A); // consulted: events, callbacks
    await hit(T.main, 'GET /v1/messages/{id}', 200, `/v1/messages/${created.id}`, A);
    await hit(T.main, 'GET /v1/messages/{id}', 404, `/v1/messages/${unknownId()}`, A);
    await hit(T.main, 'GET /v1/messages/{id}', 401, `/v1/messages/${M1.id}`);
    await hit(T.main, 'GET /v1/messages/{id}/evidence', 200, `/v1/messages/${M1.id}/evidence`, A);
    await hit(T.main, 'GET /v1/messages/{id}/evidence', 404, `/v1/messages/${unknownId()}/evidence`, A);
    await hit(T.main, 'GET /v1/messages/{id}/evidence', 401, `/v1/messages/${M1.id}/evidence`);
    const proof = `/v1/messages/${M1.id}/evidence/${M1.handover}`;
    await hit(T.main, 'GET /v1/messages/{id}/evidence/{evidenceId}', 200, proof, A);
    await hit(T.main, 'GET /v1/messages/{id}/evidence/{evidenceId}', 200, proof, { ...A, headers: [['accept', 'application/json']] });
    await hit(T.main, 'GET /v1/messages/{id}/evidence/{evidenceId}', 406, proof, { ...A, headers: [['accept', 'text/html']] });
    await hit(T.main, 'GET /v1/messages/{id}/evidence/{evidenceId}', 404, `/v1/messages/${M1.id}/evidence/${unknownId()}`, A);
    await hit(T.main, 'GET /v1/messages/{id}/evidence/{evidenceId}', 401, proof);
    const receipt = `${proof}/receipt.pdf`;
    await hit(T.main, 'GET /v1/messages/{id}/evidence/{evidenceId}/receipt.pdf', 200, `${receipt}?lang=fr`, A);
    await hit(T.main, 'GET /v1/messages/{id}/evidence/{evidenceId}/receipt.pdf', 400, `${receipt}?lang=xx`, A);
    await hit(T.main, 'GET /v1/messages/{id}/evidence/{evidenceId}/receipt.pdf', 404, `/v1/messages/${M1.id}/evidence/${unknownId()}/receipt.pdf`, A);
    await hit(T.main, 'GET /v1/messages/{id}/evidence/{evidenceId}/receipt.pdf', 401, receipt);
    await hit(T.main, 'GET /v1/messages/{id}/evidence/{evidenceId}/record', 200, `${proof}/record`, A);
    await hit(T.main, 'GET /v1/messages/{id}/evidence/{evidenceId}/record', 404, `/v1/messages/${M1.id}/evidence/${unknownId()}/record`, A);
    await hit(T.main, 'GET /v1/messages/{id}/evidence/{evidenceId}/record', 401, `${proof}/record`);

    await hit(T.main, 'PUT /v1/webhook', 200, '/v1/webhook', { ...A, json: { url: `${main.receiverUrl}/hook-openapi` } });
    await hit(T.main, 'PUT /v1/webhook', 422, '/v1/webhook', { ...A, json: { url: 'ftp://example.org/x' } });
    await hit(T.main, 'PUT /v1/webhook', 401, '/v1/webhook', { json: { url: `${main.receiverUrl}/hook-openapi` } });
    await hit(T.main, 'DELETE /v1/webhook', 204, '/v1/webhook', A);
    await hit(T.main, 'DELETE /v1/webhook', 401, '/v1/webhook');
    expectNoMismatch();
  });

  const letterBody = (m: { body: Buffer; contentType: string }) => ({ body: m.body, contentType: m.contentType });

  it('batches of registered messages: submission (multipart and ZIP), replay, refusals, the batch and its pages', async () => {
    const A = { bearer: main.keys.A };
    const row = (n: number, file: string, to = main.R2.insz) => ({ recipient: { type: 'citizen', id: to }, subject: { nl: `batch ${n}` }, senderReference: `OPENAPI-BATCH-${n}`, documents: [{ file, isMainContent: true }] });
    const batch = (rows: unknown[], files: string[]) => multipartBatch(rows, files.map((name, i) => ({ name, bytes: pdfBytes(600, 80 + i) })));
    const post = (status: number, b: { body: Buffer; contentType: string }, extra: Call = {}) => hit(T.main, 'POST /v1/messages/batches', status, '/v1/messages/batches', { ...A, body: b.body, contentType: b.contentType, ...extra });

    const key = randomUUID();
    const good = batch([row(1, 'b1.pdf'), row(2, 'b2.pdf', '12345678901'), row(3, 'b3.pdf')], ['b1.pdf', 'b2.pdf', 'b3.pdf']);
    const created = json(await post(201, good, { headers: [['idempotency-key', key]] })); // accepted and refused rows
    await post(201, good, { headers: [['idempotency-key', key]] }); // the replay
    await post(409, batch([row(1, 'b1.pdf')], ['b1.pdf']), { headers: [['idempotency-key', key]] });
    const zipBody = zip([
      { name: 'manifest.json', data: JSON.stringify([row(4, 'z.pdf')]) },
      { name: 'z.pdf', data: pdfBytes(700, 90) },
    ]);
    await post(201, { body: zipBody, contentType: 'application/zip' });
    await post(400, { body: Buffer.from('--x\r\nContent-Disposition: form-data; name="a.pdf"; filename="a.pdf"\r\n\r\n%PDF\r\n--x--\r\n'), contentType: 'multipart/form-data; boundary=x' }); // no manifest first
    await post(401, good, { bearer: undefined });
    await post(413, batch(Array.from({ length: 1001 }, (_, i) => row(i, `r${i}.pdf`)), []));
    await post(415, { body: Buffer.from('[]'), contentType: 'application/json' });
    await post(422, batch([row(6, 'bad.pdf', '12345678901')], ['bad.pdf'])); // BATCH_REFUSED, with rows
    await post(422, { body: zip([{ name: 'manifest.json', data: '[]' }, { name: '../x', data: 'x' }]), contentType: 'application/zip' }); // ARCHIVE_UNSAFE
    await post(400, { body: Buffer.from('not a zip'), contentType: 'application/zip' }); // ARCHIVE_INVALID

    const one = `/v1/messages/batches/${created.id}`;
    await hit(T.main, 'GET /v1/messages/batches/{id}', 200, one, A);
    await hit(T.main, 'GET /v1/messages/batches/{id}', 200, `${one}?limit=1`, A); // a page with `next`
    await hit(T.main, 'GET /v1/messages/batches/{id}', 400, `${one}?limit=0`, A);
    await hit(T.main, 'GET /v1/messages/batches/{id}', 404, `/v1/messages/batches/${unknownId()}`, A);
    await hit(T.main, 'GET /v1/messages/batches/{id}', 404, one, { bearer: main.keys.B });
    await hit(T.main, 'GET /v1/messages/batches/{id}', 401, one);
    expectNoMismatch();
  });

  it('the built-in e-Box: list, entry, download, a purged document', async () => {
    const R1 = { bearer: main.R1.token };
    const { M1, M2 } = main.main!;
    await hit(T.main, 'GET /v1/ebox/messages', 200, '/v1/ebox/messages', R1);
    await hit(T.main, 'GET /v1/ebox/messages', 401, '/v1/ebox/messages');
    await hit(T.main, 'GET /v1/ebox/messages/{id}', 200, `/v1/ebox/messages/${M1.entry}`, R1);
    await hit(T.main, 'GET /v1/ebox/messages/{id}', 404, `/v1/ebox/messages/${unknownId()}`, R1);
    await hit(T.main, 'GET /v1/ebox/messages/{id}', 401, `/v1/ebox/messages/${M1.entry}`);
    const download = `/v1/ebox/messages/${M2.entry}/documents/0`;
    await hit(T.main, 'GET /v1/ebox/messages/{id}/documents/{position}', 200, download, R1);
    await hit(T.main, 'GET /v1/ebox/messages/{id}/documents/{position}', 404, `/v1/ebox/messages/${M2.entry}/documents/7`, R1);
    await hit(T.main, 'GET /v1/ebox/messages/{id}/documents/{position}', 401, download);
    const proofs = `/v1/ebox/messages/${M1.entry}/evidence`;
    await hit(T.main, 'GET /v1/ebox/messages/{id}/evidence', 200, proofs, R1);
    await hit(T.main, 'GET /v1/ebox/messages/{id}/evidence', 404, `/v1/ebox/messages/${unknownId()}/evidence`, R1);
    await hit(T.main, 'GET /v1/ebox/messages/{id}/evidence', 401, proofs);
    const eboxProof = `${proofs}/${M1.handover}`;
    await hit(T.main, 'GET /v1/ebox/messages/{id}/evidence/{evidenceId}', 200, eboxProof, R1);
    await hit(T.main, 'GET /v1/ebox/messages/{id}/evidence/{evidenceId}', 404, `${proofs}/${unknownId()}`, R1);
    await hit(T.main, 'GET /v1/ebox/messages/{id}/evidence/{evidenceId}', 401, eboxProof);
    await hit(T.main, 'GET /v1/ebox/messages/{id}/evidence/{evidenceId}/receipt.pdf', 200, `${eboxProof}/receipt.pdf`, { ...R1, headers: [['accept-language', 'de']] });
    await hit(T.main, 'GET /v1/ebox/messages/{id}/evidence/{evidenceId}/receipt.pdf', 400, `${eboxProof}/receipt.pdf?lang=es`, R1);
    await hit(T.main, 'GET /v1/ebox/messages/{id}/evidence/{evidenceId}/receipt.pdf', 404, `${proofs}/${unknownId()}/receipt.pdf`, R1);
    await hit(T.main, 'GET /v1/ebox/messages/{id}/evidence/{evidenceId}/receipt.pdf', 401, `${eboxProof}/receipt.pdf`);
    await hit(T.main, 'GET /v1/ebox/messages/{id}/evidence/{evidenceId}/record', 200, `${eboxProof}/record`, R1);
    await hit(T.main, 'GET /v1/ebox/messages/{id}/evidence/{evidenceId}/record', 404, `${proofs}/${unknownId()}/record`, R1);
    await hit(T.main, 'GET /v1/ebox/messages/{id}/evidence/{evidenceId}/record', 401, `${eboxProof}/record`);

    // small service: a message whose documents retention has purged
    const s = await small.newSender();
    const token = await small.newRecipient('citizen', insz(501));
    const sent = json(
      await hit(T.small, 'POST /v1/messages', 202, '/v1/messages', {
        bearer: s.apiKey,
        ...letterBody(multipart({ recipient: { type: 'citizen', id: insz(501) }, subject: { fr: 'purgé' }, documents: [{ httpPartName: 'main', isMainContent: true }] }, pdfBytes(700, 9))),
      }),
    );
    await waitForMessage(small, s.apiKey, sent.id, (m) => m.status === 'DEPOSITED');
    await small.rt.store.db('messages').where({ id: sent.id }).update({ documents_purged_at: new Date().toISOString() });
    const entry = json(await hit(T.small, 'GET /v1/ebox/messages', 200, '/v1/ebox/messages', { bearer: token })).items[0];
    await hit(T.small, 'GET /v1/ebox/messages/{id}/documents/{position}', 410, `/v1/ebox/messages/${entry.id}/documents/0`, { bearer: token });
    expectNoMismatch();
  });

  it('notifications: send, read, settings, usage', async () => {
    const A = { bearer: main.keys.A };
    const sms = (text: string) => ({ phoneNumber: NOBODY_PHONE, strategy: 'SMS_ONLY', content: { nl: { sms: text } } });
    const key = randomUUID();
    const sent = json(await hit(T.main, 'POST /v1/notifications', 201, '/v1/notifications', { ...A, json: sms('openapi sync'), headers: [['idempotency-key', key]] }));
    await hit(T.main, 'POST /v1/notifications', 201, '/v1/notifications', { ...A, json: sms('openapi sync'), headers: [['idempotency-key', key]] }); // the replay
    await hit(T.main, 'POST /v1/notifications', 409, '/v1/notifications', { ...A, json: sms('another text'), headers: [['idempotency-key', key]] });
    await hit(T.main, 'POST /v1/notifications', 202, '/v1/notifications', { ...A, json: sms('openapi async'), headers: [['prefer', 'respond-async']] });
    await hit(T.main, 'POST /v1/notifications', 400, '/v1/notifications', { ...A, body: Buffer.from('{"phoneNumber": '), contentType: 'application/json' });
    await hit(T.main, 'POST /v1/notifications', 401, '/v1/notifications', { json: sms('no credential') });
    await hit(T.main, 'POST /v1/notifications', 415, '/v1/notifications', { ...A, body: Buffer.from('phoneNumber=1'), contentType: 'application/x-www-form-urlencoded' });
    await hit(T.main, 'POST /v1/notifications', 422, '/v1/notifications', { ...A, json: { phoneNumber: NOBODY_PHONE, template: 'no-such-template' } });
    await hit(T.main, 'POST /v1/notifications', 422, '/v1/notifications', { ...A, json: { ...sms('{toString} placeholder'), values: {} } });
    await hit(T.main, 'GET /v1/notifications/{id}', 200, `/v1/notifications/${sent.id}`, A);
    await hit(T.main, 'GET /v1/notifications/{id}', 200, `/v1/notifications/${main.main!.push.notification}`, A); // a GovApp push to a recipient
    await hit(T.main, 'GET /v1/notifications/{id}', 404, `/v1/notifications/${unknownId()}`, A);
    await hit(T.main, 'GET /v1/notifications/{id}', 401, `/v1/notifications/${sent.id}`);
    await hit(T.main, 'GET /v1/notifications/settings', 200, '/v1/notifications/settings', A);
    await hit(T.main, 'GET /v1/notifications/settings', 401, '/v1/notifications/settings');
    await hit(T.main, 'PUT /v1/notifications/settings', 200, '/v1/notifications/settings', { ...A, json: { defaultStrategy: 'GOVAPP_FIRST' } });
    await hit(T.main, 'PUT /v1/notifications/settings', 422, '/v1/notifications/settings', { ...A, json: { defaultStrategy: 'CARRIER_PIGEON' } });
    await hit(T.main, 'PUT /v1/notifications/settings', 401, '/v1/notifications/settings', { json: { defaultStrategy: 'GOVAPP_FIRST' } });
    await hit(T.main, 'GET /v1/notifications/usage', 200, '/v1/notifications/usage', A);
    await hit(T.main, 'GET /v1/notifications/usage', 400, '/v1/notifications/usage?month=2026-13', A);
    await hit(T.main, 'GET /v1/notifications/usage', 401, '/v1/notifications/usage');
    // when to send: a scheduled one (202 at once), cancelled; the listing
    const scheduled = json(await hit(T.main, 'POST /v1/notifications', 202, '/v1/notifications', { ...A, json: { ...sms('openapi scheduled'), sendAt: new Date(Date.now() + 3_600_000).toISOString() } }));
    await hit(T.main, 'PUT /v1/notifications/settings', 200, '/v1/notifications/settings', { ...A, json: { quietHours: { start: '22:00', end: '07:00' } } });
    await hit(T.main, 'PUT /v1/notifications/settings', 200, '/v1/notifications/settings', { ...A, json: { quietHours: null } });
    await hit(T.main, 'DELETE /v1/notifications/{id}', 200, `/v1/notifications/${scheduled.id}`, A);
    await hit(T.main, 'DELETE /v1/notifications/{id}', 409, `/v1/notifications/${sent.id}`, A);
    await hit(T.main, 'DELETE /v1/notifications/{id}', 404, `/v1/notifications/${unknownId()}`, A);
    await hit(T.main, 'DELETE /v1/notifications/{id}', 401, `/v1/notifications/${scheduled.id}`);
    const page = json(await hit(T.main, 'GET /v1/notifications', 200, '/v1/notifications?limit=1', A));
    await hit(T.main, 'GET /v1/notifications', 200, page.next, A);
    await hit(T.main, 'GET /v1/notifications', 200, '/v1/notifications?status=CANCELLED', A);
    await hit(T.main, 'GET /v1/notifications', 400, '/v1/notifications?limit=0', A);
    await hit(T.main, 'GET /v1/notifications', 401, '/v1/notifications');
    await hit(T.main, 'GET /v1/notifications/replies', 200, '/v1/notifications/replies?limit=1', A);
    await hit(T.main, 'GET /v1/notifications/replies', 400, '/v1/notifications/replies?limit=0', A);
    await hit(T.main, 'GET /v1/notifications/replies', 401, '/v1/notifications/replies');

    // bulk sends
    const csv = (rows: string) => ({ body: Buffer.from(`phoneNumber,values.subject\n${rows}`), contentType: 'text/csv' });
    const batches = '/v1/notifications/batches?template=document-available&strategy=SMS_ONLY';
    const batchKey = randomUUID();
    const batch = json(await hit(T.main, 'POST /v1/notifications/batches', 202, batches, { ...A, ...csv(`${NOBODY_PHONE},openapi batch\n+3212,not a mobile\n`), headers: [['idempotency-key', batchKey]] }));
    await hit(T.main, 'POST /v1/notifications/batches', 202, batches, { ...A, ...csv(`${NOBODY_PHONE},openapi batch\n+3212,not a mobile\n`), headers: [['idempotency-key', batchKey]] }); // the replay
    await hit(T.main, 'POST /v1/notifications/batches', 409, batches, { ...A, ...csv(`${NOBODY_PHONE},another batch\n`), headers: [['idempotency-key', batchKey]] });
    await hit(T.main, 'POST /v1/notifications/batches', 202, '/v1/notifications/batches', {
      ...A,
      body: Buffer.from(`${JSON.stringify({ batch: { content: { nl: { sms: 'Hallo {name}' } }, strategy: 'SMS_ONLY' } })}\n${JSON.stringify({ phoneNumber: NOBODY_PHONE, values: { name: 'An' } })}\n`),
      contentType: 'application/x-ndjson',
    });
    await hit(T.main, 'POST /v1/notifications/batches', 400, '/v1/notifications/batches?template=document-available', { ...A, body: Buffer.from(`phoneNumber,colour\n${NOBODY_PHONE},red\n`), contentType: 'text/csv' });
    await hit(T.main, 'POST /v1/notifications/batches', 401, batches, csv(`${NOBODY_PHONE},no credential\n`));
    await hit(T.main, 'POST /v1/notifications/batches', 413, '/v1/notifications/batches', { ...A, body: Buffer.from(`{"phoneNumber": "${NOBODY_PHONE}", "reference": "${'x'.repeat(140 * 1024)}"}\n`), contentType: 'application/x-ndjson' });
    await hit(T.main, 'POST /v1/notifications/batches', 415, batches, { ...A, body: Buffer.from('phoneNumber=1'), contentType: 'application/x-www-form-urlencoded' });
    await hit(T.main, 'POST /v1/notifications/batches', 422, '/v1/notifications/batches?template=no-such-template', { ...A, ...csv(`${NOBODY_PHONE},x\n`) });
    await hit(T.main, 'GET /v1/notifications/batches/{id}', 200, `/v1/notifications/batches/${batch.id}`, A);
    await hit(T.main, 'GET /v1/notifications/batches/{id}', 404, `/v1/notifications/batches/${unknownId()}`, A);
    await hit(T.main, 'GET /v1/notifications/batches/{id}', 401, `/v1/notifications/batches/${batch.id}`);
    await hit(T.main, 'GET /v1/notifications/batches/{id}/rows', 200, `/v1/notifications/batches/${batch.id}/rows`, A);
    await hit(T.main, 'GET /v1/notifications/batches/{id}/rows', 200, `/v1/notifications/batches/${batch.id}/rows?result=refused&limit=1`, A);
    await hit(T.main, 'GET /v1/notifications/batches/{id}/rows', 400, `/v1/notifications/batches/${batch.id}/rows?limit=0`, A);
    await hit(T.main, 'GET /v1/notifications/batches/{id}/rows', 404, `/v1/notifications/batches/${unknownId()}/rows`, A);
    await hit(T.main, 'GET /v1/notifications/batches/{id}/rows', 401, `/v1/notifications/batches/${batch.id}/rows`);
    expectNoMismatch();
  });

  it('provider callbacks: GovApp, the HTTP SMS aggregator, Kannel', async () => {
    const m = main.main!;
    const signed = (secret: string, body: unknown, header: string): Call => {
      const raw = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
      return { body: raw, contentType: 'application/json', headers: [[header, signBody(secret, raw)]] };
    };
    const govapp = main.callbackSecrets.govapp!;
    const smsSecret = main.callbackSecrets.sms!;
    await hit(T.main, 'POST /v1/callbacks/govapp', 204, '/v1/callbacks/govapp', signed(govapp, { pushId: m.push.attempt, installationId: m.installation, event: 'DELIVERED' }, 'GovApp-Signature'));
    await hit(T.main, 'POST /v1/callbacks/govapp', 400, '/v1/callbacks/govapp', signed(govapp, '{"pushId": 1}', 'GovApp-Signature'));
    await hit(T.main, 'POST /v1/callbacks/govapp', 401, '/v1/callbacks/govapp', signed(smsSecret, { pushId: m.push.attempt, installationId: m.installation, event: 'READ' }, 'GovApp-Signature'));
    await hit(T.main, 'POST /v1/callbacks/govapp', 404, '/v1/callbacks/govapp', signed(govapp, { pushId: unknownId(), installationId: m.installation, event: 'READ' }, 'GovApp-Signature'));
    await hit(T.main, 'POST /v1/callbacks/sms-http', 204, '/v1/callbacks/sms-http', signed(smsSecret, { reference: m.sms.attempt, status: 'DELIVERED' }, 'Signature'));
    await hit(T.main, 'POST /v1/callbacks/sms-http', 400, '/v1/callbacks/sms-http', signed(smsSecret, '[]', 'Signature'));
    await hit(T.main, 'POST /v1/callbacks/sms-http', 401, '/v1/callbacks/sms-http', signed(govapp, { reference: m.sms.attempt, status: 'DELIVERED' }, 'Signature'));
    await hit(T.main, 'POST /v1/callbacks/sms-http', 404, '/v1/callbacks/sms-http', signed(smsSecret, { reference: unknownId(), status: 'DELIVERED' }, 'Signature'));
    // Kannel: not the main profile's provider (404); the Kannel profile's dlr-url
    await hit(T.main, 'GET /v1/callbacks/kannel', 404, `/v1/callbacks/kannel?attempt=${unknownId()}&token=x&status=1`);
    const k = kannel.kannel!;
    await hit(T.kannel, 'GET /v1/callbacks/kannel', 204, `/v1/callbacks/kannel?attempt=${k.attemptA}&token=${k.tokenA}&status=1`);
    await hit(T.kannel, 'GET /v1/callbacks/kannel', 400, `/v1/callbacks/kannel?attempt=${k.attemptA}&token=${k.tokenA}&status=delivered`);
    await hit(T.kannel, 'GET /v1/callbacks/kannel', 401, `/v1/callbacks/kannel?attempt=${k.attemptA}&token=${k.tokenB}&status=1`);
    // inbound SMS: the aggregator's signed callback (main), Kannel's sms-service (the Kannel profile)
    const reply = { id: `openapi-inbound-${unknownId()}`, from: main.secrets.get('A phone'), to: 'eBox', text: 'Dank u' };
    await hit(T.main, 'POST /v1/callbacks/sms-http/inbound', 204, '/v1/callbacks/sms-http/inbound', signed(smsSecret, reply, 'Signature'));
    await hit(T.main, 'POST /v1/callbacks/sms-http/inbound', 400, '/v1/callbacks/sms-http/inbound', signed(smsSecret, { ...reply, from: 'nobody' }, 'Signature'));
    await hit(T.main, 'POST /v1/callbacks/sms-http/inbound', 401, '/v1/callbacks/sms-http/inbound', signed(govapp, reply, 'Signature'));
    await hit(T.kannel, 'POST /v1/callbacks/sms-http/inbound', 404, '/v1/callbacks/sms-http/inbound', signed(smsSecret, reply, 'Signature'));
    const mo = (token: string, extra = '') => `/v1/callbacks/kannel/inbound?token=${token}&from=32470333444&to=eBox&text=Merci&coding=0&id=${unknownId()}&at=${Math.floor(Date.now() / 1000)}${extra}`;
    await hit(T.main, 'GET /v1/callbacks/kannel/inbound', 404, mo('x'));
    await hit(T.kannel, 'GET /v1/callbacks/kannel/inbound', 204, mo(k.inboundToken));
    await hit(T.kannel, 'GET /v1/callbacks/kannel/inbound', 400, mo(k.inboundToken).replace('from=32470333444', 'from=nobody'));
    await hit(T.kannel, 'GET /v1/callbacks/kannel/inbound', 401, mo(k.tokenA));
    expectNoMismatch();
  });

  it('admin: contacts and installations, usage', async () => {
    const m = main.main!;
    const R1 = `/v1/admin/contacts/citizen/${main.R1.insz}`;
    const fresh = `/v1/admin/contacts/citizen/${insz(611)}`;
    await hit(T.main, 'PUT /v1/admin/contacts/{type}/{id}', 201, fresh, { ...admin, json: { phoneNumber: '+32470611611', language: 'de' } });
    await hit(T.main, 'PUT /v1/admin/contacts/{type}/{id}', 200, fresh, { ...admin, json: { phoneNumber: '+32470611612', language: 'en' } });
    await hit(T.main, 'PUT /v1/admin/contacts/{type}/{id}', 422, fresh, { ...admin, json: { phoneNumber: '+3222345678' } });
    await hit(T.main, 'PUT /v1/admin/contacts/{type}/{id}', 401, fresh, { json: { language: 'fr' } });
    await hit(T.main, 'GET /v1/admin/contacts/{type}/{id}', 200, R1, admin);
    await hit(T.main, 'GET /v1/admin/contacts/{type}/{id}', 404, `/v1/admin/contacts/citizen/${insz(612)}`, admin);
    await hit(T.main, 'GET /v1/admin/contacts/{type}/{id}', 422, '/v1/admin/contacts/citizen/123', admin);
    await hit(T.main, 'GET /v1/admin/contacts/{type}/{id}', 401, R1);
    await hit(T.main, 'DELETE /v1/admin/contacts/{type}/{id}', 204, `/v1/admin/contacts/citizen/${m.contactToDelete}`, admin);
    await hit(T.main, 'DELETE /v1/admin/contacts/{type}/{id}', 404, `/v1/admin/contacts/citizen/${insz(612)}`, admin);
    await hit(T.main, 'DELETE /v1/admin/contacts/{type}/{id}', 401, fresh);

    const device = await newDevice('openapi-phone');
    const installation = { id: `openapi-${randomUUID()}`, pushToken: 'push-openapi', publicKey: device.publicJwk, deviceName: 'OpenAPI phone' };
    await hit(T.main, 'POST /v1/admin/contacts/{type}/{id}/installations', 201, `${fresh}/installations`, { ...admin, json: installation });
    await hit(T.main, 'POST /v1/admin/contacts/{type}/{id}/installations', 409, `${fresh}/installations`, { ...admin, json: installation });
    await hit(T.main, 'POST /v1/admin/contacts/{type}/{id}/installations', 404, `/v1/admin/contacts/citizen/${insz(612)}/installations`, { ...admin, json: installation });
    await hit(T.main, 'POST /v1/admin/contacts/{type}/{id}/installations', 422, `${fresh}/installations`, { ...admin, json: { ...installation, id: 'openapi-bad-key', publicKey: { kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' } } });
    await hit(T.main, 'POST /v1/admin/contacts/{type}/{id}/installations', 401, `${fresh}/installations`, { json: installation });
    const one = `${fresh}/installations/${installation.id}`;
    await hit(T.main, 'PATCH /v1/admin/contacts/{type}/{id}/installations/{installationId}', 200, one, { ...admin, json: { notificationsEnabled: false } });
    await hit(T.main, 'PATCH /v1/admin/contacts/{type}/{id}/installations/{installationId}', 404, `${fresh}/installations/none`, { ...admin, json: { notificationsEnabled: false } });
    await hit(T.main, 'PATCH /v1/admin/contacts/{type}/{id}/installations/{installationId}', 422, one, { ...admin, json: { publicKey: { kty: 'RSA' } } });
    await hit(T.main, 'PATCH /v1/admin/contacts/{type}/{id}/installations/{installationId}', 401, one, { json: { notificationsEnabled: true } });
    await hit(T.main, 'DELETE /v1/admin/contacts/{type}/{id}/installations/{installationId}', 204, one, admin);
    await hit(T.main, 'DELETE /v1/admin/contacts/{type}/{id}/installations/{installationId}', 404, one, admin);
    await hit(T.main, 'DELETE /v1/admin/contacts/{type}/{id}/installations/{installationId}', 401, `${R1}/installations/${m.installation}`);

    await hit(T.main, 'GET /v1/admin/notifications/usage', 200, '/v1/admin/notifications/usage', admin);
    await hit(T.main, 'GET /v1/admin/notifications/usage', 400, '/v1/admin/notifications/usage?month=May', admin);
    await hit(T.main, 'GET /v1/admin/notifications/usage', 401, '/v1/admin/notifications/usage');

    const optOuts = `/v1/admin/opt-outs/${encodeURIComponent(m.optedOutPhone)}`;
    await hit(T.main, 'GET /v1/admin/opt-outs/{phoneNumber}', 200, optOuts, admin);
    await hit(T.main, 'GET /v1/admin/opt-outs/{phoneNumber}', 422, '/v1/admin/opt-outs/12', admin);
    await hit(T.main, 'GET /v1/admin/opt-outs/{phoneNumber}', 401, optOuts);
    await hit(T.main, 'DELETE /v1/admin/opt-outs/{phoneNumber}/{scope}', 401, `${optOuts}/all`);
    await hit(T.main, 'DELETE /v1/admin/opt-outs/{phoneNumber}/{scope}', 422, '/v1/admin/opt-outs/12/all', admin);
    await hit(T.main, 'DELETE /v1/admin/opt-outs/{phoneNumber}/{scope}', 204, `${optOuts}/all`, admin);
    await hit(T.main, 'DELETE /v1/admin/opt-outs/{phoneNumber}/{scope}', 404, `${optOuts}/all`, admin);
    const settings = `/v1/admin/senders/${main.senders.A}/notifications`;
    await hit(T.main, 'PUT /v1/admin/senders/{id}/notifications', 200, settings, { ...admin, json: { smsSenderId: 'OpenAPI', rateLimit: { burst: 1000, perMinute: 1000 } } });
    await hit(T.main, 'PUT /v1/admin/senders/{id}/notifications', 422, settings, { ...admin, json: { smsSenderId: 'Much too long a name' } });
    await hit(T.main, 'PUT /v1/admin/senders/{id}/notifications', 404, `/v1/admin/senders/${unknownId()}/notifications`, { ...admin, json: {} });
    await hit(T.main, 'PUT /v1/admin/senders/{id}/notifications', 401, settings, { json: {} });
    await hit(T.main, 'GET /v1/admin/senders/{id}/notifications', 200, settings, admin);
    await hit(T.main, 'GET /v1/admin/senders/{id}/notifications', 404, `/v1/admin/senders/${unknownId()}/notifications`, admin);
    await hit(T.main, 'GET /v1/admin/senders/{id}/notifications', 401, settings);
    await hit(T.main, 'PUT /v1/admin/senders/{id}/notifications', 200, settings, { ...admin, json: { smsSenderId: null, rateLimit: null } });
    expectNoMismatch();
  });

  it('admin: recipients, senders and credentials, jobs', async () => {
    const m = main.main!;
    const A = main.senders.A;
    await hit(T.main, 'POST /v1/admin/recipients', 201, '/v1/admin/recipients', { ...admin, json: { type: 'citizen', id: insz(621), name: 'OpenAPI recipient' } });
    await hit(T.main, 'POST /v1/admin/recipients', 409, '/v1/admin/recipients', { ...admin, json: { type: 'citizen', id: insz(621) } });
    await hit(T.main, 'POST /v1/admin/recipients', 422, '/v1/admin/recipients', { ...admin, json: { type: 'citizen', id: '12345678901' } });
    await hit(T.main, 'POST /v1/admin/recipients', 401, '/v1/admin/recipients', { json: { type: 'citizen', id: insz(622) } });
    await hit(T.main, 'PATCH /v1/admin/recipients/{type}/{id}', 204, `/v1/admin/recipients/citizen/${m.R5.insz}`, { ...admin, json: { activated: false } });
    await hit(T.main, 'PATCH /v1/admin/recipients/{type}/{id}', 404, `/v1/admin/recipients/citizen/${insz(623)}`, { ...admin, json: { activated: false } });
    await hit(T.main, 'PATCH /v1/admin/recipients/{type}/{id}', 401, `/v1/admin/recipients/citizen/${m.R5.insz}`, { json: { activated: true } });
    await hit(T.main, 'POST /v1/admin/recipients/{type}/{id}/token', 201, `/v1/admin/recipients/citizen/${m.R4.insz}/token`, admin);
    await hit(T.main, 'POST /v1/admin/recipients/{type}/{id}/token', 404, `/v1/admin/recipients/citizen/${insz(623)}/token`, admin);
    await hit(T.main, 'POST /v1/admin/recipients/{type}/{id}/token', 401, `/v1/admin/recipients/citizen/${m.R4.insz}/token`);
    await hit(T.main, 'DELETE /v1/admin/recipients/{type}/{id}/token', 204, `/v1/admin/recipients/citizen/${m.R6.insz}/token`, admin);
    await hit(T.main, 'DELETE /v1/admin/recipients/{type}/{id}/token', 404, `/v1/admin/recipients/citizen/${insz(623)}/token`, admin);
    await hit(T.main, 'DELETE /v1/admin/recipients/{type}/{id}/token', 401, `/v1/admin/recipients/citizen/${m.R6.insz}/token`);

    await hit(T.main, 'POST /v1/admin/senders', 201, '/v1/admin/senders', { ...admin, json: { name: 'OpenAPI institution' } });
    await hit(T.main, 'POST /v1/admin/senders', 422, '/v1/admin/senders', { ...admin, json: { name: '' } });
    await hit(T.main, 'POST /v1/admin/senders', 401, '/v1/admin/senders', { json: { name: 'nobody' } });
    await hit(T.main, 'GET /v1/admin/senders', 200, '/v1/admin/senders', admin);
    await hit(T.main, 'GET /v1/admin/senders', 401, '/v1/admin/senders');
    const credentials = `/v1/admin/senders/${A}/credentials`;
    await hit(T.main, 'GET /v1/admin/senders/{id}/credentials', 200, credentials, admin); // keys and certificates, revoked and expired
    await hit(T.main, 'GET /v1/admin/senders/{id}/credentials', 404, `/v1/admin/senders/${unknownId()}/credentials`, admin);
    await hit(T.main, 'GET /v1/admin/senders/{id}/credentials', 401, credentials);
    await hit(T.main, 'POST /v1/admin/senders/{id}/credentials', 201, credentials, { ...admin, json: { name: 'openapi', expiresAt: new Date(Date.now() + 86_400_000).toISOString() } });
    await hit(T.main, 'POST /v1/admin/senders/{id}/credentials', 409, credentials, { ...admin, json: { kind: 'tls_client_certificate', name: 'again', certificate: main.tls!.A.cert!.toString('utf8') } });
    await hit(T.main, 'POST /v1/admin/senders/{id}/credentials', 404, `/v1/admin/senders/${unknownId()}/credentials`, { ...admin, json: { name: 'x' } });
    await hit(T.main, 'POST /v1/admin/senders/{id}/credentials', 422, credentials, { ...admin, json: { kind: 'password' } });
    await hit(T.main, 'POST /v1/admin/senders/{id}/credentials', 401, credentials, { json: { name: 'x' } });
    await hit(T.main, 'POST /v1/admin/senders/{id}/credentials/{credentialId}/rotate', 201, `${credentials}/${m.keyToRotate.id}/rotate`, { ...admin, json: { graceSeconds: 60 } });
    await hit(T.main, 'POST /v1/admin/senders/{id}/credentials/{credentialId}/rotate', 404, `${credentials}/${unknownId()}/rotate`, { ...admin, json: {} });
    await hit(T.main, 'POST /v1/admin/senders/{id}/credentials/{credentialId}/rotate', 422, `${credentials}/${m.keyToRotate.id}/rotate`, { ...admin, json: { graceSeconds: -1 } });
    await hit(T.main, 'POST /v1/admin/senders/{id}/credentials/{credentialId}/rotate', 401, `${credentials}/${m.keyToRotate.id}/rotate`, { json: {} });
    await hit(T.main, 'DELETE /v1/admin/senders/{id}/credentials/{credentialId}', 204, `${credentials}/${m.keyToRevoke.id}`, admin);
    await hit(T.main, 'DELETE /v1/admin/senders/{id}/credentials/{credentialId}', 404, `${credentials}/${unknownId()}`, admin);
    await hit(T.main, 'DELETE /v1/admin/senders/{id}/credentials/{credentialId}', 401, `${credentials}/${m.keyToRevoke.id}`);

    const clerks = `/v1/admin/senders/${A}/clerks`;
    await hit(T.main, 'POST /v1/admin/senders/{id}/clerks', 201, clerks, { ...admin, json: { issuer: 'https://idp.example', subject: 'openapi-clerk', name: 'OpenAPI clerk' } });
    await hit(T.main, 'POST /v1/admin/senders/{id}/clerks', 404, `/v1/admin/senders/${unknownId()}/clerks`, { ...admin, json: { issuer: 'https://idp.example', subject: 'x' } });
    await hit(T.main, 'POST /v1/admin/senders/{id}/clerks', 409, `/v1/admin/senders/${main.senders.B}/clerks`, { ...admin, json: { issuer: 'https://idp.example', subject: 'openapi-clerk' } });
    await hit(T.main, 'POST /v1/admin/senders/{id}/clerks', 422, clerks, { ...admin, json: { issuer: 'https://idp.example' } });
    await hit(T.main, 'POST /v1/admin/senders/{id}/clerks', 401, clerks, { json: { issuer: 'https://idp.example', subject: 'x' } });
    await hit(T.main, 'GET /v1/admin/senders/{id}/clerks', 200, clerks, admin);
    await hit(T.main, 'GET /v1/admin/senders/{id}/clerks', 404, `/v1/admin/senders/${unknownId()}/clerks`, admin);
    await hit(T.main, 'GET /v1/admin/senders/{id}/clerks', 401, clerks);
    await hit(T.main, 'DELETE /v1/admin/senders/{id}/clerks', 204, `${clerks}?issuer=https%3A%2F%2Fidp.example&subject=openapi-clerk`, admin);
    await hit(T.main, 'DELETE /v1/admin/senders/{id}/clerks', 404, `${clerks}?issuer=https%3A%2F%2Fidp.example&subject=openapi-clerk`, admin);
    await hit(T.main, 'DELETE /v1/admin/senders/{id}/clerks', 422, `${clerks}?issuer=https%3A%2F%2Fidp.example`, admin);
    await hit(T.main, 'DELETE /v1/admin/senders/{id}/clerks', 401, `${clerks}?issuer=https%3A%2F%2Fidp.example&subject=x`);

    await hit(T.main, 'GET /v1/admin/jobs', 200, '/v1/admin/jobs', admin);
    await hit(T.main, 'GET /v1/admin/jobs', 200, '/v1/admin/jobs?status=dead', admin);
    await hit(T.main, 'GET /v1/admin/jobs', 401, '/v1/admin/jobs');
    await hit(T.main, 'POST /v1/admin/jobs/{id}/retry', 204, `/v1/admin/jobs/${m.deadJob}/retry`, admin);
    await hit(T.main, 'POST /v1/admin/jobs/{id}/retry', 404, '/v1/admin/jobs/987654321/retry', admin);
    await hit(T.main, 'POST /v1/admin/jobs/{id}/retry', 401, `/v1/admin/jobs/${m.deadJob}/retry`);
    expectNoMismatch();
  });

  it('429 RATE_LIMITED on every operation that documents it, from an address that failed authentication too often', async () => {
    const values: Record<string, string> = { type: 'citizen', position: '0', credentialId: unknownId(), installationId: 'x', evidenceId: unknownId() };
    for (const op of T.main.operations.values()) {
      if (!op.responses['429']) continue;
      const path = op.path.replace(/\{(\w+)\}/g, (_, name: string) => values[name] ?? (name === 'id' ? (op.path.includes('/jobs/') ? '1' : op.path.startsWith('/v1/admin/recipients') || op.path.startsWith('/v1/admin/contacts') ? insz(700) : unknownId()) : 'x'));
      await hit(T.main, op.key, 429, path, { address: main.blockedAddress, bearer: ADMIN_TOKEN });
    }
    expectNoMismatch();
  });

  it('503 DATABASE_UNAVAILABLE and 507 STORAGE_FULL on every operation that reaches the database', async () => {
    const k = kannel.kannel!;
    // the database's own error codes for "cannot connect now" and "disk full" (SQLite and PostgreSQL alike: src/store/outage.ts)
    for (const [code, status] of [['57P03', 503], ['53100', 507]] as const) {
      const patched = [main, kannel].map((w) => {
        const client = w.svc.rt.store.db.client as { acquireConnection: () => Promise<unknown> };
        const original = client.acquireConnection;
        client.acquireConnection = async () => {
          throw Object.assign(new Error(`the database answers ${code}`), { code });
        };
        return () => void (client.acquireConnection = original);
      });
      try {
        let n = 0;
        for (const op of T.main.operations.values()) {
          if (!op.responses[String(status)]) continue;
          if (op.key === 'GET /readyz' && status === 507) continue; // its 507 is the blob store's disk: PRODUCED_ELSEWHERE
          // the owner's own valid request (test/access/operations.ts), so that only the outage refuses it
          const viaKannel = op.key.startsWith('GET /v1/callbacks/kannel');
          const w = viaKannel ? kannel : main;
          const spec = SPECS[op.key]!;
          const req = spec.request?.(w, 9000 + n++) ?? {};
          const params = spec.params?.(w) ?? {};
          const query = new URLSearchParams({ ...req.query, ...(viaKannel ? { token: op.key.endsWith('/inbound') ? k.inboundToken : k.tokenA } : {}) }).toString();
          const path = op.path.replace(/\{(\w+)\}/g, (_, name: string) => params[name] ?? 'x') + (query ? `?${query}` : '');
          const bearer = { sender: main.keys.A, recipient: main.R1.token, admin: ADMIN_TOKEN, metrics: METRICS_TOKEN, public: undefined, callback: undefined }[op.realm];
          const headers: Array<[string, string]> = [];
          if (op.callback?.kind === 'header') {
            const secret = op.key.includes('govapp') ? main.callbackSecrets.govapp! : main.callbackSecrets.sms!;
            headers.push([op.callback.header, signBody(secret, req.body ?? Buffer.alloc(0))]);
          }
          await hit(viaKannel ? T.kannel : T.main, op.key, status, path, { bearer, body: req.body, contentType: req.contentType, headers });
        }
      } finally {
        for (const restore of patched) restore();
      }
    }
    expectNoMismatch();
  });

  it('the checks bite: a member the document does not name, a malformed date-time or uuid, an undocumented status or media type', async () => {
    const op = T.main.operations.get('GET /v1/messages/{id}')!;
    const real = await main.client.send({ method: 'GET', path: `/v1/messages/${main.main!.M1.id}`, headers: [['authorization', `Bearer ${main.keys.A}`]] });
    expect(T.main.validator.check(op, real)).to.deep.equal([]);
    const changed = (edit: (m: any) => void, answer: Partial<Answer> = {}) => {
      const m = JSON.parse(real.body.toString('utf8'));
      edit(m);
      return T.main.validator.check(op, { ...real, body: Buffer.from(JSON.stringify(m)), ...answer }).join('; ');
    };
    expect(changed((m) => (m.internalNote = 'x'))).to.match(/additional/);
    expect(changed((m) => (m.evidence[0].extra = 1))).to.match(/additional/);
    expect(changed((m) => (m.recipient.name = 'x'))).to.match(/additional/);
    expect(changed((m) => (m.submittedAt = '2026-13-45T99:00:00Z'))).to.match(/date-time/);
    expect(changed((m) => (m.id = 'not-a-uuid'))).to.match(/uuid/);
    expect(changed(() => undefined, { status: 418 })).to.match(/not documented/);
    expect(changed(() => undefined, { headers: { ...real.headers, 'content-type': 'text/html' } })).to.match(/not documented/);
  });

  it('every operation and every status the document lists was answered and checked above (coverage)', () => {
    const documented = [...T.main.operations.values()].flatMap((op) => Object.keys(op.responses).filter((s) => s !== 'default').map((s) => `${op.key} ${s}`));
    const missing = documented.filter((k) => !exercised.has(k) && !(k in PRODUCED_ELSEWHERE));
    expect(missing, `documented but never answered here:\n${missing.join('\n')}`).to.deep.equal([]);
    const undocumented = [...exercised].filter((k) => !documented.includes(k));
    expect(undocumented, 'answered but not documented (also reported above)').to.deep.equal([]);
    for (const k of Object.keys(PRODUCED_ELSEWHERE)) {
      expect(documented, `${k} is listed as produced elsewhere but the document no longer lists it`).to.include(k);
      expect(exercised.has(k), `${k} is exercised here now: take it off PRODUCED_ELSEWHERE`).to.equal(false);
    }
    const operationsWithout2xx = [...T.main.operations.values()].filter((op) => ![...exercised].some((k) => k.startsWith(`${op.key} 2`))).map((op) => op.key);
    expect(operationsWithout2xx, 'operations without a checked success answer').to.deep.equal([]);
  });
});
