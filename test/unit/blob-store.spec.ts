import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { expect } from 'chai';
import { FsBlobStore } from '../../src/store/FsBlobStore.js';

describe('filesystem blob store', () => {
  let dir: string;
  let store: FsBlobStore;
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-blob-'));
    store = new FsBlobStore(dir);
    await store.init();
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('hashes while staging, then commits by rename', async () => {
    const chunks = [Buffer.from('hello '), Buffer.from('world')];
    const staged = await store.stage(Readable.from(chunks), 100);
    expect(staged).to.include({ size: 11, tooLarge: false, sha256: createHash('sha256').update('hello world').digest('hex') });
    expect(fs.statSync(staged.tempPath).mode & 0o077).to.equal(0);
    await store.commit(staged, 'abcdef0123456789');
    expect(fs.existsSync(staged.tempPath)).to.equal(false);
    expect(await store.keys()).to.deep.equal(['abcdef0123456789']);
    const back: Buffer[] = [];
    for await (const c of store.open('abcdef0123456789')) back.push(c as Buffer);
    expect(Buffer.concat(back).toString()).to.equal('hello world');
  });

  it('drains but does not write past the limit', async () => {
    const staged = await store.stage(Readable.from([Buffer.alloc(60), Buffer.alloc(60)]), 100);
    expect(staged.tooLarge).to.equal(true);
    expect(fs.statSync(staged.tempPath).size).to.equal(60);
    await store.discard(staged);
    expect(fs.readdirSync(path.join(dir, 'tmp'))).to.deep.equal([]);
  });

  it('sweeps temp files and unreferenced objects, keeps referenced ones', async () => {
    for (const key of ['keep00000001', 'orphan000001']) await store.commit(await store.stage(Readable.from([Buffer.from(key)]), 100), key);
    await store.stage(Readable.from([Buffer.from('left over')]), 100);
    const swept = await store.sweep(new Set(['keep00000001']), 0);
    expect(swept).to.deep.equal({ tempFiles: 1, orphans: 1 });
    expect(await store.keys()).to.deep.equal(['keep00000001']);
  });

  it('keeps young files within the grace period', async () => {
    await store.commit(await store.stage(Readable.from([Buffer.from('x')]), 100), 'young0000001');
    expect(await store.sweep(new Set(), 60_000)).to.deep.equal({ tempFiles: 0, orphans: 0 });
  });

  it('refuses keys that could escape the store', () => {
    expect(() => store.open('../../etc/passwd')).to.throw(/invalid blob key/);
  });
});
