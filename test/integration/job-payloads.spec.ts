/**
 * The service's job types and payloads (src/store/jobs.ts, docs/jobs.md) through the
 * table: what enqueue writes reaches the handler as written; what earlier versions wrote
 * still runs; a payload that does not fit its type is a dead letter naming the field, and
 * the runner goes on with the other jobs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import pino from 'pino';
import { loadConfig } from '../../src/config.js';
import { migrateLatest, openDatabase } from '../../src/store/database.js';
import type { NewJob } from '../../src/store/JobRepository.js';
import { Repositories } from '../../src/store/Repositories.js';
import { JobRunner, type JobHandlers } from '../../src/worker/JobRunner.js';
import { JOB_PAYLOADS, type JobRecord, type JobType, type Jobs } from '../../src/store/jobs.js';
import { createTestDatabase, onPostgres, type TestDatabase } from '../helpers/database.js';

const silent = pino({ level: 'silent' });

/** One payload of every type, as the service enqueues it (a type left out does not compile). */
const SAMPLES: { [T in JobType]: Jobs[T] } = {
  accept: { messageId: 'm-accept' },
  deposit: { messageId: 'm-deposit' },
  seal: { messageId: 'm-seal', type: 'ContentConsignmentFailure', eventTime: '2026-01-02T03:04:05.000Z', reasons: [{ Code: 'urn:x:DEPOSIT_FAILED', Details: 'after 8 attempts' }, { Code: 'urn:x:OTHER' }] },
  webhook: { senderId: 's-1', messageId: 'm-webhook', status: 'DEPOSITED', evidenceId: 'e-1', evidenceType: 'ContentConsignment', at: '2026-01-02T03:04:05.000Z' },
  'expiry-scan': { slot: 29_000_001, intervalMs: 60_000 },
  'ebox-poll': { slot: 29_000_002, intervalMs: 60_000 },
  retention: { slot: 29_000_003, intervalMs: 60_000 },
  checkpoint: { slot: 480_000, intervalMs: 3_600_000 },
  'evidence-records': { slot: 345_600_000, intervalMs: 5_000 },
  'record-renewal': { slot: 480_001, intervalMs: 3_600_000 },
  'notify.dispatch': { notificationId: 'n-1' },
  'notify.send': { attemptId: 'a-1' },
  'notify.delivery-check': { attemptId: 'a-2' },
  'notify.evidence': { notificationId: 'n-2' },
  'notify.registered': { messageId: 'm-notice' },
  'notify.expire': { notificationId: 'n-3' },
};

describe(`job payloads through the table (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, () => {
  let dir: string;
  let db: TestDatabase;
  let store: Repositories;
  let seen: JobRecord[];
  let deadCalls: string[];

  /** A handler for every type that records the job it was given. */
  function recordingHandlers(): JobHandlers {
    const record = { run: async (job: JobRecord) => void seen.push(job) };
    const recordAndDie = { ...record, onDead: async (job: JobRecord) => void deadCalls.push(job.type) };
    return {
      accept: record,
      deposit: recordAndDie,
      seal: record,
      webhook: record,
      'expiry-scan': record,
      'ebox-poll': record,
      retention: record,
      checkpoint: record,
      'evidence-records': record,
      'record-renewal': record,
      'notify.dispatch': record,
      'notify.send': recordAndDie,
      'notify.delivery-check': record,
      'notify.evidence': record,
      'notify.registered': record,
      'notify.expire': record,
    };
  }

  async function drain(): Promise<number> {
    const runner = new JobRunner(store, JOB_PAYLOADS, recordingHandlers(), { concurrency: 4, pollMs: 60_000, leaseMs: 60_000, backoff: { baseMs: 10, maxMs: 50 } }, silent);
    try {
      return await runner.drain();
    } finally {
      await runner.stop();
    }
  }

  /** A row as some version of the service may have written it: `payload` is the column's text. */
  async function insertRow(type: string, payload: string, dedupeKey: string): Promise<void> {
    const now = new Date().toISOString();
    await store.db('jobs').insert({ type, payload, dedupe_key: dedupeKey, status: 'pending', attempts: 0, max_attempts: 5, run_at: now, created_at: now, updated_at: now });
  }

  async function row(dedupeKey: string) {
    return (await store.jobs.list({ limit: 1000 })).find((j) => j.dedupeKey === dedupeKey)!;
  }

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-job-payloads-'));
    db = await createTestDatabase(dir);
    const knex = openDatabase(loadConfig({ DATA_DIR: dir, DATABASE_URL: db.url }).database);
    await migrateLatest(knex);
    store = new Repositories(knex);
    seen = [];
    deadCalls = [];
  });

  afterEach(async () => {
    await store.close();
    await db.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('hands every type its payload as enqueue wrote it', async () => {
    const types = Object.keys(SAMPLES) as JobType[];
    await store.transaction(async (tx) => {
      for (const type of types) {
        const job = { type, payload: SAMPLES[type], dedupeKey: `sample:${type}`, maxAttempts: 3 } as NewJob<Jobs>;
        await tx.jobs.enqueue(job);
      }
    });
    expect(await drain()).to.equal(types.length);
    expect(Object.fromEntries(seen.map((j) => [j.type, j.payload]))).to.deep.equal(SAMPLES);
    expect((await store.jobs.list({})).map((j) => j.status)).to.deep.equal(types.map(() => 'done'));
  });

  it('runs the payloads earlier versions wrote: periodic jobs without their period, fields it no longer reads', async () => {
    await insertRow('checkpoint', '{"slot":480000}', 'old:checkpoint');
    await insertRow('seal', '{"messageId":"m-old","type":"ContentHandover","eventTime":"2025-05-05T05:05:05.000Z"}', 'old:seal');
    await insertRow('accept', '{"messageId":"m-old","note":"a field no version reads"}', 'old:accept');
    expect(await drain()).to.equal(3);
    const byType = Object.fromEntries(seen.map((j) => [j.type, j.payload]));
    expect(byType).to.deep.equal({
      checkpoint: { slot: 480_000 },
      seal: { messageId: 'm-old', type: 'ContentHandover', eventTime: '2025-05-05T05:05:05.000Z' },
      accept: { messageId: 'm-old' },
    });
    for (const key of ['old:checkpoint', 'old:seal', 'old:accept']) expect((await row(key)).status).to.equal('done');
  });

  it('makes a job whose payload does not fit a dead letter naming the field, without onDead, and runs the others', async () => {
    await insertRow('seal', '{"messageId":"m-1","type":"NoSuchEvidence","eventTime":"2026-01-01T00:00:00.000Z"}', 'bad:seal');
    await insertRow('deposit', '{}', 'bad:deposit');
    await insertRow('notify.send', '{"attemptId":', 'bad:json');
    await insertRow('checkpoint', '{"slot":"480000"}', 'bad:slot');
    await insertRow('webhook', '["s-1"]', 'bad:array');
    await insertRow('accept', '{"messageId":"m-good"}', 'good:accept');
    await store.jobs.enqueue({ type: 'notify.dispatch', payload: { notificationId: 'n-good' }, dedupeKey: 'good:dispatch', maxAttempts: 3 });

    await drain();

    expect(seen.map((j) => j.payload)).to.have.deep.members([{ messageId: 'm-good' }, { notificationId: 'n-good' }]);
    expect(deadCalls, 'onDead gets no job it cannot read').to.deep.equal([]);
    const expected: Record<string, string> = {
      'bad:seal': 'PermanentJobError: malformed payload for job type seal: payload.type: expected one of SubmissionAcceptance,',
      'bad:deposit': 'PermanentJobError: malformed payload for job type deposit: payload.messageId: expected a string, found nothing',
      'bad:json': 'PermanentJobError: malformed payload for job type notify.send: not JSON (',
      'bad:slot': 'PermanentJobError: malformed payload for job type checkpoint: payload.slot: expected an integer, found the string "480000"',
      'bad:array': 'PermanentJobError: malformed payload for job type webhook: payload: expected an object, found an array',
    };
    for (const [key, start] of Object.entries(expected)) {
      const j = await row(key);
      expect(j, key).to.include({ status: 'dead', attempts: 1, maxAttempts: 5 });
      expect(j.lastError, key).to.satisfy((e: string) => e.startsWith(start));
    }
    for (const key of ['good:accept', 'good:dispatch']) expect((await row(key)).status).to.equal('done');
    // the dead letter's payload is kept as found, for whoever looks at it
    expect((await row('bad:json')).payload).to.deep.include({ text: '{"attemptId":' });
  });
});
