/**
 * bench:notify — bulk notifications (POST /v1/notifications/batches), the service compiled
 * and run as its own process, the HTTP SMS aggregator simulator (dev/notification-simulators)
 * in this one:
 *
 *   1. accepted and queued: BENCH_ROWS (default 50,000) rows of JSON lines, each its own
 *      number and values, from the request's first byte to its 202 (every row validated,
 *      rendered and written, every dispatch job inserted, committed). The service runs
 *      `--role api` (no job runner), so that nothing is sent meanwhile. Beside it, in the
 *      same rounds, in turns:
 *        - the same rows as single POST /v1/notifications (Prefer: respond-async, 16 at a
 *          time) for a sample of BENCH_SINGLE_SAMPLE (default 1,000) rows, scaled to the
 *          batch's size: what the batch saves;
 *        - a raw multi-row insert of the same notifications, their history entries and
 *          dispatch jobs (chunks of 2,000 per transaction, no HTTP, no validation, no
 *          rendering) into a database of its own: the floor the batch's writes sit on.
 *      SQLite, and the same on PostgreSQL (BENCH_PG_URL, default
 *      postgres://postgres@127.0.0.1:5432/test; BENCH_PG=0 leaves it out; a fresh database
 *      each, dropped at the end).
 *   2. sent: the whole service (`--role all`, SQLite) sends a batch of BENCH_SEND_ROWS
 *      (default 10,000) through the simulator, whose rate limit is BENCH_SMS_RATE (default
 *      500) a second — beyond it answers 429 with Retry-After: 1, and the sends come back
 *      then, without spending an attempt. Prints sends per second from the 202 until the
 *      batch is DONE, beside the simulator's limit, and the 429s it answered. Meanwhile a
 *      single notification is posted every second: the time each takes to be SENT shows
 *      whether the batch's jobs yield (beside the same single notification on the idle
 *      service before the batch).
 *   3. memory: the service's RSS sampled every 250 ms over (1) and (2): at start, the median
 *      of each quarter of the run (memory that is flat does not climb from one to the next),
 *      and the peak.
 *
 *   npm run bench:notify
 *   BENCH_ROWS=50000 BENCH_ROUNDS=3 BENCH_SEND_ROWS=10000 BENCH_SMS_RATE=500 npm run bench:notify
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createSender } from '../src/access/senders.js';
import { loadConfig } from '../src/config.js';
import { openDatabase, migrateLatest } from '../src/store/database.js';
import { BULK_PRIORITY } from '../src/store/JobRepository.js';
import type { NotificationRecord } from '../src/store/NotificationRepository.js';
import { Repositories } from '../src/store/Repositories.js';
import { spawn } from 'node:child_process';
import { fmt, freePort, interleaved, machine, memoryOf, rounds, runScript, settle, showSpread, spread, startServer, table, type ServerProcess } from './bench-lib.js';

/**
 * The SMS aggregator simulator (dev/sms-simulator.ts) as a process of its own, driven over
 * its HTTP interface: the production build compiles nothing of dev/, and its memory and CPU
 * are then not this script's.
 */
class Simulator {
  constructor(
    readonly url: string,
    private readonly stopper: () => Promise<void>,
  ) {}

  get sendUrl(): string {
    return `${this.url}/v1/sms`;
  }

  static async start(): Promise<Simulator> {
    const port = await freePort();
    const script = path.resolve(import.meta.dirname, '..', import.meta.url.endsWith('.ts') ? '' : '..', 'dev/sms-simulator.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', script, '--port', String(port), '--latency-ms', '0', '--jitter-ms', '0', '--delivery-delay-ms', '50'], {
      env: { ...process.env, SMS_HTTP_CALLBACK_SECRET: SECRET },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`SMS simulator exited: ${out}`);
      try {
        if ((await fetch(`${url}/messages?to=none`)).ok) break;
      } catch {
        /* not yet listening */
      }
      if (Date.now() > deadline) throw new Error(`SMS simulator did not start: ${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return new Simulator(url, async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    });
  }

  async setRate(perSecond: number): Promise<void> {
    const res = await fetch(`${this.url}/_sim/options`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ratePerSecond: perSecond }) });
    if (res.status !== 204) throw new Error(`simulator options: ${res.status} ${await res.text()}`);
  }

  /** Messages accepted so far, and POSTs answered 429. */
  async counts(): Promise<{ accepted: number; throttled: number }> {
    const all = (await (await fetch(`${this.url}/messages`)).json()) as { items: unknown[]; throttled: number };
    return { accepted: all.items.length, throttled: all.throttled };
  }

  stop(): Promise<void> {
    return this.stopper();
  }
}

const ROWS = Number(process.env.BENCH_ROWS ?? 50_000);
const SAMPLE = Number(process.env.BENCH_SINGLE_SAMPLE ?? 1_000);
const SEND_ROWS = Number(process.env.BENCH_SEND_ROWS ?? 10_000);
const SMS_RATE = Number(process.env.BENCH_SMS_RATE ?? 500);
const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const WITH_PG = process.env.BENCH_PG !== '0';
const R = rounds();
const SECRET = 'bench-notify-sms-callback-secret-0123';
const TEMPLATE = 'appointment-reminder';

/** A Belgian mobile number (+32 47x xx xx xx) per row, its x from the round (0–9). */
const phone = (round: number, i: number) => `+3247${round % 10}${String(i).padStart(6, '0')}`;
const values = (i: number) => ({ what: `Controle ${i}`, date: '3 maart', time: `${String(8 + (i % 10)).padStart(2, '0')}:00` });

function ndjson(round: number, n: number): Buffer {
  const lines = [JSON.stringify({ batch: { template: TEMPLATE, strategy: 'SMS_ONLY', language: 'nl' } })];
  for (let i = 0; i < n; i++) lines.push(JSON.stringify({ phoneNumber: phone(round, i), values: values(i), reference: `bench-${round}-${i}` }));
  return Buffer.from(`${lines.join('\n')}\n`);
}

interface Db {
  url: string;
  drop(): Promise<void>;
}

async function database(kind: 'sqlite' | 'pg', dir: string, name: string): Promise<Db> {
  if (kind === 'sqlite') return { url: `sqlite:${path.join(dir, `${name}.sqlite`)}`, drop: async () => undefined };
  const db = `bench_notify_${name}_${randomUUID().slice(0, 8)}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${db}`);
  await admin.end();
  const url = new URL(PG_URL);
  url.pathname = `/${db}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** RSS of a process every 250 ms until stopped. */
function sampleRss(pid: number): { stop(): number[] } {
  const samples: number[] = [];
  let on = true;
  void (async () => {
    while (on) {
      try {
        samples.push((await memoryOf(pid)).rssMiB);
      } catch {
        return;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  return {
    stop() {
      on = false;
      return samples;
    },
  };
}

/** What the bench reads of a batch and of a notification. */
interface BatchAnswer {
  id: string;
  status: string;
  rows: { total: number; accepted: number; refused: number };
  notifications: Record<string, number>;
}

async function postBatch(server: ServerProcess, apiKey: string, body: Buffer): Promise<BatchAnswer> {
  const res = await fetch(`${server.url}/v1/notifications/batches`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/x-ndjson' }, body: new Uint8Array(body) });
  const json = (await res.json()) as BatchAnswer;
  if (res.status !== 202) throw new Error(`batch: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function postSingle(server: ServerProcess, apiKey: string, body: unknown): Promise<string> {
  const res = await fetch(`${server.url}/v1/notifications`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', prefer: 'respond-async' }, body: JSON.stringify(body) });
  const json = (await res.json()) as { id: string };
  if (res.status !== 202) throw new Error(`single: ${res.status} ${JSON.stringify(json)}`);
  return json.id;
}

async function prepareService(dir: string, db: Db, extra: Record<string, string>): Promise<{ env: Record<string, string>; apiKey: string }> {
  const env = {
    DATA_DIR: dir,
    DATABASE_URL: db.url,
    DEV_CERTS_DIR: path.join(dir, 'certs'),
    KEY_ALGORITHM: 'ECDSA-P256',
    APP_ENV: 'development',
    DEV_SIMULATORS: 'false',
    LOG_LEVEL: 'warn',
    NOTIFY_RATE_LIMIT_PER_MINUTE: '0',
    NOTIFY_DEFAULT_STRATEGY: 'SMS_ONLY',
    NOTIFY_BATCH_MAX_ROWS: String(Math.max(ROWS, SEND_ROWS)),
    ...extra,
  };
  const sender = JSON.parse(await runScript('create-sender', ['--name', 'bench', '--json'], env)) as { apiKey: string };
  return { env, apiKey: sender.apiKey };
}

/** The raw floor: the same notifications, history entries and dispatch jobs inserted as multi-row statements, 2,000 rows a transaction. */
async function rawInsert(store: Repositories, senderId: string, round: number): Promise<number> {
  const batchId = randomUUID();
  const now = new Date().toISOString();
  const t0 = performance.now();
  for (let start = 0; start < ROWS; start += 2000) {
    const chunk: NotificationRecord[] = [];
    for (let i = start; i < Math.min(ROWS, start + 2000); i++) {
      const v = values(i);
      chunk.push({
        id: randomUUID(),
        senderId,
        messageId: null,
        recipientType: null,
        recipientId: null,
        phone: phone(round, i),
        strategy: 'SMS_ONLY',
        status: 'QUEUED',
        reason: null,
        language: 'nl',
        title: 'Herinnering',
        html: null,
        sms: `Herinnering van bench: ${v.what} op ${v.date} om ${v.time}.`,
        smsEncoding: 'GSM-7',
        smsParts: 1,
        template: TEMPLATE,
        reference: `bench-${round}-${i}`,
        sendAt: null,
        validUntil: null,
        batchId,
        batchRow: i + 1,
        createdAt: now,
        updatedAt: now,
      });
    }
    await store.transaction((tx) => tx.notifications.insertMany(chunk));
  }
  await store.transaction((tx) => tx.notificationBatches.queueDispatch(batchId, 'notify.dispatch', 8, BULK_PRIORITY));
  return (performance.now() - t0) / 1000;
}

/** Part 1 on one database: seconds per round for the batch, the single POSTs (scaled), the raw insert. */
async function acceptance(kind: 'sqlite' | 'pg', sim: Simulator): Promise<{ batch: number[]; single: number[]; raw: number[]; rss: number[]; startRss: number }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `bench-notify-${kind}-`));
  const serviceDb = await database(kind, dir, 'service');
  const rawDb = await database(kind, dir, 'raw');
  const { env, apiKey } = await prepareService(dir, serviceDb, { NOTIFY_SMS_PROVIDER: 'http', SMS_HTTP_URL: sim.sendUrl, SMS_HTTP_CALLBACK_SECRET: SECRET });
  const server = await startServer(env, ['--role', 'api']);
  const rawKnex = openDatabase(loadConfig({ ...env, DATABASE_URL: rawDb.url }).database);
  await migrateLatest(rawKnex);
  const rawStore = new Repositories(rawKnex);
  const rawSender = (await createSender(rawStore, 'bench raw')).sender.id;
  const startRss = (await memoryOf(server.pid)).rssMiB;
  const rss = sampleRss(server.pid);
  let round = 0;
  try {
    const bodies = new Map<number, Buffer>();
    const results = await interleaved(R, {
      batch: async () => {
        const r = ++round;
        const body = ndjson(r, ROWS);
        bodies.set(r, body);
        const t0 = performance.now();
        const b = await postBatch(server, apiKey, body);
        const s = (performance.now() - t0) / 1000;
        if (b.rows.accepted !== ROWS) throw new Error(`batch accepted ${b.rows.accepted} of ${ROWS}`);
        return s;
      },
      single: async () => {
        const r = 4 + round;
        let next = 0;
        const t0 = performance.now();
        await Promise.all(
          Array.from({ length: 16 }, async () => {
            while (next < SAMPLE) {
              const i = next++;
              await postSingle(server, apiKey, { phoneNumber: phone(r, i), template: TEMPLATE, strategy: 'SMS_ONLY', language: 'nl', values: values(i), reference: `bench-single-${i}` });
            }
          }),
        );
        return ((performance.now() - t0) / 1000) * (ROWS / SAMPLE);
      },
      raw: () => rawInsert(rawStore, rawSender, 80 + round),
    });
    return { ...results, rss: rss.stop(), startRss };
  } finally {
    rss.stop();
    await server.stop();
    await rawKnex.destroy();
    await serviceDb.drop();
    await rawDb.drop();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** Part 2: the whole service sends a batch through the rate-limited simulator. */
async function sending(sim: Simulator): Promise<{ seconds: number; sends: number; throttled: number; idleSingle: number; duringBatch: number[]; rss: number[]; startRss: number; done: BatchAnswer }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-notify-send-'));
  const db = await database('sqlite', dir, 'send');
  const { env, apiKey } = await prepareService(dir, db, { NOTIFY_SMS_PROVIDER: 'http', SMS_HTTP_URL: sim.sendUrl, SMS_HTTP_CALLBACK_SECRET: SECRET });
  const server = await startServer(env, ['--role', 'all']);
  const get = async <T>(p: string) => (await (await fetch(server.url + p, { headers: { authorization: `Bearer ${apiKey}` } })).json()) as T;
  /** seconds from POST to SENT (or beyond) of one single notification */
  const single = async (i: number) => {
    const t0 = performance.now();
    const id = await postSingle(server, apiKey, { phoneNumber: phone(8, i), template: TEMPLATE, strategy: 'SMS_ONLY', language: 'nl', values: values(i) });
    for (;;) {
      const n = await get<{ status: string }>(`/v1/notifications/${id}`);
      if (['SENT', 'DELIVERED', 'READ', 'FAILED'].includes(n.status)) return (performance.now() - t0) / 1000;
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const startRss = (await memoryOf(server.pid)).rssMiB;
  const rss = sampleRss(server.pid);
  try {
    await sim.setRate(SMS_RATE);
    await new Promise((r) => setTimeout(r, 1100)); // the simulator's bucket full
    const idleSingle = await single(0);
    const before = await sim.counts();
    const body = ndjson(9, SEND_ROWS);
    const t0 = performance.now();
    const batch = await postBatch(server, apiKey, body);
    const duringBatch: number[] = [];
    let done: BatchAnswer;
    let i = 1;
    const deadline = Date.now() + Math.max(600_000, (SEND_ROWS / SMS_RATE) * 5000);
    for (;;) {
      done = await get<BatchAnswer>(`/v1/notifications/batches/${batch.id}`);
      if (done.status === 'DONE') break;
      if (Date.now() > deadline) throw new Error(`batch not DONE in time: ${JSON.stringify(done.notifications)}`);
      duringBatch.push(await single(i++));
      await new Promise((r) => setTimeout(r, 1000));
    }
    const seconds = (performance.now() - t0) / 1000;
    const after = await sim.counts();
    return { seconds, sends: after.accepted - before.accepted - duringBatch.length, throttled: after.throttled - before.throttled, idleSingle, duringBatch, rss: rss.stop(), startRss, done };
  } finally {
    rss.stop();
    await sim.setRate(0);
    await server.stop();
    await db.drop();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** RSS at start, then the median of each quarter of the run (flat memory: the quarters do not climb), and the peak. */
const rssLine = (start: number, xs: number[]) => {
  const q = [0, 1, 2, 3].map((i) => spread(xs.slice(Math.floor((i * xs.length) / 4), Math.floor(((i + 1) * xs.length) / 4))).median);
  return `${fmt(start)} MiB at start; quarters of the run ${q.map((m) => fmt(m)).join(' → ')} MiB (medians); peak ${fmt(spread(xs).max)} MiB; ${xs.length} samples`;
};

await settle();
console.log(`bench:notify — ${machine()}`);
const sim = await Simulator.start();
try {
  console.log(`\n1. ${fmt(ROWS)} rows accepted and queued (202 after the commit), seconds; ${R} rounds in turns, median (range)\n`);
  const rows: string[][] = [['database', 'batch (one POST)', `single POSTs (${fmt(SAMPLE)} sampled, scaled)`, 'raw multi-row insert (floor)', 'rows/s (batch)', 'single ÷ batch', 'batch ÷ raw']];
  const memory: string[] = [];
  for (const kind of WITH_PG ? (['sqlite', 'pg'] as const) : (['sqlite'] as const)) {
    const r = await acceptance(kind, sim);
    const b = spread(r.batch).median;
    rows.push([kind === 'sqlite' ? 'SQLite' : 'PostgreSQL', showSpread(r.batch, 2), showSpread(r.single, 1), showSpread(r.raw, 2), fmt(ROWS / b), `${fmt(spread(r.single).median / b, 1)}×`, `${fmt(b / spread(r.raw).median, 1)}×`]);
    memory.push(`   ${kind === 'sqlite' ? 'SQLite' : 'PostgreSQL'} (--role api): ${rssLine(r.startRss, r.rss)}`);
  }
  table(rows);

  console.log(`\n2. ${fmt(SEND_ROWS)} rows sent through the HTTP SMS simulator limited to ${fmt(SMS_RATE)}/s (SQLite, --role all)\n`);
  const s = await sending(sim);
  table([
    ['', 'figure'],
    ['sends/s, 202 → DONE', `${fmt(s.sends / s.seconds)} (${fmt(s.sends)} in ${fmt(s.seconds, 1)} s)`],
    ['simulator limit (baseline)', `${fmt(SMS_RATE)}/s`],
    ['429 answered (retried after Retry-After)', fmt(s.throttled)],
    ['batch at DONE', JSON.stringify(s.done.notifications)],
    ['single notification POST → SENT, idle', `${fmt(s.idleSingle * 1000)} ms`],
    [`the same during the batch (${s.duringBatch.length}, one a second)`, `${showSpread(s.duringBatch.map((x) => x * 1000))} ms`],
  ]);
  memory.push(`   sending (--role all): ${rssLine(s.startRss, s.rss)}`);
  console.log(`\n3. service RSS, sampled every 250 ms\n${memory.join('\n')}`);
} finally {
  await sim.stop();
}
console.log(`\nload average at end ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
