/**
 * Processes of one PostgreSQL database wake each other (src/store/PgSignals.ts): an API
 * process (a pool of two connections) and a worker, each its own runtime with its own data
 * folder (documents in the database), the worker's poll of the job table set to a minute (the most allowed). With SUBMIT_SEAL=job,
 * a submission to the API process is sealed by the worker and answered 201 within
 * SUBMIT_WAIT_MS only if the job's signal woke the worker; the API process learns of the proof
 * from the worker's signal, not by re-reading the status. With SUBMIT_SEAL=intake (a second
 * API process) the API process seals, and the `deposit` job it commits wakes the worker. With
 * the listening connections killed, the processes go on and listen again, and what was
 * enqueued meanwhile is found. Runs on the PostgreSQL of the test machine in both suites.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import { createTestDatabase, onPostgres, type TestDatabase } from '../helpers/database.js';
import { metadata, pdfBytes, startTestService, submit, VALID_INSZ, waitForMessage, type TestService } from '../helpers/service.js';

const PG_ADMIN = onPostgres ? process.env.TEST_DATABASE_URL! : (process.env.CI_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
const A_MINUTE = '60000';

describe('PostgreSQL signals between an API process and a worker', function () {
  this.timeout(120_000);
  let dir: string;
  let db: TestDatabase;
  let api: TestService;
  let worker: TestService;
  /** an API process that seals at intake */
  let sealingApi: TestService;
  let apiKey: string;
  /** the message ids the API process's notifier was told of */
  const toldApi: string[] = [];

  const listeners = async (): Promise<number[]> => {
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      const r = await c.query<{ pid: number }>("select pid from pg_stat_activity where datname = current_database() and application_name = 'registered-mail signals'");
      return r.rows.map((x) => x.pid);
    } finally {
      await c.end();
    }
  };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-signals-'));
    db = await createTestDatabase(dir, PG_ADMIN);
    expect(db.url).to.match(/^postgres/);
    const env = (name: string) => {
      fs.mkdirSync(path.join(dir, name));
      return { DATA_DIR: path.join(dir, name), BLOB_STORE: 'postgres', WORKER_POLL_MS: A_MINUTE };
    };
    // two connections in the API process's pool: an intake that needed a second one while its
    // transaction holds the first would wait for the others (PgBlobStore.commit)
    api = await startTestService({ ...env('api'), DATABASE_POOL_MAX: '2', SUBMIT_SEAL: 'job' }, { worker: false, reuse: { dataDir: path.join(dir, 'api'), database: db }, keepData: true });
    sealingApi = await startTestService({ ...env('sealing-api'), DATABASE_POOL_MAX: '2' }, { worker: false, reuse: { dataDir: path.join(dir, 'sealing-api'), database: db }, keepData: true });
    worker = await startTestService(env('worker'), { worker: true, reuse: { dataDir: path.join(dir, 'worker'), database: db }, keepData: true });
    apiKey = (await api.newSender()).apiKey;
    await api.newRecipient('citizen', VALID_INSZ);
    const notify = api.rt.notifier.notify.bind(api.rt.notifier);
    api.rt.notifier.notify = (id, message) => {
      toldApi.push(id);
      notify(id, message);
    };
    // the worker's first look at the job table is behind it: from now on it polls once a minute
    await new Promise((r) => setTimeout(r, 300));
  });
  after(async () => {
    await sealingApi?.close();
    await api?.close();
    await worker?.close();
    await db?.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const post = (headers: Record<string, string> = {}) => submit(api, apiKey, metadata(), [{ name: 'main', content: pdfBytes(5_000, 11), fileName: 'letter.pdf' }], headers);

  it('each process listens on a connection of its own', async () => {
    expect(await listeners()).to.have.length(3);
  });

  it('a submission is sealed by the worker and answered 201 with its proof: the job woke it, the proof woke the API process', async () => {
    const res = await post();
    expect(res.status).to.equal(201);
    const body = await res.json();
    expect(body.status).to.equal('ACCEPTED');
    expect(body.evidence.map((e: { type: string }) => e.type)).to.deep.equal(['SubmissionAcceptance']);
    expect(toldApi).to.include(body.id);
    await waitForMessage(api, apiKey, body.id, (m) => m.status === 'DEPOSITED');
  });

  it('an API process that seals at intake answers 201 with its proof, and the deposit job it commits wakes the worker', async () => {
    const res = await submit(sealingApi, apiKey, metadata(), [{ name: 'main', content: pdfBytes(5_000, 12), fileName: 'letter.pdf' }]);
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).to.equal(201);
    expect(body.evidence.map((e: { type: string }) => e.type)).to.deep.equal(['SubmissionAcceptance']);
    const jobs = await sealingApi.rt.store.jobs.listForMessage(body.id);
    expect(jobs.map((j) => j.type)).to.deep.equal(['deposit']);
    // the worker looks at the table once a minute: only the signal has it deposit within 20 s
    await waitForMessage(sealingApi, apiKey, body.id, (m) => m.status === 'DEPOSITED');
  });

  it('16 submissions at once on a pool of two connections: every one accepted and sealed (201), none waiting for a connection (503)', async () => {
    const answers = await Promise.all(Array.from({ length: 16 }, () => post()));
    const statuses = answers.map((r) => r.status);
    await Promise.all(answers.map((r) => r.arrayBuffer()));
    expect(statuses).to.deep.equal(Array(16).fill(201));
  });

  it('with their listening connections killed, each process listens again, and a job enqueued meanwhile is sealed', async () => {
    const killer = new pg.Client({ connectionString: db.url });
    await killer.connect();
    try {
      const pids = await listeners();
      await killer.query('select pg_terminate_backend(pid) from unnest($1::int[]) pid', [pids]);
      const res = await post({ prefer: 'respond-async' });
      expect(res.status).to.equal(202);
      const id = (await res.json()).id;
      // only a signal (or the look at the table on listening again) can have the worker take it
      await waitForMessage(api, apiKey, id, (m) => m.status === 'DEPOSITED', 30_000);
      for (let i = 0; i < 100 && (await listeners()).length < 3; i++) await new Promise((r) => setTimeout(r, 100));
      const again = await listeners();
      expect(again).to.have.length(3);
      expect(again.filter((p) => pids.includes(p))).to.deep.equal([]);
    } finally {
      await killer.end();
    }
    const res = await post();
    expect(res.status).to.equal(201);
  });
});
