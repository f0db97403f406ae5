/**
 * Documents in PostgreSQL (BLOB_STORE=postgres): the store's protocol on its own (stage in
 * chunks while hashing, commit, stream back, discard, sweep), then an API process and a
 * worker process with separate data folders that share nothing but the database. Runs on
 * the PostgreSQL of the test machine in both suites: on the SQLite run too, against
 * TEST_DATABASE_URL when it is PostgreSQL, else the local server CI provides.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { expect } from 'chai';
import type { Knex } from 'knex';
import { loadConfig } from '../../src/config.js';
import { BLOB_OWNER, type StagedBlob } from '../../src/store/BlobStore.js';
import { migrateLatest, openDatabase } from '../../src/store/database.js';
import { PG_CHUNK_BYTES, PgBlobStore } from '../../src/store/PgBlobStore.js';
import { Repositories } from '../../src/store/Repositories.js';
import { YOUNG_GARBAGE_BYTES } from '../../src/store/YoungGarbage.js';
import { createTestDatabase, onPostgres, type TestDatabase } from '../helpers/database.js';
import { forcedYoungCollections } from '../helpers/gc.js';
import { TEST_CERTS_DIR } from '../helpers/paths.js';
import { freePort, kill, runScript, startServiceProcess, type ServiceProcess } from '../helpers/process.js';
import { blobFiles, FAST_WORKER_ENV, metadata, pdfBytes, submit, VALID_INSZ, waitForMessage } from '../helpers/service.js';

const PG_ADMIN = onPostgres ? process.env.TEST_DATABASE_URL! : (process.env.CI_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A stream of `bytes` in uneven pieces, as an upload arrives. */
function pieces(bytes: Uint8Array, size = 65_521): Readable {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(Buffer.from(bytes.subarray(i, i + size)));
  return Readable.from(out);
}

async function readAll(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('PostgreSQL blob store', function () {
  this.timeout(120_000);
  let dir: string;
  let db: TestDatabase;
  let knex: Knex;
  let store: PgBlobStore;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-pgblob-'));
    db = await createTestDatabase(dir, PG_ADMIN);
    expect(db.url).to.match(/^postgres/);
    knex = openDatabase(loadConfig({ DATABASE_URL: db.url }).database);
    await migrateLatest(knex);
    store = new PgBlobStore(knex);
    await store.init();
  });
  after(async () => {
    await knex?.destroy();
    await db?.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const rows = async (table: string) => Number((await knex(table).count({ n: '*' }))[0]!.n);

  it('stages in chunks while hashing, commits under a key and streams the same bytes back', async () => {
    const doc = pdfBytes(3 * PG_CHUNK_BYTES + 12_345, 7);
    const staged = await store.stage(pieces(doc), 10 * PG_CHUNK_BYTES);
    expect(staged).to.deep.include({ size: doc.length, sha256: sha256(doc), tooLarge: false });
    // 1 MiB rows, the last one shorter
    const chunks = await knex('blob_chunks').select('seq').orderBy('seq');
    expect(chunks.map((c) => c.seq)).to.deep.equal([0, 1, 2, 3]);
    expect(await store.exists('doc-key-0001')).to.equal(false);
    await store.commit(staged, 'doc-key-0001');
    expect(await store.exists('doc-key-0001')).to.equal(true);
    expect(await store.keys()).to.deep.equal(['doc-key-0001']);
    const back = await readAll(store.open('doc-key-0001'));
    expect(back.length).to.equal(doc.length);
    expect(sha256(back)).to.equal(sha256(doc));
    // committed: discard leaves it alone; a second commit of the same staging is refused
    await store.discard(staged);
    expect(await store.exists('doc-key-0001')).to.equal(true);
    let again: unknown;
    await store.commit(staged, 'doc-key-0009').catch((e) => (again = e));
    expect((again as Error)?.message).to.match(/already committed/);
    await store.remove('doc-key-0001');
    expect(await store.exists('doc-key-0001')).to.equal(false);
    expect(await rows('blob_chunks')).to.equal(0);
  });

  it(`has the young generation collected every ${YOUNG_GARBAGE_BYTES / 4 / PG_CHUNK_BYTES} MiB of chunk rows written, and not for a letter of 100 KB`, async () => {
    let big: StagedBlob | undefined;
    expect(await forcedYoungCollections(async () => void (big = await store.stage(pieces(pdfBytes(5 * PG_CHUNK_BYTES, 3)), 10 * PG_CHUNK_BYTES)))).to.equal(2);
    let small: StagedBlob | undefined;
    expect(await forcedYoungCollections(async () => void (small = await store.stage(pieces(pdfBytes(100_000, 4)), 10 * PG_CHUNK_BYTES)))).to.equal(0);
    await store.discard(big!);
    await store.discard(small!);
  });

  it('keeps nothing past the limit, and nothing of a discarded or failed upload', async () => {
    const big = pdfBytes(2 * PG_CHUNK_BYTES, 3);
    const staged = await store.stage(pieces(big), PG_CHUNK_BYTES);
    expect(staged.tooLarge).to.equal(true);
    expect(staged.size).to.be.at.most(PG_CHUNK_BYTES);
    await store.discard(staged);
    expect(await rows('blob_objects')).to.equal(0);
    expect(await rows('blob_chunks')).to.equal(0);

    // a source that breaks off midway: the error is thrown, no row is left
    let reads = 0;
    const broken = new Readable({
      read() {
        // a chunk row's worth and more, then the connection drops
        if (reads++ === 0) this.push(Buffer.alloc(PG_CHUNK_BYTES + 10, 1));
        else this.destroy(new Error('client went away'));
      },
    });
    let thrown: unknown;
    await store.stage(broken, 10 * PG_CHUNK_BYTES).catch((e) => (thrown = e));
    expect((thrown as Error)?.message).to.equal('client went away');
    expect(await rows('blob_objects')).to.equal(0);
    expect(await rows('blob_chunks')).to.equal(0);
  });

  it('gives the key in the transaction of the rows: rolled back, the bytes are still staged and discarded; committed, they stay', async () => {
    const repos = new Repositories(knex);
    const rolledBack = await store.stage(pieces(pdfBytes(10_000, 21)), PG_CHUNK_BYTES);
    let thrown: unknown;
    await repos
      .commitWithBlobs(
        (tx) => store.commit(rolledBack, 'doc-key-0031', tx),
        async () => {
          throw new Error('the rows could not be written');
        },
      )
      .catch((e) => (thrown = e));
    expect((thrown as Error)?.message).to.equal('the rows could not be written');
    expect(await store.exists('doc-key-0031')).to.equal(false);
    expect(rolledBack.committed).to.not.equal(true);
    await store.discard(rolledBack);
    expect(await rows('blob_objects')).to.equal(0);
    expect(await rows('blob_chunks')).to.equal(0);

    const kept = await store.stage(pieces(pdfBytes(10_000, 22)), PG_CHUNK_BYTES);
    await repos.commitWithBlobs(
      (tx) => store.commit(kept, 'doc-key-0032', tx),
      async () => undefined,
    );
    expect(kept.committed).to.equal(true);
    // a discard after a commit whose answer was lost (the flag not set) leaves a keyed object alone
    await store.discard({ ...kept, committed: false } as typeof kept);
    expect(await store.exists('doc-key-0032')).to.equal(true);
    await store.remove('doc-key-0032');
  });

  it('needs no second connection: with a pool of one, bytes and rows commit on the transaction\'s', async () => {
    const one = openDatabase(loadConfig({ DATABASE_URL: db.url, DATABASE_POOL_MAX: '1' }).database);
    try {
      // a second connection would wait for the first until knex gives up (5 s): it must not be asked for
      (one.client as { config: { acquireConnectionTimeout: number } }).config.acquireConnectionTimeout = 1000;
      const single = new PgBlobStore(one);
      const staged = await single.stage(pieces(pdfBytes(10_000, 23)), PG_CHUNK_BYTES);
      await new Repositories(one).commitWithBlobs(
        (tx) => single.commit(staged, 'doc-key-0033', tx),
        async (tx) => void (await tx.db.raw('select 1')),
      );
      expect(await single.exists('doc-key-0033')).to.equal(true);
      await single.remove('doc-key-0033');
    } finally {
      await one.destroy();
    }
  });

  it('answers a missing key with ENOENT on the stream, as a missing file does', async () => {
    let code: unknown;
    await readAll(store.open('missing-key-1')).catch((e) => (code = e.code));
    expect(code).to.equal('ENOENT');
    expect(() => store.open('../etc/passwd')).to.throw(/invalid blob key/);
  });

  it('sweeps staged rows whose writer is gone or that are older than any upload, never a live one', async () => {
    const mine = await store.stage(pieces(pdfBytes(1000, 1)), PG_CHUNK_BYTES);
    const [host] = BLOB_OWNER.split('-');
    const now = new Date().toISOString();
    // a process of this host that is gone (pid 1 is alive; a pid past pid_max never is), another host's fresh row, an old row
    await knex('blob_objects').insert([
      { id: '00000000-0000-4000-8000-000000000001', blob_key: null, owner: `${host}-4194305`, size: 0, created_at: now },
      { id: '00000000-0000-4000-8000-000000000002', blob_key: null, owner: 'deadbeef-1', size: 0, created_at: now },
      { id: '00000000-0000-4000-8000-000000000003', blob_key: null, owner: 'deadbeef-2', size: 0, created_at: '2020-01-01T00:00:00.000Z' },
    ]);
    await knex('blob_chunks').insert({ blob_id: '00000000-0000-4000-8000-000000000001', seq: 0, data: Buffer.from('x') });
    expect(await store.sweepTempFiles(3_600_000)).to.equal(2);
    const left = (await knex('blob_objects').select('id')).map((r) => r.id).sort();
    expect(left).to.deep.equal(['00000000-0000-4000-8000-000000000002', (mine as unknown as { stagingId: string }).stagingId].sort());
    await store.commit(mine, 'doc-key-0002');
    await store.remove('doc-key-0002');
    await knex('blob_objects').delete();
  });

  it('is refused by the configuration without a PostgreSQL database', () => {
    expect(() => loadConfig({ BLOB_STORE: 'postgres', DATABASE_URL: 'sqlite:/tmp/x.sqlite' })).to.throw(/BLOB_STORE/);
    expect(loadConfig({ BLOB_STORE: 'postgres', DATABASE_URL: db.url }).blobStore).to.equal('postgres');
    expect(loadConfig({}).blobStore).to.equal('filesystem');
  });
});

describe('an API process and a worker with separate data folders, sharing only PostgreSQL', function () {
  this.timeout(300_000);
  let root: string;
  let db: TestDatabase;
  const procs: ServiceProcess[] = [];

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-pgblob-procs-'));
    db = await createTestDatabase(root, PG_ADMIN);
  });
  after(async () => {
    for (const p of procs) await kill(p);
    await db?.drop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('accepts in one, deposits from the other, serves the recipient the same bytes, and writes no document file', async () => {
    const apiDir = path.join(root, 'api');
    const workerDir = path.join(root, 'worker');
    const common = { APP_ENV: 'test', DATABASE_URL: db.url, BLOB_STORE: 'postgres', DEV_CERTS_DIR: TEST_CERTS_DIR, SUBMIT_WAIT_MS: '0', ...FAST_WORKER_ENV, MAX_DOCUMENT_BYTES: String(8 * 1024 * 1024) };
    const apiEnv = { ...common, DATA_DIR: apiDir };
    const { apiKey } = JSON.parse(await runScript('scripts/create-sender.ts', ['--name', 'Blob sender', '--json'], apiEnv));
    const { token } = JSON.parse(await runScript('scripts/create-recipient.ts', ['--type', 'citizen', '--id', VALID_INSZ, '--json'], apiEnv));
    expect(token).to.be.a('string');

    const api = await startServiceProcess(apiEnv, await freePort(), ['--role', 'api']);
    procs.push(api);
    procs.push(await startServiceProcess({ ...common, DATA_DIR: workerDir }, await freePort(), ['--role', 'worker']));

    const main = pdfBytes(3 * 1024 * 1024 + 777, 11); // four chunk rows
    const annex = pdfBytes(20_000, 12);
    const res = await submit(api, apiKey, metadata({}, [{ httpPartName: 'main', isMainContent: true }, { httpPartName: 'annex' }]), [
      { name: 'main', content: main },
      { name: 'annex', content: annex },
    ]);
    expect(res.status).to.be.oneOf([201, 202]);
    const { id } = await res.json();
    // the worker seals and deposits: it read the documents from the database
    const m = await waitForMessage(api, apiKey, id, (x) => x.status === 'DEPOSITED', 60_000);
    expect(m.evidence.map((e: any) => e.type)).to.include('ContentConsignment');

    const entry = (await (await fetch(`${api.url}/v1/ebox/messages`, { headers: { authorization: `Bearer ${token}` } })).json()).items[0];
    for (const [i, doc] of [main, annex].entries()) {
      const got = Buffer.from(await (await fetch(`${api.url}/v1/ebox/messages/${entry.id}/documents/${i}`, { headers: { authorization: `Bearer ${token}` } })).arrayBuffer());
      expect(sha256(got), `document ${i}`).to.equal(sha256(doc));
    }
    // no document bytes in either data folder
    for (const dir of [apiDir, workerDir]) {
      const files = blobFiles(dir);
      expect(files.objects, dir).to.deep.equal([]);
      expect(files.temp, dir).to.deep.equal([]);
    }
  });
});
