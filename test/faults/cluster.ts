/**
 * The service processes of a campaign, run as `npm start` runs them (the compiled build,
 * `node dist/src/cli/server.js --role all|api|worker`), each one supervised: killed or
 * stopped by the scenario and started again by it, as systemd or an orchestrator would.
 * An API process keeps its port across restarts, so clients reconnect to the same URL.
 *
 * Each process keeps the tail of its log (pino JSON) for the report, and counts the lines
 * it logged at error level or above.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { ROOT } from '../helpers/build.js';
import { sleep } from './rng.js';

export type Role = 'all' | 'api' | 'worker';

const SERVER = path.join(ROOT, 'dist/src/cli/server.js');
const TAIL_LINES = 200;
/** A start on a loaded machine (migrations, the blob sweep, the sealing threads) takes seconds; this is the limit. */
const START_TIMEOUT_MS = 90_000;
/** The service gives itself 10 s to stop; beyond this the supervisor kills it. */
const STOP_TIMEOUT_MS = 30_000;

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

export interface ExitRecord {
  signal: NodeJS.Signals | null;
  code: number | null;
  /** what the supervisor asked: SIGKILL, SIGTERM, or nothing (the process ended on its own) */
  asked?: NodeJS.Signals;
}

export class ServiceProcess {
  private child: ChildProcess | undefined;
  private tailLines: string[] = [];
  private partial = '';
  /** lines logged at level error (50) or above, over every run of this process */
  errorLines = 0;
  /** the first few of them (message only: nothing secret is logged) */
  readonly errorSamples: string[] = [];
  /** every start */
  starts = 0;
  /** exits the supervisor did not ask for, or graceful stops that did not end with 0 */
  readonly unexpectedExits: ExitRecord[] = [];
  private asked: NodeJS.Signals | undefined;
  /** called when the process ends without being asked to (the supervisor restarts it) */
  onCrash: ((exit: ExitRecord) => void) | undefined;

  constructor(
    readonly name: string,
    readonly role: Role,
    private readonly env: () => Record<string, string>,
    /** the API port (fixed across restarts); 0 for a worker */
    readonly port: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  tail(lines = 40): string {
    return [...this.tailLines.slice(-lines), this.partial].join('\n');
  }

  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    this.asked = undefined;
    const child = spawn(process.execPath, [SERVER, '--role', this.role], {
      cwd: ROOT,
      env: { ...process.env, ...this.env(), PORT: String(this.port), HOST: '127.0.0.1', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.starts++;
    let workerReady = false;
    let ready = false;
    const onData = (d: Buffer) => {
      const text = this.partial + d.toString('utf8');
      const lines = text.split('\n');
      this.partial = lines.pop()!;
      for (const line of lines) {
        this.tailLines.push(line);
        if (line.includes('"registered-mail worker running"')) workerReady = true;
        if (line.startsWith('{')) {
          try {
            const entry = JSON.parse(line) as { level?: number; msg?: string };
            if ((entry.level ?? 0) >= 50) {
              this.errorLines++;
              if (this.errorSamples.length < 5) this.errorSamples.push(`${this.name}: ${entry.msg}`);
            }
          } catch {
            /* not JSON after all */
          }
        }
      }
      if (this.tailLines.length > TAIL_LINES * 2) this.tailLines = this.tailLines.slice(-TAIL_LINES);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code, signal) => {
      const asked = this.asked;
      const exit: ExitRecord = { code, signal, ...(asked ? { asked } : {}) };
      if (!asked || (asked === 'SIGTERM' && code !== 0)) this.unexpectedExits.push(exit);
      if (!asked && ready) this.onCrash?.(exit);
    });
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${this.name} exited at start (${child.exitCode ?? child.signalCode}):\n${this.tail()}`);
      if ((this.role === 'worker' ? workerReady : await answers(`${this.url}/healthz`)) && this.running) {
        ready = true;
        return;
      }
      if (Date.now() > deadline) {
        await this.kill();
        throw new Error(`${this.name} did not start within ${START_TIMEOUT_MS / 1000} s:\n${this.tail()}`);
      }
      await sleep(this.role === 'worker' ? 50 : 100);
    }
  }

  /** SIGKILL: no clean-up of any kind. Resolves once the process is gone. */
  kill(): Promise<void> {
    return this.signal('SIGKILL');
  }

  /** SIGTERM, as an orchestrator stops a process; killed if it takes longer than STOP_TIMEOUT_MS. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.asked = 'SIGTERM';
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.asked = signal;
    child.kill(signal);
    await exited;
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}
