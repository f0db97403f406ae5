/**
 * SQLite's checkpoints in a thread of their own. In WAL mode the log is copied back into the
 * database file from time to time (a checkpoint: the log synced, its pages written, the
 * database synced). SQLite does it by itself in the COMMIT that crosses a thousand pages,
 * on the connection's thread — the main thread, with the connection held. Here the service's
 * connection turns that off (`wal_autocheckpoint = 0`) and this thread, with a connection of
 * its own, runs `PRAGMA wal_checkpoint(PASSIVE)` after every CHECKPOINT_EVERY commits: a
 * passive checkpoint neither waits for nor stops the writer, and SQLite starts the log over
 * at the writer's next transaction once the checkpoint has copied all of it. The checkpoint
 * syncs the log before copying it and the database after (synchronous = FULL on this
 * connection), so what it copies is as durable as before.
 *
 * The thread starts with the first checkpoint (a database that sees few commits never starts
 * it) and never keeps the process alive. If it cannot start or ends, the connection goes back
 * to SQLite's own checkpoints.
 *
 * The thread is a few lines of plain JavaScript, the same from the compiled service and from
 * the TypeScript sources (a worker thread does not inherit tsx's loader on Node 20).
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** Commits between two checkpoints: about SQLite's own thousand pages at a letter's 10–15. */
export const CHECKPOINT_EVERY = 80;

const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.filename);
db.pragma('busy_timeout = 5000');
db.pragma('synchronous = FULL');
parentPort.on('message', (m) => {
  if (m === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    const r = db.pragma('wal_checkpoint(PASSIVE)')[0];
    parentPort.postMessage({ busy: r.busy, log: r.log, checkpointed: r.checkpointed });
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message), code: err && err.code });
  }
});
parentPort.postMessage({ ready: true });
`;

export interface CheckpointResult {
  busy: number;
  /** frames in the log, and frames copied into the database */
  log: number;
  checkpointed: number;
}

export class Checkpointer {
  private worker: Worker | undefined;
  private running: Promise<CheckpointResult | undefined> | undefined;
  private failed = false;
  private closed = false;
  /** checkpoints made (tests) */
  done = 0;

  constructor(
    private readonly filename: string,
    /** called once if the thread cannot run: the connection takes back SQLite's own checkpoints */
    private readonly fallBack: () => void,
  ) {}

  /** Runs a checkpoint in the thread unless one is under way; resolves with what it did (undefined if none ran). */
  checkpoint(): Promise<CheckpointResult | undefined> {
    if (this.failed || this.closed) return Promise.resolve(undefined);
    this.running ??= this.run().finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(): Promise<CheckpointResult | undefined> {
    try {
      const w = (this.worker ??= await this.start());
      const r = await new Promise<CheckpointResult | { error: string; code?: string }>((resolve, reject) => {
        const onExit = () => reject(new Error('the checkpoint thread exited'));
        w.once('exit', onExit);
        w.once('message', (m: CheckpointResult | { error: string }) => {
          w.off('exit', onExit);
          resolve(m);
        });
        w.ref();
        w.postMessage('checkpoint');
      }).finally(() => w.unref());
      // SQLITE_BUSY and the like: the next checkpoint tries again
      if ('error' in r) return undefined;
      this.done++;
      return r;
    } catch {
      if (!this.closed) this.giveUp();
      return undefined;
    }
  }

  private start(): Promise<Worker> {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const w = new Worker(THREAD, { eval: true, workerData: { filename: this.filename, driver } });
    w.unref();
    return new Promise((resolve, reject) => {
      w.once('error', reject);
      w.once('message', () => {
        w.off('error', reject);
        // an error after start ends the thread: the next checkpoint finds it gone
        w.on('error', () => undefined);
        resolve(w);
      });
    });
  }

  private giveUp(): void {
    if (this.failed) return;
    this.failed = true;
    void this.worker?.terminate();
    this.worker = undefined;
    this.fallBack();
  }

  /** Ends the thread (after the checkpoint under way, if any) and closes its connection. */
  async close(): Promise<void> {
    this.closed = true;
    await this.running?.catch(() => undefined);
    const w = this.worker;
    this.worker = undefined;
    if (!w) return;
    await new Promise<void>((resolve) => {
      w.once('exit', () => resolve());
      w.ref();
      w.postMessage('close');
    });
  }
}
