import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { expect } from 'chai';
import type { Knex } from 'knex';
import { CommitGroup } from '../../src/store/CommitGroup.js';
import { cachePreparedStatements, openDatabase } from '../../src/store/database.js';
import { Repositories } from '../../src/store/Repositories.js';

interface Statement {
  get(...params: unknown[]): unknown;
}
interface Connection {
  prepare(sql: string): Statement;
  pragma(s: string): unknown;
  close(): void;
}
const Database = createRequire(import.meta.url)('better-sqlite3') as new (file: string, options?: { readonly?: boolean }) => Connection;

describe('CommitGroup (SQLite group commit)', () => {
  let dir: string;
  let db: Knex;
  let store: Repositories;

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'commit-group-'));
    db = openDatabase({ client: 'sqlite', filename: path.join(dir, 'db.sqlite') });
    await db.schema.createTable('t', (t) => {
      t.integer('id').primary();
      t.string('v').notNullable();
    });
    store = new Repositories(db);
  });

  afterEach(async () => {
    await db.destroy();
    await fs.rm(dir, { recursive: true, force: true });
  });

  const insert = (id: number, v = 'x') => store.transaction(async (tx) => tx.db('t').insert({ id, v }));

  it('runs units that arrive together in one commit, each resolved with its own result', async () => {
    const group = store.commits!;
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.transaction(async (tx) => (await tx.db('t').insert({ id: i, v: `v${i}` }), i * 2))));
    expect(results).to.deep.equal(Array.from({ length: 20 }, (_, i) => i * 2));
    // the first runs alone, the 19 that queued behind it share the next commit
    expect(group.stats.units).to.equal(20);
    expect(group.stats.commits).to.be.below(20);
    expect(group.stats.largest).to.be.above(1);
    expect(await db('t').count({ n: '*' })).to.deep.equal([{ n: 20 }]);
  });

  it('holds at most maxUnits per commit and lets the event loop turn between commits', async () => {
    const group = new CommitGroup(db, 3);
    const order: string[] = [];
    const units = Array.from({ length: 10 }, (_, i) =>
      group.run(async (trx) => {
        await trx('t').insert({ id: i, v: 'x' });
        order.push(`unit ${i}`);
        // I/O-like work queued while the first group runs must not wait for all the others
        if (i === 0) setImmediate(() => order.push('immediate'));
      }),
    );
    await Promise.all(units);
    expect(group.stats).to.deep.include({ units: 10, largest: 3 });
    expect(group.stats.commits).to.equal(4);
    expect(order.indexOf('immediate')).to.be.within(1, 5);
  });

  it('rolls back only the unit that failed', async () => {
    await insert(1);
    const outcomes = await Promise.allSettled([
      insert(2),
      store.transaction(async (tx) => {
        await tx.db('t').insert({ id: 3, v: 'written then undone' });
        await tx.db('t').insert({ id: 1, v: 'duplicate key' });
      }),
      insert(4),
      store.transaction(async (tx) => {
        await tx.db('t').insert({ id: 5, v: 'x' });
        throw new Error('refused by the unit');
      }),
      insert(6),
    ]);
    expect(outcomes.map((o) => o.status)).to.deep.equal(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
    expect(((outcomes[3] as PromiseRejectedResult).reason as Error).message).to.equal('refused by the unit');
    const ids = (await db('t').select('id').orderBy('id')).map((r: { id: number }) => r.id);
    expect(ids).to.deep.equal([1, 2, 4, 6]);
  });

  it('fails the whole group when SQLite ends its transaction under a unit', async () => {
    await insert(1);
    const outcomes = await Promise.allSettled([
      insert(2),
      store.transaction(async (tx) => {
        await tx.db('t').insert({ id: 3, v: 'x' });
        // as SQLite does itself after a full disk or an I/O error: the transaction is gone
        await tx.db.raw('ROLLBACK');
        throw new Error('the disk is full');
      }),
      insert(4),
    ]);
    expect(outcomes.map((o) => o.status)).to.deep.equal(['rejected', 'rejected', 'rejected']);
    expect(((outcomes[0] as PromiseRejectedResult).reason as Error).message).to.equal('the disk is full');
    const ids = (await db('t').select('id').orderBy('id')).map((r: { id: number }) => r.id);
    expect(ids).to.deep.equal([1]);
    await insert(5);
    expect((await db('t').select('id').orderBy('id')).map((r: { id: number }) => r.id)).to.deep.equal([1, 5]);
  });

  it("rejects a unit alone with its own error when SQLite ends its transaction under it", async () => {
    const full = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    const failed = await store
      .transaction(async (tx) => {
        await tx.db('t').insert({ id: 1, v: 'x' });
        await tx.db.raw('ROLLBACK');
        throw full;
      })
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    // not knex's "cannot rollback - no transaction is active": the code says the disk is full
    expect(failed).to.equal(full);
    expect(await db('t').count({ n: '*' })).to.deep.equal([{ n: 0 }]);
    await insert(2);
    expect(await db('t').count({ n: '*' })).to.deep.equal([{ n: 1 }]);
  });

  it('lets each unit see the writes of the units before it', async () => {
    const seen = await Promise.all([
      insert(1, 'a'),
      store.transaction(async (tx) => (await tx.db('t').where({ id: 1 }).first())?.v),
      store.transaction(async (tx) => {
        await tx.db('t').where({ id: 1 }).update({ v: 'b' });
        return (await tx.db('t').where({ id: 1 }).first()).v;
      }),
    ]);
    expect(seen.slice(1)).to.deep.equal(['a', 'b']);
  });

  it('has committed a unit when it resolves (another connection reads it)', async () => {
    const other = new Database(path.join(dir, 'db.sqlite'), { readonly: true });
    try {
      const ids = await Promise.all(
        Array.from({ length: 10 }, async (_, i) => {
          await insert(100 + i);
          // read through a separate connection right after this unit resolved
          return other.prepare('SELECT id FROM t WHERE id = ?').get(100 + i);
        }),
      );
      expect(ids.every((r) => r !== undefined)).to.equal(true);
    } finally {
      other.close();
    }
  });

  it('does not group inside a transaction: nested transactions are savepoints', async () => {
    await store.transaction(async (tx) => {
      expect(tx.commits).to.equal(undefined);
      await tx.db('t').insert({ id: 1, v: 'outer' });
      await tx.transaction(async (inner) => inner.db('t').insert({ id: 2, v: 'inner' })).catch(() => undefined);
      await tx.transaction(async (inner) => {
        await inner.db('t').insert({ id: 3, v: 'undone' });
        throw new Error('inner fails');
      }).catch(() => undefined);
    });
    const ids = (await db('t').select('id').orderBy('id')).map((r: { id: number }) => r.id);
    expect(ids).to.deep.equal([1, 2]);
  });
});

describe('prepared statement cache', () => {
  it('returns the same statement for the same SQL and evicts the least recently used', () => {
    const conn = new Database(':memory:');
    try {
      cachePreparedStatements(conn, 2);
      const a = conn.prepare('SELECT 1');
      expect(conn.prepare('SELECT 1')).to.equal(a);
      const b = conn.prepare('SELECT 2');
      conn.prepare('SELECT 1'); // now SELECT 2 is the least recently used
      conn.prepare('SELECT 3');
      expect(conn.prepare('SELECT 1')).to.equal(a);
      expect(conn.prepare('SELECT 2')).not.to.equal(b);
      expect((conn.prepare('SELECT 2').get() as Record<string, number>)['2']).to.equal(2);
    } finally {
      conn.close();
    }
  });
});
