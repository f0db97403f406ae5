/**
 * Several worker processes share one PostgreSQL database: jobs are claimed with
 * FOR UPDATE SKIP LOCKED, so each runs exactly once. (SQLite runs one process.)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/store/database.js';
import { createTestDatabase, onPostgres, type TestDatabase } from '../helpers/database.js';
import { TEST_CERTS_DIR } from '../helpers/paths.js';
import { freePort, kill, runScript, startServiceProcess, type ServiceProcess } from '../helpers/process.js';
import { FAST_WORKER_ENV, metadata, pdfBytes, submit, VALID_INSZ, VALID_KBO } from '../helpers/service.js';

(onPostgres ? describe : describe.skip)('two worker processes on PostgreSQL', function () {
  this.timeout(300_000);
  let dataDir: string;
  let db: TestDatabase;
  const procs: ServiceProcess[] = [];

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-workers-'));
    db = await createTestDatabase(dataDir);
  });
  after(async () => {
    for (const p of procs) await kill(p);
    await db?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs each of the jobs of 500 messages exactly once', async () => {
    const env = { APP_ENV: 'test', DATA_DIR: dataDir, DATABASE_URL: db.url, DEV_CERTS_DIR: TEST_CERTS_DIR, SUBMIT_WAIT_MS: '0', ...FAST_WORKER_ENV, WORKER_CONCURRENCY: '4', WORKER_POLL_MS: '20' };
    const { apiKey } = JSON.parse(await runScript('scripts/create-sender.ts', ['--name', 'Workers sender', '--json'], env));
    await runScript('scripts/create-recipient.ts', ['--type', 'citizen', '--id', VALID_INSZ, '--json'], env);
    await runScript('scripts/create-recipient.ts', ['--type', 'enterprise', '--id', VALID_KBO, '--inactive', '--json'], env);

    const api = await startServiceProcess(env, await freePort(), ['--role', 'api']);
    procs.push(api);
    for (let i = 0; i < 2; i++) procs.push(await startServiceProcess(env, await freePort(), ['--role', 'worker']));

    const total = 500;
    let next = 0;
    const ids: string[] = [];
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < total) {
          const i = next++;
          // one in ten goes to an enterprise without an activated e-Box: rejected
          const recipient = i % 10 === 0 ? { type: 'enterprise', id: VALID_KBO } : { type: 'citizen', id: VALID_INSZ };
          const res = await submit(api, apiKey, metadata({ recipient, senderReference: `W-${i}` }), [{ name: 'main', content: pdfBytes(1000 + i, i + 1) }]);
          // SUBMIT_WAIT_MS=0: 202, unless a worker sealed the first proof before the API read the status (201)
          expect(res.status).to.be.oneOf([201, 202]);
          ids.push((await res.json()).id);
        }
      }),
    );

    const knex = openDatabase(loadConfig(env).database);
    try {
      const deadline = Date.now() + 240_000;
      for (;;) {
        const open = await knex('jobs').whereNotNull('message_id').whereIn('status', ['pending', 'running']).count({ n: '*' }).first();
        if (Number(open?.n) === 0) break;
        if (Date.now() > deadline) throw new Error(`jobs still open: ${open?.n}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      const jobs: Array<{ type: string; status: string; attempts: number; locked_by: string }> = await knex('jobs').whereNotNull('message_id').select('type', 'status', 'attempts', 'locked_by');
      expect(jobs.filter((j) => j.type === 'accept')).to.have.length(total);
      expect(jobs.filter((j) => j.type === 'deposit')).to.have.length(total - total / 10);
      expect(jobs.filter((j) => j.status !== 'done' || Number(j.attempts) !== 1), 'every job claimed once and done').to.deep.equal([]);
      const workers = new Set(jobs.map((j) => j.locked_by));
      expect(workers.size, 'both workers took part').to.equal(2);

      const statuses = await knex('messages').select('status').count({ n: '*' }).groupBy('status');
      const byStatus = Object.fromEntries(statuses.map((r: any) => [r.status, Number(r.n)]));
      expect(byStatus).to.deep.equal({ DEPOSITED: total - total / 10, REJECTED: total / 10 });
      const evidence = await knex('evidence').select('message_id').count({ n: '*' }).groupBy('message_id');
      expect(evidence).to.have.length(total);
      expect(Number((await knex('evidence').count({ n: '*' }).first())?.n)).to.equal(2 * (total - total / 10) + total / 10);
      expect(Number((await knex('mailbox').count({ n: '*' }).first())?.n)).to.equal(total - total / 10);
    } finally {
      await knex.destroy();
    }
  });
});
