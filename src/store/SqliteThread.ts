/**
 * SQLite off the main thread: the service's one SQLite connection lives in a worker thread
 * (databaseThread.ts), and knex's connection is this object, which sends each statement there
 * and resolves with its answer. knex, the repositories and the prepared statements of the hot
 * path (Prepared.ts) are unchanged; what leaves the main thread is SQLite's own time — the
 * statements, and each COMMIT's wait for the disk — while the main thread serves HTTP. A
 * statement crosses as its SQL text and values (Buffers as bytes, Dates as epoch ms), its
 * answer as rows or changes; the thread keeps every text prepared, as the in-thread
 * connection does. docs/scaling.md gives the measurements that chose this way.
 *
 * knex's pool holds the one connection, so statements reach the thread one transaction at a
 * time, as before. A 2xx still means durable: a transaction's promise resolves after the
 * thread has answered its COMMIT, which SQLite (synchronous=FULL) answers once the log is on
 * disk. If the thread ends (it should not), the statements waiting for it fail with
 * SQLITE_THREAD_EXITED (a 503, src/domain/outage.ts) and the pool opens another connection.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

export interface ThreadRequest {
  /** 0: close the connection and end the thread */
  id: number;
  sql: string;
  values: readonly unknown[];
}

export type ThreadReply =
  | { id: number; rows: Record<string, unknown>[] }
  | { id: number; changes: number; lastInsertRowid: number }
  | { id: number; error: { message: string; code?: string } };

/** What a statement gave: its rows (a statement that returns data), or what it changed. */
export type ThreadResult = { reader: true; rows: Record<string, unknown>[] } | { reader: false; changes: number; lastInsertRowid: number };

/** The error of a statement, as the driver gave it: its message and code (never its values). */
export class SqliteThreadError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'SqliteError';
  }
}

interface Pending {
  resolve(r: ThreadResult): void;
  reject(err: Error): void;
}

/**
 * The compiled thread beside this module, or, run from the TypeScript sources (tests,
 * `npm run dev`), a first module that registers tsx in the thread and loads the source:
 * on Node 20 a worker thread does not inherit the loader of the thread that starts it.
 */
function threadModule(): { code: string | URL; eval: boolean } {
  if (!import.meta.url.endsWith('.ts')) return { code: new URL('./databaseThread.js', import.meta.url), eval: false };
  const source = new URL('./databaseThread.ts', import.meta.url).href;
  // tsx's ESM API, found from its package.json (this module may itself have been loaded as CommonJS)
  const pkg = createRequire(import.meta.url).resolve('tsx/package.json');
  const api = (JSON.parse(readFileSync(pkg, 'utf8')) as { exports: Record<string, { import: { default: string } }> }).exports['./esm/api']!.import.default;
  const tsx = pathToFileURL(path.join(path.dirname(pkg), api)).href;
  return { code: `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(source)}); });`, eval: true };
}

export class SqliteThread {
  private readonly pending = new Map<number, Pending>();
  private next = 1;
  private exited: Error | undefined;
  private closing: Promise<void> | undefined;

  private constructor(private readonly worker: Worker) {}

  /** Starts the thread and opens `filename` in it (its folder and file made private beforehand). */
  static open(filename: string): Promise<SqliteThread> {
    const m = threadModule();
    const worker = new Worker(m.code, { eval: m.eval, workerData: { filename } });
    const thread = new SqliteThread(worker);
    return new Promise((resolve, reject) => {
      const early = (err: Error) => reject(err);
      worker.once('error', early);
      worker.once('message', (r: ThreadReply) => {
        worker.off('error', early);
        if ('error' in r) {
          reject(new SqliteThreadError(r.error.message, r.error.code));
          void worker.terminate();
          return;
        }
        worker.on('message', (a: ThreadReply) => thread.answer(a));
        worker.on('error', (err) => thread.end(err));
        worker.on('exit', () => thread.end(new Error('the database thread exited')));
        worker.unref(); // referenced only while a statement waits (see `query`)
        resolve(thread);
      });
    });
  }

  /** false once the thread has ended or is closing: the pool then opens another */
  get alive(): boolean {
    return this.exited === undefined && this.closing === undefined;
  }

  /** Runs one statement in the thread. */
  query(sql: string, values: readonly unknown[]): Promise<ThreadResult> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.next++;
    return new Promise<ThreadResult>((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, sql, values } satisfies ThreadRequest);
    });
  }

  /** Closes the connection (after the statements already sent) and ends the thread. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      if (this.exited) return resolve();
      this.worker.once('exit', () => resolve());
      this.worker.ref();
      this.worker.postMessage({ id: 0, sql: '', values: [] } satisfies ThreadRequest);
    });
    return this.closing;
  }

  private answer(r: ThreadReply): void {
    const p = this.pending.get(r.id);
    if (!p) return;
    this.pending.delete(r.id);
    if (this.pending.size === 0) this.worker.unref();
    if ('error' in r) p.reject(new SqliteThreadError(r.error.message, r.error.code));
    else if ('rows' in r) p.resolve({ reader: true, rows: r.rows.map(buffers) });
    else p.resolve({ reader: false, changes: r.changes, lastInsertRowid: r.lastInsertRowid });
  }

  private end(cause: Error): void {
    if (this.exited) return;
    this.exited = Object.assign(new SqliteThreadError(`the database thread ended: ${cause.message}`, 'SQLITE_THREAD_EXITED'), { cause });
    for (const p of this.pending.values()) p.reject(this.exited);
    this.pending.clear();
  }
}

/** BLOB columns cross as Uint8Array: the rows get Buffers back, as from the driver itself. */
function buffers(row: Record<string, unknown>): Record<string, unknown> {
  for (const k in row) {
    const v = row[k];
    if (v instanceof Uint8Array && !Buffer.isBuffer(v)) row[k] = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  }
  return row;
}

interface KnexSqliteClient {
  connectionSettings: { filename: string };
  _formatBindings(bindings: unknown[] | undefined): unknown[];
}
type QueryObject = { sql?: string; bindings?: unknown[]; response?: unknown; context?: unknown };

/**
 * Makes a better-sqlite3 knex client open its connection as a SqliteThread. knex makes each
 * transaction's client from the client's class, so the class is what changes: a subclass
 * whose connection is the thread, set as this client's prototype (the client keeps its
 * name, `better-sqlite3`, which the repositories ask for).
 */
export function useSqliteThread(client: object): void {
  const Base = Object.getPrototypeOf(client).constructor as new (...args: unknown[]) => KnexSqliteClient;
  class ThreadClient extends Base {
    acquireRawConnection(): Promise<SqliteThread> {
      return SqliteThread.open(this.connectionSettings.filename);
    }
    destroyRawConnection(conn: SqliteThread): Promise<void> {
      return conn.close();
    }
    validateConnection(conn: SqliteThread): boolean {
      return conn.alive;
    }
    async _query(conn: SqliteThread, obj: QueryObject): Promise<QueryObject> {
      if (!obj.sql) throw new Error('The query is empty');
      const r = await conn.query(obj.sql, this._formatBindings(obj.bindings));
      if (r.reader) obj.response = r.rows;
      else {
        obj.response = { changes: r.changes, lastInsertRowid: r.lastInsertRowid };
        obj.context = { lastID: r.lastInsertRowid, changes: r.changes };
      }
      return obj;
    }
  }
  Object.setPrototypeOf(client, ThreadClient.prototype);
}
