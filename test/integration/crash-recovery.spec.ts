/**
 * After a crash, the jobs the dead process held are taken back when the service starts
 * again, not when their lease runs out: SIGKILL the service while its jobs wait on a slow
 * external TSA, start it again, and the messages are sealed and deposited within seconds;
 * a client retrying its submission with its Idempotency-Key gets the sealed answer (201).
 * The lease is 120 s here and every wait is bounded at 20 s, so only the start-up reclaim
 * can make this pass.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/store/database.js';
import { createTestDatabase, onPostgres, type TestDatabase } from '../helpers/database.js';
import { startHttpTsa, type HttpTsa } from '../helpers/http-tsa.js';
import { TEST_CERTS_DIR } from '../helpers/paths.js';
import { freePort, kill, runScript, startServiceProcess, type ServiceProcess } from '../helpers/process.js';
import { FAST_WORKER_ENV, metadata, pdfBytes, submit, VALID_INSZ } from '../helpers/service.js';

describe(`crash recovery: jobs of a killed service are taken back at start (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, function () {
  this.timeout(180_000);
  let dataDir: string;
  let db: TestDatabase;
  let tsaServer: HttpTsa;
  let proc: ServiceProcess | undefined;
  /** 'hold': the TSA takes requests and never answers (a TSA that hangs); 'serve': it answers */
  let mode: 'hold' | 'serve' = 'hold';
  const held: http.ServerResponse[] = [];

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-crash-recovery-'));
    db = await createTestDatabase(dataDir);
    tsaServer = await startHttpTsa((res) => {
      if (mode !== 'hold') return false;
      held.push(res);
      return true;
    });
  });
  after(async () => {
    if (proc) await kill(proc);
    for (const res of held) res.destroy();
    await tsaServer?.close();
    await db?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('seals and deposits the messages whose jobs were in flight within seconds of the restart, and answers the retried submissions', async () => {
    const env: Record<string, string> = {
      APP_ENV: 'test',
      DATA_DIR: dataDir,
      DATABASE_URL: db.url,
      DEV_CERTS_DIR: TEST_CERTS_DIR,
      ...FAST_WORKER_ENV,
      TSA_URL: tsaServer.url,
      TSA_TIMEOUT_MS: '120000',
      JOB_LEASE_MS: '120000',
      CHECKPOINT_INTERVAL_MS: '3600000',
      SUBMIT_WAIT_MS: '200',
    };
    const { apiKey } = JSON.parse(await runScript('scripts/create-sender.ts', ['--name', 'Crash recovery sender', '--json'], env));
    await runScript('scripts/create-recipient.ts', ['--type', 'citizen', '--id', VALID_INSZ, '--json'], env);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    proc = await startServiceProcess(env, port);

    const work = Array.from({ length: 4 }, (_, i) => ({ key: randomUUID(), meta: metadata({ senderReference: `CR-${i}` }), content: pdfBytes(3000 + i, 100 + i), id: '' }));
    for (const w of work) {
      const res = await submit({ url }, apiKey, w.meta, [{ name: 'main', content: w.content }], { 'idempotency-key': w.key });
      expect(res.status).to.equal(202); // the TSA hangs: accepted, not yet sealed
      w.id = (await res.json()).id;
    }

    const knex = openDatabase(loadConfig(env).database);
    try {
      const acceptJobs = () => knex('jobs').where({ type: 'accept' }).select('message_id', 'status', 'attempts', 'locked_by');
      // every accept job is in flight: running under the service, waiting on the TSA
      const deadline = Date.now() + 20_000;
      while (held.length < work.length || (await acceptJobs()).filter((j: any) => j.status === 'running').length < work.length) {
        if (Date.now() > deadline) throw new Error(`jobs not in flight: ${JSON.stringify(await acceptJobs())}, TSA requests held: ${held.length}`);
        await new Promise((r) => setTimeout(r, 50));
      }

      await kill(proc);
      proc = undefined;
      mode = 'serve';
      const restartedAt = Date.now();
      proc = await startServiceProcess({ ...env, SUBMIT_WAIT_MS: '15000' }, port);

      // the clients retry with their keys: the same message, now sealed
      const retried = await Promise.all(work.map((w) => submit({ url }, apiKey, w.meta, [{ name: 'main', content: w.content }], { 'idempotency-key': w.key })));
      for (const [i, res] of retried.entries()) {
        const body = await res.json();
        expect(res.status, JSON.stringify(body)).to.equal(201);
        expect(res.headers.get('idempotent-replayed')).to.equal('true');
        expect(body.id).to.equal(work[i]!.id);
      }

      // and the rest of each message's work follows, well within a lease
      for (;;) {
        const statuses: Array<{ status: string }> = await knex('messages').select('status');
        if (statuses.length === work.length && statuses.every((m) => m.status === 'DEPOSITED')) break;
        if (Date.now() - restartedAt > 20_000) throw new Error(`not deposited 20 s after the restart: ${JSON.stringify(statuses)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const jobs = await acceptJobs();
      expect(jobs.map((j: any) => j.status)).to.deep.equal(work.map(() => 'done'));
      const evidence: Array<{ message_id: string; type: string }> = await knex('evidence').select('message_id', 'type').orderBy(['message_id', 'seq']);
      for (const w of work) {
        expect(evidence.filter((e) => e.message_id === w.id).map((e) => e.type)).to.deep.equal(['SubmissionAcceptance', 'ContentConsignment']);
      }
    } finally {
      await knex.destroy();
    }
  });
});
