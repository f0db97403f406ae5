/**
 * SQLite commits are durable before they answer, with the log synced off the main thread
 * (src/store/WalSync.ts): the connection runs with `synchronous = NORMAL`, and whatever ends a
 * transaction that wrote answers only once the write-ahead log file has been synced. The group
 * commit does not hold the connection meanwhile, and nothing outside it reads a commit before
 * it is durable. The sync is watched (and held back) through openDatabase's `syncFile`; a
 * second connection of the test's own sees what is committed, durable or not.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { expect } from 'chai';
import { openDatabase, type Db } from '../../src/store/database.js';
import { Repositories } from '../../src/store/Repositories.js';

function safeLink(fd: string): string | undefined {
  try {
    return fs.readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return undefined;
  }
}

interface Peek {
  prepare(sql: string): { get(): { n: number } };
  close(): void;
}
const Database = createRequire(import.meta.url)('better-sqlite3') as new (file: string, opts: { readonly: boolean }) => Peek;

interface Held {
  release(): void;
  fail(err: Error): void;
}

describe('SQLite commits synced off the main thread (WalSync)', () => {
  let dir: string;
  let file: string;
  let db: Db;
  /** inodes of the files synced, in order */
  let synced: number[];
  /** when set, the next syncs wait until released */
  let hold: Held[] | undefined;

  /**
   * Whether `p` is still pending once a sync has been asked for and held (waits for that, as
   * long as it takes the statements to reach their COMMIT), then a few more turns of the loop.
   */
  const pending = async (p: Promise<unknown>): Promise<boolean> => {
    let done = false;
    p.then(
      () => (done = true),
      () => (done = true),
    );
    const until = Date.now() + 10_000;
    while (!done && hold !== undefined && hold.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    return !done;
  };

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wal-sync-'));
    fs.chmodSync(dir, 0o700);
    file = path.join(dir, 'service.db');
    synced = [];
    hold = undefined;
    db = openDatabase(
      { client: 'sqlite', filename: file },
      undefined,
      {
        syncFile: (fd) => {
          synced.push(fs.fstatSync(fd).ino);
          if (!hold) return Promise.resolve();
          return new Promise<void>((resolve, reject) => hold!.push({ release: resolve, fail: reject }));
        },
      },
    );
    await db.schema.createTable('t', (t) => {
      t.integer('id').primary();
      t.string('v');
    });
  });

  afterEach(async () => {
    await db.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const walIno = () => fs.statSync(`${file}-wal`).ino;

  it('runs the connection with synchronous = NORMAL', async () => {
    const rows = await db.raw('PRAGMA synchronous');
    expect(rows[0].synchronous).to.equal(1);
  });

  it('a transaction answers only once the write-ahead log file is synced', async () => {
    hold = [];
    const tx = db.transaction(async (trx) => {
      await trx('t').insert({ id: 1, v: 'a' });
    });
    expect(await pending(tx), 'answered before the log was synced').to.equal(true);
    expect(hold).to.have.length(1);
    expect(synced.at(-1)).to.equal(walIno());
    hold.splice(0).forEach((h) => h.release());
    await tx;
    expect(await db('t').count({ n: '*' })).to.deep.equal([{ n: 1 }]);
  });

  it('the same through the service\'s group commit (Repositories.transaction), several together', async () => {
    const store = new Repositories(db);
    hold = [];
    const txs = [1, 2, 3].map((id) => store.transaction(async (tx) => tx.db('t').insert({ id, v: 'g' })));
    expect(await pending(Promise.all(txs))).to.equal(true);
    // the three share one commit, or take a few: the later ones' syncs are not held
    const held = hold.splice(0);
    hold = undefined;
    held.forEach((h) => h.release());
    await Promise.all(txs);
    expect(synced.length).to.be.at.least(1);
    expect(await db('t').count({ n: '*' })).to.deep.equal([{ n: 3 }]);
  });

  it('a write outside any transaction waits for its sync too; reads and rollbacks sync nothing', async () => {
    hold = [];
    // a knex builder runs each time it is awaited: run it once
    const insert = db('t').insert({ id: 5, v: 'alone' }).then(() => undefined);
    expect(await pending(insert)).to.equal(true);
    hold.splice(0).forEach((h) => h.release());
    await insert;
    hold = undefined;
    const before = synced.length;
    await db('t').select('*');
    await db
      .transaction(async (trx) => {
        await trx('t').insert({ id: 6, v: 'undone' });
        throw new Error('rolled back');
      })
      .catch(() => undefined);
    expect(synced.length).to.equal(before);
    expect((await db('t').select('id')).map((r) => r.id)).to.deep.equal([5]);
  });

  it('no statement of the process reads a commit before it is durable: the connection waits with it', async () => {
    hold = [];
    const tx = db.transaction(async (trx) => trx('t').insert({ id: 7, v: 'b' }));
    await pending(tx);
    const read = db('t').count({ n: '*' }).then((rows) => rows);
    // the read waits for the connection (SQLite has one), which the commit holds until its sync
    const pool = (db.client as { pool: { numPendingAcquires(): number } }).pool;
    for (const until = Date.now() + 10_000; pool.numPendingAcquires() === 0 && Date.now() < until; ) await new Promise((r) => setTimeout(r, 5));
    expect(pool.numPendingAcquires()).to.equal(1);
    expect(await pending(read), 'a read ran while the commit waited for its sync').to.equal(true);
    hold.splice(0).forEach((h) => h.release());
    await tx;
    expect(await read).to.deep.equal([{ n: 1 }]);
  });

  it('closes the log\'s file with the connection', async () => {
    await db('t').insert({ id: 9, v: 'd' });
    const open = () => fs.readdirSync('/proc/self/fd').filter((fd) => safeLink(fd)?.startsWith(`${file}-wal`)).length; // " (deleted)" once SQLite removed it
    expect(open()).to.be.at.least(1);
    await db.destroy();
    expect(open()).to.equal(0);
    db = openDatabase({ client: 'sqlite', filename: file });
  });

  it('a sync that fails fails the commit, as SQLite fails it', async () => {
    hold = [];
    const tx = db.transaction(async (trx) => trx('t').insert({ id: 8, v: 'c' }));
    await pending(tx);
    hold.splice(0).forEach((h) => h.fail(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' })));
    let error: unknown;
    await tx.catch((e: unknown) => (error = e));
    // as SQLite fails a COMMIT whose fsync fails: the database unavailable (503), not a 500
    expect((error as { code?: string } | undefined)?.code).to.equal('SQLITE_IOERR_FSYNC');
  });

  /** waits until `n` syncs are held */
  const held = async (n: number): Promise<void> => {
    for (const until = Date.now() + 10_000; (hold?.length ?? 0) < n && Date.now() < until; ) await new Promise((r) => setTimeout(r, 2));
    expect(hold?.length ?? 0, 'syncs held').to.be.at.least(n);
  };
  /** what another connection sees committed in t, durable or not */
  const committedRows = (): number => {
    const peek = new Database(file, { readonly: true });
    try {
      return peek.prepare('SELECT count(*) AS n FROM t').get().n;
    } finally {
      peek.close();
    }
  };

  it('the group commit lets the next group commit while its log is synced, and answers each once a sync after its COMMIT is done', async () => {
    const store = new Repositories(db);
    hold = [];
    const first = store.transaction(async (tx) => tx.db('t').insert({ id: 11, v: 'first' }));
    await held(1);
    expect(committedRows()).to.equal(1);
    expect(await pending(first), 'answered before its sync').to.equal(true);
    // the connection is free: the next group commits while the first one's sync is held
    const second = store.transaction(async (tx) => tx.db('t').insert({ id: 12, v: 'second' }));
    for (const until = Date.now() + 10_000; committedRows() < 2 && Date.now() < until; ) await new Promise((r) => setTimeout(r, 2));
    expect(committedRows(), 'the second group committed while the first sync was held').to.equal(2);
    expect(await pending(second)).to.equal(true);
    // the first sync began before the second COMMIT: it answers the first group only
    hold.shift()!.release();
    await first;
    await held(1);
    expect(await pending(second), 'answered by a sync that began before its COMMIT').to.equal(true);
    hold.shift()!.release();
    await second;
  });

  it('a read outside a transaction waits until the commits before it are durable, holding the connection', async () => {
    const store = new Repositories(db);
    hold = [];
    const write = store.transaction(async (tx) => tx.db('t').insert({ id: 21, v: 'a' }));
    await held(1);
    const read = store.db('t').count({ n: '*' }).then((rows) => rows);
    expect(await pending(read), 'read a commit not yet durable').to.equal(true);
    // the read holds the connection while it waits: a group asked for after it cannot commit
    const later = store.transaction(async (tx) => tx.db('t').insert({ id: 22, v: 'b' }));
    await pending(later);
    expect(committedRows()).to.equal(1);
    hold.shift()!.release();
    await write;
    expect(await read).to.deep.equal([{ n: 1 }]);
    hold = undefined;
    await later;
    expect(committedRows()).to.equal(2);
  });

  it('a snapshot reads nothing that is not yet durable', async () => {
    const store = new Repositories(db);
    hold = [];
    const write = store.transaction(async (tx) => tx.db('t').insert({ id: 31, v: 'a' }));
    await held(1);
    const snap = store.snapshot(async (tx) => tx.db('t').count({ n: '*' }));
    expect(await pending(snap)).to.equal(true);
    hold.shift()!.release();
    await write;
    expect(await snap).to.deep.equal([{ n: 1 }]);
  });

  it('a group whose sync fails fails its units as the database unavailable (their commit may be on disk)', async () => {
    const store = new Repositories(db);
    hold = [];
    const write = store.transaction(async (tx) => tx.db('t').insert({ id: 41, v: 'a' }));
    await held(1);
    hold.shift()!.fail(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    let error: unknown;
    await write.catch((e: unknown) => (error = e));
    expect((error as { code?: string } | undefined)?.code).to.equal('SQLITE_IOERR_FSYNC');
  });

  it('a unit that fails leaves no COMMIT deferred: the next transaction outside the group still waits for its sync', async () => {
    const store = new Repositories(db);
    await store
      .transaction(async (tx) => {
        await tx.db('t').insert({ id: 51, v: 'undone' });
        throw new Error('fails');
      })
      .catch(() => undefined);
    hold = [];
    const tx = db.transaction(async (trx) => trx('t').insert({ id: 52, v: 'kept' }));
    expect(await pending(tx), 'answered before its sync').to.equal(true);
    hold.shift()!.release();
    await tx;
  });
});
