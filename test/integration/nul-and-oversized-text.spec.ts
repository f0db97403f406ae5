/**
 * Text PostgreSQL cannot store or compare — a NUL character anywhere, a value longer than
 * its column — reached the database from path parameters, JSON bodies, the multipart
 * metadata, pagination cursors and the webhook URL, and came back as 500 there (SQLite
 * stored it). Found by `npm run test:fuzz` on PostgreSQL. Each is now refused at the edge
 * with the same 4xx on both databases, and leaves nothing behind.
 */
import { expect } from 'chai';
import { onPostgres } from '../helpers/database.js';
import { metadata, startTestService, submit, VALID_INSZ, waitForMessage, type TestService } from '../helpers/service.js';

const ADMIN = 'admin-token-0123456789abcdef';

describe(`NUL characters and over-long text answer 4xx on both databases (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, function () {
  this.timeout(60_000);
  let svc: TestService;
  let apiKey: string;
  let messageId: string;
  let victim: { id: string; credentialId: string };

  const sender = (method: string, path: string, body?: unknown) =>
    fetch(`${svc.url}${path}`, { method, headers: { authorization: `Bearer ${apiKey}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  const admin = (method: string, path: string, body?: unknown) =>
    fetch(`${svc.url}${path}`, { method, headers: { authorization: `Bearer ${ADMIN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  async function problem(res: Response): Promise<{ status: number; code: string }> {
    const body = (await res.json()) as { code: string };
    return { status: res.status, code: body.code };
  }

  before(async () => {
    // webhook targets on loopback allowed, so that what is checked is the URL's text, not where it points
    svc = await startTestService({ ADMIN_TOKEN: ADMIN, WEBHOOK_ALLOW_PRIVATE_TARGETS: '127.0.0.1/32' });
    apiKey = (await svc.newSender()).apiKey;
    await svc.newRecipient('citizen', VALID_INSZ);
    const res = await submit(svc, apiKey, metadata(), [{ name: 'main', content: '%PDF-1.7 nul test' }]);
    messageId = ((await res.json()) as { id: string }).id;
    await waitForMessage(svc, apiKey, messageId, (m) => m.evidence.length > 0);
    const created = (await (await admin('POST', '/v1/admin/senders', { name: 'Victim' })).json()) as { id: string; credential: { id: string } };
    victim = { id: created.id, credentialId: created.credential.id };
    expect((await admin('PUT', `/v1/admin/contacts/citizen/${VALID_INSZ}`, { language: 'nl' })).status).to.equal(201);
  });
  after(async () => {
    await svc?.close();
  });

  it('a webhook URL longer than its column (2,000 characters) is 422 WEBHOOK_INVALID, and none is stored', async () => {
    const url = `http://127.0.0.1:9/${'x'.repeat(2001)}`;
    expect(await problem(await sender('PUT', '/v1/webhook', { url }))).to.deep.equal({ status: 422, code: 'WEBHOOK_INVALID' });
    const row = await svc.rt.store.db('senders').whereNotNull('webhook_url').count({ n: '*' }).first();
    expect(Number(row?.n)).to.equal(0);
  });

  it('a webhook URL holding a control character is 422 WEBHOOK_INVALID (a NUL is refused with the JSON body: 400)', async () => {
    for (const url of ['http://127.0.0.1:9/a\u0007b', 'http://127.0.0.1:9/a\nb', 'http://127.0.0.1:9/a\u007fb']) {
      expect(await problem(await sender('PUT', '/v1/webhook', { url })), JSON.stringify(url)).to.deep.equal({ status: 422, code: 'WEBHOOK_INVALID' });
    }
    expect(await problem(await sender('PUT', '/v1/webhook', { url: 'http://127.0.0.1:9/a\u0000b' }))).to.deep.equal({ status: 400, code: 'MALFORMED_REQUEST' });
    // the limit itself is accepted
    expect((await sender('PUT', '/v1/webhook', { url: `http://127.0.0.1:9/${'x'.repeat(2000 - 'http://127.0.0.1:9/'.length)}` })).status).to.equal(200);
  });

  it('a NUL in a path parameter is 404 NOT_FOUND on every route that looks it up', async () => {
    const cases: Array<[string, string, (m: string, p: string) => Promise<Response>]> = [
      ['GET', `/v1/messages/${messageId}/evidence/%00`, sender],
      ['GET', '/v1/messages/%00', sender],
      ['GET', '/v1/notifications/%00', sender],
      ['GET', '/v1/admin/senders/%00/credentials', admin],
      ['DELETE', `/v1/admin/senders/${victim.id}/credentials/%00`, admin],
      ['DELETE', `/v1/admin/senders/${victim.id}/credentials/${victim.credentialId}%00`, admin],
      ['PATCH', `/v1/admin/contacts/citizen/${VALID_INSZ}/installations/%00`, admin],
      ['DELETE', `/v1/admin/contacts/citizen/${VALID_INSZ}/installations/a%00b`, admin],
      ['POST', '/v1/admin/jobs/%00/retry', admin],
    ];
    for (const [method, path, as] of cases) {
      expect(await problem(await as(method, path)), `${method} ${path}`).to.deep.equal({ status: 404, code: 'NOT_FOUND' });
    }
    // the victim's credential was not touched
    const creds = (await (await admin('GET', `/v1/admin/senders/${victim.id}/credentials`)).json()) as { items: Array<{ state: string }> };
    expect(creds.items.map((c) => c.state)).to.deep.equal(['active']);
  });

  it('a NUL in a JSON body, in a string or a key, is 400 MALFORMED_REQUEST, and no row is written', async () => {
    const before = Number((await svc.rt.store.db('senders').count({ n: '*' }).first())?.n);
    expect(await problem(await admin('POST', '/v1/admin/senders', { name: 'a\u0000b' }))).to.deep.equal({ status: 400, code: 'MALFORMED_REQUEST' });
    expect(await problem(await admin('POST', '/v1/admin/senders', '{"name":"ok","x\\u0000":1}'))).to.deep.equal({ status: 400, code: 'MALFORMED_REQUEST' });
    expect(Number((await svc.rt.store.db('senders').count({ n: '*' }).first())?.n)).to.equal(before);
    const notification = { phoneNumber: '+32470123456', template: 'appointment-reminder', values: { what: 'x', date: '12/01/2027', time: '10:30' }, reference: 'ref\u0000' };
    expect(await problem(await sender('POST', '/v1/notifications', notification))).to.deep.equal({ status: 400, code: 'MALFORMED_REQUEST' });
    expect(Number((await svc.rt.store.db('notifications').count({ n: '*' }).first())?.n)).to.equal(0);
    expect(await problem(await admin('PUT', `/v1/admin/contacts/citizen/${VALID_INSZ}`, { language: 'nl', phoneNumber: '+32470123456\u0000' }))).to.deep.equal({ status: 400, code: 'MALFORMED_REQUEST' });
  });

  it('a NUL in the multipart metadata is 400 METADATA_INVALID, with no message row and no stored document', async () => {
    const rowsBefore = Number((await svc.rt.store.db('messages').count({ n: '*' }).first())?.n);
    for (const meta of [metadata({ senderReference: 'REF\u0000' }), metadata({ subject: { nl: 'Uw\u0000beslissing' } })]) {
      const res = await submit(svc, apiKey, meta, [{ name: 'main', content: '%PDF-1.7 nul metadata' }]);
      expect(await problem(res)).to.deep.equal({ status: 400, code: 'METADATA_INVALID' });
    }
    expect(Number((await svc.rt.store.db('messages').count({ n: '*' }).first())?.n)).to.equal(rowsBefore);
  });

  it('a pagination cursor naming a NUL, or anything but a submission time and a message id, is 400 QUERY_INVALID', async () => {
    for (const cursor of [
      ['2026-01-01T00:00:00.000Z', 'x\u0000'],
      ['\u0000', '00000000-0000-0000-0000-000000000000'],
      ['2026-01-01', '00000000-0000-0000-0000-000000000000'],
      ['2026-01-01T00:00:00.000Z', 'not-an-id'],
    ]) {
      const c = Buffer.from(JSON.stringify(cursor)).toString('base64url');
      expect(await problem(await sender('GET', `/v1/messages?cursor=${c}`)), JSON.stringify(cursor)).to.deep.equal({ status: 400, code: 'QUERY_INVALID' });
    }
    // a cursor the service gave still pages
    await submit(svc, apiKey, metadata(), [{ name: 'main', content: '%PDF-1.7 second' }]);
    const first = (await (await sender('GET', '/v1/messages?limit=1')).json()) as { next: string | null };
    expect(first.next).to.be.a('string');
    const second = await sender('GET', first.next!);
    expect(second.status).to.equal(200);
    expect(((await second.json()) as { items: unknown[] }).items).to.have.length(1);
  });
});

describe(`a document media type longer than its column, with every media type allowed (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, function () {
  this.timeout(60_000);
  let svc: TestService;
  let apiKey: string;

  before(async () => {
    svc = await startTestService({ ALLOWED_MEDIA_TYPES: '*/*', SUBMIT_WAIT_MS: '0' }, { worker: false });
    apiKey = (await svc.newSender()).apiKey;
  });
  after(async () => {
    await svc?.close();
  });

  it('is 415 DOCUMENT_MEDIA_TYPE_NOT_ALLOWED (255 characters pass), with no row and no stored document', async () => {
    const long = await submit(svc, apiKey, metadata(), [{ name: 'main', content: '%PDF-1.7', type: `application/${'x'.repeat(256 - 'application/'.length)}` }]);
    expect({ status: long.status, code: ((await long.json()) as { code: string }).code }).to.deep.equal({ status: 415, code: 'DOCUMENT_MEDIA_TYPE_NOT_ALLOWED' });
    expect(Number((await svc.rt.store.db('messages').count({ n: '*' }).first())?.n)).to.equal(0);
    const limit = await submit(svc, apiKey, metadata(), [{ name: 'main', content: '%PDF-1.7', type: `application/${'x'.repeat(255 - 'application/'.length)}` }]);
    expect(limit.status).to.be.oneOf([201, 202]);
  });
});

describe(`a recipient name longer than its column (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, function () {
  this.timeout(60_000);
  let svc: TestService;

  before(async () => {
    svc = await startTestService({ ADMIN_TOKEN: ADMIN }, { worker: false });
  });
  after(async () => {
    await svc?.close();
  });

  it('POST /v1/admin/recipients with a name over 200 characters is 422 RECIPIENT_INVALID, and none is registered', async () => {
    const register = (name: string) =>
      fetch(`${svc.url}/v1/admin/recipients`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ type: 'citizen', id: VALID_INSZ, name }) });
    const long = await register('n'.repeat(201));
    expect({ status: long.status, code: ((await long.json()) as { code: string }).code }).to.deep.equal({ status: 422, code: 'RECIPIENT_INVALID' });
    expect(Number((await svc.rt.store.db('recipients').count({ n: '*' }).first())?.n)).to.equal(0);
    expect((await register('n'.repeat(200))).status).to.equal(201);
  });
});
