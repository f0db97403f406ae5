/**
 * The event log's order on PostgreSQL: a transaction notes its events and writes them as its
 * last statements before COMMIT, so the log's advisory lock is held for the head's read, one
 * insert and the COMMIT — not while the transaction does its other work. Checked from a second
 * connection (pg_locks), and under concurrent transactions, savepoints that fail, and
 * transactions that roll back: the chain stays whole and consecutive. Runs on the PostgreSQL
 * of the test machine in both suites (TEST_DATABASE_URL when it is PostgreSQL, else the local
 * server CI provides).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import pg from 'pg';
import { createSender } from '../../src/access/senders.js';
import { loadConfig } from '../../src/config.js';
import { verifyEventChain } from '../../src/domain/EventChain.js';
import { migrateLatest, openDatabase } from '../../src/store/database.js';
import { EVENT_LOG_LOCK } from '../../src/store/EventRepository.js';
import { Repositories } from '../../src/store/Repositories.js';
import { createTestDatabase, onPostgres, type TestDatabase } from '../helpers/database.js';

const PG_ADMIN = onPostgres ? process.env.TEST_DATABASE_URL! : (process.env.CI_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test');

describe('event log: the chain lock only around the write and the commit (PostgreSQL)', function () {
  this.timeout(60_000);
  let dir: string;
  let db: TestDatabase;
  let store: Repositories;
  let observer: pg.Client;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-eventlock-'));
    db = await createTestDatabase(dir, PG_ADMIN);
    const knex = openDatabase(loadConfig({ DATABASE_URL: db.url }).database);
    await migrateLatest(knex);
    store = new Repositories(knex);
    observer = new pg.Client({ connectionString: db.url });
    await observer.connect();
    // the message the events are about (events name an existing message)
    const { sender } = await createSender(store, 'Event log sender');
    const at = new Date().toISOString();
    await store.transaction((tx) =>
      tx.messages.insert(
        { id: messageId, senderId: sender.id, recipientType: 'citizen', recipientId: '85073003328', subject: { nl: 'x' }, senderReference: null, status: 'RECEIVED', submittedAt: at, updatedAt: at, expiresAt: at, eboxMessageId: null, documentsPurgedAt: null },
        [],
      ),
    );
  });
  after(async () => {
    await observer?.end();
    await store?.close();
    await db?.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Whether some session holds (or waits for) the event log's advisory lock now. */
  async function lockTaken(): Promise<boolean> {
    const r = await observer.query("SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND ((classid::bigint << 32) + objid::bigint) = $1", [EVENT_LOG_LOCK]);
    return Number(r.rows[0].n) > 0;
  }
  const messageId = randomUUID();
  // text that canonical JSON escapes or leaves as UTF-8: the database hashes it as the service does (append_events)
  const event = (type: string) => ({ messageId, type, at: new Date().toISOString(), data: { n: type, text: 'Prénom «ü» \u2028 "q" \\ \u{1F600}', amount: 1.5, seq: 0 } });
  async function chain() {
    return store.events.range(1);
  }

  it('holds no lock while the transaction that appended does its other work, and writes at commit', async () => {
    let during: boolean | undefined;
    let visibleDuring: number | undefined;
    await store.transaction(async (tx) => {
      await tx.events.append(event('first'));
      await tx.events.append(event('second'));
      // the transaction's other statements: no lock held yet, nothing written yet
      await tx.db.raw('SELECT pg_sleep(0.05)');
      during = await lockTaken();
      visibleDuring = Number((await tx.db('events').count({ n: '*' }))[0]!.n);
    });
    expect(during).to.equal(false);
    expect(visibleDuring).to.equal(0);
    expect(await lockTaken()).to.equal(false);
    const rows = await chain();
    expect(rows.map((r) => [r.seq, r.type])).to.deep.equal([
      [1, 'first'],
      [2, 'second'],
    ]);
    expect(verifyEventChain(rows)).to.equal(undefined);
  });

  it('keeps the chain whole and consecutive under concurrent transactions, failed savepoints and rollbacks', async () => {
    const before = (await chain()).length;
    const committed: string[] = [];
    await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        try {
          await store.transaction(async (tx) => {
            await tx.events.append(event(`t${i}-a`));
            // a savepoint that fails: its event goes with it
            await tx
              .transaction(async (sp) => {
                await sp.events.append(event(`t${i}-lost`));
                throw new Error('savepoint fails');
              })
              .catch(() => undefined);
            // a savepoint that succeeds: its event commits with the transaction
            await tx.transaction(async (sp) => sp.events.append(event(`t${i}-b`)));
            if (i % 5 === 0) throw new Error('roll back');
          });
          committed.push(`t${i}-a`, `t${i}-b`);
        } catch (err) {
          if ((err as Error).message !== 'roll back') throw err;
        }
      }),
    );
    const rows = (await chain()).slice(before);
    expect(verifyEventChain(await chain())).to.equal(undefined);
    expect(rows.map((r) => r.seq)).to.deep.equal(rows.map((_, k) => before + k + 1));
    expect(rows.map((r) => r.type).sort()).to.deep.equal([...committed].sort());
    // each transaction's events are together and in the order it noted them
    for (let k = 0; k < rows.length; k += 2) expect(rows[k + 1]!.type).to.equal(rows[k]!.type.replace(/-a$/, '-b'));
  });
});
