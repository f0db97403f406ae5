/**
 * Shared by the benchmarks (scripts/bench-*.ts): timed loops, a development PKI written out
 * for the OpenSSL CLI, and printing. Benchmarks print their figures beside the baseline
 * measured in the same run: speed is measured, not assumed.
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createDevPki, derToPem, type DevPki, type KeyAlgorithm } from '../src/crypto/index.js';

export const POLICY = '1.3.6.1.4.1.99999.1.3161';

/**
 * A rate two ways: per second of wall-clock time, and per CPU-second this process (all its
 * threads) spent. On a shared machine the second is the steadier "per core" figure: time
 * spent waiting for a core that another process holds is not counted.
 */
export interface Rate {
  wall: number;
  cpu: number;
}

export function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

const TICKS = 100; // USER_HZ on Linux

/** CPU-seconds used by a process (`/proc/PID/stat` utime + stime), or by this process's waited-for children (`cutime` + `cstime`). */
export async function procCpuSeconds(pid: number | 'self', children = false): Promise<number> {
  return statCpuSeconds(`/proc/${pid}/stat`, children);
}

/** utime + stime (or, with `children`, cutime + cstime) of a /proc stat file, in seconds. */
async function statCpuSeconds(file: string, children = false): Promise<number> {
  const stat = await fs.readFile(file, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, stime 15, cutime 16, cstime 17
  const [a, b] = children ? [Number(fields[13]), Number(fields[14])] : [Number(fields[11]), Number(fields[12])];
  return (a + b) / TICKS;
}

/** CPU-seconds used so far by one thread of a process: its main thread when `tid` is the pid. */
export function threadCpuSeconds(pid: number, tid = pid): Promise<number> {
  return statCpuSeconds(`/proc/${pid}/task/${tid}/stat`);
}

/** CPU-seconds used so far by a process and every process below it that still runs (a cluster's primary and its workers). */
export async function treeCpuSeconds(pid: number): Promise<number> {
  const parents = new Map<number, number>();
  for (const name of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await fs.readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    if (stat) parents.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) for (const [child, parent] of parents) if (parent === tree[i]) tree.push(child);
  let total = 0;
  for (const p of tree) total += await procCpuSeconds(p).catch(() => 0);
  return total;
}

/** CPU-seconds used so far by this process's main thread alone (`/proc/self/task/PID/stat`). */
export async function mainThreadCpuSeconds(): Promise<number> {
  return procCpuSeconds(`${process.pid}/task/${process.pid}` as unknown as number);
}

/** Runs `fn` for `seconds` (after `warmup` calls). */
export function rateSync(fn: () => void, seconds: number, warmup = 200): Rate {
  for (let i = 0; i < warmup; i++) fn();
  let n = 0;
  const start = performance.now();
  const cpu0 = cpuSeconds();
  const end = start + seconds * 1000;
  let now = start;
  while (now < end) {
    for (let i = 0; i < 10; i++) fn();
    n += 10;
    now = performance.now();
  }
  return { wall: (n * 1000) / (now - start), cpu: n / (cpuSeconds() - cpu0) };
}

/**
 * Rates of several synchronous loops measured in turns (`rounds` turns of `seconds / rounds`
 * each), keeping each one's best turn: on a shared 2-core machine a turn can be slowed by
 * someone else's process, and interleaving keeps such a slowdown from landing on one side of
 * a comparison only.
 */
export function bestOfInterleaved<K extends string>(fns: Record<K, () => void>, seconds: number, rounds = 5): Record<K, Rate> {
  const best = {} as Record<K, Rate>;
  for (const k of Object.keys(fns) as K[]) best[k] = { wall: 0, cpu: 0 };
  for (let r = 0; r < rounds; r++) {
    for (const k of Object.keys(fns) as K[]) {
      const m = rateSync(fns[k], seconds / rounds, r === 0 ? 200 : 20);
      best[k] = { wall: Math.max(best[k].wall, m.wall), cpu: Math.max(best[k].cpu, m.cpu) };
    }
  }
  return best;
}

/** As rateSync, for an async `fn` run one at a time (`concurrency` 1) or with that many in flight. */
export async function rateAsync(fn: () => Promise<unknown>, seconds: number, warmup = 20, concurrency = 1): Promise<Rate> {
  for (let i = 0; i < warmup; i++) await fn();
  let n = 0;
  const start = performance.now();
  const cpu0 = cpuSeconds();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await fn();
        n++;
      }
    }),
  );
  return { wall: (n * 1000) / (performance.now() - start), cpu: n / (cpuSeconds() - cpu0) };
}

/** "wall/s (cpu per CPU-s)" */
export function showRate(r: Rate): string {
  return `${fmt(r.wall)} (${fmt(r.cpu)})`;
}

export interface PkiFiles {
  pki: DevPki;
  dir: string;
  root: string;
  sealCert: string;
  sealKey: string;
  tsaCert: string;
  tsaKey: string;
  tsaConfig: string;
}

/** A dev PKI in memory and as PEM files, with an `openssl ts -reply` configuration. */
export async function pkiFiles(algorithm: KeyAlgorithm): Promise<PkiFiles> {
  const pki = await createDevPki(algorithm);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `bench-${algorithm}-`));
  const f = (name: string) => path.join(dir, name);
  await fs.writeFile(f('root.pem'), derToPem(pki.root.certificate, 'CERTIFICATE'));
  await fs.writeFile(f('seal.pem'), derToPem(pki.seal.certificate, 'CERTIFICATE'));
  await fs.writeFile(f('seal.key'), derToPem(pki.sealKeyPkcs8, 'PRIVATE KEY'), { mode: 0o600 });
  await fs.writeFile(f('tsa.pem'), derToPem(pki.tsa.certificate, 'CERTIFICATE'));
  await fs.writeFile(f('tsa.key'), derToPem(pki.tsaKeyPkcs8, 'PRIVATE KEY'), { mode: 0o600 });
  await fs.writeFile(f('serial'), '01\n');
  await fs.writeFile(
    f('tsa.cnf'),
    [
      '[ tsa ]',
      'default_tsa = bench_tsa',
      '[ bench_tsa ]',
      `serial = ${f('serial')}`,
      'crypto_device = builtin',
      `signer_cert = ${f('tsa.pem')}`,
      `signer_key = ${f('tsa.key')}`,
      'signer_digest = sha256',
      `default_policy = ${POLICY}`,
      'digests = sha256, sha384, sha512',
      'accuracy = secs:0, millisecs:1',
      'ordering = no',
      'tsa_name = no',
      'ess_cert_id_alg = sha256',
      '',
    ].join('\n'),
  );
  return { pki, dir, root: f('root.pem'), sealCert: f('seal.pem'), sealKey: f('seal.key'), tsaCert: f('tsa.pem'), tsaKey: f('tsa.key'), tsaConfig: f('tsa.cnf') };
}

/** Runs a command to completion; rejects on a non-zero exit. */
export function run(cmd: string, args: string[], options: { cwd?: string; input?: Uint8Array } = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { cwd: options.cwd, encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${stderr.toString()}`));
      else resolve(stdout);
    });
    child.stdin!.end(options.input ? Buffer.from(options.input) : undefined);
  });
}

/** Spawns a long-running process, its output kept for error reports. */
export function start(cmd: string, args: string[], env: Record<string, string>): { child: ReturnType<typeof spawn>; output: () => string } {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out = (out + d).slice(-20_000)));
  child.stderr!.on('data', (d) => (out = (out + d).slice(-20_000)));
  return { child, output: () => out };
}

export const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** Prints an aligned table. */
export function table(rows: Array<Array<string | number>>): void {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)));
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  for (const r of cells) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
}

export function machine(): string {
  const cpus = os.cpus();
  return `${cpus.length} × ${cpus[0]?.model ?? 'cpu'}, Node ${process.version}, load average ${loadAverages()} at start of measurement`;
}

const loadAverages = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/** Share of all cores busy (any process, this one included) over the next `ms`, from /proc/stat. */
export async function busyShare(ms = 1000): Promise<number> {
  const sample = async () => {
    const cpu = (await fs.readFile('/proc/stat', 'utf8')).split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = cpu[3]! + (cpu[4] ?? 0); // idle + iowait
    return { idle, total: cpu.reduce((a, b) => a + b, 0) };
  };
  const a = await sample();
  await new Promise((r) => setTimeout(r, ms));
  const b = await sample();
  return b.total > a.total ? 1 - (b.idle - a.idle) / (b.total - a.total) : 0;
}

/**
 * Waits, before measuring, for the 1-minute load average to fall below BENCH_SETTLE_LOAD
 * (default half the core count: what a build just run or another job leaves on the machine),
 * at most BENCH_SETTLE_SECONDS (default 60; 0: do not wait), and prints what it waited for
 * and the load it starts measuring at. It never waits longer: on a machine others share the
 * load may not fall, and the figures then say at which load they were taken.
 */
export async function settle(): Promise<void> {
  const cores = os.availableParallelism();
  const envNumber = (name: string, dflt: number) => {
    const v = Number(process.env[name]);
    return process.env[name] !== undefined && Number.isFinite(v) && v >= 0 ? v : dflt;
  };
  const maxSeconds = envNumber('BENCH_SETTLE_SECONDS', 60);
  const threshold = envNumber('BENCH_SETTLE_LOAD', cores / 2);
  const started = performance.now();
  console.log(`load average ${loadAverages()} (1, 5, 15 min); waiting up to ${maxSeconds} s for the 1-minute load to fall below ${threshold.toFixed(2)} (${cores} cores)`);
  while (os.loadavg()[0]! >= threshold && performance.now() - started < maxSeconds * 1000) {
    await new Promise((r) => setTimeout(r, Math.min(2000, maxSeconds * 1000 - (performance.now() - started))));
  }
  const waited = (performance.now() - started) / 1000;
  const busy = await busyShare(1000);
  const settled = os.loadavg()[0]! < threshold;
  console.log(
    `${settled ? 'settled' : 'not settled'} after ${waited.toFixed(0)} s: load average ${loadAverages()}; cores busy over the last second: ${(100 * busy).toFixed(0)}% of ${cores}` +
      (settled ? '' : ' — measuring anyway (others share this machine); the figures are for this load'),
  );
}

/** Rounds per figure: BENCH_ROUNDS (default `dflt`, at least 1). Contenders are measured in turns, A B A B … */
export function rounds(dflt = 3): number {
  const v = Math.floor(Number(process.env.BENCH_ROUNDS));
  return Number.isFinite(v) && v >= 1 ? v : dflt;
}

/** Median and range of a figure over rounds. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function spread(xs: number[]): Spread {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return { median: NaN, min: NaN, max: NaN, n: 0 };
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s.at(-1)!, n: s.length };
}

/** "median (min–max)" */
export function showSpread(xs: number[], digits = 0, unit = ''): string {
  const s = spread(xs);
  if (s.n <= 1) return `${fmt(s.median, digits)}${unit}`;
  return `${fmt(s.median, digits)}${unit} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`;
}

/** Rates over rounds: "wall median (range) [per CPU-s median]" */
export function showRates(rs: Rate[]): string {
  return `${showSpread(rs.map((r) => r.wall))} [${fmt(spread(rs.map((r) => r.cpu)).median)}]`;
}

/**
 * Measures each contender once per round, in turns (A B C A B C …), and returns each one's
 * results in round order: on a shared machine a slow stretch then lands on every contender,
 * and the median over rounds is not one lucky or unlucky turn.
 */
export async function interleaved<K extends string, T>(n: number, contenders: Record<K, () => T | Promise<T>>): Promise<Record<K, T[]>> {
  const out = {} as Record<K, T[]>;
  const keys = Object.keys(contenders) as K[];
  for (const k of keys) out[k] = [];
  for (let r = 0; r < n; r++) for (const k of keys) out[k].push(await contenders[k]());
  return out;
}

/**
 * Runs a shell command line (sh -c) and times it from outside, as `time` would: wall clock
 * from start to exit, and the CPU-seconds of the whole process tree (the children this
 * process waited for: sh, xargs, every openssl). Rejects on a non-zero exit.
 */
export async function timeShell(script: string, options: { cwd?: string; env?: Record<string, string> } = {}): Promise<{ seconds: number; cpu: number }> {
  const cpu0 = await procCpuSeconds('self', true);
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn('sh', ['-c', script], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err = (err + d).slice(-4000)));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`sh -c "${script.slice(0, 300)}" exited ${code}: ${err}`))));
  });
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, cpu: (await procCpuSeconds('self', true)) - cpu0 };
}

/** Seconds per measurement: BENCH_SECONDS (default `dflt`). */
export function seconds(dflt: number): number {
  const v = Number(process.env.BENCH_SECONDS);
  return Number.isFinite(v) && v > 0 ? v : dflt;
}

const HERE = import.meta.dirname;
const FROM_SOURCES = import.meta.url.endsWith('.ts');

/** A node process running a sibling script of this one (compiled, or through tsx from the sources). */
function nodeArgs(script: string): string[] {
  return FROM_SOURCES ? ['--import', 'tsx', path.join(HERE, `${script}.ts`)] : [path.join(HERE, `${script}.js`)];
}

/** Runs the load generator (scripts/bench-load.ts) in a second process. */
export async function load(options: import('./bench-load.js').LoadOptions): Promise<import('./bench-load.js').LoadResult> {
  const out = await run(process.execPath, [...nodeArgs('bench-load'), JSON.stringify(options)]);
  return JSON.parse(out.toString()) as import('./bench-load.js').LoadResult;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface ServerProcess {
  url: string;
  pid: number;
  output: () => string;
  stop(): Promise<void>;
}

/**
 * The node arguments that run one of the service's entry points as benchmarked: compiled
 * (dist/src/cli/<entry>.js) when this script is compiled, with the probes the environment asks
 * for preloaded, and under `--cpu-prof` with BENCH_PROFILE_DIR.
 */
function serviceArgs(entry: 'server' | 'tsa'): string[] {
  const ext = FROM_SOURCES ? 'ts' : 'js';
  // BENCH_ALLOC_PROFILE_DIR=dir: an allocation profile of the whole run, garbage included (scripts/alloc-sampler.ts).
  const alloc = process.env.BENCH_ALLOC_PROFILE_DIR ? ['--import', path.resolve(HERE, `alloc-sampler.${ext}`)] : [];
  // BENCH_SQL_TIMES_DIR=dir: the time of every SQLite call, by statement (scripts/sql-timer.ts).
  const sql = process.env.BENCH_SQL_TIMES_DIR ? ['--import', path.resolve(HERE, `sql-timer.${ext}`)] : [];
  // BENCH_PROFILE_DIR=dir: the process writes a V8 CPU profile there when it stops (node --cpu-prof).
  const profile = process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROFILE_DIR] : [];
  return [...profile, ...(FROM_SOURCES ? ['--import', 'tsx'] : []), ...alloc, ...sql, path.resolve(HERE, `../src/cli/${entry}.${ext}`)];
}

/**
 * The service as a process: compiled (dist/src/cli/server.js) when this script is compiled.
 * `entry: 'tsa'`: the standalone TSA server (src/cli/tsa.ts) instead.
 */
export async function startServer(env: Record<string, string>, args: string[] = [], entry: 'server' | 'tsa' = 'server'): Promise<ServerProcess> {
  const port = await freePort();
  const { child, output } = start(process.execPath, [...serviceArgs(entry), ...args], { HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info', ...env });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${output()}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      /* not yet listening */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not start:\n${output()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    pid: child.pid!,
    output,
    stop: () => stopChild(child),
  };
}

/** Runs one of the project's scripts (compiled or from sources) and returns its standard output. */
/** SIGTERM, and wait for the exit (at once if it has exited). */
async function stopChild(child: ReturnType<typeof spawn>): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** A `--role worker` process of the service (no HTTP): started once it says it runs. */
export async function startWorker(env: Record<string, string>): Promise<{ pid: number; output: () => string; stop(): Promise<void> }> {
  const { child, output } = start(process.execPath, [...serviceArgs('server'), '--role', 'worker'], { ...env, LOG_LEVEL: 'info' });
  const deadline = Date.now() + 60_000;
  while (!output().includes('worker running')) {
    if (child.exitCode !== null) throw new Error(`worker exited with ${child.exitCode}:\n${output()}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`worker did not start:\n${output()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    pid: child.pid!,
    output,
    stop: () => stopChild(child),
  };
}

export async function runScript(script: string, args: string[], env: Record<string, string>): Promise<string> {
  const file = FROM_SOURCES ? ['--import', 'tsx', path.resolve(HERE, `${script}.ts`)] : [path.resolve(HERE, `${script}.js`)];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [...file, ...args], { env: { ...process.env, ...env } }, (err, stdout, stderr) => (err ? reject(new Error(`${script}: ${stderr}`)) : resolve(stdout)));
  });
}

/** Peak and current resident set of a process, in MiB (Linux /proc). */
export async function memoryOf(pid: number): Promise<{ peakMiB: number; rssMiB: number }> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { peakMiB: kb('VmHWM') / 1024, rssMiB: kb('VmRSS') / 1024 };
}
