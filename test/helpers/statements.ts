/**
 * Counts the SQL statements the database drivers of this process send, at the connection
 * level, below knex and anything else that talks to them:
 *
 * - SQLite (better-sqlite3): every execution of a prepared statement (`run`, `all`, `get`,
 *   `iterate`) and every `exec`: a statement prepared once and run many times counts each time;
 * - PostgreSQL (pg): every `Client.query`, whether its text comes from knex or not.
 *
 * BEGIN, COMMIT, ROLLBACK, SAVEPOINT and RELEASE are statements like any other and count.
 * The counter counts every connection of the process: a spec that uses it keeps other
 * database work (its own set-up, the job worker's polls) out of the counted window.
 */
import { createRequire } from 'node:module';
import pg from 'pg';

export interface StatementCounter {
  /** statements counted since start (or the last reset) */
  readonly count: number;
  /** the SQL texts counted, in order (for a failing assertion's message) */
  readonly texts: readonly string[];
  reset(): void;
  /** restores the drivers' methods */
  stop(): void;
}

type Method = (...args: unknown[]) => unknown;

interface SqliteDatabase {
  prepare(sql: string): object;
  close(): void;
}
const Database = createRequire(import.meta.url)('better-sqlite3') as (new (file: string) => SqliteDatabase) & { prototype: object };

export function countStatements(): StatementCounter {
  let count = 0;
  let texts: string[] = [];
  const note = (sql: unknown) => {
    count++;
    texts.push(String(sql).replace(/\s+/g, ' ').slice(0, 160));
  };
  const restore: Array<() => void> = [];
  const wrap = (proto: Record<string, unknown>, name: string, sqlOf: (self: unknown, args: unknown[]) => unknown) => {
    const original = proto[name] as Method;
    proto[name] = function (this: unknown, ...args: unknown[]) {
      note(sqlOf(this, args));
      return original.apply(this, args);
    };
    restore.push(() => {
      proto[name] = original;
    });
  };

  // better-sqlite3 does not export its Statement class: take it from a statement of a scratch database
  const scratch = new Database(':memory:');
  const statementProto = Object.getPrototypeOf(scratch.prepare('SELECT 1')) as Record<string, unknown>;
  scratch.close();
  for (const name of ['run', 'all', 'get', 'iterate']) wrap(statementProto, name, (self) => (self as { source: string }).source);
  wrap(Database.prototype as unknown as Record<string, unknown>, 'exec', (_self, args) => args[0]);

  wrap(pg.Client.prototype as unknown as Record<string, unknown>, 'query', (_self, args) => {
    const q = args[0];
    return typeof q === 'string' ? q : (q as { text?: string } | undefined)?.text;
  });

  return {
    get count() {
      return count;
    },
    get texts() {
      return texts;
    },
    reset() {
      count = 0;
      texts = [];
    },
    stop() {
      for (const r of restore.splice(0)) r();
    },
  };
}
