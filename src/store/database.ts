/**
 * Opens the database (knex) and runs the migrations.
 * SQLite: better-sqlite3, the file and its folder private to the service's user
 * (FilePermissions.ts), WAL journal, synchronous=NORMAL with the log synced off the main
 * thread before anything that depends on a commit answers (WalSync.ts: as durable as FULL),
 * foreign keys on, temporary data (savepoints' journals above all) in memory, one connection
 * whose prepared statements are kept and reused
 * (knex prepares every query it runs). PostgreSQL: `pg` with a small pool.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import knexFactory, { type Knex } from 'knex';
import type { DatabaseConfig } from '../config.js';
import { preparePrivateSqliteFile } from './FilePermissions.js';
import { WalSync, type SyncFile, type SyncedConnection } from './WalSync.js';

export type Db = Knex;

interface SqliteConnection extends SyncedConnection {
  pragma(s: string): unknown;
  prepare(sql: string): unknown;
}

/** Distinct SQL texts kept prepared per SQLite connection (the service runs a few dozen). */
const STATEMENT_CACHE_SIZE = 500;

/**
 * Makes `conn.prepare` return the statement prepared earlier for the same SQL text. knex
 * runs each statement to completion at once (`all` or `run`), so one prepared statement
 * is never in use twice at a time; SQLite re-prepares a statement by itself when the
 * schema changes. The least recently used statement leaves when the cache is full;
 * savepoint statements, each with its own name, are not kept.
 */
const SAVEPOINT_SQL = /^\s*(SAVEPOINT|RELEASE|ROLLBACK TO)\b/i;

export function cachePreparedStatements(conn: { prepare(sql: string): unknown }, size: number): void {
  const prepare = conn.prepare.bind(conn);
  const cache = new Map<string, unknown>();
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

/** Where knex's own messages go (a lost connection, a failed acquire): the service's log instead of the console. */
export interface DatabaseLog {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

function knexLog(log: DatabaseLog | undefined): Knex.Config['log'] {
  const drop = () => undefined;
  if (!log) return { warn: drop, error: drop, deprecate: drop, debug: drop };
  return {
    warn: (m: unknown) => log.warn({ database: String(m).slice(0, 500) }, 'database client warning'),
    error: (m: unknown) => log.error({ database: String(m).slice(0, 500) }, 'database client error'),
    deprecate: drop,
    debug: drop,
  };
}

export interface DatabaseOptions {
  /** SQLite: how the write-ahead log is synced after commits (WalSync.ts; tests watch it) */
  syncFile?: SyncFile;
}

export function openDatabase(config: DatabaseConfig, log?: DatabaseLog, options: DatabaseOptions = {}): Db {
  if (config.client === 'postgres') {
    // a request waits at most this long for a connection: with the database down it gets a
    // 503 DATABASE_UNAVAILABLE in seconds (src/domain/outage.ts), not after knex's 60 s default
    return knexFactory({ client: 'pg', connection: config.connectionString, pool: { min: 0, max: config.poolMax }, acquireConnectionTimeout: 5000, log: knexLog(log) });
  }
  // folder 0700, file 0600 (and so its -wal and -shm): refused at start when others can read them
  preparePrivateSqliteFile(config.filename);
  // one per database: its count of commits made and synced outlives a connection the pool replaces
  const walSync = new WalSync(config.filename, options.syncFile);
  const db = knexFactory({
    client: 'better-sqlite3',
    connection: { filename: config.filename },
    useNullAsDefault: true,
    log: knexLog(log),
    pool: {
      min: 1,
      max: 1,
      afterCreate(conn: SqliteConnection, done: (err: Error | null, conn: unknown) => void) {
        conn.pragma('journal_mode = WAL');
        // a COMMIT writes the log and returns; WalSync has the log synced before anything
        // that depends on it answers, off the main thread (as durable as FULL: WalSync.ts)
        conn.pragma('synchronous = NORMAL');
        conn.pragma('foreign_keys = ON');
        conn.pragma('busy_timeout = 5000');
        // a savepoint's journal (each unit of a commit group has one) in memory: on disk (the
        // default) each page a unit first changes went out in two writes to a temporary file
        // once the journal passed 64 KiB, a file created and deleted for every group
        conn.pragma('temp_store = MEMORY');
        walSync.attach(conn);
        cachePreparedStatements(conn, STATEMENT_CACHE_SIZE);
        done(null, conn);
      },
    },
  });
  walSync.register(db);
  return db;
}

/** migrations/ lies at the project root, beside src/ (and beside dist/src/ when compiled). */
function migrationsDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return path.resolve(here, '..', '..', 'migrations');
}

/** Reads migrations/ itself, so the same code runs from TypeScript (tsx) and compiled JavaScript. */
class MigrationSource implements Knex.MigrationSource<string> {
  constructor(private readonly dir: string) {}
  async getMigrations(): Promise<string[]> {
    return fs
      .readdirSync(this.dir)
      .filter((f) => /^\d{14}_.+\.(ts|js)$/.test(f) && !f.endsWith('.d.ts'))
      .sort();
  }
  getMigrationName(file: string): string {
    return file.replace(/\.(ts|js)$/, '');
  }
  async getMigration(file: string): Promise<Knex.Migration> {
    return import(pathToFileURL(path.join(this.dir, file)).href) as Promise<Knex.Migration>;
  }
}

export function migrationConfig(): Knex.MigratorConfig {
  return { migrationSource: new MigrationSource(migrationsDir()), tableName: 'knex_migrations' };
}

export async function migrateLatest(db: Db): Promise<void> {
  await db.migrate.latest(migrationConfig());
}

export async function migrateRollbackAll(db: Db): Promise<void> {
  await db.migrate.rollback(migrationConfig(), true);
}
