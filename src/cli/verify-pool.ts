/**
 * Runs `verify --dir` on all cores: a fixed pool of workers started once (never one per
 * proof), each given the trust anchors once and then proofs in small batches, at most two
 * batches in flight per worker so that a slow proof never idles the others.
 *
 * Child processes or worker threads? Measured with `npm run bench:verify` (10,000 proofs from
 * the service's sealing code, 2 cores, 3 interleaved rounds, whole CLI wall time): 2 worker
 * threads 3,474 proofs/s (3,057–3,673), 2 worker processes 2,882 proofs/s (2,626–3,005). Both
 * do the same per-proof work (one synchronous read, one parse, path validation with the
 * crypto layer's cache); threads start faster and pass messages more cheaply. Threads are the
 * default of the compiled CLI; from the TypeScript sources (`npm run verify`, the tests) child
 * processes are used, as tsx cannot load TypeScript inside worker_threads on Node 20.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ProofInput, ProofReport } from '../audit/verify.js';
import { UsageError } from './report/exit.js';
import type { FromWorker, ToWorker } from './verify-worker.js';

export type PoolKind = 'process' | 'thread';

const HERE = fileURLToPath(import.meta.url);
const WORKER_FILE = path.join(path.dirname(HERE), `verify-worker${path.extname(HERE)}`);
/** Proofs per message to a worker: small enough that every worker gets a share of a small run. */
const MAX_BATCH = 8;

interface Endpoint {
  send(m: ToWorker): void;
  onMessage(h: (m: FromWorker) => void): void;
  onExit(h: (code: number | null) => void): void;
  stop(): Promise<void>;
  lastWords(): string;
}

function processEndpoint(): Endpoint {
  // execArgv is inherited: under tsx the child loads TypeScript the same way the parent does.
  const execArgv = process.execArgv.filter((a) => !a.startsWith('--inspect')); // one debugger port cannot serve several workers
  const child: ChildProcess = fork(WORKER_FILE, [], { execArgv, serialization: 'advanced', stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  // A worker's stderr is kept (the last few KiB) to explain a crash, not shown as a stack trace.
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString('utf8')).slice(-4096)));
  return {
    lastWords: () => stderr,
    send: (m) => child.send(m),
    onMessage: (h) => child.on('message', (m) => h(m as FromWorker)),
    onExit: (h) => child.on('exit', (code) => h(code)),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.disconnect();
      await exited;
    },
  };
}

function threadEndpoint(): Endpoint {
  if (!WORKER_FILE.endsWith('.js')) throw new UsageError('--pool thread needs the compiled CLI (npm run build, then node dist/src/cli/verify.js)');
  const worker = new Worker(WORKER_FILE);
  let error = '';
  worker.on('error', (err) => (error = err.message));
  return {
    lastWords: () => error,
    send: (m) => worker.postMessage(m),
    onMessage: (h) => worker.on('message', h),
    onExit: (h) => worker.on('exit', (code) => h(code)),
    stop: async () => {
      await worker.terminate();
    },
  };
}

/**
 * Verifies `inputs` on `workers` workers, calling `onReport` as each proof is done (in
 * completion order). Rejects if a worker dies (a defect: verification itself never throws).
 */
export async function runPool(
  inputs: readonly ProofInput[],
  options: { trustAnchors: Uint8Array[]; at?: Date; crls?: Uint8Array[]; recordsAt?: Date; workers: number; kind: PoolKind },
  onReport: (r: ProofReport) => void,
): Promise<void> {
  const endpoints: Endpoint[] = [];
  let next = 0;
  let done = 0;
  let stopping = false;
  try {
    await new Promise<void>((resolve, reject) => {
      const count = Math.max(1, Math.min(options.workers, inputs.length));
      const batch = Math.max(1, Math.min(MAX_BATCH, Math.floor(inputs.length / (count * 4))));
      for (let w = 0; w < count; w++) {
        const ep = options.kind === 'thread' ? threadEndpoint() : processEndpoint();
        endpoints.push(ep);
        let inFlight = 0;
        const feed = () => {
          while (inFlight < 2 * batch && next < inputs.length) {
            const jobs = inputs.slice(next, next + batch).map((input, i) => ({ id: next + i, input }));
            next += jobs.length;
            inFlight += jobs.length;
            ep.send({ kind: 'jobs', jobs });
          }
        };
        ep.onMessage((m) => {
          if (m.kind === 'ready') return feed();
          inFlight--;
          done++;
          onReport(m.report);
          if (done === inputs.length) resolve();
          else if (inFlight <= batch) feed();
        });
        ep.onExit((code) => {
          if (stopping || done >= inputs.length) return;
          const words = ep.lastWords().trim().split('\n').find((l) => /error/i.test(l)) ?? '';
          if (process.env.DEBUG) process.stderr.write(ep.lastWords());
          reject(new Error(`a verifier worker exited (code ${code}) with proofs pending${words ? `: ${words.trim()}` : ''}`));
        });
        ep.send({
          kind: 'init',
          trustAnchors: options.trustAnchors,
          ...(options.at ? { at: options.at.toISOString() } : {}),
          ...(options.crls?.length ? { crls: options.crls } : {}),
          ...(options.recordsAt ? { recordsAt: options.recordsAt.toISOString() } : {}),
        });
      }
      if (inputs.length === 0) resolve();
    });
  } finally {
    stopping = true;
    await Promise.all(endpoints.map((e) => e.stop()));
  }
}
