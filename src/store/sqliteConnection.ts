/**
 * One SQLite connection as the service opens it (better-sqlite3): WAL journal,
 * synchronous=FULL (a commit is on disk when it returns), foreign keys on, a busy timeout,
 * and its prepared statements kept and reused (knex prepares every query it runs). Opened in
 * the database thread (databaseThread.ts), or on the main thread with SQLITE_THREAD=off.
 */
import { createRequire } from 'node:module';

/** What the service uses of a better-sqlite3 statement (the package has no types of its own). */
export interface SqliteStatement {
  readonly reader: boolean;
  all(values: unknown[]): Record<string, unknown>[];
  run(values: unknown[]): { changes: number; lastInsertRowid: number | bigint };
}

export interface SqliteConnection {
  pragma(s: string): unknown;
  prepare(sql: string): SqliteStatement;
  close(): void;
}

const Database = createRequire(import.meta.url)('better-sqlite3') as new (filename: string) => SqliteConnection;

/** Distinct SQL texts kept prepared per SQLite connection (the service runs a few dozen). */
export const STATEMENT_CACHE_SIZE = 500;

/**
 * Makes `conn.prepare` return the statement prepared earlier for the same SQL text. Each
 * statement runs to completion at once (`all` or `run`), so one prepared statement is never
 * in use twice at a time; SQLite re-prepares a statement by itself when the schema changes.
 * The least recently used statement leaves when the cache is full; savepoint statements,
 * each with its own name, are not kept.
 */
const SAVEPOINT_SQL = /^\s*(SAVEPOINT|RELEASE|ROLLBACK TO)\b/i;

export function cachePreparedStatements<S>(conn: { prepare(sql: string): S }, size: number): void {
  const prepare = conn.prepare.bind(conn);
  const cache = new Map<string, S>();
  conn.prepare = (sql: string) => {
    // savepoint statements carry a new name each time: nothing to reuse
    if (SAVEPOINT_SQL.test(sql)) return prepare(sql);
    let statement = cache.get(sql);
    if (statement !== undefined) {
      cache.delete(sql);
    } else {
      statement = prepare(sql);
      if (cache.size >= size) cache.delete(cache.keys().next().value!);
    }
    cache.set(sql, statement);
    return statement;
  };
}

/** The settings every connection of the service gets, on a connection just opened. */
export function configureConnection(conn: SqliteConnection): void {
  cachePreparedStatements(conn, STATEMENT_CACHE_SIZE);
  conn.pragma('journal_mode = WAL');
  conn.pragma('synchronous = FULL');
  conn.pragma('foreign_keys = ON');
  conn.pragma('busy_timeout = 5000');
}

/** Opens `filename` (its folder and file made private beforehand: FilePermissions.ts) as the service does. */
export function openSqliteConnection(filename: string): SqliteConnection {
  const conn = new Database(filename);
  try {
    configureConnection(conn);
  } catch (err) {
    conn.close();
    throw err;
  }
  return conn;
}
