/**
 * The hot path's statements (src/store/Prepared.ts): their texts on both databases, the names
 * PostgreSQL keeps them by, which are kept prepared, and running them on the test database
 * (SQLite, or PostgreSQL with TEST_DATABASE_URL) in and out of a transaction.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { openDatabase, type Db } from '../../src/store/database.js';
import { createTestDatabase, onPostgres, type TestDatabase } from '../helpers/database.js';
import { execute, first, insertRows, MAX_KEPT_ROWS, prepared } from '../../src/store/Prepared.js';

describe('prepared statements of the hot path', () => {
  it('numbers the placeholders for PostgreSQL', () => {
    const p = prepared('test_numbered', 'SELECT a FROM t WHERE b = ? AND c IN (?, ?)');
    expect(p.sqlite).to.equal('SELECT a FROM t WHERE b = ? AND c IN (?, ?)');
    expect(p.postgres).to.equal('SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)');
    expect(p.kept).to.equal(true);
  });

  it('refuses one name for two texts, and names PostgreSQL would cut or quote', () => {
    prepared('test_once', 'SELECT 1');
    expect(prepared('test_once', 'SELECT 1').sqlite).to.equal('SELECT 1');
    expect(() => prepared('test_once', 'SELECT 2')).to.throw(/already another statement's/);
    expect(() => prepared('x'.repeat(64), 'SELECT 1')).to.throw(/at most 63/);
    expect(() => prepared('Upper', 'SELECT 1')).to.throw(/lower case/);
  });

  it('keeps one multi-row insert per row count up to MAX_KEPT_ROWS, and makes larger ones for one run', () => {
    const two = insertRows('test_rows', 't', ['a', 'b'], 2, 'ON CONFLICT (a) DO NOTHING');
    expect(two.sqlite).to.equal('INSERT INTO "t" ("a", "b") VALUES (?, ?), (?, ?) ON CONFLICT (a) DO NOTHING');
    expect(two.postgres).to.equal('INSERT INTO "t" ("a", "b") VALUES ($1, $2), ($3, $4) ON CONFLICT (a) DO NOTHING');
    expect(insertRows('test_rows', 't', ['a', 'b'], 2, 'ON CONFLICT (a) DO NOTHING')).to.equal(two);
    expect(insertRows('test_rows', 't', ['a', 'b'], MAX_KEPT_ROWS).kept).to.equal(true);
    const large = insertRows('test_rows', 't', ['a', 'b'], MAX_KEPT_ROWS + 1);
    expect(large.kept).to.equal(false);
    expect(insertRows('test_rows', 't', ['a', 'b'], MAX_KEPT_ROWS + 1)).not.to.equal(large);
  });

  describe(`on ${onPostgres ? 'PostgreSQL' : 'SQLite'}`, () => {
    let dir: string;
    let test: TestDatabase;
    let db: Db;

    beforeEach(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prepared-'));
      fs.chmodSync(dir, 0o700);
      test = await createTestDatabase(dir);
      db = onPostgres ? openDatabase({ client: 'postgres', connectionString: test.url, poolMax: 2 }) : openDatabase({ client: 'sqlite', filename: test.url.slice('sqlite:'.length) });
      await db.schema.createTable('t', (t) => {
        t.integer('a').primary();
        t.string('b');
        t.boolean('c');
      });
    });

    afterEach(async () => {
      await db.destroy();
      await test.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    /** booleans as each database reads them back */
    const bool = (b: boolean) => (onPostgres ? b : Number(b));
    const insert = (rows: number) => insertRows('test_db_rows', 't', ['a', 'b', 'c'], rows, 'ON CONFLICT (a) DO NOTHING');
    const all = prepared('test_db_all', 'SELECT a, b, c FROM t ORDER BY a');

    it('writes and reads, binding booleans and undefined as knex does, and counts the rows written', async () => {
      const w = await execute(db, insert(2), [1, 'one', true, 2, undefined, false]);
      expect(w).to.deep.equal({ rows: [], changes: 2 });
      expect((await execute(db, insert(1), [1, 'again', true])).changes).to.equal(0);
      expect((await execute(db, all, [])).rows).to.deep.equal([
        { a: 1, b: 'one', c: bool(true) },
        { a: 2, b: null, c: bool(false) },
      ]);
      expect(await first(db, prepared('test_db_none', 'SELECT a FROM t WHERE a = ?'), [9])).to.equal(undefined);
    });

    it('runs a large insert made for one run', async () => {
      const n = MAX_KEPT_ROWS * 3;
      await execute(db, insert(n), Array.from({ length: n }, (_, i) => [i, `r${i}`, i % 2 === 0]).flat());
      expect((await execute(db, all, [])).rows).to.have.length(n);
    });

    it('runs in the transaction it is given, and goes with its rollback', async () => {
      await db
        .transaction(async (trx) => {
          await execute(trx, insert(1), [5, 'undone', true]);
          expect((await execute(trx, all, [])).rows).to.have.length(1);
          throw new Error('roll back');
        })
        .catch(() => undefined);
      expect((await execute(db, all, [])).rows).to.deep.equal([]);
    });

    it('refuses to run after its transaction ended', async () => {
      let ended: Db | undefined;
      await db.transaction(async (trx) => {
        ended = trx;
      });
      let error: unknown;
      await execute(ended!, all, []).catch((e: unknown) => (error = e));
      expect(String(error)).to.match(/after its transaction ended/);
    });

    it('throws the driver\'s error, with its code and without the values', async () => {
      await execute(db, insert(1), [7, 'x', true]);
      let error: unknown;
      await execute(db, insertRows('test_db_strict', 't', ['a', 'b'], 1), [7, 'secret personal data']).catch((e: unknown) => (error = e));
      expect((error as { code?: string }).code).to.equal(onPostgres ? '23505' : 'SQLITE_CONSTRAINT_PRIMARYKEY');
      expect(String(error)).not.to.contain('secret personal data');
    });
  });
});
