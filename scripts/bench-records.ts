/**
 * bench:records — RFC 4998 evidence records (docs/evidence-records.md), each figure beside the
 * baseline it compares against, measured in the same run, in interleaved rounds:
 *
 *   1. entering proofs into trees, in process, with the built-in TSA (P-256): proofs/s and TSA
 *      tokens per 100,000 proofs for trees of BENCH_TREES leaves (default 1, 100, 16,384:
 *      RECORD_TREE_MAX_LEAVES' default is the largest) — the tree, one token over its root, a
 *      DER record per leaf (`createEvidenceRecords`) — beside one RFC 3161 token per proof (what
 *      a service without trees would ask its TSA for). Each contender enters trees for
 *      BENCH_SECONDS (default 2) per round, at least one tree.
 *   2. in the service: the compiled service (SQLite, proofs CAdES-B-T: SEAL_REVOCATION=off) sealing
 *      submitted messages, 8 at a time, each a 2 KB document (its proof of acceptance, then of
 *      deposit in the built-in e-Box). Its TSA (TSA_URL) is the standalone TSA server behind a
 *      proxy in this process that counts the requests; a request whose imprint is a tree's root
 *      is an archive time-stamp.
 *        a. a backlog: BENCH_BACKLOG (default 1,000) messages sealed while no `evidence-records`
 *           run is due (RECORD_INTERVAL_MS of a day: its first run, at start, finds nothing);
 *           the service stopped, the job's code (`EvidenceRecordService.enterPending`, what the
 *           job runs) enters them all on the service's database with the TSA over HTTP, timed:
 *           proofs entered per second in trees of up to RECORD_TREE_MAX_LEAVES, beside the
 *           tokens one per proof would take;
 *        b. BENCH_MESSAGES (default 400) more with RECORD_INTERVAL_MS = BENCH_RECORD_INTERVAL_MS
 *           (default 1000): once every proof has its record, the delay from each proof's
 *           sealing to its tree's token being stored (median, max) from the service's rows,
 *           and tokens per 100,000 proofs and checkpoints entered, counted at the TSA.
 *   3. verifying: records verified per second, in process, one thread — `verifyEvidenceRecord`
 *      whole beside the auditor's `EvidenceRecordVerifier` (each tree's chain verified once per
 *      verifier, a new verifier each round) over BENCH_VERIFY (default 2,000) records in trees
 *      of 500; then `verify --dir` (compiled CLI, its defaults) over the export bundle of (2),
 *      its records beside the proofs, timed from outside, beside the same command with
 *      `--no-record` (the baseline), in turns.
 *
 *   npm run bench:records
 *   BENCH_ROUNDS=3 BENCH_SECONDS=2 BENCH_TREES=1,100,16384 BENCH_BACKLOG=1000 BENCH_MESSAGES=400 BENCH_VERIFY=2000 npm run bench:records
 *   BENCH_PARTS=enter,service,verify (default: all three; verify --dir needs service)
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { EvidenceRecordVerifier } from '../src/audit/records.js';
import { loadConfig } from '../src/config.js';
import { createDevPki, createEvidenceRecords, HttpTimeStamper, LocalTimeStamper, TimeStampAuthority, verifyEvidenceRecord, type HashName } from '../src/crypto/index.js';
import { createLogger } from '../src/logger.js';
import { EvidenceRecordService } from '../src/registered-mail/records.js';
import { openDatabase, type Db } from '../src/store/database.js';
import { Repositories } from '../src/store/Repositories.js';
import { cpuSeconds, fmt, freePort, interleaved, machine, POLICY, rounds, runScript, settle, showSpread, spread, startServer, table, timeShell, type Rate, type ServerProcess } from './bench-lib.js';

const USAGE = `usage: npm run bench:records   (node dist/scripts/bench-records.js [--help])

Evidence records, each figure beside its baseline measured in the same run:
  1. proofs entered into trees per second and TSA tokens per 100,000 proofs (in process),
     beside one RFC 3161 token per proof;
  2. in the service: proofs entered per second by the evidence-records job's code over a
     backlog; with a short period, the delay until a proof has its record and the tokens per
     100,000 proofs counted at the TSA;
  3. records verified per second (verifyEvidenceRecord whole, EvidenceRecordVerifier), and
     verify --dir over an export bundle with its records beside --no-record.

Settings (environment):
  BENCH_ROUNDS               rounds, contenders in turns (default 3)
  BENCH_SECONDS              seconds per contender per round (default 2)
  BENCH_TREES                tree sizes for (1), comma-separated (default 1,100,16384)
  BENCH_BACKLOG              messages sealed before the job enters them, in (2a) (default 1000; 0: none)
  BENCH_MESSAGES             messages submitted with a short record period, in (2b) (default 400)
  BENCH_RECORD_INTERVAL_MS   the service's RECORD_INTERVAL_MS in (2) (default 1000)
  BENCH_VERIFY               records verified in (3), in trees of 500 (default 2000)
  BENCH_PARTS                which parts: enter,service,verify (default all)
  BENCH_SETTLE_SECONDS, BENCH_SETTLE_LOAD   the wait for the load to fall (scripts/bench-lib.ts)
`;

const RECIPIENT = '85073003328';
const BOUNDARY = '----bench-records-7MA4YWxkTrZu0gW';
const VERIFY_TREE = 500;

function envNumber(name: string, dflt: number): number {
  const v = Number(process.env[name]);
  return process.env[name] !== undefined && Number.isFinite(v) && v > 0 ? v : dflt;
}

const sha256 = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());

export type CountingStamper = Awaited<ReturnType<typeof countingStamper>>;

/** The built-in TSA in process, counting the tokens asked for over a digest (archive time-stamps and the baseline's). */
export async function countingStamper() {
  const pki = await createDevPki('ECDSA-P256');
  const tsa = new LocalTimeStamper(new TimeStampAuthority(pki.tsa, { policyOid: POLICY }));
  const counter = { tokens: 0 };
  const stamper = {
    timestamp: (data: Uint8Array) => tsa.timestamp(data),
    timestampDigest: (hash: Uint8Array, algorithm?: HashName) => {
      counter.tokens++;
      return tsa.timestampDigest(hash, algorithm);
    },
  };
  return { pki, stamper, counter };
}

// ---------------------------------------------------------------------------------------------
// 1. entering proofs into trees

export interface EnterRound {
  proofs: number;
  tokens: number;
  rate: Rate;
}

/** Enters trees of `size` leaves from `pool` (records written) for `seconds`, at least one tree; `size` 0: one token per proof instead (50 at least). */
export async function enterFor(stamper: CountingStamper, pool: Uint8Array[], size: number, seconds: number): Promise<EnterRound> {
  const tokens0 = stamper.counter.tokens;
  let proofs = 0;
  let records = 0;
  const t0 = performance.now();
  const cpu0 = cpuSeconds();
  const end = t0 + seconds * 1000;
  do {
    if (size === 0) {
      for (let i = 0; i < 50; i++) await stamper.stamper.timestampDigest(pool[(proofs + i) % pool.length]!);
      proofs += 50;
    } else {
      const start = proofs % pool.length;
      const leaves = start + size <= pool.length ? pool.slice(start, start + size) : Array.from({ length: size }, (_, i) => pool[(start + i) % pool.length]!);
      const made = await createEvidenceRecords(leaves, stamper.stamper);
      records += made.records.length;
      proofs += size;
    }
  } while (performance.now() < end);
  const wall = (performance.now() - t0) / 1000;
  if (size > 0 && records !== proofs) throw new Error(`${records} records for ${proofs} proofs`);
  return { proofs, tokens: stamper.counter.tokens - tokens0, rate: { wall: proofs / wall, cpu: proofs / Math.max(cpuSeconds() - cpu0, 1e-6) } };
}

async function partEnter(R: number, seconds: number, sizes: number[]): Promise<void> {
  console.log(`\n1. Proofs entered into trees, in process, built-in TSA (P-256), one thread; ${R} rounds of ${seconds} s per contender, in turns`);
  const stamper = await countingStamper();
  const pool = Array.from({ length: Math.max(...sizes, 1024) }, () => sha256(randomBytes(32)));
  // warm-up: every contender once
  await enterFor(stamper, pool, 0, 0.2);
  for (const s of sizes) await enterFor(stamper, pool, s, 0);
  const contenders: Record<string, () => Promise<EnterRound>> = { baseline: () => enterFor(stamper, pool, 0, seconds) };
  for (const s of sizes) contenders[`tree${s}`] = () => enterFor(stamper, pool, s, seconds);
  const out = await interleaved(R, contenders);
  const base = out.baseline!;
  const baseRate = spread(base.map((r) => r.rate.wall)).median;
  const per100k = (rs: EnterRound[]) => (rs.reduce((a, r) => a + r.tokens, 0) * 100_000) / rs.reduce((a, r) => a + r.proofs, 0);
  const rows: Array<Array<string | number>> = [['', 'proofs/s', 'per CPU-s', 'TSA tokens per 100,000 proofs', 'proofs entered', '÷ one token per proof']];
  rows.push(['one RFC 3161 token per proof (baseline)', showSpread(base.map((r) => r.rate.wall)), fmt(spread(base.map((r) => r.rate.cpu)).median), fmt(per100k(base), 0), fmt(base.reduce((a, r) => a + r.proofs, 0)), '1×']);
  for (const s of sizes) {
    const rs = out[`tree${s}`]!;
    const rate = spread(rs.map((r) => r.rate.wall)).median;
    rows.push([`trees of ${fmt(s)} (tree, one token, a record per proof)`, showSpread(rs.map((r) => r.rate.wall)), fmt(spread(rs.map((r) => r.rate.cpu)).median), fmt(per100k(rs), per100k(rs) < 10 ? 1 : 0), fmt(rs.reduce((a, r) => a + r.proofs, 0)), `${fmt(rate / baseRate, 1)}×`]);
  }
  table(rows);
}

export interface RecordsMeasurement {
  proofs: number;
  perTree: number;
  trees: number;
  /** TSA tokens asked for, scaled to 100,000 proofs. */
  tokensPer100k: number;
  entered: Rate;
  verified: Rate;
  /** Records that did not verify (must be 0). */
  invalid: number;
}

/** `proofs` fresh leaves entered in trees of `perTree`, then the first `verify` records verified whole: one pass, no rounds. */
export async function measureEvidenceRecords(options: { proofs: number; perTree: number; verify?: number }): Promise<RecordsMeasurement> {
  const { proofs, perTree } = options;
  if (!(Number.isInteger(proofs) && proofs > 0 && Number.isInteger(perTree) && perTree > 0)) throw new RangeError('proofs and perTree must be positive integers');
  const { pki, stamper, counter } = await countingStamper();
  const leaves = Array.from({ length: proofs }, () => sha256(randomBytes(32)));
  const records: Uint8Array[] = [];
  let wall = performance.now();
  let cpu = cpuSeconds();
  for (let i = 0; i < proofs; i += perTree) records.push(...(await createEvidenceRecords(leaves.slice(i, i + perTree), stamper)).records);
  const entered = { wall: proofs / ((performance.now() - wall) / 1000), cpu: proofs / Math.max(cpuSeconds() - cpu, 1e-6) };
  const tokens = counter.tokens;
  const toVerify = Math.min(options.verify ?? proofs, proofs);
  let invalid = 0;
  wall = performance.now();
  cpu = cpuSeconds();
  for (let i = 0; i < toVerify; i++) if (!(await verifyEvidenceRecord(records[i]!, { digest: leaves[i]! }, { trustAnchors: [pki.root.certificate] })).valid) invalid++;
  const verified = { wall: toVerify / ((performance.now() - wall) / 1000), cpu: toVerify / Math.max(cpuSeconds() - cpu, 1e-6) };
  return { proofs, perTree, trees: Math.ceil(proofs / perTree), tokensPer100k: (tokens * 100_000) / proofs, entered, verified, invalid };
}

// ---------------------------------------------------------------------------------------------
// 2. in the service

interface ServiceRun {
  dir: string;
  env: Record<string, string>;
  senderId: string;
  from: string;
  to: string;
  proofs: number;
  stop: () => Promise<void>;
}

function multipart(document: Uint8Array, i: number): Buffer {
  const metadata = JSON.stringify({
    recipient: { type: 'citizen', id: RECIPIENT },
    subject: { nl: 'Uw beslissing', fr: 'Votre décision' },
    senderReference: `BENCH-${i}`,
    documents: [{ httpPartName: 'main', isMainContent: true }],
  });
  return Buffer.concat([
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n${metadata}\r\n`),
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="main"; filename="main.pdf"\r\nContent-Type: application/pdf\r\n\r\n`),
    document,
    Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  ]);
}

/** A proxy in front of the TSA that keeps every request (a few dozen bytes each) to count them afterwards. */
async function countingProxy(target: string): Promise<{ url: string; requests: Buffer[]; close(): Promise<void> }> {
  const requests: Buffer[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      requests.push(body);
      fetch(`${target}/tsa`, { method: 'POST', headers: { 'content-type': req.headers['content-type'] ?? 'application/timestamp-query' }, body: new Uint8Array(body) })
        .then(async (r) => {
          const answer = Buffer.from(await r.arrayBuffer());
          res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/timestamp-reply', 'content-length': answer.length });
          res.end(answer);
        })
        .catch(() => {
          res.writeHead(502);
          res.end();
        });
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${port}/tsa`, requests, close: () => new Promise((r) => server.close(() => r())) };
}

const ms = (a: string, b: string) => Date.parse(b) - Date.parse(a);

/** Submits `messages` messages, 8 at a time; then waits until each is deposited (its second proof) and, with `recorded`, every proof has its record. */
async function submit(server: ServerProcess, db: Db, apiKey: string, messages: number, offset: number, recorded: boolean): Promise<{ seconds: number }> {
  const document = randomBytes(2048);
  document.set(Buffer.from('%PDF-1.7\n'));
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < messages) {
        const i = offset + next++;
        const res = await fetch(`${server.url}/v1/messages`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': `multipart/form-data; boundary=${BOUNDARY}` }, body: new Uint8Array(multipart(document, i)) });
        if (res.status !== 201 && res.status !== 202) throw new Error(`POST /v1/messages: ${res.status} ${await res.text()}`);
        await res.arrayBuffer();
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const deadline = Date.now() + 120_000;
  for (;;) {
    const deposited = Number((await db('messages').whereIn('status', ['DEPOSITED', 'CONSULTED']).count({ n: '*' }).first())?.n ?? 0);
    const evidence = Number((await db('evidence').count({ n: '*' }).first())?.n ?? 0);
    const withRecord = recorded ? Number((await proofRecords(db).count({ n: '*' }).first())?.n ?? 0) : evidence;
    if (deposited >= offset + messages && withRecord === evidence) return { seconds };
    if (Date.now() > deadline) throw new Error(`after 120 s: ${deposited} of ${offset + messages} messages deposited, ${withRecord} of ${evidence} proofs with a record\n${server.output()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Each proof joined to its tree's first token. */
const proofRecords = (db: Db) =>
  db('evidence as e')
    .join('record_leaves as l', function () {
      this.on('l.subject_id', '=', 'e.id').andOn('l.kind', '=', db.raw('?', ['evidence']));
    })
    .join('record_tokens as t', function () {
      this.on('t.tree_id', '=', 'l.tree_id').andOn('t.position', '=', db.raw('0'));
    });

/** TSA requests whose messageImprint is one of these roots (hex): the archive time-stamps asked for them. */
function archiveRequests(requests: Buffer[], roots: Set<string>): number {
  // the value asked for is the OCTET STRING of the request's MessageImprint: 04 20 and 32 octets
  return requests.filter((q) => {
    for (let i = 0; i + 34 <= q.length; i++) if (q[i] === 0x04 && q[i + 1] === 0x20 && roots.has(q.subarray(i + 2, i + 34).toString('hex'))) return true;
    return false;
  }).length;
}

async function partService(backlogMessages: number, messages: number, intervalMs: number): Promise<ServiceRun> {
  console.log(
    `\n2. In the service (compiled, SQLite, proofs CAdES-B-T, 2 KB documents, 8 submissions at a time; its TSA the standalone TSA server behind a proxy in this process that counts the requests):\n` +
      `   a. a backlog: ${backlogMessages} messages sealed and deposited with no evidence-records run due, then the job's code (EvidenceRecordService.enterPending) on the service's database enters them all, timed;\n` +
      `   b. ${messages} messages more with RECORD_INTERVAL_MS=${intervalMs}: each proof's delay until its record, as the service's rows give it`,
  );
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-records-'));
  const env: Record<string, string> = { DATA_DIR: path.join(dir, 'data'), DEV_CERTS_DIR: path.join(dir, 'certs'), KEY_ALGORITHM: 'ECDSA-P256', APP_ENV: 'development', DEV_SIMULATORS: 'false', LOG_LEVEL: 'warn', SEAL_REVOCATION: 'off' };
  const sender = JSON.parse(await runScript('create-sender', ['--name', 'bench', '--json'], env)) as { id: string; apiKey: string };
  await runScript('create-recipient', ['--type', 'citizen', '--id', RECIPIENT, '--json'], env);
  const tsa = await startServer({ ...env, TSA_PROCESSES: '1' }, [], 'tsa');
  const proxy = await countingProxy(tsa.url);
  const serviceEnv = { ...env, TSA_URL: proxy.url, SUBMIT_WAIT_MS: '10000' };
  const config = loadConfig({ ...serviceEnv, RECORD_INTERVAL_MS: String(intervalMs) });
  let server: ServerProcess | undefined;
  const db = openDatabase(config.database);
  const stopAll = async () => {
    await proxy.close();
    await tsa.stop();
  };
  try {
    const from = new Date(Date.now() - 1000).toISOString();
    const rows: Array<Array<string | number>> = [['', 'with trees (the service)', 'one token per proof (baseline)']];

    // a. the backlog: the job's first slot of the day ran at start (nothing pending); the next is at midnight UTC
    let backlogProofs = 0;
    if (backlogMessages > 0) {
      server = await startServer({ ...serviceEnv, RECORD_INTERVAL_MS: '86400000' });
      await submit(server, db, sender.apiKey, backlogMessages, 0, false);
      await server.stop();
      server = undefined;
      const store = new Repositories(db);
      const pending = await store.recordTrees.pendingCount();
      const requests0 = proxy.requests.length;
      const records = new EvidenceRecordService(store, new HttpTimeStamper(proxy.url, { timeoutMs: config.tsa.timeoutMs }), config, createLogger('warn'));
      const cpu0 = cpuSeconds();
      const t0 = performance.now();
      let entered = 0;
      let trees = 0;
      for (;;) {
        const run = await records.enterPending();
        if (run.trees === 0) break;
        entered += run.leaves;
        trees += run.trees;
      }
      const seconds = (performance.now() - t0) / 1000;
      const cpu = cpuSeconds() - cpu0;
      if (entered !== pending) throw new Error(`${entered} leaves entered of ${pending} pending`);
      backlogProofs = Number((await db('evidence').count({ n: '*' }).first())?.n ?? 0);
      const tokens = proxy.requests.length - requests0;
      rows.push([`a. backlog of ${fmt(entered)} proofs and checkpoints entered (${trees} tree${trees > 1 ? 's' : ''} of at most ${fmt(config.records.treeMaxLeaves)}), proofs/s [per CPU-s of this process]`, `${fmt(entered / seconds)} [${fmt(entered / cpu)}] in ${seconds.toFixed(2)} s`, '']);
      rows.push(['a. tokens asked of the TSA for them', fmt(tokens), fmt(entered)]);
    }

    // b. steady: a short period, every proof's delay
    const phaseStart = new Date().toISOString();
    const requests0 = proxy.requests.length;
    server = await startServer({ ...serviceEnv, RECORD_INTERVAL_MS: String(intervalMs) });
    const { seconds } = await submit(server, db, sender.apiKey, messages, backlogMessages, true);
    await server.stop();
    server = undefined;
    const to = new Date(Date.now() + 1000).toISOString();
    const delays = (await proofRecords(db).where('e.created_at', '>=', phaseStart).select('e.created_at as sealed', 't.created_at as stamped')).map((r: { sealed: string; stamped: string }) => ms(r.sealed, r.stamped));
    const trees = (await db('record_trees as r').join('record_tokens as t', 't.tree_id', 'r.id').where('t.position', 0).andWhere('r.created_at', '>=', phaseStart).select('r.leaf_count as leaves', 'r.root as root')) as Array<{ leaves: number | string; root: string }>;
    const leaves = trees.reduce((a, t) => a + Number(t.leaves), 0);
    const archive = archiveRequests(proxy.requests.slice(requests0), new Set(trees.map((t) => t.root)));
    const sizes = spread(trees.map((t) => Number(t.leaves)));
    const d = spread(delays);
    console.log(
      `b. ${messages} messages submitted in ${seconds.toFixed(1)} s (${fmt(messages / seconds)}/s); ${fmt(delays.length)} proofs and ${fmt(leaves - delays.length)} checkpoints in ${trees.length} trees (leaves per tree: median ${fmt(sizes.median)}, ${fmt(sizes.min)}–${fmt(sizes.max)})`,
    );
    rows.push([`b. delay, proof sealed → its tree's token stored, median / max (RECORD_INTERVAL_MS=${intervalMs})`, `${fmt(d.median)} ms / ${fmt(d.max)} ms`, '0 (one token at sealing)']);
    rows.push(['b. archive time-stamps counted at the TSA (their imprint a tree root)', fmt(archive), fmt(leaves)]);
    rows.push(['b. tokens per 100,000 proofs and checkpoints entered', fmt((archive * 100_000) / leaves), '100,000']);
    rows.push(['b. all TSA requests of (b): signature time-stamps, checkpoints, archive time-stamps', fmt(proxy.requests.length - requests0), fmt(proxy.requests.length - requests0 - archive + leaves)]);
    table(rows);
    return { dir, env: serviceEnv, senderId: sender.id, from, to, proofs: backlogProofs + delays.length, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  } finally {
    await server?.stop();
    await db.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// 3. verifying

async function partVerify(R: number, seconds: number, count: number, service: ServiceRun | undefined): Promise<void> {
  console.log(`\n3. Records verified, in process, one thread: ${fmt(count)} records in trees of ${VERIFY_TREE} (leaf: SHA-256 of a 3 KB proof), ${R} rounds of ${seconds} s, in turns`);
  const { pki, stamper } = await countingStamper();
  const proofs = Array.from({ length: count }, () => new Uint8Array(randomBytes(3072)));
  const records: Uint8Array[] = [];
  for (let i = 0; i < count; i += VERIFY_TREE) records.push(...(await createEvidenceRecords(proofs.slice(i, i + VERIFY_TREE).map(sha256), stamper)).records);
  const trustAnchors = [pki.root.certificate];
  const loop = async (verify: (i: number) => Promise<boolean>): Promise<Rate> => {
    let n = 0;
    const t0 = performance.now();
    const cpu0 = cpuSeconds();
    const end = t0 + seconds * 1000;
    while (performance.now() < end) {
      if (!(await verify(n % count))) throw new Error(`record ${n % count} did not verify`);
      n++;
    }
    return { wall: (n * 1000) / (performance.now() - t0), cpu: n / Math.max(cpuSeconds() - cpu0, 1e-6) };
  };
  const whole = () => loop(async (i) => (await verifyEvidenceRecord(records[i]!, { data: proofs[i]! }, { trustAnchors })).valid);
  const chained = () => {
    const verifier = new EvidenceRecordVerifier({ trustAnchors });
    return loop(async (i) => (await verifier.verify(records[i]!, proofs[i]!)).valid);
  };
  await loop(async (i) => (await verifyEvidenceRecord(records[i]!, { data: proofs[i]! }, { trustAnchors })).valid).then(() => undefined, () => undefined);
  const out = await interleaved(R, { whole, chained });
  const w = spread(out.whole.map((r) => r.wall)).median;
  table([
    ['', 'records/s', 'per CPU-s', '÷ whole'],
    ['verifyEvidenceRecord, each record whole (baseline)', showSpread(out.whole.map((r) => r.wall)), fmt(spread(out.whole.map((r) => r.cpu)).median), '1×'],
    ['EvidenceRecordVerifier (a tree’s chain once, then the leaf’s path)', showSpread(out.chained.map((r) => r.wall)), fmt(spread(out.chained.map((r) => r.cpu)).median), `${fmt(spread(out.chained.map((r) => r.wall)).median / w, 1)}×`],
  ]);

  if (!service) {
    console.log('verify --dir over an export bundle: needs part 2 (BENCH_PARTS with service); left out');
    return;
  }
  const bundle = path.join(service.dir, 'bundle');
  const HERE = import.meta.dirname;
  const cli = (name: string) => (import.meta.url.endsWith('.ts') ? ['--import', 'tsx', path.resolve(HERE, `../src/cli/${name}.ts`)] : [path.resolve(HERE, `../src/cli/${name}.js`)]);
  const exported = await new Promise<string>((resolve, reject) => {
    import('node:child_process').then(({ execFile }) =>
      execFile(process.execPath, [...cli('export'), '--sender', service.senderId, '--from', service.from, '--to', service.to, '--out', bundle, '--json'], { env: { ...process.env, ...service.env } }, (err, stdout, stderr) =>
        err ? reject(new Error(`export: ${stderr}`)) : resolve(stdout),
      ),
    );
  });
  await service.stop();
  const result = JSON.parse(exported) as { recordsPending?: number };
  const ers = (await fs.readdir(path.join(bundle, 'proofs'), { recursive: true })).filter((f) => String(f).endsWith('.ers')).length;
  if (ers < service.proofs || (result.recordsPending ?? 0) > 0) throw new Error(`the bundle holds ${ers} records for ${service.proofs} proofs`);
  const q = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
  const command = (noRecord: boolean, outFile: string) => `${[process.execPath, ...cli('verify')].map(q).join(' ')} --dir ${q(bundle)} --json --no-progress${noRecord ? ' --no-record' : ''} > ${q(outFile)} 2>/dev/null`;
  const run = async (noRecord: boolean): Promise<Rate> => {
    const outFile = path.join(service.dir, noRecord ? 'no-record.jsonl' : 'record.jsonl');
    const { seconds: s, cpu } = await timeShell(command(noRecord, outFile));
    const lines = (await fs.readFile(outFile, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { indication?: string; evidenceRecord?: { valid?: boolean } });
    const proofLines = lines.filter((l) => l.indication !== undefined);
    const passed = proofLines.filter((l) => l.indication === 'TOTAL_PASSED').length;
    const withRecord = proofLines.filter((l) => l.evidenceRecord?.valid === true).length;
    if (passed !== service.proofs) throw new Error(`verify --dir${noRecord ? ' --no-record' : ''}: ${passed} of ${service.proofs} proofs TOTAL_PASSED`);
    if (!noRecord && withRecord !== service.proofs) throw new Error(`verify --dir: ${withRecord} of ${service.proofs} records passed`);
    if (noRecord && withRecord !== 0) throw new Error('verify --dir --no-record checked records');
    return { wall: service.proofs / s, cpu: service.proofs / cpu };
  };
  await run(false); // warm-up: the file cache, the first start
  const dirOut = await interleaved(R, { record: () => run(false), noRecord: () => run(true) });
  const base = spread(dirOut.noRecord.map((r) => r.cpu)).median;
  console.log(`\nverify --dir over the export bundle (${fmt(service.proofs)} proofs, each with its .ers; compiled CLI, its defaults: a worker thread per core), the whole command timed from outside, ${R} rounds in turns`);
  table([
    ['', 'proofs/s', 'per CPU-s', 'CPU per proof ÷ --no-record'],
    ['verify --dir, the proofs with their records', showSpread(dirOut.record.map((r) => r.wall)), fmt(spread(dirOut.record.map((r) => r.cpu)).median), `${fmt(base / spread(dirOut.record.map((r) => r.cpu)).median, 2)}×`],
    ['verify --dir --no-record (baseline)', showSpread(dirOut.noRecord.map((r) => r.wall)), fmt(base), '1×'],
  ]);
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const R = rounds();
  const seconds = envNumber('BENCH_SECONDS', 2);
  const sizes = (process.env.BENCH_TREES ?? '1,100,16384').split(',').map(Number);
  if (!sizes.every((s) => Number.isInteger(s) && s > 0)) throw new RangeError('BENCH_TREES: positive integers, comma-separated');
  const parts = new Set((process.env.BENCH_PARTS ?? 'enter,service,verify').split(','));
  const started = performance.now();
  await settle();
  console.log(machine());
  if (parts.has('enter')) await partEnter(R, seconds, sizes);
  const backlog = process.env.BENCH_BACKLOG === '0' ? 0 : Math.floor(envNumber('BENCH_BACKLOG', 1000));
  const service = parts.has('service') ? await partService(backlog, Math.floor(envNumber('BENCH_MESSAGES', 400)), Math.floor(envNumber('BENCH_RECORD_INTERVAL_MS', 1000))) : undefined;
  try {
    if (parts.has('verify')) await partVerify(R, seconds, Math.floor(envNumber('BENCH_VERIFY', 2000)), service);
  } finally {
    if (service) {
      await service.stop().catch(() => undefined);
      await fs.rm(service.dir, { recursive: true, force: true });
    }
  }
  console.log(`\nload average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} at the end; ${((performance.now() - started) / 1000).toFixed(0)} s in all`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  let help = false;
  try {
    help = parseArgs({ options: { help: { type: 'boolean', short: 'h' } } }).values.help === true;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    process.exit(3);
  }
  if (help) {
    process.stdout.write(USAGE);
  } else {
    await main();
  }
}
