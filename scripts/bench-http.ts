/**
 * bench:http — submissions over HTTP, 100 KB documents, load generated in a second process
 * (scripts/bench-load.ts), the service compiled (as `npm start` runs it):
 *
 *   1. bare intake floor (the baseline): the same POST /v1/messages, streamed to disk,
 *      fsynced, renamed, message + `accept` job inserted in one transaction — and no crypto:
 *      the service runs `--role api` (no job runner) with SUBMIT_WAIT_MS=0, so it answers 202
 *      as soon as the submission is committed;
 *   2. accepted and sealed: the whole service (`--role all`), SUBMIT_WAIT_MS=10000, each
 *      answer a 201 only once the proof of dispatch (SubmissionAcceptance, CAdES-T) is sealed
 *      and stored (SUBMIT_SEAL=intake, the default: sealed before the message commits and
 *      written in the same transaction) — the e-Box deposit and its ContentConsignment proof follow in the same
 *      process; only 201s are counted; SQLite, and the same on PostgreSQL (a fresh database,
 *      dropped at the end; BENCH_PG_URL, default postgres://postgres@127.0.0.1:5432/test, names
 *      the server; BENCH_PG=0 leaves it out);
 *   3. latency p50/p99 of (2) at fixed rates (BENCH_RATES, default 500,200,100 per second on
 *      SQLite; BENCH_PG_RATES, default 100, on PostgreSQL), requests evenly paced
 *      (scripts/bench-load.ts `paced`: latency from each request's scheduled time, so a queue
 *      shows). Each row plans rate × BENCH_SECONDS requests; it prints the offered and the
 *      achieved rate and the real duration: a row that took much longer than planned was not
 *      sustained, and says so;
 *   4. peak RSS (VmHWM) of the service process while one 2 GB document is streamed to it: a
 *      fresh process as production runs it (APP_ENV=test: the development PKI, but not the
 *      development OpenID provider and PKI publisher a development process also holds).
 * Scale-out (PostgreSQL): an API process (`--role api`) and BENCH_SPLIT_WORKERS (default 2)
 * worker processes with separate data folders and the documents in the database
 * (BLOB_STORE=postgres), accepted and sealed as in (2) — the API process seals at intake, the
 * workers take the deposits; its CPU is summed over the three.
 *
 * The three services run side by side (idle when not measured); every row is measured in each
 * of BENCH_ROUNDS rounds (default 3), in turns, and printed as the median over rounds with
 * its range. Before each row the benchmark waits (at most 20 s each) for the job queues of all
 * the services that take jobs, read from /metrics, to drain, so that no row pays for the
 * previous one's backlog, its own or another service's working it off beside it. During
 * the PostgreSQL rows it samples pg_stat_activity and the job table every 100 ms to show
 * where the time goes: connections busy on the CPU, waiting on I/O or locks, or idle in a
 * transaction while the service's event loop is busy; commits and WAL syncs per submission.
 *
 *   npm run bench:http
 *   BENCH_SECONDS=10 BENCH_ROUNDS=3 BENCH_RATES=500,200,100 BENCH_CONNECTIONS=64 BENCH_UPLOAD_GB=2 npm run bench:http
 */
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { BLOB_FENCE_LOCK_KEY } from '../src/store/BlobFence.js';
import { openDatabase } from '../src/store/database.js';
import { EVENT_LOG_LOCK } from '../src/store/EventRepository.js';
import { fmt, interleaved, load, machine, memoryOf, procCpuSeconds, rounds, runScript, seconds, settle, showSpread, spread, startServer, startWorker, table, threadCpuSeconds, type ServerProcess } from './bench-lib.js';

const T = seconds(5);
const R = rounds();
/** fixed rates for latency: the target's 500/s, and rates this machine sustains (BENCH_RATES) */
const RATES = (process.env.BENCH_RATES ?? '500,200,100').split(',').map(Number);
const PG_RATES = (process.env.BENCH_PG_RATES ?? '100').split(',').map(Number).filter((n) => n > 0);
const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const WITH_PG = process.env.BENCH_PG !== '0';
const UPLOAD_GB = Number(process.env.BENCH_UPLOAD_GB ?? 2);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
/** workers beside the API process in the scale-out row (0 leaves the row out) */
const SPLIT_WORKERS = Number(process.env.BENCH_SPLIT_WORKERS ?? 2);
const RECIPIENT = '85073003328';
const BOUNDARY = '----bench-boundary-7MA4YWxkTrZu0gW';
const METRICS_TOKEN = 'bench-metrics-token-0123456789';
/** a row whose real duration exceeds the planned one by more than this share was not sustained */
const OVERRUN = 0.2;

function multipart(document: Uint8Array): Buffer {
  const metadata = JSON.stringify({
    recipient: { type: 'citizen', id: RECIPIENT },
    subject: { nl: 'Uw beslissing', fr: 'Votre décision' },
    senderReference: 'BENCH',
    documents: [{ httpPartName: 'main', isMainContent: true }],
  });
  return Buffer.concat([
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n${metadata}\r\n`),
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="main"; filename="main.pdf"\r\nContent-Type: application/pdf\r\n\r\n`),
    document,
    Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  ]);
}

function pdf(size: number): Uint8Array {
  const out = new Uint8Array(size);
  out.set(new TextEncoder().encode('%PDF-1.7\n'));
  let x = 12345;
  for (let i = 9; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

interface Env {
  dir: string;
  env: Record<string, string>;
  apiKey: string;
}

/** A fresh data directory with a sender and an activated recipient in the built-in e-Box. */
async function prepare(extra: Record<string, string> = {}): Promise<Env> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-http-'));
  // SEAL_REVOCATION=off: proofs CAdES-B-T, production's default. Left to the development
  // default, the profile would depend on whether a development build is in dist/ (its PKI
  // publisher makes them CAdES-B-LT, which costs more per proof).
  const env = { DATA_DIR: dir, DEV_CERTS_DIR: path.join(dir, 'certs'), KEY_ALGORITHM: 'ECDSA-P256', APP_ENV: 'development', DEV_SIMULATORS: 'false', SEAL_REVOCATION: 'off', LOG_LEVEL: 'warn', ...extra };
  const sender = JSON.parse(await runScript('create-sender', ['--name', 'bench', '--json'], env)) as { apiKey: string };
  await runScript('create-recipient', ['--type', 'citizen', '--id', RECIPIENT, '--json'], env);
  return { dir, env, apiKey: sender.apiKey };
}

interface Row {
  /** answers of the counted status per second of real duration */
  achieved: number;
  perCpu: number;
  /** CPU-milliseconds per counted answer: the server's (its processes') and the load generator's */
  serverMs: number;
  loadMs: number;
  /** share of the row's real duration the server's main thread was on a CPU */
  mainBusy: number;
  p50: number;
  p99: number;
  /** seconds, wall clock of the load generator */
  duration: number;
  statuses: string;
  /** job queue depth (pending + running) when the row started, and how long it waited for it to drain */
  queue: number;
  drained: number;
}

/** Jobs pending or running, from the service's /metrics. */
async function queueDepth(server: ServerProcess): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
  let n = 0;
  for (const m of text.matchAll(/^registered_mail_jobs\{[^}]*status="(pending|running)"[^}]*\} (\d+)/gm)) n += Number(m[2]);
  return n;
}

/** Waits (at most 20 s) until the job queue is empty or stops shrinking for 2 s; returns the depth and the seconds waited. */
async function drain(server: ServerProcess): Promise<{ depth: number; waited: number }> {
  const t0 = performance.now();
  let depth = await queueDepth(server);
  let last = depth;
  let since = performance.now();
  while (depth > 0 && performance.now() - t0 < 20_000 && performance.now() - since < 2000) {
    await new Promise((r) => setTimeout(r, 200));
    depth = await queueDepth(server);
    if (depth < last) since = performance.now();
    last = Math.min(last, depth);
  }
  return { depth, waited: (performance.now() - t0) / 1000 };
}

/**
 * The services of this run that take jobs. Before a row every one of them works off its
 * backlog, not only the row's own: the previous row's service would otherwise go on with its
 * deposits during this row, on the same two cores.
 */
const jobServers: ServerProcess[] = [];

async function submitLoad(
  server: ServerProcess,
  apiKey: string,
  bodyFile: string,
  counted: string,
  options: { connections: number; overallRate?: number; paced?: boolean },
  /** more processes whose CPU counts (the workers of the scale-out row) */
  others: number[] = [],
): Promise<Row> {
  for (const other of jobServers) if (other !== server) await drain(other);
  // the floor runs no jobs (--role api): its queue only grows, there is nothing to wait for
  const { depth, waited } = counted === '202' ? { depth: NaN, waited: 0 } : await drain(server);
  const cpuOf = async () => (await Promise.all([server.pid, ...others].map((p) => procCpuSeconds(p)))).reduce((a, b) => a + b, 0);
  const cpu0 = await cpuOf();
  const main0 = await threadCpuSeconds(server.pid);
  const r = await load({
    url: `${server.url}/v1/messages`,
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
    bodyFile,
    duration: T,
    ...options,
  });
  const serverCpu = (await cpuOf()) - cpu0;
  const mainCpu = (await threadCpuSeconds(server.pid)) - main0;
  const n = r.statusCodeStats[counted]?.count ?? 0;
  const statuses = Object.entries(r.statusCodeStats)
    .map(([s, v]) => `${v.count} × ${s}`)
    .join(', ');
  return {
    achieved: n / r.duration,
    perCpu: n / serverCpu,
    serverMs: (1000 * serverCpu) / n,
    loadMs: (1000 * (r.cpuSeconds ?? NaN)) / n,
    mainBusy: mainCpu / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    duration: r.duration,
    statuses: `${statuses}${r.errors ? `, ${r.errors} errors` : ''}${r.timeouts ? `, ${r.timeouts} timeouts` : ''}`,
    queue: depth,
    drained: waited,
  };
}

/** What PostgreSQL's connections of the bench database were doing, sampled every 100 ms during the PostgreSQL rows. */
class PgSampler {
  private readonly client: pg.Client;
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  samples = 0;
  readonly states = new Map<string, number>();
  connections = 0;
  allBusy = 0;
  queueSum = 0;
  queueMax = 0;
  /** connections waiting for an advisory lock, by the lock's name */
  readonly lockWaits = new Map<string, number>();

  constructor(
    url: string,
    private readonly database: string,
    private readonly poolMax: number,
  ) {
    this.client = new pg.Client({ connectionString: url });
  }

  async connect(): Promise<void> {
    await this.client.connect();
  }

  async counters(): Promise<{ commits: number; rollbacks: number; walSyncs: number }> {
    const db = await this.client.query<{ c: string; r: string }>('SELECT xact_commit AS c, xact_rollback AS r FROM pg_stat_database WHERE datname = $1', [this.database]);
    const wal = await this.client.query<{ s: string }>('SELECT wal_sync AS s FROM pg_stat_wal');
    return { commits: Number(db.rows[0]?.c ?? NaN), rollbacks: Number(db.rows[0]?.r ?? NaN), walSyncs: Number(wal.rows[0]?.s ?? NaN) };
  }

  start(jobsClient: pg.Client): void {
    this.timer = setInterval(() => {
      if (this.busy) return;
      this.busy = true;
      void (async () => {
        const act = await this.client.query<{ state: string; wait: string | null }>(
          `SELECT state, CASE WHEN wait_event IS NULL THEN NULL ELSE wait_event_type || ':' || wait_event END AS wait
             FROM pg_stat_activity WHERE datname = $1 AND application_name <> 'bench-sampler' AND backend_type = 'client backend'`,
          [this.database],
        );
        const locks = await this.client.query<{ key: string }>(
          "SELECT (classid::bigint << 32) + objid::bigint AS key FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = $1",
          [this.database],
        );
        for (const { key } of locks.rows) {
          const name = Number(key) === EVENT_LOG_LOCK ? 'the event log\'s chain lock (EventRepository.append)' : Number(key) === BLOB_FENCE_LOCK_KEY ? 'the blob fence (BlobFence)' : `advisory lock ${key}`;
          this.lockWaits.set(name, (this.lockWaits.get(name) ?? 0) + 1);
        }
        const jobs = await jobsClient.query<{ n: string }>("SELECT count(*) AS n FROM jobs WHERE status IN ('pending', 'running')");
        this.samples++;
        let nonIdle = 0;
        for (const row of act.rows) {
          const key = row.state === 'active' ? `active, ${row.wait ?? 'on CPU (no wait event)'}` : row.state === 'idle' ? 'idle (free in the pool)' : `${row.state} (waiting for the service)`;
          this.states.set(key, (this.states.get(key) ?? 0) + 1);
          if (row.state !== 'idle') nonIdle++;
        }
        this.connections += act.rows.length;
        if (nonIdle >= this.poolMax) this.allBusy++;
        const q = Number(jobs.rows[0]!.n);
        this.queueSum += q;
        this.queueMax = Math.max(this.queueMax, q);
      })()
        .catch(() => undefined)
        .finally(() => (this.busy = false));
    }, 100);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async close(): Promise<void> {
    this.stop();
    await this.client.end();
  }
}

/** Streams one `bytes`-long document to POST /v1/messages, sampling the server's memory. */
async function bigUpload(server: ServerProcess, apiKey: string, bytes: number): Promise<{ status: number; seconds: number; peakMiB: number; startMiB: number }> {
  const head = Buffer.from(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n${JSON.stringify({ recipient: { type: 'citizen', id: RECIPIENT }, subject: { en: 'big' }, documents: [{ httpPartName: 'main', isMainContent: true }] })}\r\n--${BOUNDARY}\r\nContent-Disposition: form-data; name="main"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
  const chunk = Buffer.from(pdf(1024 * 1024));
  const startMiB = (await memoryOf(server.pid)).rssMiB;
  const started = performance.now();
  const status = await new Promise<number>((resolve, reject) => {
    const req = http.request(`${server.url}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, 'content-length': head.length + bytes + tail.length },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    let sent = 0;
    const pump = () => {
      while (sent < bytes) {
        const n = Math.min(chunk.length, bytes - sent);
        sent += n;
        if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void req.once('drain', pump);
      }
      req.end(tail);
    };
    req.write(head);
    pump();
  });
  const { peakMiB } = await memoryOf(server.pid);
  return { status, seconds: (performance.now() - started) / 1000, peakMiB, startMiB };
}

async function main(): Promise<void> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-http-body-'));
  const bodyFile = path.join(work, 'body.bin');
  await fs.writeFile(bodyFile, multipart(pdf(100 * 1024)));
  const cleanups: Array<() => Promise<void>> = [];
  const serverOf = async (extra: Record<string, string>, serverEnv: Record<string, string>, args: string[] = []) => {
    const e = await prepare({ METRICS_TOKEN, ...extra });
    const server = await startServer({ ...e.env, ...serverEnv }, args);
    cleanups.push(async () => {
      await server.stop();
      await fs.rm(e.dir, { recursive: true, force: true });
    });
    return { server, apiKey: e.apiKey, env: { ...e.env, ...serverEnv } };
  };
  try {
    // PostgreSQL: a fresh database for this run, dropped at the end.
    let pgSetup: { url: string; database: string; admin: pg.Client } | undefined;
    let pgSkipped = '';
    if (WITH_PG) {
      const admin = new pg.Client({ connectionString: PG_URL });
      try {
        await admin.connect();
        const database = `bench_http_${process.pid}`;
        await admin.query(`CREATE DATABASE ${database}`);
        const url = new URL(PG_URL);
        url.pathname = `/${database}`;
        pgSetup = { url: url.toString(), database, admin };
        cleanups.push(async () => {
          await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
          await admin.end();
        });
      } catch (err) {
        pgSkipped = `PostgreSQL rows left out: ${(err as Error).message} (BENCH_PG_URL=${PG_URL})`;
        await admin.end().catch(() => undefined);
      }
    }

    const floor = await serverOf({}, { SUBMIT_WAIT_MS: '0' }, ['--role', 'api']);
    const sealed = await serverOf({}, { SUBMIT_WAIT_MS: '10000', LOG_LEVEL: 'info' });
    const mode = /sealing: ([^"]*)/.exec(sealed.server.output())?.[1] ?? 'unknown';
    const onPg = pgSetup ? await serverOf({ DATABASE_URL: pgSetup.url }, { SUBMIT_WAIT_MS: '10000' }) : undefined;
    // Scale-out: an API process and SPLIT_WORKERS workers, each with its own data folder, the
    // documents in the database (BLOB_STORE=postgres): nothing shared but PostgreSQL (and the
    // development PKI's key files, which production would give each machine, or an HSM).
    let split: { server: ServerProcess; apiKey: string; workers: number[]; database: string; url: string } | undefined;
    if (pgSetup && SPLIT_WORKERS > 0) {
      const database = `${pgSetup.database}_split`;
      await pgSetup.admin.query(`CREATE DATABASE ${database}`);
      cleanups.push(async () => void (await pgSetup.admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)));
      const url = new URL(pgSetup.url);
      url.pathname = `/${database}`;
      const api = await serverOf({ DATABASE_URL: url.toString(), BLOB_STORE: 'postgres' }, { SUBMIT_WAIT_MS: '10000' }, ['--role', 'api']);
      const workers: number[] = [];
      for (let i = 0; i < SPLIT_WORKERS; i++) {
        const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-http-worker-'));
        const w = await startWorker({ ...api.env, DATA_DIR: dir });
        workers.push(w.pid);
        cleanups.push(async () => {
          await w.stop();
          await fs.rm(dir, { recursive: true, force: true });
        });
      }
      split = { server: api.server, apiKey: api.apiKey, workers, database, url: url.toString() };
    }
    jobServers.push(sealed.server, ...(onPg ? [onPg.server] : []), ...(split ? [split.server] : []));

    /** pg_stat_activity and the job table of one database, sampled during the rows that write it */
    interface Watch {
      sampler: PgSampler;
      jobs: pg.Client;
      /** the commits and WAL syncs seen during its rows, and their answers */
      totals: { commits: number; walSyncs: number; answers: number };
    }
    const watchOf = async (database: string, url: string, poolMax: number): Promise<Watch> => {
      const sampler = new PgSampler(PG_URL, database, poolMax);
      await sampler.connect();
      const jobs = new pg.Client({ connectionString: url, application_name: 'bench-sampler' });
      await jobs.connect();
      cleanups.push(async () => {
        await sampler.close();
        await jobs.end();
      });
      return { sampler, jobs, totals: { commits: 0, walSyncs: 0, answers: 0 } };
    };
    let watch: Watch | undefined;
    let splitWatch: Watch | undefined;
    let pgConfig = '';
    if (pgSetup && onPg) {
      const config = loadConfig({ ...process.env, ...onPg.env });
      const db = openDatabase(config.database);
      const pool = (db.client as { config: { pool: { min: number; max: number }; acquireConnectionTimeout: number } }).config;
      await db.destroy();
      pgConfig =
        `configuration: knex pool min ${pool.pool.min}, max ${pool.pool.max}, acquire timeout ${pool.acquireConnectionTimeout} ms (src/store/database.ts); ` +
        `job runner: concurrency ${config.worker.concurrency}, polls the job table every ${config.worker.pollMs} ms (WORKER_POLL_MS) — jobs enqueued in its own process are handed over at commit, not polled; ` +
        `POST /v1/messages seals the first proof ${config.submitSeal === 'intake' ? 'at intake, in the transaction that writes the message (SUBMIT_SEAL=intake)' : 'by the accept job (SUBMIT_SEAL=job)'}; ` +
        `without it, it waits up to ${config.submitWaitMs} ms (SUBMIT_WAIT_MS) for the proof, woken by the in-process notification (a proof sealed in another process: a PostgreSQL signal, src/store/PgSignals.ts), re-reading the status at least every 250 ms; an API process's jobs wake the workers by a signal too; sealing threads ${config.worker.sealThreads}`;
      watch = await watchOf(pgSetup.database, pgSetup.url, pool.pool.max);
      // the scale-out row's database: its three processes' pools together
      if (split) splitWatch = await watchOf(split.database, split.url, pool.pool.max * (1 + split.workers.length));
    }
    /** runs `fn` with `w`'s sampler on, and adds the commits and WAL syncs it saw */
    const sampled = async (w: Watch, fn: () => Promise<Row>): Promise<Row> => {
      const before = await w.sampler.counters();
      w.sampler.start(w.jobs);
      try {
        const row = await fn();
        const after = await w.sampler.counters();
        w.totals.commits += after.commits - before.commits;
        w.totals.walSyncs += after.walSyncs - before.walSyncs;
        w.totals.answers += row.achieved * row.duration;
        return row;
      } finally {
        w.sampler.stop();
      }
    };

    await settle();
    console.log(`bench:http — POST /v1/messages, 100 KB documents, load from a second process, ${R} interleaved rounds, ${T} s planned per row; ${machine()}`);

    const contenders: Record<string, () => Promise<Row>> = {
      floor: () => submitLoad(floor.server, floor.apiKey, bodyFile, '202', { connections: CONNECTIONS }),
      sealed: () => submitLoad(sealed.server, sealed.apiKey, bodyFile, '201', { connections: CONNECTIONS }),
    };
    const labels: Record<string, [string, string]> = {
      floor: ['SQLite: bare intake floor (202: stored, fsynced, inserted; no crypto)', `max, ${CONNECTIONS} conn.`],
      sealed: ['SQLite: accepted and sealed (201: proof of dispatch sealed)', `max, ${CONNECTIONS} conn.`],
    };
    const offered: Record<string, number> = {};
    if (onPg) {
      contenders.pg = () => sampled(watch!, () => submitLoad(onPg.server, onPg.apiKey, bodyFile, '201', { connections: CONNECTIONS }));
      labels.pg = ['PostgreSQL: accepted and sealed', `max, ${CONNECTIONS} conn.`];
    }
    if (split) {
      const run = () => submitLoad(split.server, split.apiKey, bodyFile, '201', { connections: CONNECTIONS }, split.workers);
      contenders.split = () => (splitWatch ? sampled(splitWatch, run) : run());
      labels.split = [`PostgreSQL: API process + ${split.workers.length} workers, BLOB_STORE=postgres, separate data folders, accepted and sealed`, `max, ${CONNECTIONS} conn.`];
    }
    for (const rate of RATES) {
      contenders[`sqlite ${rate}`] = () => submitLoad(sealed.server, sealed.apiKey, bodyFile, '201', { connections: Math.min(CONNECTIONS * 2, rate), overallRate: rate, paced: true });
      labels[`sqlite ${rate}`] = ['SQLite: accepted and sealed, evenly paced', `${rate}/s`];
      offered[`sqlite ${rate}`] = rate;
    }
    if (onPg)
      for (const rate of PG_RATES) {
        contenders[`pg ${rate}`] = () => sampled(watch!, () => submitLoad(onPg.server, onPg.apiKey, bodyFile, '201', { connections: Math.min(CONNECTIONS * 2, rate), overallRate: rate, paced: true }));
        labels[`pg ${rate}`] = ['PostgreSQL: accepted and sealed, evenly paced', `${rate}/s`];
        offered[`pg ${rate}`] = rate;
      }
    const started = performance.now();
    const results = await interleaved(R, contenders);
    const cores = os.cpus().length;
    const rows: Array<Array<string | number>> = [['what', 'offered', 'achieved/s', 'per server CPU-s', 'CPU ms per answer: server + load', `CPU bound on ${cores} cores/s`, 'main thread busy', 'p50 ms', 'p99 ms', 'real duration s', 'queue at start', '']];
    for (const [key, rs] of Object.entries(results)) {
      const [what, offer] = labels[key]!;
      const dur = spread(rs.map((r) => r.duration));
      const achieved = spread(rs.map((r) => r.achieved));
      const rate = offered[key];
      const overran = rs.filter((r) => r.duration > T * (1 + OVERRUN)).length;
      const note = rate !== undefined && (overran > 0 || achieved.median < rate * 0.9) ? `not sustained in ${Math.max(overran, rs.filter((r) => r.achieved < rate * 0.9).length)} of ${rs.length} rounds: planned ${T} s, the queue grew` : '';
      rows.push([
        what,
        offer,
        showSpread(rs.map((r) => r.achieved)),
        fmt(spread(rs.map((r) => r.perCpu)).median),
        `${fmt(spread(rs.map((r) => r.serverMs)).median, 2)} + ${fmt(spread(rs.map((r) => r.loadMs)).median, 2)}`,
        fmt(spread(rs.map((r) => (1000 * cores) / (r.serverMs + r.loadMs))).median),
        showSpread(rs.map((r) => 100 * r.mainBusy), 0, '%'),
        showSpread(rs.map((r) => r.p50), 1),
        showSpread(rs.map((r) => r.p99), 1),
        `${fmt(dur.median, 1)} (${fmt(dur.min, 1)}–${fmt(dur.max, 1)})`,
        rs.map((r) => (Number.isNaN(r.queue) ? '—' : r.queue)).join('/'),
        note,
      ]);
    }
    table(rows);
    console.log(`(rows measured in ${fmt((performance.now() - started) / 1000)} s; "queue at start": jobs pending or running when each round's row began, after waiting for the queue to drain)`);
    console.log(
      `"CPU bound": the answers per second the machine's ${cores} cores would give if the server (with its workers) and the load generator had them all and nothing else ran — ${cores} × 1000 ÷ (server + load CPU ms per answer); a row near its bound is bound by the CPU, not by waiting. PostgreSQL's own processes are not counted, so the bound of its rows is above what the machine can give. "main thread busy": the API process's main thread on a CPU over the row's real duration (from /proc); near 100% it is the one thread that bounds the row`,
    );
    console.log(`statuses, last round: ${Object.entries(results).map(([k, rs]) => `${labels[k]![0].split(':')[0]} ${labels[k]![1]}: ${rs.at(-1)!.statuses}`).join('; ')}`);
    console.log(`sealing mode: ${mode}; proofs CAdES-B-T (SEAL_REVOCATION=off, production's default)`);
    if (pgSkipped) console.log(pgSkipped);
    const report = (w: Watch | undefined, rows: string) => {
      const sampler = w?.sampler;
      if (!w || !sampler || sampler.samples === 0) return;
      console.log('');
      console.log(`PostgreSQL, where the time goes (${rows}, ${sampler.samples} samples of pg_stat_activity every 100 ms):`);
      const total = [...sampler.states.values()].reduce((a, b) => a + b, 0);
      console.log(
        `connections of the service: ${fmt(sampler.connections / sampler.samples, 1)} on average; samples with every pool connection busy: ${sampler.allBusy} of ${sampler.samples} (${fmt((100 * sampler.allBusy) / sampler.samples)}%; only then can a query wait for the pool — the service does not expose knex's acquire waits, this is their upper bound)`,
      );
      console.log(
        `connection states over the samples: ${[...sampler.states.entries()]
          .sort((a, b) => b[1] - a[1])
          .map(([k, v]) => `${k} ${fmt((100 * v) / total)}%`)
          .join('; ')}`,
      );
      if (sampler.lockWaits.size > 0)
        console.log(
          `advisory lock waits, connections waiting per sample: ${[...sampler.lockWaits.entries()].map(([k, v]) => `${k} ${fmt(v / sampler.samples, 1)}`).join('; ')} — the commits that hold it serialise these rows`,
        );
      console.log(
        `job queue (pending + running) during the rows: ${fmt(sampler.queueSum / sampler.samples, 1)} on average, ${sampler.queueMax} at most; commits per sealed submission ${fmt(w.totals.commits / w.totals.answers, 1)}, WAL syncs per sealed submission ${fmt(w.totals.walSyncs / w.totals.answers, 1)} (pg_stat_wal is the whole server's: other databases' work counts too)`,
      );
    };
    report(watch, 'the one-process PostgreSQL rows');
    if (split) report(splitWatch, `the API process + ${split.workers.length} workers row, its own database`);
    if (watch && watch.sampler.samples > 0) {
      console.log(pgConfig);
      console.log(
        '"idle in transaction" is a connection held by the service between two statements (its event loop busy elsewhere, or a round trip in flight); "active" with a wait event is PostgreSQL waiting (IO:WALSync is the commit\'s fsync, Lock is contention); "on CPU" is PostgreSQL executing.',
      );
    }
  } finally {
    for (const c of cleanups.reverse()) await c().catch((err) => console.error(err));
  }

  // 4. Memory for a big streamed upload.
  if (UPLOAD_GB > 0) {
    const e = await prepare({ APP_ENV: 'test', MAX_DOCUMENT_BYTES: String(Math.ceil(UPLOAD_GB * 2 ** 30) + 1), ALLOWED_MEDIA_TYPES: '*/*' });
    const server = await startServer({ ...e.env, SUBMIT_WAIT_MS: '10000' });
    try {
      const r = await bigUpload(server, e.apiKey, Math.floor(UPLOAD_GB * 2 ** 30));
      console.log(
        `${UPLOAD_GB} GiB streamed upload (a fresh process, APP_ENV=test): HTTP ${r.status} in ${fmt(r.seconds, 1)} s (${fmt((UPLOAD_GB * 1024) / r.seconds)} MiB/s); server RSS ${fmt(r.startMiB)} MiB before, peak (VmHWM) ${fmt(r.peakMiB)} MiB`,
      );
    } finally {
      await server.stop();
      await fs.rm(e.dir, { recursive: true, force: true });
    }
    // the same into PostgreSQL (BLOB_STORE=postgres): 1 MiB chunk rows, never the document whole in memory
    if (WITH_PG) {
      const admin = new pg.Client({ connectionString: PG_URL });
      const database = `bench_http_upload_${process.pid}`;
      try {
        await admin.connect();
        await admin.query(`CREATE DATABASE ${database}`);
        const url = new URL(PG_URL);
        url.pathname = `/${database}`;
        const pe = await prepare({ APP_ENV: 'test', DATABASE_URL: url.toString(), BLOB_STORE: 'postgres', MAX_DOCUMENT_BYTES: String(Math.ceil(UPLOAD_GB * 2 ** 30) + 1), ALLOWED_MEDIA_TYPES: '*/*' });
        const pgServer = await startServer({ ...pe.env, SUBMIT_WAIT_MS: '10000' });
        try {
          const r = await bigUpload(pgServer, pe.apiKey, Math.floor(UPLOAD_GB * 2 ** 30));
          console.log(
            `${UPLOAD_GB} GiB streamed upload into PostgreSQL (BLOB_STORE=postgres): HTTP ${r.status} in ${fmt(r.seconds, 1)} s (${fmt((UPLOAD_GB * 1024) / r.seconds)} MiB/s); server RSS ${fmt(r.startMiB)} MiB before, peak (VmHWM) ${fmt(r.peakMiB)} MiB`,
          );
        } finally {
          await pgServer.stop();
          await fs.rm(pe.dir, { recursive: true, force: true });
        }
      } catch (err) {
        console.log(`PostgreSQL upload left out: ${(err as Error).message}`);
      } finally {
        await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => undefined);
        await admin.end().catch(() => undefined);
      }
    }
  }
  await fs.rm(work, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
