/**
 * Periodic jobs (src/registered-mail/maintenance.ts) retry within their own time slot; a slot
 * that ends without success is skipped, never a dead letter, and the next slot runs as
 * usual: here the TSA is down for several one-second checkpoint slots, then comes back.
 */
import { expect } from 'chai';
import { onPostgres } from '../helpers/database.js';
import { startHttpTsa, type HttpTsa } from '../helpers/http-tsa.js';
import { metadata, pdfBytes, startTestService, submit, VALID_INSZ, type TestService } from '../helpers/service.js';

describe(`periodic jobs in an outage (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, () => {
  let svc: TestService;
  let tsaServer: HttpTsa;
  let down = true;

  before(async () => {
    tsaServer = await startHttpTsa((res) => down && Boolean(res.writeHead(503).end('down')));
    svc = await startTestService({ TSA_URL: tsaServer.url, SUBMIT_WAIT_MS: '0', CHECKPOINT_INTERVAL_MS: '1000' });
    await svc.newRecipient('citizen', VALID_INSZ);
  });
  after(async () => {
    await svc?.close();
    await tsaServer?.close();
  });

  it('skips the checkpoint slots the TSA outage spans, with no dead letter, and checkpoints again once it is back', async () => {
    // an event in the log, so that each checkpoint slot has a head to time-stamp
    const { apiKey } = await svc.newSender('Periodic sender');
    expect((await submit(svc, apiKey, metadata(), [{ name: 'main', content: pdfBytes(2000) }])).status).to.equal(202);

    const checkpointJobs = () => svc.rt.store.db('jobs').where({ type: 'checkpoint' }).select('status', 'attempts', 'max_attempts', 'last_error', 'dedupe_key');
    // a slot that ended in failure: a dead letter before, done with its last error now
    const failedSlots = async () => (await checkpointJobs()).filter((j: any) => (j.status === 'done' || j.status === 'dead') && j.last_error !== null);
    let deadline = Date.now() + 30_000;
    while ((await failedSlots()).length < 3) {
      if (Date.now() > deadline) throw new Error(`fewer than 3 checkpoint slots ended: ${JSON.stringify(await checkpointJobs())}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    // three slots ended while the TSA was down: skipped, none a dead letter, none beyond its budget
    expect(await svc.rt.store.checkpoints.latest()).to.equal(undefined);
    const failed = await failedSlots();
    expect(failed.filter((j: any) => j.status === 'dead')).to.deep.equal([]);
    for (const j of failed) expect(Number(j.attempts)).to.be.within(1, Number(j.max_attempts));

    down = false;
    deadline = Date.now() + 20_000;
    while (!(await svc.rt.store.checkpoints.latest())) {
      if (Date.now() > deadline) throw new Error(`no checkpoint after the TSA came back: ${JSON.stringify(await checkpointJobs())}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await svc.rt.store.jobs.list({ status: 'dead' })).to.deep.equal([]);
  });
});
