/**
 * An export made minutes after a first message, before any periodic checkpoint covers it:
 * `export` time-stamps the log's head itself, so `verify-log` passes the bundle at once.
 * With --no-checkpoint the tail stays unpinned (INDETERMINATE / NO_POE), as before.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { runCli } from '../helpers/cli.js';
import { onPostgres } from '../helpers/database.js';
import { metadata, pdfBytes, startTestService, submit, VALID_INSZ, waitForMessage, type TestService } from '../helpers/service.js';

describe(`export right after a first message (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, function () {
  this.timeout(180_000);
  let svc: TestService;
  let work: string;
  let sender: { id: string; apiKey: string };
  const period = { from: new Date(Date.now() - 60_000).toISOString(), to: '' };

  before(async () => {
    svc = await startTestService({ CHECKPOINT_INTERVAL_MS: String(3_600_000) });
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-export-cp-'));
    sender = await svc.newSender('First-day institution');
    await svc.newRecipient('citizen', VALID_INSZ);
    const res = await submit(svc, sender.apiKey, metadata(), [{ name: 'main', content: pdfBytes(10_000, 3) }]);
    expect(res.status).to.equal(201);
    const { id } = await res.json();
    await waitForMessage(svc, sender.apiKey, id, (m) => m.status === 'DEPOSITED');
    period.to = new Date(Date.now() + 60_000).toISOString();
    // no checkpoint covers the message yet
    const [head, last] = await Promise.all([svc.rt.store.events.head(), svc.rt.store.checkpoints.latest()]);
    expect(last?.eventSeq ?? 0).to.be.below(head!.seq);
  });
  after(async () => {
    await svc?.close();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('--no-checkpoint: the tail is unpinned and verify-log says INDETERMINATE / NO_POE', async () => {
    const out = path.join(work, 'no-checkpoint');
    const r = await runCli('export', ['--sender', sender.id, '--from', period.from, '--to', period.to, '--out', out, '--json', '--no-checkpoint'], { env: svc.env });
    expect(r.code, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout)).to.include({ headPinned: false });
    expect(r.stderr).to.contain('not checkpointed yet');
    const v = await runCli('verify-log', [out, '--trust', svc.rootPem, '--json']);
    expect(v.code).to.equal(2);
    expect(JSON.parse(v.stdout)).to.include({ indication: 'INDETERMINATE', subIndication: 'NO_POE' });
  });

  it('export time-stamps the head first: the bundle is pinned at both ends and verify-log passes', async () => {
    const before = await svc.rt.store.checkpoints.latest();
    const out = path.join(work, 'bundle');
    const r = await runCli('export', ['--sender', sender.id, '--from', period.from, '--to', period.to, '--out', out, '--json'], { env: svc.env });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.equal('');
    const result = JSON.parse(r.stdout);
    expect(result).to.include({ messages: 1, headPinned: true });
    const head = await svc.rt.store.events.head();
    const taken = await svc.rt.store.checkpoints.latest();
    expect(taken!.id).to.not.equal(before?.id);
    expect(taken!.eventSeq).to.equal(head!.seq);
    const v = await runCli('verify-log', [out, '--trust', svc.rootPem, '--json']);
    expect(v.code, v.stdout + v.stderr).to.equal(0);
    expect(JSON.parse(v.stdout)).to.include({ indication: 'TOTAL_PASSED' });
    // the service's own periodic checkpoint finds nothing more to do for that head
    expect(await svc.rt.maintenance.checkpoint()).to.equal(false);
  });
});
