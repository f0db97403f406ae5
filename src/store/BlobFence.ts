/**
 * The fence between committing documents and sweeping the blob store.
 *
 * A document's bytes are moved into place (renamed into `objects/`, fsynced) before the
 * transaction that writes its row commits: for a moment an object exists that no row names
 * yet. A sweep that removed unreferenced objects in that moment would delete the bytes of a
 * message about to be acknowledged. So the two exclude each other: an intake holds the fence
 * shared from before its rename until its commit, and the sweep holds it exclusively while
 * it checks each candidate against the database and deletes it. Intakes do not wait for each
 * other, and a sweep sees either no row and no intake in progress, or the committed row.
 *
 * On PostgreSQL the fence is an advisory lock held by the intake's own transaction
 * (`pg_advisory_xact_lock_shared`) and by the sweep's (`pg_advisory_xact_lock`), so it holds
 * across processes and machines, and a process that dies lets go of it with its session.
 * SQLite serves one process, so there it is a read/write lock in that process.
 */

/** The advisory lock key (any 64-bit number unique to this purpose). */
export const BLOB_FENCE_LOCK_KEY = 7_245_114_901;

/** A read/write lock within one process; a waiting writer goes before later readers. */
export class LocalFence {
  private readers = 0;
  private writer = false;
  private readonly waitingWriters: Array<() => void> = [];
  private readonly waitingReaders: Array<() => void> = [];

  async shared<T>(work: () => Promise<T>): Promise<T> {
    if (this.writer || this.waitingWriters.length > 0) await new Promise<void>((resolve) => this.waitingReaders.push(resolve));
    else this.readers++;
    try {
      return await work();
    } finally {
      this.readers--;
      this.next();
    }
  }

  async exclusive<T>(work: () => Promise<T>): Promise<T> {
    if (this.writer || this.readers > 0) await new Promise<void>((resolve) => this.waitingWriters.push(resolve));
    else this.writer = true;
    try {
      return await work();
    } finally {
      this.writer = false;
      this.next();
    }
  }

  /** Lets the next holders in: a waiting writer once no reader is left, else every waiting reader. */
  private next(): void {
    if (this.writer) return;
    if (this.readers === 0 && this.waitingWriters.length > 0) {
      this.writer = true;
      this.waitingWriters.shift()!();
      return;
    }
    if (this.waitingWriters.length === 0) {
      while (this.waitingReaders.length > 0) {
        this.readers++;
        this.waitingReaders.shift()!();
      }
    }
  }
}
