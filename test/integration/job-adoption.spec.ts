/**
 * Jobs enqueued in the process that runs a job runner are inserted claimed by it and
 * handed over when their transaction commits (src/store/JobRepository.ts, LocalJobs).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import pino from 'pino';
import { loadConfig } from '../../src/config.js';
import { migrateLatest, openDatabase } from '../../src/store/database.js';
import type { StoredJob } from '../../src/store/JobRepository.js';
import { Repositories } from '../../src/store/Repositories.js';
import { JobRunner } from '../../src/worker/JobRunner.js';
import { createTestDatabase, onPostgres, type TestDatabase } from '../helpers/database.js';
import { TEST_JOBS, type TestJobs } from '../helpers/jobs.js';

describe(`job adoption by the local runner (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, () => {
  let dir: string;
  let db: TestDatabase;
  let store: Repositories<TestJobs>;
  let taken: StoredJob[];

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-adopt-'));
    db = await createTestDatabase(dir);
    const knex = openDatabase(loadConfig({ DATA_DIR: dir, DATABASE_URL: db.url }).database);
    await migrateLatest(knex);
    store = new Repositories<TestJobs>(knex);
    taken = [];
    store.localJobs.adoptFor({ workerId: 'w-local', leaseMs: 60_000, types: new Set(['a']), take: (jobs) => taken.push(...jobs) });
  });

  afterEach(async () => {
    await store.close();
    await db.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('inserts a due job of a type it runs as claimed, and hands it over only after the commit', async () => {
    await store.transaction(async (tx) => {
      await tx.jobs.enqueue({ type: 'a', dedupeKey: 'a:1', maxAttempts: 3, payload: { n: 1 } });
      expect(taken).to.have.length(0); // not before the commit
    });
    expect(taken).to.have.length(1);
    const row = (await store.jobs.find(taken[0]!.id))!;
    expect(row).to.include({ status: 'running', lockedBy: 'w-local', attempts: 1, type: 'a' });
    expect(Date.parse(row.lockedUntil!)).to.be.greaterThan(Date.now() + 50_000);
    expect(taken[0]!.payload).to.deep.equal({ n: 1 });
  });

  it('hands over nothing when the transaction rolls back, and leaves the table as it was', async () => {
    await store
      .transaction(async (tx) => {
        await tx.jobs.enqueue({ type: 'a', dedupeKey: 'a:rolled-back', maxAttempts: 3, payload: {} });
        throw new Error('abandoned');
      })
      .catch(() => undefined);
    expect(taken).to.have.length(0);
    expect(await store.jobs.list({})).to.have.length(0);
  });

  it('leaves pending: other types, jobs due later, and does not hand over a duplicate twice', async () => {
    await store.transaction(async (tx) => {
      await tx.jobs.enqueue({ type: 'b', maxAttempts: 3, payload: {} });
      await tx.jobs.enqueue({ type: 'a', dedupeKey: 'a:later', maxAttempts: 3, payload: {}, runAt: new Date(Date.now() + 60_000) });
      await tx.jobs.enqueue({ type: 'a', dedupeKey: 'a:twice', maxAttempts: 3, payload: {} });
    });
    await store.transaction(async (tx) => tx.jobs.enqueue({ type: 'a', dedupeKey: 'a:twice', maxAttempts: 3, payload: {} }));
    expect(taken.map((j) => j.dedupeKey)).to.deep.equal(['a:twice']);
    const statuses = (await store.jobs.list({})).map((j) => `${j.type}:${j.status}`);
    expect(statuses).to.deep.equal(['b:pending', 'a:pending', 'a:running']);
  });

  it('a runner runs what it adopted without claiming; a job enqueued pending waits for a poll', async () => {
    store.localJobs.adoptFor(undefined);
    const ran: number[] = [];
    let release: () => void = () => undefined;
    const blocked = new Promise<void>((r) => (release = r));
    const log = pino({ level: 'silent' });
    const runner = new JobRunner(
      store,
      TEST_JOBS,
      {
        a: {
          run: async (job) => {
            ran.push(Number(job.payload.n));
            await blocked;
          },
        },
      },
      { concurrency: 1, pollMs: 60_000, leaseMs: 60_000, backoff: { baseMs: 10, maxMs: 100 } },
      log,
    );
    store.localJobs.adoptFor({ workerId: runner.workerId, leaseMs: 60_000, types: new Set(runner.types), take: (jobs) => runner.adopt(jobs) });
    // the first claim of an empty table happens at start; after it, only adopted jobs run
    runner.start();
    await new Promise((r) => setTimeout(r, 100));
    for (const n of [1, 2]) await store.transaction(async (tx) => tx.jobs.enqueue({ type: 'a', dedupeKey: `a:${n}`, maxAttempts: 3, payload: { n } }));
    const until = Date.now() + 5000;
    while (ran.length < 1 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(ran).to.deep.equal([1]); // concurrency 1: the second waits in memory
    release();
    await new Promise((r) => setTimeout(r, 50));
    store.localJobs.adoptFor(undefined);
    await store.transaction(async (tx) => tx.jobs.enqueue({ type: 'a', dedupeKey: 'a:3', maxAttempts: 3, payload: { n: 3 } }));
    await runner.stop();
    expect(ran).to.deep.equal([1, 2]); // the third was enqueued pending, and no poll came
    const jobs = await store.jobs.list({});
    expect(jobs.map((j) => `${j.dedupeKey}:${j.status}:${j.attempts}`)).to.deep.equal(['a:1:done:1', 'a:2:done:1', 'a:3:pending:0']);
  });

  it('gives back adopted jobs it never started when it stops', async () => {
    const log = pino({ level: 'silent' });
    const runner = new JobRunner(store, TEST_JOBS, { a: { run: async () => undefined } }, { concurrency: 1, pollMs: 60_000, leaseMs: 60_000, backoff: { baseMs: 10, maxMs: 100 } }, log);
    store.localJobs.adoptFor({ workerId: runner.workerId, leaseMs: 60_000, types: new Set(runner.types), take: (jobs) => runner.adopt(jobs) });
    // not started: adopted jobs wait in memory
    await store.transaction(async (tx) => tx.jobs.enqueue({ type: 'a', dedupeKey: 'a:left', maxAttempts: 3, payload: {} }));
    await runner.stop();
    const [job] = await store.jobs.list({});
    expect(job).to.include({ status: 'pending', attempts: 0, lockedBy: null });
  });
});
