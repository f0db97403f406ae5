/**
 * bench:tsa — the built-in TSA over HTTP (POST /tsa, keep-alive): time-stamp replies per
 * second and latency p50/p99 at 1, 8 and 64 connections, from autocannon in a second process
 * (scripts/bench-load.ts), for ECDSA P-256 and RSA-2048; beside `openssl ts -reply` run once
 * per request (a process per reply) and beside node:http alone answering a fixed reply of the
 * same size (the ceiling of Node's HTTP stack here), measured in the same run. The service runs as
 * `npm start` runs it (compiled), on a fresh data directory and development PKI. The PKCS#11
 * column: the same service, same run, with the TSA key in a SoftHSM2 token (TSA_PKCS11_*; the
 * TSA then answers through `respond`, its signature made on libuv's thread pool).
 *
 *   npm run bench:tsa
 *   BENCH_SECONDS=10 npm run bench:tsa
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fmt, freePort, load, machine, pkiFiles, procCpuSeconds, run, seconds, start, startServer, table } from './bench-lib.js';
import { benchToken } from './bench-pkcs11.js';

const T = seconds(5);

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

async function waitFor(url: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(url, { method: 'POST', body: 'x' });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`${url} did not answer`);
}
const OPENSSL_REPLIES = Number(process.env.OPENSSL_PROOFS ?? 50);

async function bench(algorithm: 'ECDSA-P256' | 'RSA-2048'): Promise<Array<Array<string | number>>> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-tsa-'));
  const files = await pkiFiles(algorithm);
  const f = (name: string) => path.join(dir, name);
  await fs.writeFile(f('data.txt'), 'data to time-stamp\n');
  await run('openssl', ['ts', '-query', '-data', f('data.txt'), '-sha256', '-cert', '-out', f('q.tsq')]);

  // The service's TSA key is the dev PKI's (certs-dev under the data directory); then, in a
  // second service, a key generated in a SoftHSM2 token.
  const token = await benchToken(algorithm);
  const rows: Array<Array<string | number>> = [];
  for (const where of ['in process', 'in SoftHSM2'] as const) {
    const inToken = where === 'in SoftHSM2';
    const env = { DATA_DIR: f(`data-${inToken}`), DEV_CERTS_DIR: f('certs'), KEY_ALGORITHM: algorithm, LOG_LEVEL: 'warn', APP_ENV: 'development', DEV_SIMULATORS: 'false' };
    await fs.mkdir(env.DATA_DIR, { mode: 0o700 });
    const server = await startServer(inToken ? { ...env, ...token.env('TSA'), TSA_PKCS11_SESSIONS: '16' } : env);
    try {
      // One reply checked by OpenSSL before the load: the figures are for valid tokens.
      const res = await fetch(`${server.url}/tsa`, { method: 'POST', headers: { 'content-type': 'application/timestamp-query' }, body: await fs.readFile(f('q.tsq')) });
      await fs.writeFile(f('r.tsr'), new Uint8Array(await res.arrayBuffer()));
      const certDir = path.join(f('certs'), algorithm === 'ECDSA-P256' ? 'p256' : 'rsa2048');
      const [rootPem, tsaPem] = inToken ? [token.pki.root, token.pki.tsaCert] : [path.join(certDir, 'root.pem'), path.join(certDir, 'tsa.pem')];
      await run('openssl', ['ts', '-verify', '-queryfile', f('q.tsq'), '-in', f('r.tsr'), '-CAfile', rootPem, '-untrusted', tsaPem]);

      for (const connections of [1, 8, 64]) {
        const cpu0 = await procCpuSeconds(server.pid);
        const r = await load({
          url: `${server.url}/tsa`,
          method: 'POST',
          headers: { 'content-type': 'application/timestamp-query' },
          bodyFile: f('q.tsq'),
          connections,
          duration: T,
        });
        const serverCpu = (await procCpuSeconds(server.pid)) - cpu0;
        const bad = r.errors + r.timeouts + r.non2xx;
        rows.push([
          algorithm,
          `POST /tsa, key ${where}, ${connections} connection${connections > 1 ? 's' : ''}`,
          r.requests.average,
          r.requests.total / serverCpu,
          `${fmt(r.latency.p50, 1)} ms`,
          `${fmt(r.latency.p99, 1)} ms`,
          bad ? `${bad} failed` : 'all 200',
        ]);
      }
    } finally {
      await server.stop();
    }
  }

  // The ceiling of node:http itself on this machine: a server that reads the same request and
  // answers a fixed reply of the same size, no TSA, no express.
  const replySize = (await fs.readFile(f('r.tsr'))).length;
  const floorPort = await freePort();
  const floor = start(process.execPath, ['-e', BARE_SERVER, String(floorPort), String(replySize)], {});
  try {
    await waitFor(`http://127.0.0.1:${floorPort}/`);
    for (const connections of [8]) {
      const cpu0 = await procCpuSeconds(floor.child.pid!);
      const r = await load({ url: `http://127.0.0.1:${floorPort}/tsa`, method: 'POST', headers: { 'content-type': 'application/timestamp-query' }, bodyFile: f('q.tsq'), connections, duration: T });
      const cpu = (await procCpuSeconds(floor.child.pid!)) - cpu0;
      rows.push([algorithm, `bare node:http, fixed ${replySize}-octet reply, ${connections} connections`, r.requests.average, r.requests.total / cpu, `${fmt(r.latency.p50, 1)} ms`, `${fmt(r.latency.p99, 1)} ms`, '']);
    }
  } finally {
    floor.child.kill('SIGTERM');
  }

  // Baseline: openssl ts -reply, one process per request.
  const once = () => run('openssl', ['ts', '-reply', '-config', files.tsaConfig, '-queryfile', f('q.tsq'), '-inkey', files.tsaKey, '-signer', files.tsaCert, '-out', f('o.tsr')]);
  await once();
  const started = performance.now();
  const cpu0 = await procCpuSeconds('self', true);
  for (let i = 0; i < OPENSSL_REPLIES; i++) await once();
  const elapsed = performance.now() - started;
  const cpu = (await procCpuSeconds('self', true)) - cpu0;
  rows.push([algorithm, 'openssl ts -reply per request (1 at a time)', (OPENSSL_REPLIES * 1000) / elapsed, OPENSSL_REPLIES / Math.max(0.01, cpu), `${fmt(elapsed / OPENSSL_REPLIES, 1)} ms`, '', '']);
  await fs.rm(dir, { recursive: true, force: true });
  await fs.rm(files.dir, { recursive: true, force: true });
  return rows;
}

async function main(): Promise<void> {
  console.log(`bench:tsa — built-in TSA over HTTP, keep-alive, autocannon in a second process, ${T} s per figure; ${machine()}`);
  const rows: Array<Array<string | number>> = [['algorithm', 'what', 'replies/s', 'per server CPU-s', 'p50', 'p99', 'status']];
  for (const algorithm of ['ECDSA-P256', 'RSA-2048'] as const) rows.push(...(await bench(algorithm)));
  table(rows);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
