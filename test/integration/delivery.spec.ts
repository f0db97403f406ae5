/**
 * A message's whole life over HTTP with the built-in e-Box: acceptance, deposit,
 * handover by the recipient, rejection, expiry, retention — each step a proof that
 * chains to the one before by its digest.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { expect } from 'chai';
import { pemToDer, verifyCadesT } from '../../src/crypto/index.js';
import { onPostgres } from '../helpers/database.js';
import { metadata, pdfBytes, startTestService, submit, VALID_INSZ, VALID_INSZ_2000, VALID_KBO, waitForMessage, type TestService } from '../helpers/service.js';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Downloads every proof of a message, checks each with the project's verifier and that each names its predecessor's digest. */
async function checkEvidenceChain(svc: TestService, apiKey: string, id: string, types: string[]): Promise<any[]> {
  const auth = { authorization: `Bearer ${apiKey}` };
  const list = (await (await fetch(`${svc.url}/v1/messages/${id}/evidence`, { headers: auth })).json()).items;
  expect(list.map((e: any) => e.type)).to.deep.equal(types);
  const anchors = pemToDer(fs.readFileSync(svc.rootPem, 'utf8'));
  const statements: any[] = [];
  let previousDigest: string | null = null;
  for (const item of list) {
    const der = new Uint8Array(await (await fetch(svc.url + item.href, { headers: auth })).arrayBuffer());
    expect(sha256(der)).to.equal(item.sha256);
    const report = await verifyCadesT(der, { trustAnchors: anchors });
    expect(report.indication, `${item.type}: ${JSON.stringify(report.checks.filter((c: { passed: boolean }) => !c.passed))}`).to.equal('TOTAL_PASSED');
    const statement = JSON.parse(new TextDecoder().decode(report.content));
    expect(statement.ERDSEventId).to.equal(`http://uri.etsi.org/19522/Event/${item.type}`);
    expect(statement.MessageIdentifier).to.equal(id);
    expect(statement.PreviousEvidenceDigest?.DigestValue ?? null).to.equal(previousDigest);
    previousDigest = sha256(der);
    statements.push(statement);
  }
  return statements;
}

describe(`delivery to the built-in e-Box (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, () => {
  let svc: TestService;
  let sender: { id: string; apiKey: string };
  let citizenToken: string;
  let otherToken: string;

  before(async () => {
    svc = await startTestService({ ADMIN_TOKEN: 'admin-token-for-tests-0123456789', METRICS_TOKEN: 'metrics-token-for-tests-0123456789' });
    sender = await svc.newSender('Delivery sender');
    citizenToken = await svc.newRecipient('citizen', VALID_INSZ);
    otherToken = await svc.newRecipient('citizen', VALID_INSZ_2000);
    await svc.newRecipient('enterprise', VALID_KBO, false);
  });
  after(async () => svc?.close());

  it('accepted → deposited → consulted, with a chained proof at every step', async () => {
    const doc = pdfBytes(20_000, 11);
    const res = await submit(svc, sender.apiKey, metadata(), [{ name: 'main', content: doc }]);
    expect(res.status).to.equal(201);
    const { id } = await res.json();
    const deposited = await waitForMessage(svc, sender.apiKey, id, (m) => m.status === 'DEPOSITED');
    expect(deposited.eboxMessageId).to.be.a('string');

    // the recipient finds it in its e-Box; another recipient does not
    const box = await (await fetch(`${svc.url}/v1/ebox/messages`, { headers: { authorization: `Bearer ${citizenToken}` } })).json();
    const entry = box.items.find((i: any) => i.id === deposited.eboxMessageId);
    expect(entry).to.include({ registered: true, read: false, sender: 'Delivery sender' });
    const foreign = await fetch(`${svc.url}/v1/ebox/messages/${entry.id}`, { headers: { authorization: `Bearer ${otherToken}` } });
    expect(foreign.status).to.equal(404);
    expect((await (await fetch(`${svc.url}/v1/ebox/messages`, { headers: { authorization: `Bearer ${otherToken}` } })).json()).items).to.deep.equal([]);
    const anonymous = await fetch(`${svc.url}/v1/ebox/messages`);
    expect(anonymous.status).to.equal(401);

    // reading the metadata is not a handover; downloading the document is
    const detail = await (await fetch(`${svc.url}${entry.href}`, { headers: { authorization: `Bearer ${citizenToken}` } })).json();
    expect((await waitForMessage(svc, sender.apiKey, id, () => true)).status).to.equal('DEPOSITED');
    const dl = await fetch(svc.url + detail.documents[0].href, { headers: { authorization: `Bearer ${citizenToken}` } });
    expect(dl.status).to.equal(200);
    expect(sha256(new Uint8Array(await dl.arrayBuffer()))).to.equal(sha256(doc));
    // a second download records nothing new
    await (await fetch(svc.url + detail.documents[0].href, { headers: { authorization: `Bearer ${citizenToken}` } })).arrayBuffer();

    const consulted = await waitForMessage(svc, sender.apiKey, id, (m) => m.status === 'CONSULTED');
    // (the recipient has no contact entry: the notice's outcome is an event too, tested in notify-registered-mail.spec.ts)
    expect(consulted.events.map((e: any) => e.type)).to.include('NotificationNotSent');
    expect(consulted.events.map((e: any) => e.type).filter((t: string) => !t.startsWith('Notification'))).to.deep.equal(['MessageReceived', 'SubmissionAcceptance', 'ContentConsignment', 'DocumentOpened', 'ContentHandover']);
    await checkEvidenceChain(svc, sender.apiKey, id, ['SubmissionAcceptance', 'ContentConsignment', 'ContentHandover']);
  });

  it('rejects a recipient without an e-Box, or unknown, with a SubmissionRejection proof that gives the reason', async () => {
    for (const [recipient, reason] of [
      [{ type: 'enterprise', id: VALID_KBO }, 'EBOX_NOT_ACTIVATED'],
      [{ type: 'enterprise', id: '0428759497' }, 'RECIPIENT_UNKNOWN'],
    ] as const) {
      const res = await submit(svc, sender.apiKey, metadata({ recipient }), [{ name: 'main', content: pdfBytes(500) }]);
      expect(res.status).to.equal(201);
      const body = await res.json();
      expect(body.status).to.equal('REJECTED');
      const [statement] = await checkEvidenceChain(svc, sender.apiKey, body.id, ['SubmissionRejection']);
      expect(statement.EventReasons[0].Code).to.equal(`urn:registered-mail:reason:${reason}`);
    }
  });

  it('lists the sender\'s messages with filters and cursor pagination', async () => {
    const other = await svc.newSender('List sender');
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const res = await submit(svc, other.apiKey, metadata({ senderReference: `L-${i}` }), [{ name: 'main', content: pdfBytes(100 + i) }]);
      ids.push((await res.json()).id);
    }
    const seen: string[] = [];
    let next: string | null = '/v1/messages?limit=3';
    let pages = 0;
    while (next) {
      const page: any = await (await fetch(svc.url + next, { headers: { authorization: `Bearer ${other.apiKey}` } })).json();
      expect(page.items.length).to.be.at.most(3);
      seen.push(...page.items.map((m: any) => m.id));
      next = page.next;
      pages++;
    }
    expect(pages).to.equal(3);
    expect(seen).to.have.members(ids);
    expect(new Set(seen).size).to.equal(7);
    const rejected = await (await fetch(`${svc.url}/v1/messages?status=REJECTED`, { headers: { authorization: `Bearer ${other.apiKey}` } })).json();
    expect(rejected.items).to.deep.equal([]);
    const future = await (await fetch(`${svc.url}/v1/messages?since=2999-01-01T00:00:00Z`, { headers: { authorization: `Bearer ${other.apiKey}` } })).json();
    expect(future.items).to.deep.equal([]);
    const bad = await fetch(`${svc.url}/v1/messages?status=LOST`, { headers: { authorization: `Bearer ${other.apiKey}` } });
    expect(bad.status).to.equal(400);
    expect((await bad.json()).code).to.equal('QUERY_INVALID');
    // another sender's list does not show them
    const mine = await (await fetch(`${svc.url}/v1/messages?limit=500`, { headers: { authorization: `Bearer ${sender.apiKey}` } })).json();
    expect(mine.items.map((m: any) => m.id)).to.not.include.members(ids);
  });

  it('exposes dead jobs to the operator only', async () => {
    const res = await fetch(`${svc.url}/v1/admin/jobs?status=dead`, { headers: { authorization: `Bearer ${sender.apiKey}` } });
    expect(res.status).to.equal(401);
    const ok = await fetch(`${svc.url}/v1/admin/jobs?status=dead`, { headers: { authorization: 'Bearer admin-token-for-tests-0123456789' } });
    expect(ok.status).to.equal(200);
    expect((await ok.json()).items).to.be.an('array');
    expect((await fetch(`${svc.url}/metrics`)).status, 'metrics without their token').to.equal(401);
    expect((await fetch(`${svc.url}/metrics`, { headers: { authorization: 'Bearer admin-token-for-tests-0123456789' } })).status, 'metrics with the admin token').to.equal(401);
    const metrics = await (await fetch(`${svc.url}/metrics`, { headers: { authorization: 'Bearer metrics-token-for-tests-0123456789' } })).text();
    expect(metrics).to.match(/registered_mail_jobs\{type="deposit",status="done"\} \d+/);
  });
});

describe(`expiry and retention (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, () => {
  let svc: TestService;
  let sender: { id: string; apiKey: string };
  let token: string;

  before(async () => {
    svc = await startTestService({ MESSAGE_EXPIRY_SECONDS: '1', DOCUMENT_RETENTION_SECONDS: '2', MAINTENANCE_INTERVAL_MS: '100' });
    sender = await svc.newSender('Expiry sender');
    token = await svc.newRecipient('citizen', VALID_INSZ);
  });
  after(async () => svc?.close());

  it('a deposited message not opened before its expiry gets ContentHandoverFailure, then its bytes are purged; the proofs stay', async () => {
    const res = await submit(svc, sender.apiKey, metadata(), [{ name: 'main', content: pdfBytes(3000) }]);
    const { id } = await res.json();
    const expired = await waitForMessage(svc, sender.apiKey, id, (m) => m.status === 'EXPIRED');
    const statements = await checkEvidenceChain(svc, sender.apiKey, id, ['SubmissionAcceptance', 'ContentConsignment', 'ContentHandoverFailure']);
    expect(statements[2].EventReasons[0].Code).to.equal('urn:registered-mail:reason:NOT_CONSULTED_BEFORE_EXPIRY');

    const purged = await waitForMessage(svc, sender.apiKey, id, (m) => m.documentsPurgedAt !== null);
    expect(purged.events.map((e: any) => e.type)).to.include('DocumentsPurged');
    expect(purged.documents[0].sha256).to.equal(expired.documents[0].sha256);
    // opening after expiry and purge: the bytes are gone, and no handover is recorded
    const box = await (await fetch(`${svc.url}/v1/ebox/messages`, { headers: { authorization: `Bearer ${token}` } })).json();
    const dl = await fetch(`${svc.url}${box.items[0].href}/documents/0`, { headers: { authorization: `Bearer ${token}` } });
    expect(dl.status).to.equal(410);
    expect((await dl.json()).code).to.equal('DOCUMENT_PURGED');
    await checkEvidenceChain(svc, sender.apiKey, id, ['SubmissionAcceptance', 'ContentConsignment', 'ContentHandoverFailure']);
  });
});
