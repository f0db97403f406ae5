/**
 * SQLite commits made durable off the main thread.
 *
 * better-sqlite3 runs every statement on the thread that calls it, and with `synchronous =
 * FULL` a COMMIT in WAL mode waits there for the fsync of the write-ahead log: the main thread
 * blocked on the disk, a fifth of its time in `bench:sqlite-thread`'s profile. Instead the
 * connection runs with `synchronous = NORMAL` — a COMMIT writes its frames to the WAL and
 * returns — and the statement that ended the transaction answers only once this module has had
 * the WAL file synced (`fdatasync` on libuv's thread pool). The main thread serves other work
 * meanwhile.
 *
 * What makes it as durable as FULL:
 * - In WAL mode FULL differs from NORMAL only by the sync of the WAL after each commit
 *   (https://www.sqlite.org/pragma.html#pragma_synchronous); NORMAL still syncs the WAL before
 *   each checkpoint, the database after it, and the WAL's header when the log is reused. Syncing
 *   the WAL file after the commit's frames were written is the sync FULL makes.
 * - Whatever ends a transaction waits for the sync: a COMMIT (or RELEASE of the outermost
 *   savepoint), and a write outside any transaction (its own transaction). knex awaits the
 *   statement, so the transaction's promise, and the caller's 2xx, come after the sync.
 * - The connection stays taken while it waits (knex gives it back once the statement has
 *   answered; SQLite has one connection here), so no other statement of this process can read
 *   rows that are not yet durable and act on them.
 * - The WAL file is the one SQLite writes: the service's connection stays open for the process's
 *   life, so SQLite never deletes its WAL under it; the file's inode is checked before each sync
 *   all the same, and a new file is opened (and its folder synced, for its name) if it changed.
 * - A failed sync fails the statement: the commit is then reported failed though it may be in
 *   the log, the case of a commit whose answer was lost, which the callers already handle.
 */
import fs from 'node:fs';
import path from 'node:path';

interface Statement {
  readonly readonly: boolean;
  readonly source: string;
  run(...args: unknown[]): unknown;
  all(...args: unknown[]): unknown;
  get(...args: unknown[]): unknown;
}
export interface SyncedConnection {
  readonly inTransaction: boolean;
  prepare(sql: string): unknown;
  exec(sql: string): unknown;
  close(): unknown;
}

/** Syncs one file's data: `fdatasync` on libuv's thread pool (tests give their own). */
export type SyncFile = (fd: number) => Promise<void>;
const fdatasync: SyncFile = (fd) => new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));

const ROLLBACK = /^\s*ROLLBACK\b/i;

export class WalSync {
  private fd: number | undefined;
  private ino: number | undefined;

  constructor(
    /** the database file; its log is `${filename}-wal` */
    private readonly filename: string,
    private readonly syncFile: SyncFile = fdatasync,
  ) {}

  get walPath(): string {
    return `${this.filename}-wal`;
  }

  /** Makes the connection's statements that end a transaction answer once the WAL is synced. */
  attach(conn: SyncedConnection): void {
    const prepare = conn.prepare.bind(conn);
    conn.prepare = (sql: string) => this.wrap(conn, prepare(sql) as Statement);
    const proto = Object.getPrototypeOf(conn) as SyncedConnection;
    conn.exec = (sql: string) => {
      const before = conn.inTransaction;
      proto.exec.call(conn, sql);
      // exec answers the connection itself; a multi-statement script ends as a statement does
      return this.ended(conn, before, false, sql) ? this.sync().then(() => conn) : conn;
    };
    // the log's file is closed with the connection
    conn.close = () => {
      this.close();
      return proto.close.call(conn);
    };
  }

  private wrap(conn: SyncedConnection, statement: Statement): Statement {
    const proto = Object.getPrototypeOf(statement) as Statement;
    for (const method of ['run', 'all', 'get'] as const) {
      // the prototype's method, looked up at each call (what the driver's class has then)
      statement[method] = (...args: unknown[]) => {
        const before = conn.inTransaction;
        const result = proto[method].apply(statement, args);
        return this.ended(conn, before, statement.readonly, statement.source) ? this.sync().then(() => result) : result;
      };
    }
    return statement;
  }

  /** Whether the statement just run ended a transaction that wrote (or wrote on its own). */
  private ended(conn: SyncedConnection, before: boolean, readonly: boolean, sql: string): boolean {
    if (conn.inTransaction) return false;
    if (before) return !ROLLBACK.test(sql);
    return !readonly;
  }

  /**
   * Syncs the WAL file. Fails as SQLite would have failed the COMMIT: a full disk as it is
   * (ENOSPC, EDQUOT), any other error as SQLITE_IOERR_FSYNC (src/domain/outage.ts: the
   * database unavailable, 503).
   */
  async sync(): Promise<void> {
    try {
      await this.syncWal();
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code === 'ENOSPC' || code === 'EDQUOT') throw err;
      throw Object.assign(new Error(`syncing the database's write-ahead log failed: ${(err as Error).message}`, { cause: err }), { code: 'SQLITE_IOERR_FSYNC' });
    }
  }

  /** Syncs the WAL file (opening it first, or again if SQLite replaced it). */
  private async syncWal(): Promise<void> {
    const st = await fs.promises.stat(this.walPath);
    if (this.fd === undefined || st.ino !== this.ino) {
      this.close();
      this.fd = fs.openSync(this.walPath, 'r+');
      this.ino = fs.fstatSync(this.fd).ino;
      // the log's name in its folder, as SQLite syncs it when it creates the file with FULL
      const dir = fs.openSync(path.dirname(this.walPath), 'r');
      try {
        await this.syncFile(dir);
      } finally {
        fs.closeSync(dir);
      }
    }
    await this.syncFile(this.fd);
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
    this.ino = undefined;
  }
}
