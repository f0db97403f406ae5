/**
 * Runs the service as a real child process, to kill it (SIGKILL) and start it again: from the
 * TypeScript sources (tsx), or compiled (`node dist/src/cli/server.js`, as `npm start` runs it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

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

export interface ServiceProcess {
  child: ChildProcess;
  url: string;
  output: () => string;
}

export interface CompiledServiceProcess extends ServiceProcess {
  /** the pino JSON lines it has logged so far (stdout) */
  logs: () => Array<Record<string, any>>;
}

/**
 * Starts `node dist/src/cli/server.js` (build it first: test/helpers/build.ts) on an ephemeral
 * port (PORT=0), logging at info; ready once it logs where it listens and answers /healthz.
 */
export async function startCompiledService(env: Record<string, string>, args: string[] = []): Promise<CompiledServiceProcess> {
  let out = '';
  const child = spawn(process.execPath, [path.join(ROOT, 'dist/src/cli/server.js'), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout!.on('data', (d) => {
    out += d;
    stdout += d;
  });
  child.stderr!.on('data', (d) => (out += d));
  const logs = () =>
    stdout.split('\n').flatMap((line) => {
      try {
        return line.startsWith('{') ? [JSON.parse(line) as Record<string, any>] : [];
      } catch {
        return []; // a line still being written
      }
    });
  const deadline = Date.now() + 30_000;
  let url: string | undefined;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}: ${out}`);
    url ??= logs().find((l) => typeof l.msg === 'string' && l.msg.startsWith('registered-mail listening on '))?.msg.slice('registered-mail listening on '.length);
    if (url) {
      const res = await fetch(`${url}/healthz`).catch(() => undefined);
      if (res?.ok) break;
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`service did not start: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, url, output: () => out, logs };
}

export async function startServiceProcess(env: Record<string, string>, port: number, args: string[] = []): Promise<ServiceProcess> {
  let out = '';
  const worker = args.includes('worker');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/server.ts'), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: worker ? 'info' : 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  if (worker) {
    // a worker serves no HTTP: ready once it says so
    while (!out.includes('worker running')) {
      if (child.exitCode !== null) throw new Error(`worker exited with ${child.exitCode}: ${out}`);
      if (Date.now() > deadline) throw new Error(`worker did not start: ${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return { child, url, output: () => out };
  }
  for (;;) {
    if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}: ${out}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`service did not start: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, url, output: () => out };
}

export async function kill(p: ServiceProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  const exited = new Promise((r) => p.child.once('exit', r));
  p.child.kill(signal);
  await exited;
}

export function runScript(script: string, args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, script), ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${script} exited ${code}: ${err}`))));
  });
}
