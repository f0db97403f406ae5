/**
 * The service's SQLite connection keeps its temporary data in memory (src/store/database.ts):
 * above all the journal of each savepoint, which every unit of a commit group opens
 * (CommitGroup.ts). With SQLite's default, a journal past 64 KiB goes to a temporary file,
 * two writes for each page a unit first changes, and a file created and deleted per group.
 *
 * Counted as the bytes the main thread hands to write calls (`/proc/thread-self/io`, `wchar`:
 * better-sqlite3 runs every statement on the calling thread) over a transaction's savepoints
 * before its COMMIT: with SQLite's default the same transaction writes its journal, a page for
 * each page a savepoint first changes (which shows that the count sees them); with the
 * service's setting, nothing of it. The thread may write something else meanwhile (a line of
 * a log, between two statements), far below one 64 KiB spill of a journal.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { openDatabase, type Db } from '../../src/store/database.js';

/** bytes this thread has handed to write calls so far */
const bytesWritten = () => Number(/^wchar:\s*(\d+)$/m.exec(fs.readFileSync('/proc/thread-self/io', 'utf8'))![1]);
/** a journal goes to its file once it passes 64 KiB (SQLite's default statement-journal spill) */
const SPILL = 64 * 1024;

describe("SQLite's temporary data in memory: a savepoint's journal writes nothing before COMMIT", () => {
  let dir: string;
  let db: Db;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'temp-store-'));
    fs.chmodSync(dir, 0o700);
    db = openDatabase({ client: 'sqlite', filename: path.join(dir, 'service.db') });
    await db.schema.createTable('t', (t) => {
      t.string('id').primary();
      t.string('v');
    });
    // an index of a few hundred pages: rows with random keys then change pages all over it
    for (let i = 0; i < 10; i++) await db('t').insert(Array.from({ length: 500 }, () => ({ id: randomBytes(16).toString('hex'), v: 'x'.repeat(40) })));
  });
  after(async () => {
    await db?.destroy();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** bytes written during five savepoints of 300 rows each, in one transaction, before its COMMIT */
  const savepointWrites = async (): Promise<number> => {
    let writes = -1;
    await db.transaction(async (trx) => {
      const before = bytesWritten();
      for (let s = 0; s < 5; s++) {
        await trx.raw('SAVEPOINT unit');
        await trx('t').insert(Array.from({ length: 300 }, () => ({ id: randomBytes(16).toString('hex'), v: 'y'.repeat(40) })));
        await trx.raw('RELEASE unit');
      }
      writes = bytesWritten() - before;
    });
    return writes;
  };

  it('is what the service sets', async () => {
    expect(await db.raw('PRAGMA temp_store')).to.deep.equal([{ temp_store: 2 }]);
  });

  it("no write of the savepoints' journal", async () => {
    expect(await savepointWrites()).to.be.lessThan(SPILL / 4);
  });

  it("with SQLite's default the same transaction writes its savepoints' journal to a file", async () => {
    await db.raw('PRAGMA temp_store = DEFAULT');
    try {
      expect(await savepointWrites()).to.be.greaterThan(4 * SPILL);
    } finally {
      await db.raw('PRAGMA temp_store = MEMORY');
    }
  });
});
