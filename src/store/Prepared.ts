/**
 * Statements of the hot path — what every sealed letter runs: the sender's credential, the
 * intake's inserts, the proof, the job that takes the letter on, the event log — written
 * once as SQL text, prepared once per connection and run on the connection directly,
 * without knex's query builder (knex stays for migrations and the rare paths).
 *
 * Each runs on the connection of the knex object it is given: a transaction's own (knex's
 * transaction client hands it out and keeps it), or one taken from the pool for the statement
 * and given back.
 *
 * - SQLite (better-sqlite3): the statement is prepared once per connection and kept with it;
 *   a statement that returns rows is read with `all`, another is `run`. Values are bound as
 *   knex binds them: booleans as 1 or 0, dates as milliseconds, undefined as NULL.
 * - PostgreSQL (pg): a named prepared statement (`{ name, text, values }`): parsed and planned
 *   by the server on its first use on a connection, then only bound and executed. The `?`
 *   placeholders of the text become `$1…$n`. Column lists are spelled out (no `*`), so a
 *   plan never outlives the shape of what it returns.
 *
 * A failed statement throws the driver's own error, with its code (constraints.ts,
 * src/domain/outage.ts read it) and without the values it was given: knex writes the values
 * into the message of the errors it passes on, and those can be personal data.
 */
import type { Knex } from 'knex';

export interface Prepared {
  /** unique among the hot statements: PostgreSQL's name of the prepared statement */
  readonly name: string;
  /** prepared once per connection and kept; false for a one-off (a large multi-row insert) */
  readonly kept: boolean;
  /** the text with `?` placeholders (SQLite) */
  readonly sqlite: string;
  /** the text with `$n` placeholders (PostgreSQL) */
  readonly postgres: string;
}

/** PostgreSQL cuts identifiers, and so statement names, at 63 bytes. */
const MAX_NAME = 63;
const names = new Map<string, string>();

/**
 * A statement of the hot path, the same text on both databases. `sql` uses `?` for each value
 * and holds no other `?` (no string literal with one, no JSON operator).
 */
export function prepared(name: string, sql: string): Prepared {
  if (name.length > MAX_NAME || !/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`statement name ${name}: lower case, digits and _, at most ${MAX_NAME}`);
  const seen = names.get(name);
  if (seen !== undefined && seen !== sql) throw new Error(`statement name ${name} is already another statement's`);
  names.set(name, sql);
  return { name, kept: true, sqlite: sql, postgres: numbered(sql) };
}

/** `?` → `$1…$n` */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

const inserts = new Map<string, Prepared>();

/**
 * Multi-row inserts of up to this many rows are kept prepared (a letter's documents and
 * events); larger ones (a batch's events) are prepared for the one run: one kept statement
 * per row count would keep thousands.
 */
export const MAX_KEPT_ROWS = 16;

/**
 * `INSERT INTO table (columns) VALUES (…), (…)` for `rows` rows, then `tail` (ON CONFLICT,
 * RETURNING), the same on both databases: one statement per table, column list and row count,
 * made on first use, kept up to MAX_KEPT_ROWS rows. Values go row after row, in the order of
 * `columns`.
 */
export function insertRows(name: string, table: string, columns: readonly string[], rows: number, tail = ''): Prepared {
  const key = `${name}_${rows}`;
  let p = inserts.get(key);
  if (p) return p;
  const row = `(${columns.map(() => '?').join(', ')})`;
  const sql = `INSERT INTO "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) VALUES ${Array.from({ length: rows }, () => row).join(', ')}${tail ? ' ' + tail : ''}`;
  if (rows > MAX_KEPT_ROWS) return { name: key, kept: false, sqlite: sql, postgres: numbered(sql) };
  p = prepared(key, sql);
  inserts.set(key, p);
  return p;
}

/** `all` and `run` answer at once, or once what they depend on is durable (WalSync.ts) */
interface SqliteStatement {
  readonly reader: boolean;
  all(values: unknown[]): Record<string, unknown>[] | Promise<Record<string, unknown>[]>;
  run(values: unknown[]): { changes: number } | Promise<{ changes: number }>;
}
interface SqliteConnection {
  prepare(sql: string): SqliteStatement;
}
interface PgConnection {
  query(q: { name?: string; text: string; values: unknown[] }): Promise<{ rows: Record<string, unknown>[]; rowCount: number | null }>;
}

/** What a statement gave: the rows it returned (none for a write without RETURNING), and the rows it wrote. */
export interface Outcome {
  rows: Record<string, unknown>[];
  changes: number;
}

const sqliteStatements = new WeakMap<object, Map<Prepared, SqliteStatement>>();

type Client = { config: { client: string }; acquireConnection(): Promise<unknown>; releaseConnection(conn: unknown): Promise<unknown> };

/**
 * The connection of each transaction a statement ran in, by its knex client (one per
 * transaction): knex's transaction client hands out that one connection, from a promise, and
 * takes nothing back; kept here, the transaction's next statements run without those two
 * promises and their turns.
 */
const transactionConnections = new WeakMap<object, unknown>();

/** Runs `p` with `values` on `db`'s connection (see the module's comment). */
export async function execute(db: Knex, p: Prepared, values: readonly unknown[]): Promise<Outcome> {
  const trx = db as Knex & { isTransaction?: boolean; isCompleted?: () => boolean };
  const client = db.client as Client;
  if (trx.isTransaction) {
    if (trx.isCompleted?.()) throw new Error(`statement ${p.name} after its transaction ended`);
    let conn = transactionConnections.get(client);
    if (conn === undefined) transactionConnections.set(client, (conn = await client.acquireConnection()));
    return runOn(client, conn, p, values);
  }
  const conn = await client.acquireConnection();
  try {
    return await runOn(client, conn, p, values);
  } finally {
    await client.releaseConnection(conn);
  }
}

/** Runs `p` on `conn`: its outcome at once on SQLite (unless it waits for a sync: WalSync.ts), a promise of it on PostgreSQL. */
function runOn(client: Client, conn: unknown, p: Prepared, values: readonly unknown[]): Outcome | Promise<Outcome> {
  if (client.config.client === 'pg') {
    const bound = values.map((v) => (v === undefined ? null : v));
    // a one-off goes as an unnamed statement
    return (conn as PgConnection).query(p.kept ? { name: p.name, text: p.postgres, values: bound } : { text: p.postgres, values: bound }).then((r) => ({ rows: r.rows, changes: r.rowCount ?? 0 }));
  }
  let statement: SqliteStatement | undefined;
  if (p.kept) {
    let kept = sqliteStatements.get(conn as object);
    if (!kept) sqliteStatements.set(conn as object, (kept = new Map()));
    statement = kept.get(p);
    if (!statement) kept.set(p, (statement = (conn as SqliteConnection).prepare(p.sqlite)));
  } else statement = (conn as SqliteConnection).prepare(p.sqlite);
  const bound = values.map(sqliteValue);
  if (statement.reader) {
    const rows = statement.all(bound);
    return rows instanceof Promise ? rows.then((r) => ({ rows: r, changes: 0 })) : { rows, changes: 0 };
  }
  const ran = statement.run(bound);
  return ran instanceof Promise ? ran.then((r) => ({ rows: [], changes: r.changes })) : { rows: [], changes: ran.changes };
}

/** The first row `p` returns, or undefined. */
export async function first(db: Knex, p: Prepared, values: readonly unknown[]): Promise<Record<string, unknown> | undefined> {
  return (await execute(db, p, values)).rows[0];
}

function sqliteValue(v: unknown): unknown {
  if (v === undefined) return null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof Date) return v.valueOf();
  return v;
}
