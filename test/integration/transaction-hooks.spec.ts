/**
 * Repositories.afterTransaction (src/store/TransactionHooks.ts): a repository learns how
 * the transaction it wrote in ended — after the commit, never before; certainly rolled
 * back (a savepoint); or unknown (the root transaction reported a failure) — and a
 * savepoint's hooks wait for the enclosing transaction.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { loadConfig } from '../../src/config.js';
import { migrateLatest, openDatabase } from '../../src/store/database.js';
import { Repositories } from '../../src/store/Repositories.js';
import { createTestDatabase, onPostgres, type TestDatabase } from '../helpers/database.js';

describe(`transaction hooks (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, () => {
  let dir: string;
  let db: TestDatabase;
  let store: Repositories;
  let told: string[];

  const hooks = (name: string) => ({
    committed: () => void told.push(`${name}:committed`),
    failed: (maybeCommitted: boolean) => void told.push(`${name}:${maybeCommitted ? 'unknown' : 'rolled-back'}`),
  });
  const checkpointState = (key: string) => store.checkpoints.getState(key);

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-tx-hooks-'));
    db = await createTestDatabase(dir);
    const knex = openDatabase(loadConfig({ DATA_DIR: dir, DATABASE_URL: db.url }).database);
    await migrateLatest(knex);
    store = new Repositories(knex);
    told = [];
  });

  afterEach(async () => {
    await store.close();
    await db.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('tells `committed` once the commit is done, in the order asked; outside a transaction at once', async () => {
    store.afterTransaction(hooks('autocommit'));
    expect(told).to.deep.equal(['autocommit:committed']);
    await store.transaction(async (tx) => {
      await tx.checkpoints.setState('k', 'v');
      tx.afterTransaction(hooks('first'));
      tx.afterTransaction(hooks('second'));
      expect(told).to.have.length(1);
    });
    expect(told).to.deep.equal(['autocommit:committed', 'first:committed', 'second:committed']);
    expect(await checkpointState('k')).to.equal('v');
  });

  it('tells `failed(true)` when the root transaction fails: the caller cannot know it did not commit', async () => {
    const failure = await store
      .transaction(async (tx) => {
        await tx.checkpoints.setState('k', 'v');
        tx.afterTransaction(hooks('root'));
        throw new Error('abandoned');
      })
      .catch((err: Error) => err);
    expect(failure).to.have.property('message', 'abandoned');
    expect(told).to.deep.equal(['root:unknown']);
    expect(await checkpointState('k')).to.equal(undefined);
  });

  it("has a savepoint's hooks wait for the enclosing transaction; a savepoint rolled back tells `failed(false)`", async () => {
    await store.transaction(async (tx) => {
      tx.afterTransaction(hooks('outer'));
      await tx.transaction(async (sp) => {
        await sp.checkpoints.setState('kept', 'v');
        sp.afterTransaction(hooks('released'));
      });
      expect(told, 'a released savepoint has not committed anything').to.deep.equal([]);
      await tx
        .transaction(async (sp) => {
          await sp.checkpoints.setState('undone', 'v');
          sp.afterTransaction(hooks('undone'));
          throw new Error('abandoned');
        })
        .catch(() => undefined);
      expect(told).to.deep.equal(['undone:rolled-back']);
    });
    expect(told).to.deep.equal(['undone:rolled-back', 'outer:committed', 'released:committed']);
    expect(await checkpointState('kept')).to.equal('v');
    expect(await checkpointState('undone')).to.equal(undefined);

    told = [];
    await store
      .transaction(async (tx) => {
        await tx.transaction(async (sp) => sp.afterTransaction(hooks('released')));
        throw new Error('abandoned');
      })
      .catch(() => undefined);
    expect(told, "the enclosing transaction's outcome is the savepoint's").to.deep.equal(['released:unknown']);
  });
});
