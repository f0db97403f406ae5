import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { openDatabase } from '../../src/store/database.js';
import { ensurePrivateDirectory, preparePrivateSqliteFile } from '../../src/store/FilePermissions.js';
import { FsBlobStore } from '../../src/store/FsBlobStore.js';

const mode = (f: string) => fs.statSync(f).mode & 0o777;

describe('the SQLite database and its -wal/-shm files are 0644 in a 0755 data folder', () => {
  let dir: string;
  let umask: number;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-perm-'));
    umask = process.umask(0o022); // the usual umask, under which the files came out world-readable
  });
  afterEach(() => {
    process.umask(umask);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('creates the data folder 0700 and the database, -wal and -shm 0600', async () => {
    const data = path.join(dir, 'data');
    const file = path.join(data, 'registered-mail.sqlite');
    const db = openDatabase({ client: 'sqlite', filename: file });
    try {
      await db.schema.createTable('t', (t) => t.integer('x'));
      await db('t').insert({ x: 1 });
      expect(fs.existsSync(`${file}-wal`), 'WAL file').to.equal(true);
      expect(mode(data).toString(8)).to.equal('700');
      for (const f of [file, `${file}-wal`, `${file}-shm`]) expect(mode(f).toString(8), f).to.equal('600');
    } finally {
      await db.destroy();
    }
  });

  it('creates the blob folders 0700', async () => {
    const blobs = new FsBlobStore(path.join(dir, 'data', 'blobs'));
    await blobs.init();
    for (const d of ['', 'tmp', 'objects']) expect(mode(path.join(dir, 'data', 'blobs', d)).toString(8), d).to.equal('700');
  });

  it('refuses (DATA_PERMISSIONS) a data folder, database, -wal or -shm that group or others can read, naming it', () => {
    const data = path.join(dir, 'data');
    const file = path.join(data, 'db.sqlite');
    fs.mkdirSync(data, { mode: 0o755 });
    fs.chmodSync(data, 0o755);
    expect(() => preparePrivateSqliteFile(file)).to.throw().with.property('code', 'DATA_PERMISSIONS');
    expect(() => preparePrivateSqliteFile(file)).to.throw(data);
    fs.chmodSync(data, 0o700);
    for (const f of [file, `${file}-wal`, `${file}-shm`]) {
      fs.writeFileSync(f, '');
      fs.chmodSync(f, 0o640);
      expect(() => preparePrivateSqliteFile(file), f).to.throw(f).with.property('code', 'DATA_PERMISSIONS');
      fs.chmodSync(f, 0o600);
    }
    expect(() => preparePrivateSqliteFile(file)).not.to.throw();
  });

  it('refuses a blob folder that others can enter', async () => {
    const blobs = path.join(dir, 'blobs');
    fs.mkdirSync(path.join(blobs, 'objects'), { recursive: true, mode: 0o700 });
    fs.chmodSync(path.join(blobs, 'objects'), 0o711);
    let code: unknown;
    await new FsBlobStore(blobs).init().catch((e) => (code = e.code));
    expect(code).to.equal('DATA_PERMISSIONS');
    expect(() => ensurePrivateDirectory(path.join(blobs, 'objects'))).to.throw(path.join(blobs, 'objects'));
  });
});
