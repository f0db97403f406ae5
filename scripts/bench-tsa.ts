/**
 * bench:tsa — the built-in TSA over HTTP (POST /tsa, keep-alive): time-stamp replies per
 * second and latency p50/p99 at 1, 8 and 64 connections, from autocannon in a second process
 * (scripts/bench-load.ts), for ECDSA P-256 and RSA-2048; beside `openssl ts -reply` run once
 * per request (a process per reply) and beside node:http alone answering a fixed reply of the
 * same size (the ceiling of Node's HTTP stack here), measured in the same run. The service runs as
 * `npm start` runs it (compiled), on a fresh data directory and development PKI. The PKCS#11
 * column: the same service, same run, with the TSA key in a SoftHSM2 token (TSA_PKCS11_*; the
 * TSA then answers through `respond`, its signature made on libuv's thread pool). The
 * standalone column: the TSA server of src/cli/tsa.ts, one process per core on one port (its CPU
 * summed over the primary and its processes), at 8 and 64 connections.
 * The uts-server rows (issue 18's baseline, only when UTS_SERVER=/path/to/uts-server is set):
 * the C server uts-server (OpenSSL + civetweb, https://github.com/kakwa/uts-server), one process
 * with a thread per connection, started with the same TSA key and certificate as the first
 * service (certs/<alg>/tsa.pem and tsa.key), the same policy OID, the same accepted hashes
 * (SHA-256/384/512), the same 1 ms accuracy, keep-alive and TCP_NODELAY; its configuration file is
 * written into the bench's temporary folder. It differs only where uts-server has no setting: a
 * 160-bit serial, and ESSCertID (SHA-1) where the service writes ESSCertIDv2 (SHA-256). Measured at
 * 8 and 64 connections like the standalone row, its CPU that of its one process (all its
 * threads). Without UTS_SERVER the bench says on one line that these rows are left out. How to
 * build uts-server: README, "Benchmarks".
 * The servers run side by side and every figure is measured in each of BENCH_ROUNDS
 * rounds (default 3), in turns, BENCH_SECONDS (default 2) each; medians and ranges are
 * printed. `openssl ts -reply` runs in a shell loop timed from outside.
 *
 *   npm run bench:tsa
 *   BENCH_SECONDS=5 BENCH_ROUNDS=5 npm run bench:tsa
 *   UTS_SERVER=/opt/uts/uts-server npm run bench:tsa
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fmt, freePort, interleaved, load, machine, pkiFiles, procCpuSeconds, rounds, run, seconds, settle, showSpread, spread, start, startServer, table, timeShell, treeCpuSeconds, type ServerProcess } from './bench-lib.js';
import { benchToken } from './bench-pkcs11.js';
import { DEFAULT_TSA_POLICY_OID } from '../src/config.js';

const T = seconds(2);
const R = rounds();

/** node:http alone: reads the request body, answers a fixed body of the given size. */
const BARE_SERVER = `
const http = require('node:http');
const [port, size] = process.argv.slice(1).map(Number);
const body = Buffer.alloc(size, 0x30);
http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'Content-Type': 'application/timestamp-reply', 'Content-Length': size });
    res.end(body);
  });
}).listen(port, '127.0.0.1');
`;

async function waitFor(url: string, server?: ReturnType<typeof start>): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (server && server.child.exitCode !== null) throw new Error(`${url}: the server exited with ${server.child.exitCode}:\n${server.output()}`);
    try {
      await fetch(url, { method: 'POST', body: 'x' });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`${url} did not answer${server ? `:\n${server.output()}` : ''}`);
}

/** UTS_SERVER: the uts-server executable for the baseline rows, or undefined (rows left out). */
const UTS_SERVER = process.env.UTS_SERVER || undefined;
/** What `uts-server --version` printed (set in main). */
let utsVersion = '';
/** Connections measured for the standalone TSA server and uts-server. */
const MANY = [8, 64];
/** civetweb keeps a worker thread for each keep-alive connection: more threads than connections, so none waits for a thread. */
const UTS_THREADS = 2 * Math.max(...MANY);

/** A uts-server configuration (OpenSSL's `ts` configuration keys in [ tsa ]) matching the built-in TSA. */
function utsConfig(port: number, cert: string, key: string): string {
  return [
    '[ oids ]',
    `bench_policy = ${DEFAULT_TSA_POLICY_OID}`,
    '[ main ]',
    `listening_ports = 127.0.0.1:${port}`,
    'enable_keep_alive = yes',
    `num_threads = ${UTS_THREADS}`,
    'tcp_nodelay = 1',
    'log_level = err',
    'log_to_syslog = no',
    'log_to_stdout = yes',
    '[ tsa ]',
    'crypto_device = builtin',
    `signer_cert = ${cert}`,
    `signer_key = ${key}`,
    'default_policy = bench_policy',
    'digests = sha256, sha384, sha512',
    'accuracy = secs:0, millisecs:1',
    'clock_precision_digits = 3',
    'ordering = no',
    'tsa_name = no',
    'ess_cert_id_chain = no',
    '',
  ].join('\n');
}

/** Stops a process started with `start` and waits for it to exit. */
async function stopChild(server: ReturnType<typeof start> | undefined): Promise<void> {
  if (!server || server.child.exitCode !== null || server.child.signalCode !== null) return;
  const exited = new Promise((r) => server.child.once('exit', r));
  server.child.kill('SIGTERM');
  await exited;
}
const OPENSSL_REPLIES = Number(process.env.OPENSSL_PROOFS ?? 50);

interface Figure {
  rate: number;
  perCpu: number;
  p50: number;
  p99: number;
  bad: number;
}

async function bench(algorithm: 'ECDSA-P256' | 'RSA-2048'): Promise<Array<Array<string | number>>> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-tsa-'));
  const files = await pkiFiles(algorithm);
  const f = (name: string) => path.join(dir, name);
  await fs.writeFile(f('data.txt'), 'data to time-stamp\n');
  await run('openssl', ['ts', '-query', '-data', f('data.txt'), '-sha256', '-cert', '-out', f('q.tsq')]);

  // The service's TSA key is the dev PKI's (certs-dev under the data directory); beside it a
  // second service with a key generated in a SoftHSM2 token.
  const token = await benchToken(algorithm);
  const servers: Array<{ where: string; server: ServerProcess }> = [];
  let standalone: ServerProcess | undefined;
  const processes = os.availableParallelism();
  let floor: ReturnType<typeof start> | undefined;
  let uts: ReturnType<typeof start> | undefined;
  let utsUrl = '';
  try {
    for (const where of ['in process', 'in SoftHSM2'] as const) {
      const inToken = where === 'in SoftHSM2';
      const env = { DATA_DIR: f(`data-${inToken}`), DEV_CERTS_DIR: f('certs'), KEY_ALGORITHM: algorithm, LOG_LEVEL: 'warn', APP_ENV: 'development', DEV_SIMULATORS: 'false' };
      await fs.mkdir(env.DATA_DIR, { mode: 0o700 });
      const server = await startServer(inToken ? { ...env, ...token.env('TSA'), TSA_PKCS11_SESSIONS: '16' } : env);
      servers.push({ where, server });
      // One reply checked by OpenSSL before the load: the figures are for valid tokens.
      const res = await fetch(`${server.url}/tsa`, { method: 'POST', headers: { 'content-type': 'application/timestamp-query' }, body: await fs.readFile(f('q.tsq')) });
      await fs.writeFile(f('r.tsr'), new Uint8Array(await res.arrayBuffer()));
      const certDir = path.join(f('certs'), algorithm === 'ECDSA-P256' ? 'p256' : 'rsa2048');
      const [rootPem, tsaPem] = inToken ? [token.pki.root, token.pki.tsaCert] : [path.join(certDir, 'root.pem'), path.join(certDir, 'tsa.pem')];
      await run('openssl', ['ts', '-verify', '-queryfile', f('q.tsq'), '-in', f('r.tsr'), '-CAfile', rootPem, '-untrusted', tsaPem]);
    }

    // The standalone TSA server (src/cli/tsa.ts): the same key as the first service, one process per core on one port
    {
      const env = { DATA_DIR: f('data-standalone'), DEV_CERTS_DIR: f('certs'), KEY_ALGORITHM: algorithm, LOG_LEVEL: 'warn', APP_ENV: 'development', TSA_PROCESSES: String(processes) };
      await fs.mkdir(env.DATA_DIR, { mode: 0o700 });
      standalone = await startServer(env, [], 'tsa');
      const res = await fetch(`${standalone.url}/tsa`, { method: 'POST', headers: { 'content-type': 'application/timestamp-query' }, body: await fs.readFile(f('q.tsq')) });
      await fs.writeFile(f('r-standalone.tsr'), new Uint8Array(await res.arrayBuffer()));
      const certDir = path.join(f('certs'), algorithm === 'ECDSA-P256' ? 'p256' : 'rsa2048');
      await run('openssl', ['ts', '-verify', '-queryfile', f('q.tsq'), '-in', f('r-standalone.tsr'), '-CAfile', path.join(certDir, 'root.pem'), '-untrusted', path.join(certDir, 'tsa.pem')]);
    }

    // uts-server (UTS_SERVER): the same key and certificate as the first service, one reply
    // checked by OpenSSL before the load like the others.
    if (UTS_SERVER) {
      const certDir = path.join(f('certs'), algorithm === 'ECDSA-P256' ? 'p256' : 'rsa2048');
      const port = await freePort();
      await fs.writeFile(f('uts-server.cnf'), utsConfig(port, path.join(certDir, 'tsa.pem'), path.join(certDir, 'tsa.key')));
      uts = start(UTS_SERVER, ['-c', f('uts-server.cnf')], {});
      utsUrl = `http://127.0.0.1:${port}/tsa`;
      await waitFor(utsUrl, uts);
      const res = await fetch(utsUrl, { method: 'POST', headers: { 'content-type': 'application/timestamp-query' }, body: await fs.readFile(f('q.tsq')) });
      if (res.status !== 200) throw new Error(`uts-server answered ${res.status}:\n${uts.output()}`);
      await fs.writeFile(f('r-uts.tsr'), new Uint8Array(await res.arrayBuffer()));
      await run('openssl', ['ts', '-verify', '-queryfile', f('q.tsq'), '-in', f('r-uts.tsr'), '-CAfile', path.join(certDir, 'root.pem'), '-untrusted', path.join(certDir, 'tsa.pem')]);
    }

    // The ceiling of node:http itself on this machine: a server that reads the same request and
    // answers a fixed reply of the same size, no TSA, no express.
    const replySize = (await fs.readFile(f('r.tsr'))).length;
    const floorPort = await freePort();
    floor = start(process.execPath, ['-e', BARE_SERVER, String(floorPort), String(replySize)], {});
    await waitFor(`http://127.0.0.1:${floorPort}/`);

    const measure = async (url: string, pid: number, connections: number, tree = false): Promise<Figure> => {
      const cpuOf = tree ? treeCpuSeconds : procCpuSeconds;
      const cpu0 = await cpuOf(pid);
      const r = await load({ url, method: 'POST', headers: { 'content-type': 'application/timestamp-query' }, bodyFile: f('q.tsq'), connections, duration: T });
      const cpu = (await cpuOf(pid)) - cpu0;
      return { rate: r.requests.average, perCpu: r.requests.total / cpu, p50: r.latency.p50, p99: r.latency.p99, bad: r.errors + r.timeouts + r.non2xx };
    };
    const contenders: Record<string, () => Promise<Figure>> = {};
    const labels: Record<string, string> = {};
    for (const connections of [1, 8, 64]) {
      for (const { where, server } of servers) {
        const key = `${where} ${connections}`;
        labels[key] = `POST /tsa, key ${where}, ${connections} connection${connections > 1 ? 's' : ''}`;
        contenders[key] = () => measure(`${server.url}/tsa`, server.pid, connections);
      }
      if (MANY.includes(connections)) {
        const key = `standalone ${connections}`;
        labels[key] = `POST /tsa, standalone TSA, ${processes} processes, ${connections} connections`;
        contenders[key] = () => measure(`${standalone!.url}/tsa`, standalone!.pid, connections, true);
      }
      if (uts && MANY.includes(connections)) {
        const key = `uts-server ${connections}`;
        labels[key] = `POST /tsa, uts-server ${utsVersion} (OpenSSL + civetweb), ${UTS_THREADS} threads, ${connections} connections`;
        contenders[key] = () => measure(utsUrl, uts!.child.pid!, connections);
      }
    }
    labels.floor = `bare node:http, fixed ${replySize}-octet reply, 8 connections`;
    contenders.floor = () => measure(`http://127.0.0.1:${floorPort}/tsa`, floor!.child.pid!, 8);
    // Baseline: openssl ts -reply, one process per request, one after the other.
    const script = `i=0; while [ $i -lt ${OPENSSL_REPLIES} ]; do openssl ts -reply -config ${files.tsaConfig} -queryfile q.tsq -inkey ${files.tsaKey} -signer ${files.tsaCert} -out o.tsr 2>/dev/null || exit 1; i=$((i+1)); done`;
    labels.openssl = 'openssl ts -reply per request, shell loop (1 at a time)';
    contenders.openssl = async () => {
      const { seconds: wall, cpu } = await timeShell(script, { cwd: dir });
      return { rate: OPENSSL_REPLIES / wall, perCpu: OPENSSL_REPLIES / cpu, p50: (1000 * wall) / OPENSSL_REPLIES, p99: NaN, bad: 0 };
    };
    const figures = await interleaved(R, contenders);
    return Object.entries(figures).map(([key, fs]) => {
      const bad = fs.reduce((n, x) => n + x.bad, 0);
      return [
        algorithm,
        labels[key]!,
        showSpread(fs.map((x) => x.rate)),
        fmt(spread(fs.map((x) => x.perCpu)).median),
        key === 'openssl' ? `${showSpread(fs.map((x) => x.p50), 1)} ms each` : `${showSpread(fs.map((x) => x.p50), 1)} ms`,
        key === 'openssl' ? '' : `${showSpread(fs.map((x) => x.p99), 1)} ms`,
        key === 'openssl' || key === 'floor' ? '' : bad ? `${bad} failed` : 'all 200',
      ];
    });
  } finally {
    floor?.child.kill('SIGTERM');
    await stopChild(uts);
    for (const { server } of servers) await server.stop();
    await standalone?.stop();
    await fs.rm(dir, { recursive: true, force: true });
    await fs.rm(files.dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  await settle();
  console.log(`bench:tsa — built-in TSA over HTTP, keep-alive, autocannon in a second process, ${R} interleaved rounds of ${T} s per figure; ${machine()}`);
  console.log('replies/s: median over rounds (range); per server CPU-s: median; p50 and p99: median (range) over rounds');
  if (UTS_SERVER) {
    utsVersion = (await run(UTS_SERVER, ['--version'])).toString().trim();
    console.log(`uts-server ${utsVersion}: ${UTS_SERVER}`);
  } else {
    console.log('uts-server rows left out: set UTS_SERVER=/path/to/uts-server to add them (how to build it: README, "Benchmarks")');
  }
  const rows: Array<Array<string | number>> = [['algorithm', 'what', 'replies/s', 'per server CPU-s', 'p50', 'p99', 'status']];
  for (const algorithm of ['ECDSA-P256', 'RSA-2048'] as const) rows.push(...(await bench(algorithm)));
  table(rows);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
