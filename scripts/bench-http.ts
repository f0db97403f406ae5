/**
 * bench:http — submissions over HTTP on SQLite, 100 KB documents, autocannon in a second
 * process (scripts/bench-load.ts), the service compiled (as `npm start` runs it):
 *
 *   1. bare intake floor (the baseline): the same POST /v1/messages, streamed to disk,
 *      fsynced, renamed, message + `accept` job inserted in one transaction — and no crypto:
 *      the service runs `--role api` (no job runner) with SUBMIT_WAIT_MS=0, so it answers 202
 *      as soon as the submission is committed;
 *   2. accepted and sealed: the whole service (`--role all`), SUBMIT_WAIT_MS=10000, each
 *      answer a 201 only once the proof of dispatch (SubmissionAcceptance, CAdES-T) is sealed
 *      and stored — the e-Box deposit and its ContentConsignment proof follow in the same
 *      process; only 201s are counted;
 *   3. latency p50/p99 of (2) at fixed rates (BENCH_RATES, default 500,200,150,100 per second),
 *      requests evenly paced (scripts/bench-load.ts `paced`: latency from each request's
 *      scheduled time, so a queue shows);
 *   4. peak RSS (VmHWM) of the service process while one 2 GB document is streamed to it.
 *
 *   npm run bench:http
 *   BENCH_SECONDS=10 BENCH_RATES=500,200,150,100 BENCH_CONNECTIONS=64 BENCH_UPLOAD_GB=2 npm run bench:http
 */
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fmt, load, machine, memoryOf, procCpuSeconds, runScript, seconds, startServer, table, type ServerProcess } from './bench-lib.js';

const T = seconds(10);
/** fixed rates for latency: the target's 500/s, and rates this machine sustains (BENCH_RATES) */
const RATES = (process.env.BENCH_RATES ?? '500,200,150,100').split(',').map(Number);
const UPLOAD_GB = Number(process.env.BENCH_UPLOAD_GB ?? 2);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const RECIPIENT = '85073003328';
const BOUNDARY = '----bench-boundary-7MA4YWxkTrZu0gW';

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
  const env = { DATA_DIR: dir, DEV_CERTS_DIR: path.join(dir, 'certs'), KEY_ALGORITHM: 'ECDSA-P256', APP_ENV: 'development', DEV_SIMULATORS: 'false', LOG_LEVEL: 'warn', ...extra };
  const sender = JSON.parse(await runScript('create-sender', ['--name', 'bench', '--json'], env)) as { apiKey: string };
  await runScript('create-recipient', ['--type', 'citizen', '--id', RECIPIENT, '--json'], env);
  return { dir, env, apiKey: sender.apiKey };
}

async function submitLoad(server: ServerProcess, apiKey: string, bodyFile: string, options: { connections: number; overallRate?: number; paced?: boolean }) {
  const cpu0 = await procCpuSeconds(server.pid);
  const result = await load({
    url: `${server.url}/v1/messages`,
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
    bodyFile,
    duration: T,
    ...options,
  });
  return { ...result, serverCpu: (await procCpuSeconds(server.pid)) - cpu0 };
}

const count = (r: Awaited<ReturnType<typeof submitLoad>>, status: string) => r.statusCodeStats[status]?.count ?? 0;

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
  console.log(`bench:http — POST /v1/messages, 100 KB documents, SQLite, autocannon in a second process (${CONNECTIONS} connections), ${T} s per figure; ${machine()}`);
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-http-body-'));
  const bodyFile = path.join(work, 'body.bin');
  await fs.writeFile(bodyFile, multipart(pdf(100 * 1024)));
  const rows: Array<Array<string | number>> = [['what', 'answers/s', 'per server CPU-s', 'p50', 'p99', 'statuses']];
  const row = (what: string, r: Awaited<ReturnType<typeof submitLoad>>, counted: string) => {
    const statuses = Object.entries(r.statusCodeStats)
      .map(([s, v]) => `${v.count} × ${s}`)
      .join(', ');
    rows.push([
      what,
      count(r, counted) / r.duration,
      count(r, counted) / r.serverCpu,
      `${fmt(r.latency.p50, 1)} ms`,
      `${fmt(r.latency.p99, 1)} ms`,
      `${statuses}${r.errors ? `, ${r.errors} errors` : ''}${r.timeouts ? `, ${r.timeouts} timeouts` : ''}`,
    ]);
  };

  // 1. The floor: intake only.
  let e = await prepare();
  let server = await startServer({ ...e.env, SUBMIT_WAIT_MS: '0' }, ['--role', 'api']);
  try {
    row('bare intake floor (202: stored, fsynced, inserted; no crypto)', await submitLoad(server, e.apiKey, bodyFile, { connections: CONNECTIONS }), '202');
  } finally {
    await server.stop();
    await fs.rm(e.dir, { recursive: true, force: true });
  }

  // 2. and 3. The whole service.
  e = await prepare();
  server = await startServer({ ...e.env, SUBMIT_WAIT_MS: '10000', LOG_LEVEL: 'info' });
  const mode = /sealing: ([^"]*)/.exec(server.output())?.[1] ?? 'unknown';
  try {
    row('accepted and sealed, max (201: proof of dispatch sealed)', await submitLoad(server, e.apiKey, bodyFile, { connections: CONNECTIONS }), '201');
    await new Promise((r) => setTimeout(r, 3000)); // let the deposits of the burst drain
    for (const rate of RATES) {
      row(`accepted and sealed at a fixed ${rate}/s, evenly paced`, await submitLoad(server, e.apiKey, bodyFile, { connections: Math.min(CONNECTIONS * 2, rate), overallRate: rate, paced: true }), '201');
      await new Promise((r) => setTimeout(r, 3000));
    }
  } finally {
    await server.stop();
    await fs.rm(e.dir, { recursive: true, force: true });
  }
  table(rows);
  console.log(`sealing mode: ${mode}`);

  // 4. Memory for a big streamed upload.
  if (UPLOAD_GB > 0) {
    e = await prepare({ MAX_DOCUMENT_BYTES: String(Math.ceil(UPLOAD_GB * 2 ** 30) + 1), ALLOWED_MEDIA_TYPES: '*/*' });
    server = await startServer({ ...e.env, SUBMIT_WAIT_MS: '10000' });
    try {
      const r = await bigUpload(server, e.apiKey, Math.floor(UPLOAD_GB * 2 ** 30));
      console.log(
        `${UPLOAD_GB} GiB streamed upload: HTTP ${r.status} in ${fmt(r.seconds, 1)} s (${fmt((UPLOAD_GB * 1024) / r.seconds)} MiB/s); server RSS ${fmt(r.startMiB)} MiB before, peak (VmHWM) ${fmt(r.peakMiB)} MiB`,
      );
    } finally {
      await server.stop();
      await fs.rm(e.dir, { recursive: true, force: true });
    }
  }
  await fs.rm(work, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
