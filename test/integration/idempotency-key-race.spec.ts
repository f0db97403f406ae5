/**
 * Two submissions with one Idempotency-Key and different contents, in flight together: the
 * one that loses the race at the key's unique index must answer 409 IDEMPOTENCY_KEY_REUSED,
 * as it would have had it come second. The fuzzer (8 requests in flight, a few keys shared
 * between different bodies) met a 500 carrying the unique violation: the replay lookup after
 * the failed insert swallowed the 409. The race is made deterministic here: the first
 * lookup of the second request misses the first one's key, as it does when both look
 * before either commits.
 */
import { expect } from 'chai';
import { onPostgres } from '../helpers/database.js';
import { blobFiles, metadata, startTestService, submit, VALID_INSZ, type TestService } from '../helpers/service.js';

describe(`a submission that loses an Idempotency-Key race (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, function () {
  this.timeout(60_000);
  let svc: TestService;
  let apiKey: string;

  before(async () => {
    svc = await startTestService();
    apiKey = (await svc.newSender()).apiKey;
    await svc.newRecipient('citizen', VALID_INSZ);
  });
  after(async () => {
    await svc?.close();
  });

  /** The key lookup before the insert misses once, as when the other request has not committed yet. */
  function missKeyOnce(): void {
    const repo = svc.rt.store.messages;
    const real = repo.findIdempotencyKey;
    repo.findIdempotencyKey = async () => {
      repo.findIdempotencyKey = real;
      return undefined;
    };
  }

  it('with other contents is 409 IDEMPOTENCY_KEY_REUSED naming the first message, and leaves no row and no file', async () => {
    const key = '4b6b0d5e-5f0e-4bde-9f8e-0f1f3a1c2b7d';
    const first = await submit(svc, apiKey, metadata(), [{ name: 'main', content: '%PDF-1.7 first' }], { 'idempotency-key': key });
    expect(first.status).to.be.oneOf([201, 202]);
    const firstId = ((await first.json()) as { id: string }).id;
    const rows = async () => Number((await svc.rt.store.db('messages').count({ n: '*' }).first())?.n);
    const before = { rows: await rows(), objects: blobFiles(svc.dataDir).objects.length };

    missKeyOnce();
    const second = await submit(svc, apiKey, metadata(), [{ name: 'main', content: '%PDF-1.7 second, other bytes' }], { 'idempotency-key': key });
    const body = (await second.json()) as { code: string; messageId?: string };
    expect({ status: second.status, code: body.code, messageId: body.messageId }).to.deep.equal({ status: 409, code: 'IDEMPOTENCY_KEY_REUSED', messageId: firstId });
    expect(await rows()).to.equal(before.rows);
    expect(blobFiles(svc.dataDir).temp).to.deep.equal([]);
    expect(blobFiles(svc.dataDir).objects.length).to.equal(before.objects);
  });

  it('with the same contents is the first message, replayed', async () => {
    const key = '9d1c7a43-2f4e-4a8b-8e5d-6c3b2a1f0e9d';
    const first = await submit(svc, apiKey, metadata(), [{ name: 'main', content: '%PDF-1.7 same' }], { 'idempotency-key': key });
    const firstId = ((await first.json()) as { id: string }).id;
    missKeyOnce();
    const again = await submit(svc, apiKey, metadata(), [{ name: 'main', content: '%PDF-1.7 same' }], { 'idempotency-key': key });
    expect(again.status).to.be.oneOf([201, 202]);
    expect(again.headers.get('idempotent-replayed')).to.equal('true');
    expect(((await again.json()) as { id: string }).id).to.equal(firstId);
  });
});
