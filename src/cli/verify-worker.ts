/**
 * A verifier worker for `verify --dir`: receives the trust anchors once, then batches of
 * proof inputs, and answers one report per proof. The same file runs as a child process
 * (forked, IPC with structured clone) or as a worker thread (compiled JavaScript only: on
 * Node 20 tsx cannot load TypeScript inside worker_threads). See verify-pool.ts.
 */
import { parentPort } from 'node:worker_threads';
import { recordVerifierFor, verifyForBatch, type ProofInput, type ProofReport, type VerifyProofOptions } from '../audit/verify.js';

/** Proofs a worker has in progress at once. */
const CONCURRENT_PROOFS = 4;

export type ToWorker = { kind: 'init'; trustAnchors: Uint8Array[]; at?: string; crls?: Uint8Array[]; recordsAt?: string } | { kind: 'jobs'; jobs: Array<{ id: number; input: ProofInput }> };
export type FromWorker = { kind: 'ready' } | { kind: 'result'; id: number; report: ProofReport };

function serve(send: (m: FromWorker) => void, onMessage: (handler: (m: ToWorker) => void) => void): void {
  let options: VerifyProofOptions | undefined;
  const waiting: Array<{ id: number; input: ProofInput }> = [];
  let running = 0;
  onMessage((m) => {
    if (m.kind === 'init') {
      const trustAnchors = m.trustAnchors.map((a) => new Uint8Array(a));
      // One record verifier for the worker's life: a tree's archive time-stamps are verified once, whichever of its proofs come here.
      const recordsAt = m.recordsAt ? new Date(m.recordsAt) : m.at ? new Date(m.at) : undefined;
      options = {
        trustAnchors,
        ...(m.at ? { at: new Date(m.at) } : {}),
        ...(m.crls ? { crls: m.crls.map((c) => new Uint8Array(c)) } : {}),
        records: recordVerifierFor({ trustAnchors, ...(recordsAt ? { at: recordsAt } : {}) }),
      };
      send({ kind: 'ready' });
      return;
    }
    // A worker is one core's worth of work, but each proof also waits on file reads (the
    // proof, its documents): a few are in progress at once so the core is not idle then.
    waiting.push(...m.jobs);
    pump();
  });
  const pump = () => {
    while (running < CONCURRENT_PROOFS && waiting.length > 0) {
      const job = waiting.shift()!;
      running++;
      void verifyForBatch(job.input, options!).then((report) => {
        running--;
        send({ kind: 'result', id: job.id, report });
        pump();
      });
    }
  };
}

if (parentPort) {
  const port = parentPort;
  serve(
    (m) => port.postMessage(m),
    (h) => port.on('message', h),
  );
} else if (process.send) {
  const send = process.send.bind(process);
  serve(
    // The parent may already be gone (it stops the pool once every proof is answered): drop the message.
    (m) => {
      if (process.connected) send(m, undefined, undefined, () => undefined);
    },
    (h) => process.on('message', (m) => h(m as ToWorker)),
  );
  // The parent going away (Ctrl-C, a crash) ends the worker too.
  process.on('disconnect', () => process.exit(0));
}
