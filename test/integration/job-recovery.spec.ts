/**
 * The job runner after a stop, a crash and failed writes (src/worker/JobRunner.ts):
 * nothing is left `running` under a worker that stopped; the jobs of a worker process that
 * is gone are taken back at start; a job's lease lasts as long as its worker lives and
 * holds it; an outcome that could not be written is written once the database takes
 * writes again. The leases here are long (120 s, unless a test is about leases) and every
 * wait is bounded well under them, so only the runner's own recovery can make these pass.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { Knex } from 'knex';
import pino from 'pino';
import { loadConfig } from '../../src/config.js';
import { migrateLatest, openDatabase } from '../../src/store/database.js';
import { JobRepository, LostLeaseError } from '../../src/store/JobRepository.js';
import { Repositories } from '../../src/store/Repositories.js';
import { JobRunner, type JobHandlers } from '../../src/worker/JobRunner.js';
import { formatWorkerId, LOCAL } from '../../src/worker/workerId.js';
import { createTestDatabase, onPostgres, type TestDatabase } from '../helpers/database.js';
import { TEST_JOBS, type TestJobs } from '../helpers/jobs.js';

const LEASE_MS = 120_000;
const silent = pino({ level: 'silent' });

/** Polls `check` until it holds; fails after `ms` (far below any lease in this file). */
async function until(what: string, check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function gate(): { open: () => void; opened: Promise<void> } {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { open, opened };
}

/** Makes every UPDATE of the jobs table fail, as a full disk or a database that went away would. */
async function refuseJobWrites(knex: Knex): Promise<void> {
  if (onPostgres) {
    await knex.raw(`CREATE FUNCTION jobs_refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'jobs table refuses writes (test)'; END $$ LANGUAGE plpgsql`);
    await knex.raw('CREATE TRIGGER jobs_refuse BEFORE UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION jobs_refuse()');
  } else {
    await knex.raw(`CREATE TRIGGER jobs_refuse BEFORE UPDATE ON jobs BEGIN SELECT RAISE(ABORT, 'jobs table refuses writes (test)'); END`);
  }
}

async function acceptJobWrites(knex: Knex): Promise<void> {
  await knex.raw(onPostgres ? 'DROP TRIGGER jobs_refuse ON jobs' : 'DROP TRIGGER jobs_refuse');
  if (onPostgres) await knex.raw('DROP FUNCTION jobs_refuse()');
}

describe(`job runner recovery (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, () => {
  let dir: string;
  let db: TestDatabase;
  let knex: Knex;
  let store: Repositories<TestJobs>;
  const runners: Array<JobRunner<TestJobs>> = [];

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-recovery-'));
    db = await createTestDatabase(dir);
    knex = openDatabase(loadConfig({ DATA_DIR: dir, DATABASE_URL: db.url }).database);
    await migrateLatest(knex);
    store = new Repositories<TestJobs>(knex);
  });

  afterEach(async () => {
    for (const r of runners.splice(0)) await r.stop();
    await store.close();
    await db.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function runner(handlers: Partial<JobHandlers<TestJobs>>, leaseMs = LEASE_MS): JobRunner<TestJobs> {
    const r = new JobRunner(store, TEST_JOBS, handlers, { concurrency: 4, pollMs: 20, leaseMs, backoff: { baseMs: 10, maxMs: 50 } }, silent);
    runners.push(r);
    return r;
  }

  /** Starts `r` the way the runtime's startWorker does: it takes the jobs enqueued in this process. */
  function startLocal(r: JobRunner<TestJobs>): void {
    r.adoptLocalJobs();
    r.start();
  }

  /** Stops `r` the way the runtime's close() does, calling `whileStopping` once stop() has begun. */
  async function stopLocal(r: JobRunner<TestJobs>, whileStopping: () => void): Promise<void> {
    const stopped = r.stop();
    whileStopping();
    await stopped;
  }

  const rows = async () => (await store.jobs.list({})).map((j) => `${j.dedupeKey}:${j.status}:${j.attempts}`);

  describe('graceful stop', () => {
    it('leaves no job running when a handler commits a follow-up job while the runner stops', async () => {
      const enqueued = gate();
      const stopping = gate();
      const r = runner({
        a: {
          run: (_job, ctx) =>
            store.transaction(async (tx) => {
              await tx.jobs.enqueue({ type: 'b', dedupeKey: 'b:1', maxAttempts: 3, payload: {} });
              enqueued.open();
              // the follow-up is written claimed; its transaction commits once stop() has begun
              await stopping.opened;
              await ctx.complete(tx);
            }),
        },
        b: { run: async () => undefined },
      });
      startLocal(r);
      await store.jobs.enqueue({ type: 'a', dedupeKey: 'a:1', maxAttempts: 3, payload: {} });
      await enqueued.opened;
      await stopLocal(r, stopping.open);
      // either it ran, or it went back to the table as it was before it was claimed
      expect(await rows()).to.deep.equal(['a:1:done:1', 'b:1:pending:0']);
    });

    it('leaves no job running when a request commits a job while the runner stops', async () => {
      const enqueued = gate();
      const stopping = gate();
      const r = runner({ b: { run: async () => undefined } });
      startLocal(r);
      // a transaction outside the runner (an HTTP request): it enqueues before the stop and commits during it
      const request = store.transaction(async (tx) => {
        await tx.jobs.enqueue({ type: 'b', dedupeKey: 'b:request', maxAttempts: 3, payload: {} });
        enqueued.open();
        await stopping.opened;
      });
      await enqueued.opened;
      await stopLocal(r, stopping.open);
      await request;
      expect(await rows()).to.deep.equal(['b:request:pending:0']);
    });
  });

  describe('start-up reclaim', () => {
    let child: ReturnType<typeof spawn> | undefined;
    afterEach(() => child?.kill('SIGKILL'));

    it('gives back the running jobs of workers that are provably gone, and only those', async () => {
      const deadPid = spawnSync(process.execPath, ['-e', '']).pid;
      child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e6)'], { stdio: 'ignore' });
      const livePid = child.pid!;
      const tag = 'abcdef01';
      const otherScope = LOCAL.scope === 'ffffffff' ? 'eeeeeeee' : 'ffffffff';
      const sibling = runner({ other: { run: async () => undefined } }); // alive in this process, not started
      const holders: Record<string, string> = {
        'dead-pid': formatWorkerId({ host: LOCAL.host, pid: deadPid, scope: LOCAL.scope, tag }),
        'earlier-self': formatWorkerId({ host: LOCAL.host, pid: process.pid, scope: LOCAL.scope, tag }), // our pid, not our runner
        'live-pid': formatWorkerId({ host: LOCAL.host, pid: livePid, scope: LOCAL.scope, tag }),
        'live-runner': sibling.workerId,
        'other-host': formatWorkerId({ host: `not-${LOCAL.host}`, pid: deadPid, scope: LOCAL.scope, tag }),
        'other-scope': formatWorkerId({ host: LOCAL.host, pid: deadPid, scope: otherScope, tag }),
        'older-id': `${LOCAL.host}:${deadPid}:${tag}`,
      };
      const now = new Date();
      for (const [key, lockedBy] of Object.entries(holders)) {
        await knex('jobs').insert({
          type: 'held',
          payload: '{}',
          dedupe_key: key,
          status: 'running',
          attempts: 1,
          max_attempts: 3,
          run_at: now.toISOString(),
          locked_by: lockedBy,
          locked_until: new Date(now.getTime() + LEASE_MS).toISOString(),
          created_at: now.toISOString(),
          updated_at: now.toISOString(),
        });
      }
      runner({ other: { run: async () => undefined } }).start();
      const status = async () => Object.fromEntries((await store.jobs.list({})).map((j) => [j.dedupeKey, `${j.status}:${j.attempts}`]));
      await until('the jobs of a dead process are pending', async () => (await status())['dead-pid'] === 'pending:1');
      // a worker elsewhere (another host, another pid namespace, an id of another shape) is left to its
      // lease — except on SQLite, which one process uses at a time: there every other holder is an earlier run
      const elsewhere = onPostgres ? 'running:1' : 'pending:1';
      expect(await status()).to.deep.equal({
        'dead-pid': 'pending:1',
        'earlier-self': 'pending:1',
        'live-pid': 'running:1',
        'live-runner': 'running:1',
        'other-host': elsewhere,
        'other-scope': elsewhere,
        'older-id': elsewhere,
      });
    });
  });

  describe('leases', () => {
    it('keeps the lease of a job that runs longer than the lease, while its worker lives', async () => {
      const lease = 3000; // the heartbeat renews it every second
      const finishing = gate();
      const runs = { a: 0, b: 0 };
      const a = runner({ slow: { run: async () => (runs.a++, finishing.opened) } }, lease);
      await store.jobs.enqueue({ type: 'slow', dedupeKey: 'slow:1', maxAttempts: 3, payload: {} });
      a.start();
      await until('the job runs', () => runs.a === 1);
      const firstLease = Date.parse((await store.jobs.list({}))[0]!.lockedUntil!);
      // another worker looks for due jobs every 20 ms, while the job runs on past twice its first lease
      runner({ slow: { run: async () => void runs.b++ } }, lease).start();
      await until('the job outlived its first lease by a whole lease', () => Date.now() > firstLease + lease, 30_000);
      finishing.open();
      await until('the job is done', async () => (await store.jobs.list({}))[0]!.status === 'done');
      expect(runs).to.deep.equal({ a: 1, b: 0 });
      expect((await store.jobs.list({}))[0]).to.include({ attempts: 1, lockedBy: a.workerId });
    });

    it('stops a job whose lease another worker took over from completing', async () => {
      let outcome: unknown;
      const r = runner(
        {
          x: {
            run: async (_job, ctx) => {
              await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
              outcome = await store.transaction((tx) => ctx.complete(tx)).then(
                () => 'completed',
                (err) => err,
              );
            },
          },
        },
        1500,
      );
      await store.jobs.enqueue({ type: 'x', dedupeKey: 'x:1', maxAttempts: 3, payload: {} });
      r.start();
      await until('the job runs', async () => (await store.jobs.list({}))[0]!.lockedBy === r.workerId);
      // as if its lease had run out and another worker had claimed it
      await knex('jobs').update({ locked_by: 'another-worker', locked_until: new Date(Date.now() + LEASE_MS).toISOString() });
      await until('the heartbeat noticed and the handler tried to complete', () => outcome !== undefined);
      expect(outcome).to.be.instanceOf(LostLeaseError);
      await r.stop();
      expect((await store.jobs.list({}))[0]).to.include({ status: 'running', lockedBy: 'another-worker', lastError: null, attempts: 1 });
    });
  });

  describe('an outcome the database does not take', () => {
    let calls: { complete: number; fail: number };
    const original = { complete: JobRepository.prototype.complete, fail: JobRepository.prototype.fail };

    beforeEach(() => {
      calls = { complete: 0, fail: 0 };
      // count the attempts to record an outcome (the writes themselves are refused by a trigger)
      JobRepository.prototype.complete = function (this: JobRepository, ...args: Parameters<JobRepository['complete']>) {
        calls.complete++;
        return original.complete.apply(this, args);
      };
      JobRepository.prototype.fail = function (this: JobRepository, ...args: Parameters<JobRepository['fail']>) {
        calls.fail++;
        return original.fail.apply(this, args);
      };
    });
    afterEach(() => {
      JobRepository.prototype.complete = original.complete;
      JobRepository.prototype.fail = original.fail;
    });

    it('records a failure once writes work again, and the job runs again without waiting for its lease', async () => {
      const failing = gate();
      let runs = 0;
      const r = runner({
        x: {
          run: async () => {
            runs++;
            if (runs === 1) {
              await failing.opened;
              throw new Error('transient');
            }
          },
        },
      });
      await store.jobs.enqueue({ type: 'x', dedupeKey: 'x:1', maxAttempts: 5, payload: {} });
      r.start();
      await until('the job runs', () => runs === 1);
      await refuseJobWrites(knex);
      failing.open();
      await until('the runner tried to record the failure, twice', () => calls.fail >= 2);
      expect((await store.jobs.list({}))[0]).to.include({ status: 'running' });
      await acceptJobWrites(knex);
      await until('the job ran again and is done', async () => (await rows())[0] === 'x:1:done:2');
      expect(runs).to.equal(2);
    });

    it('records a success once writes work again, without running the job twice', async () => {
      const finishing = gate();
      let runs = 0;
      const r = runner({
        x: {
          run: async () => {
            runs++;
            await finishing.opened;
          },
        },
      });
      await store.jobs.enqueue({ type: 'x', dedupeKey: 'x:1', maxAttempts: 5, payload: {} });
      r.start();
      await until('the job runs', () => runs === 1);
      await refuseJobWrites(knex);
      finishing.open();
      await until('the runner tried to record the success, twice', () => calls.complete >= 2);
      await acceptJobWrites(knex);
      await until('the job is done', async () => (await rows())[0] === 'x:1:done:1');
      expect(runs).to.equal(1);
    });
  });
});
