/**
 * SQLite commits made durable off the main thread, and without holding the connection while
 * the disk works.
 *
 * better-sqlite3 runs every statement on the thread that calls it, and with `synchronous =
 * FULL` a COMMIT in WAL mode waits there for the fsync of the write-ahead log: the main thread
 * blocked on the disk (the COMMIT was an eighth of the sealed server's main thread). Instead
 * the connection runs with `synchronous = NORMAL` — a COMMIT writes its frames to the WAL and
 * returns — and this module has the WAL file synced (`fdatasync` on libuv's thread pool)
 * before anything that depends on the commit is answered:
 *
 * - **The group commit** (CommitGroup.ts) marks its COMMIT as deferred (`deferCommit`): the
 *   COMMIT returns at once, the connection goes to the next group, and the group's units are
 *   resolved once a sync that began after their COMMIT has finished (`durable`). The next
 *   group's statements run while the disk syncs this one's: the log is written in order, so
 *   one sync covers every commit before it, and syncs asked for while one runs share the next.
 * - **Every other statement** that ends a transaction that wrote, or writes on its own,
 *   answers once the log is synced, holding the connection meanwhile (rare paths).
 * - **Nothing not yet durable is read outside the group commit**: a statement outside any
 *   transaction first waits, holding the connection, until every commit before it is durable,
 *   so no other group can commit meanwhile and what it reads is on disk. The group's own units
 *   may read the commits of the group before (SQLite has one connection), but what they
 *   return reaches their callers only once their own commit, later in the log, is durable.
 *   A read-only snapshot (Repositories.snapshot) waits the same way at its start.
 *
 * What makes it as durable as FULL: in WAL mode FULL differs from NORMAL only by the sync of
 * the WAL after each commit (https://www.sqlite.org/pragma.html#pragma_synchronous); NORMAL
 * still syncs the WAL before each checkpoint, the database after it, and the WAL's header
 * when the log is reused. So a commit's frames are on disk once a sync of the WAL file that
 * began after its COMMIT has finished — or, if a checkpoint reused the log in between, the
 * checkpoint synced them and then the database holding them. The WAL file is the one SQLite
 * writes: the connection stays open for the process's life, so SQLite never deletes its WAL
 * under it; its inode is checked before each sync all the same. A failed sync fails every
 * commit waiting for it (SQLITE_IOERR_FSYNC: a 503, src/domain/outage.ts), as a commit whose
 * answer was lost: the callers already look again for what such a commit may have written.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';

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
const BEGIN = /^\s*BEGIN\b/i;

const attached = new WeakMap<object, WalSync>();

/** The WalSync of a SQLite database opened by openDatabase (undefined on PostgreSQL). */
export function walSyncOf(db: Knex): WalSync | undefined {
  return attached.get(db.client as object);
}

export class WalSync {
  private fd: number | undefined;
  private ino: number | undefined;
  /** commits made, and commits known durable (the first `synced` of them) */
  private committed = 0;
  private synced = 0;
  /** the sync under way, and the commits it covers (those made before it began) */
  private syncing: { upTo: number; done: Promise<void> } | undefined;
  private deferNext = false;
  /** a statement of the open transaction wrote */
  private wrote = false;

  constructor(
    /** the database file; its log is `${filename}-wal` */
    private readonly filename: string,
    private readonly syncFile: SyncFile = fdatasync,
  ) {}

  /** Lets `db`'s group commit find this (walSyncOf). */
  register(db: Knex): void {
    attached.set(db.client as object, this);
  }

  private get walPath(): string {
    return `${this.filename}-wal`;
  }

  /** Makes the connection's statements wait for the log's sync as the module's comment says. */
  attach(conn: SyncedConnection): void {
    const prepare = conn.prepare.bind(conn);
    conn.prepare = (sql: string) => this.wrap(conn, prepare(sql) as Statement);
    const proto = Object.getPrototypeOf(conn) as SyncedConnection;
    conn.exec = (sql: string) => {
      const before = conn.inTransaction;
      proto.exec.call(conn, sql);
      if (conn.inTransaction) this.wrote = true;
      // exec answers the connection itself; a multi-statement script ends as a statement does
      return this.ended(conn, before, false, sql) ? this.durable().then(() => conn) : conn;
    };
    // the log's file is closed with the connection
    conn.close = () => {
      this.close();
      return proto.close.call(conn);
    };
  }

  /**
   * The group commit's COMMIT, next on this connection, returns without waiting for the sync:
   * the group waits for `durable()` itself, without holding the connection.
   */
  deferCommit(): void {
    this.deferNext = true;
  }

  /** Undoes a `deferCommit` that no COMMIT took (the transaction failed before it). */
  cancelDefer(): void {
    this.deferNext = false;
  }

  /** Resolves once every commit made so far is on disk (at once when all are). */
  durable(): Promise<void> {
    return this.syncedTo(this.committed);
  }

  private async syncedTo(target: number): Promise<void> {
    while (this.synced < target) {
      const running = this.syncing;
      if (running) {
        // a sync that began after our commit covers it, and its failure is ours
        if (running.upTo >= target) return running.done;
        await running.done.catch(() => undefined);
        continue;
      }
      const upTo = this.committed;
      const done = this.sync().then(
        () => {
          this.synced = Math.max(this.synced, upTo);
          this.syncing = undefined;
        },
        (err: unknown) => {
          this.syncing = undefined;
          throw err;
        },
      );
      this.syncing = { upTo, done };
      return done;
    }
  }

  private wrap(conn: SyncedConnection, statement: Statement): Statement {
    const proto = Object.getPrototypeOf(statement) as Statement;
    for (const method of ['run', 'all', 'get'] as const) {
      // the prototype's method, looked up at each call (what the driver's class has then)
      statement[method] = (...args: unknown[]) => {
        const before = conn.inTransaction;
        // outside any transaction (BEGIN apart), nothing is read that is not yet on disk
        if (!before && this.synced < this.committed && !BEGIN.test(statement.source)) {
          return this.durable().then(() => this.run(conn, statement, proto[method], args, before));
        }
        return this.run(conn, statement, proto[method], args, before);
      };
    }
    return statement;
  }

  private run(conn: SyncedConnection, statement: Statement, method: (...args: unknown[]) => unknown, args: unknown[], before: boolean): unknown {
    const result = method.apply(statement, args);
    // transaction control statements are read-only to SQLite; a transaction that ran only those and reads commits nothing
    if (conn.inTransaction && !statement.readonly) this.wrote = true;
    if (!this.ended(conn, before, statement.readonly, statement.source)) return result;
    if (this.deferNext) {
      this.deferNext = false;
      return result;
    }
    return this.durable().then(() => result);
  }

  /** Whether the statement just run ended a transaction that wrote (or wrote on its own); if so, counts the commit. */
  private ended(conn: SyncedConnection, before: boolean, readonly: boolean, sql: string): boolean {
    if (conn.inTransaction) return false;
    const wrote = before ? this.wrote && !ROLLBACK.test(sql) : !readonly;
    this.wrote = false;
    if (!wrote) {
      this.deferNext = false;
      return false;
    }
    this.committed++;
    return true;
  }

  /**
   * Syncs the WAL file. Fails as SQLite would have failed the COMMIT: a full disk as it is
   * (ENOSPC, EDQUOT), any other error as SQLITE_IOERR_FSYNC (src/domain/outage.ts: the
   * database unavailable, 503).
   */
  private async sync(): Promise<void> {
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

  /** Closes the log's file: once the sync under way, if any, is done with it. */
  close(): void {
    const fd = this.fd;
    this.fd = undefined;
    this.ino = undefined;
    if (fd === undefined) return;
    if (this.syncing) void this.syncing.done.catch(() => undefined).finally(() => fs.closeSync(fd));
    else fs.closeSync(fd);
  }
}
