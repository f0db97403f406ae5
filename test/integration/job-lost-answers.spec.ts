/**
 * A statement the database carried out but whose answer was lost with the connection: a
 * worker's claim of due jobs, or the commit of a transaction that inserted jobs claimed by
 * the local runner. The jobs are then `running` under a worker that lives and does not know
 * it holds them; they must run within moments of the database answering again, not when
 * their lease runs out. Found by the postgres-outage fault campaign (test/faults), cutting
 * PostgreSQL as a claim was answered. The lease here is 120 s and every wait is bounded far
 * below it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import pino from 'pino';
import { loadConfig } from '../../src/config.js';
import { migrateLatest, openDatabase } from '../../src/store/database.js';
import { Repositories } from '../../src/store/Repositories.js';
import { JobRunner } from '../../src/worker/JobRunner.js';
import { createTestDatabase, onPostgres, type TestDatabase } from '../helpers/database.js';
import { TEST_JOBS, type TestJobs } from '../helpers/jobs.js';

const LEASE_MS = 120_000;
const silent = pino({ level: 'silent' });
const connectionLost = () => Object.assign(new Error('Connection terminated unexpectedly'), { code: 'ECONNRESET' });

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe(`job runner: answers lost with the connection (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, () => {
  let dir: string;
  let db: TestDatabase;
  let store: Repositories<TestJobs>;
  let runner: JobRunner<TestJobs> | undefined;
  const ran: number[] = [];
  let loseNextCommit = false;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-lost-answers-'));
    db = await createTestDatabase(dir);
    const knex = openDatabase(loadConfig({ DATA_DIR: dir, DATABASE_URL: db.url }).database);
    await migrateLatest(knex);
    // the database as the service sees it; `loseNextCommit` makes the next transaction
    // commit and then fail as a connection lost before the answer would
    const lossy = new Proxy(knex, {
      get(target, property, receiver) {
        if (property !== 'transaction') return Reflect.get(target, property, receiver);
        return async (...args: unknown[]) => {
          const result = await (target.transaction as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          if (!loseNextCommit) return result;
          loseNextCommit = false;
          throw connectionLost();
        };
      },
    });
    store = new Repositories<TestJobs>(lossy);
    loseNextCommit = false;
    ran.length = 0;
  });
  afterEach(async () => {
    await runner?.stop();
    runner = undefined;
    await store.close();
    await db.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function newRunner(): JobRunner<TestJobs> {
    runner = new JobRunner(
      store,
      TEST_JOBS,
      {
        a: {
          run: async (job) => {
            ran.push(job.id);
          },
        },
      },
      { concurrency: 4, pollMs: 50, leaseMs: LEASE_MS, backoff: { baseMs: 10, maxMs: 50 } },
      silent,
    );
    return runner;
  }

  it('runs the jobs of a claim the database made but did not answer', async () => {
    await store.jobs.enqueue({ type: 'a', maxAttempts: 3, payload: {} });
    const r = newRunner();
    const claim = store.jobs.claim.bind(store.jobs);
    let lost = 0;
    store.jobs.claim = async (...args: Parameters<typeof claim>) => {
      const jobs = await claim(...args);
      if (jobs.length > 0 && lost++ === 0) throw connectionLost();
      return jobs;
    };
    r.start();
    await until('the job claimed without an answer runs', () => ran.length === 1);
    expect(lost, 'the claim went through once without its answer').to.be.greaterThan(0);
    const [job] = await store.jobs.list({});
    await until('it is done', async () => (await store.jobs.find(job!.id))?.status === 'done');
    expect(ran).to.have.length(1);
  });

  it('runs the jobs a transaction inserted claimed for it when that transaction committed without saying so', async () => {
    const r = newRunner();
    r.adoptLocalJobs();
    r.start();
    // the transaction commits; the caller is told the connection went away
    loseNextCommit = true;
    let failure: unknown;
    await store.transaction((tx) => tx.jobs.enqueue({ type: 'a', dedupeKey: 'a:unanswered', maxAttempts: 3, payload: {} })).catch((err) => (failure = err));
    expect(loseNextCommit).to.equal(false);
    expect((failure as { code?: string } | undefined)?.code).to.equal('ECONNRESET');
    const [job] = await store.jobs.list({});
    expect(job, 'the insert committed').to.include({ status: 'running', lockedBy: r.workerId });
    await until('the job inserted without an answer runs', () => ran.length === 1);
    await until('it is done', async () => (await store.jobs.find(job!.id))?.status === 'done');
    expect(ran).to.deep.equal([job!.id]);
  });
});
