/**
 * Where the time of a sealed submission goes, in system calls: counts the fsync/fdatasync
 * calls of the service process (strace -f -c) while N submissions of a 100 KB document are
 * made, once for the bare intake (`--role api`, SUBMIT_WAIT_MS=0) and once for the whole
 * service (each submission sealed, then deposited and sealed again). Needs strace (Debian).
 *
 *   npm run build && node dist/scripts/bench-fsync.js [N]
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { load, machine, runScript, startServer, table } from './bench-lib.js';

const N = Number(process.argv[2] ?? 200);
const RECIPIENT = '85073003328';
const BOUNDARY = '----bench-boundary-fsync';

async function measure(role: 'api' | 'all'): Promise<Array<string | number>> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-fsync-'));
  const env = { DATA_DIR: dir, DEV_CERTS_DIR: path.join(dir, 'certs'), LOG_LEVEL: 'warn', SUBMIT_WAIT_MS: role === 'api' ? '0' : '10000' };
  const { apiKey } = JSON.parse(await runScript('create-sender', ['--name', 'fsync', '--json'], env)) as { apiKey: string };
  await runScript('create-recipient', ['--type', 'citizen', '--id', RECIPIENT, '--json'], env);
  const metadata = JSON.stringify({ recipient: { type: 'citizen', id: RECIPIENT }, subject: { en: 'fsync' }, documents: [{ httpPartName: 'main', isMainContent: true }] });
  const body = Buffer.concat([
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n${metadata}\r\n--${BOUNDARY}\r\nContent-Disposition: form-data; name="main"; filename="m.pdf"\r\nContent-Type: application/pdf\r\n\r\n`),
    Buffer.alloc(100 * 1024, 0x25),
    Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  ]);
  await fs.writeFile(path.join(dir, 'body.bin'), body);
  const server = await startServer(env, role === 'api' ? ['--role', 'api'] : []);
  const strace = spawn('strace', ['-f', '-c', '-e', 'trace=fsync,fdatasync', '-p', String(server.pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let report = '';
  strace.stderr.on('data', (d) => (report += d));
  await new Promise((r) => setTimeout(r, 1000));
  const r = await load({
    url: `${server.url}/v1/messages`,
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
    bodyFile: path.join(dir, 'body.bin'),
    connections: 8,
    duration: 120,
    amount: N,
  });
  if (role === 'all') await new Promise((r) => setTimeout(r, 3000)); // the deposits that follow
  strace.kill('SIGINT');
  await new Promise((r) => strace.once('exit', r));
  await server.stop();
  await fs.rm(dir, { recursive: true, force: true });
  // strace -c lines: % time, seconds, usecs/call, calls, [errors,] syscall
  const calls = (name: string) => {
    const line = report.split('\n').find((l) => l.trim().split(/\s+/).at(-1) === name);
    return line ? Number(line.trim().split(/\s+/)[3]) : 0;
  };
  const fsyncs = calls('fsync') + calls('fdatasync');
  const ok = Object.entries(r.statusCodeStats).map(([s, v]) => `${v.count} × ${s}`).join(', ');
  return [role === 'api' ? 'bare intake (--role api)' : 'accepted and sealed (+ deposit)', N, ok, fsyncs, (fsyncs / N).toFixed(1)];
}

async function main(): Promise<void> {
  console.log(`fsync/fdatasync calls per submission (strace -f -c on the service), ${N} submissions of 100 KB; ${machine()}`);
  table([['service', 'submissions', 'answers', 'fsync+fdatasync', 'per submission'], await measure('api'), await measure('all')]);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
