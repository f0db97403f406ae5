/**
 * The service delivering to a remote e-Box over HTTP (the simulator, a separate HTTP
 * server with latency and failures): deposits survive failures without duplicates,
 * read events come back as ContentHandover, and an e-Box that stays down ends in
 * ContentConsignmentFailure with the job visible as a dead letter.
 */
import { expect } from 'chai';
import { SIMULATOR_DEFAULT_CLIENT, startEboxSimulator, type RunningEboxSimulator } from '../../dev/ebox-simulator/EboxSimulator.js';
import { onPostgres } from '../helpers/database.js';
import { metadata, pdfBytes, startTestService, submit, VALID_INSZ, VALID_INSZ_2000, VALID_KBO, waitForMessage, type TestService } from '../helpers/service.js';

describe(`delivery to a remote e-Box over HTTP (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, () => {
  let sim: RunningEboxSimulator;
  let svc: TestService;
  let sender: { id: string; apiKey: string };
  const ADMIN = 'admin-token-for-tests-0123456789';

  before(async () => {
    sim = await startEboxSimulator({
      latencyMs: 5,
      jitterMs: 10,
      failureRate: 0.3,
      seed: 7,
      recipients: [
        { eboxType: 'citizen', id: VALID_INSZ, activated: true },
        { eboxType: 'citizen', id: VALID_INSZ_2000, activated: true },
        { eboxType: 'enterprise', id: VALID_KBO, activated: false },
      ],
    });
    svc = await startTestService({
      EBOX_URL: sim.url,
      EBOX_CLIENT_ID: SIMULATOR_DEFAULT_CLIENT.clientId,
      EBOX_CLIENT_SECRET: SIMULATOR_DEFAULT_CLIENT.clientSecret,
      EBOX_SCOPE: 'ebox:publication',
      MAINTENANCE_INTERVAL_MS: '100',
      DEPOSIT_MAX_ATTEMPTS: '30',
      ADMIN_TOKEN: ADMIN,
    });
    sender = await svc.newSender('Remote sender');
  });
  after(async () => {
    await svc?.close();
    await sim?.close();
  });

  it('deposits every message exactly once despite failures, and turns read events into ContentHandover', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await submit(svc, sender.apiKey, metadata({ senderReference: `R-${i}` }), [{ name: 'main', content: pdfBytes(3000 + i, 40 + i) }]);
      expect(res.status).to.equal(201);
      ids.push((await res.json()).id);
    }
    const deposited = [];
    for (const id of ids) deposited.push(await waitForMessage(svc, sender.apiKey, id, (m) => m.status === 'DEPOSITED', 60_000));
    const snapshot = sim.state.snapshot();
    expect(snapshot.publications).to.have.length(20);
    expect(snapshot.publications.every((p) => p.storedCount === 1)).to.equal(true);
    expect(new Set(snapshot.publications.map((p) => p.idempotencyKey))).to.deep.equal(new Set(ids));
    for (const m of deposited) {
      const pub = snapshot.publications.find((p) => p.idempotencyKey === m.id)!;
      expect(m.eboxMessageId).to.equal(pub.publicationId);
      expect(pub.attachments[0]!.sha256, 'the e-Box received the exact bytes').to.equal(m.documents[0].sha256);
    }

    // the recipient opens two of them in the remote e-Box
    for (const m of deposited.slice(0, 2)) sim.state.markRead(m.eboxMessageId);
    for (const m of deposited.slice(0, 2)) {
      const consulted = await waitForMessage(svc, sender.apiKey, m.id, (x) => x.status === 'CONSULTED', 30_000);
      expect(consulted.evidence.map((e: any) => e.type)).to.deep.equal(['SubmissionAcceptance', 'ContentConsignment', 'ContentHandover']);
    }
    expect((await waitForMessage(svc, sender.apiKey, deposited[2].id, () => true)).status).to.equal('DEPOSITED');
  });

  it('rejects a recipient whose remote e-Box is not activated', async () => {
    const res = await submit(svc, sender.apiKey, metadata({ recipient: { type: 'enterprise', id: VALID_KBO } }), [{ name: 'main', content: pdfBytes(100) }]);
    const body = await res.json();
    expect(body.status).to.equal('REJECTED');
    expect(body.evidence.map((e: any) => e.type)).to.deep.equal(['SubmissionRejection']);
  });

  it('ends in ContentConsignmentFailure when the e-Box stays down, the job a visible dead letter', async () => {
    sim.state.faults.update({ failureRate: 1 });
    try {
      // a low budget for this one: a service configured with 2 attempts
      const short = await startTestService({
        EBOX_URL: sim.url,
        EBOX_CLIENT_ID: SIMULATOR_DEFAULT_CLIENT.clientId,
        EBOX_CLIENT_SECRET: SIMULATOR_DEFAULT_CLIENT.clientSecret,
        EBOX_SCOPE: 'ebox:publication',
        DEPOSIT_MAX_ATTEMPTS: '2',
        ADMIN_TOKEN: ADMIN,
        METRICS_TOKEN: ADMIN,
      });
      try {
        const s = await short.newSender('Unlucky sender');
        const res = await submit(short, s.apiKey, metadata({ recipient: { type: 'citizen', id: VALID_INSZ_2000 } }), [{ name: 'main', content: pdfBytes(100, 3) }]);
        const { id } = await res.json();
        const failed = await waitForMessage(short, s.apiKey, id, (m) => m.status === 'FAILED', 30_000);
        expect(failed.evidence.map((e: any) => e.type)).to.deep.equal(['SubmissionAcceptance', 'ContentConsignmentFailure']);
        const ev = await (await fetch(`${short.url}${failed.evidence[1].href}`, { headers: { authorization: `Bearer ${s.apiKey}`, accept: 'application/json' } })).json();
        expect(ev.statement.EventReasons[0].Code).to.match(/^urn:registered-mail:reason:/);
        expect(ev.statement.EventReasons[0].Details).to.match(/after 2 attempts/);
        const dead = await (await fetch(`${short.url}/v1/admin/jobs?status=dead`, { headers: { authorization: `Bearer ${ADMIN}` } })).json();
        expect(dead.items.filter((j: any) => j.type === 'deposit' && j.messageId === id)).to.have.length(1);
        const metrics = await (await fetch(`${short.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).text();
        expect(metrics).to.match(/registered_mail_jobs\{type="deposit",status="dead"\} 1/);
      } finally {
        await short.close();
      }
    } finally {
      sim.state.faults.update({ failureRate: 0.3 });
    }
  });
});
