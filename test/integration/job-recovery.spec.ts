/**
 * The job runner after a stop (src/worker/JobRunner.ts): nothing is left `running` under
 * a worker that stopped. The leases here are long (120 s) and every wait is bounded well
 * under them, so only the runner's own recovery can make these pass.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { Knex } from 'knex';
import pino from 'pino';
import { loadConfig } from '../../src/config.js';
import { migrateLatest, openDatabase } from '../../src/store/database.js';
import { Store } from '../../src/store/Store.js';
import { JobRunner, type JobHandler } from '../../src/worker/JobRunner.js';
import { createTestDatabase, onPostgres, type TestDatabase } from '../helpers/database.js';

const LEASE_MS = 120_000;
const silent = pino({ level: 'silent' });

function gate(): { open: () => void; opened: Promise<void> } {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { open, opened };
}

describe(`job runner recovery (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, () => {
  let dir: string;
  let db: TestDatabase;
  let knex: Knex;
  let store: Store;
  const runners: JobRunner[] = [];

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-recovery-'));
    db = await createTestDatabase(dir);
    knex = openDatabase(loadConfig({ DATA_DIR: dir, DATABASE_URL: db.url }).database);
    await migrateLatest(knex);
    store = new Store(knex);
  });

  afterEach(async () => {
    for (const r of runners.splice(0)) await r.stop();
    await store.close();
    await db.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function runner(handlers: Record<string, JobHandler>, leaseMs = LEASE_MS): JobRunner {
    const r = new JobRunner(store, handlers, { concurrency: 4, pollMs: 20, leaseMs, backoff: { baseMs: 10, maxMs: 50 } }, silent);
    runners.push(r);
    return r;
  }

  /** Starts `r` the way the runtime's startWorker does: it takes the jobs enqueued in this process. */
  function startLocal(r: JobRunner): void {
    r.adoptLocalJobs();
    r.start();
  }

  /** Stops `r` the way the runtime's close() does, calling `whileStopping` once stop() has begun. */
  async function stopLocal(r: JobRunner, whileStopping: () => void): Promise<void> {
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
});
