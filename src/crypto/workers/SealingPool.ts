/**
 * Sealing on every core: a small pool of worker threads, each with its own proof writer
 * (CadesTWriter) and built-in TSA token writer (keys passed as KeyObjects, which worker
 * threads can receive). The main thread keeps HTTP, the database and the job runner; a proof costs it one message
 * each way.
 *
 * The worker is compiled JavaScript (`sealWorker.js` beside this module under dist/). Run from
 * the TypeScript sources (tsx: tests, `npm run dev`) there is no such file, and
 * `SealingPool.workerFile()` says so: the caller then seals in its own thread.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { NativeSigningIdentity } from '../Signer.js';
import type { NativeTsaConfig } from '../TimeStampAuthority.js';

export interface SealWorkerData {
  seal: NativeSigningIdentity;
  tsa: NativeTsaConfig;
}

export interface SealRequest {
  id: number;
  content: Uint8Array;
  /** epoch milliseconds */
  signingTime: number;
}

export type SealResponse = { id: number; der: Uint8Array } | { id: number; error: string };

interface Pending {
  resolve: (der: Uint8Array) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
}

export class SealingPool {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private closed = false;

  /** The compiled worker beside this module, or undefined when running from TypeScript sources. */
  static workerFile(): string | undefined {
    const file = fileURLToPath(new URL('./sealWorker.js', import.meta.url));
    return import.meta.url.endsWith('.js') && existsSync(file) ? file : undefined;
  }

  constructor(
    readonly size: number,
    private readonly data: SealWorkerData,
    private readonly file: string = SealingPool.workerFile() ?? '',
  ) {
    if (!file) throw new Error('SealingPool: the compiled sealing worker (sealWorker.js) is absent');
    if (!(size >= 1)) throw new RangeError('SealingPool: size must be at least 1');
    // Workers start on demand (a process that never seals — `--role api` — starts none): a new
    // one whenever every running one is busy, up to `size`.
  }

  private spawn(): Slot {
    const worker = new Worker(this.file, { workerData: this.data, resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 64 } });
    worker.unref(); // the pool never keeps a process alive by itself
    const slot: Slot = { worker, pending: new Map() };
    worker.on('message', (r: SealResponse) => {
      const p = slot.pending.get(r.id);
      if (!p) return;
      slot.pending.delete(r.id);
      if ('der' in r) p.resolve(r.der);
      else p.reject(new Error(`sealing worker: ${r.error}`));
    });
    const fail = (err: Error) => {
      for (const p of slot.pending.values()) p.reject(err);
      slot.pending.clear();
      if (this.closed) return;
      // A worker that died is dropped; the next seal starts another if it needs one (no loop
      // of restarts if a worker cannot start at all: each seal then fails on its own).
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
    };
    worker.on('error', (err) => fail(err));
    worker.on('exit', (code) => fail(new Error(`sealing worker exited with code ${code}`)));
    return slot;
  }

  /** Seals `content` in the least busy worker. */
  seal(content: Uint8Array, signingTime: Date): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(new Error('SealingPool is closed'));
    let slot = this.slots[0];
    for (const s of this.slots) if (s.pending.size < slot!.pending.size) slot = s;
    if (!slot || (slot.pending.size > 0 && this.slots.length < this.size)) {
      slot = this.spawn();
      this.slots.push(slot);
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      // A worker keeps the process alive while it owes an answer.
      if (slot.pending.size === 1) slot.worker.ref();
      const request: SealRequest = { id, content, signingTime: signingTime.getTime() };
      slot.worker.postMessage(request);
    }).finally(() => {
      if (slot.pending.size === 0) slot.worker.unref();
    }) as Promise<Uint8Array>;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
