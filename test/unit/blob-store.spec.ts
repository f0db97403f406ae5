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

  it('names each temp file after the host and process writing it', async () => {
    const staged = await store.stage(Readable.from([Buffer.from('x')]), 100);
    expect(path.basename(staged.tempPath)).to.match(new RegExp(`^[0-9a-f]{8}-${process.pid}\\.[0-9a-f-]{36}\\.part$`));
  });

  it('sweeps only the temp files no process can still be writing: a gone process of this host, or too old', async () => {
    const mine = await store.stage(Readable.from([Buffer.from('in progress')]), 100);
    const tag = path.basename(mine.tempPath).slice(0, 8);
    const tmp = path.join(dir, 'tmp');
    // a process of this host that is gone: its pid is free (a child that has exited)
    const { spawnSync } = await import('node:child_process');
    const gonePid = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    fs.writeFileSync(path.join(tmp, `${tag}-${gonePid}.0000.part`), 'dead');
    // a live process of this host (this one, seen as another writer) and another host's fresh upload
    fs.writeFileSync(path.join(tmp, `${tag}-${process.ppid}.1111.part`), 'alive');
    fs.writeFileSync(path.join(tmp, `deadbeef-1.2222.part`), 'other host, fresh');
    // another host's, older than any upload can last
    const stale = path.join(tmp, `deadbeef-2.3333.part`);
    fs.writeFileSync(stale, 'other host, stale');
    fs.utimesSync(stale, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
    expect(await store.sweepTempFiles(600_000)).to.equal(2);
    expect(fs.readdirSync(tmp).sort()).to.deep.equal([path.basename(mine.tempPath), `${tag}-${process.ppid}.1111.part`, 'deadbeef-1.2222.part'].sort());
  });

  it('refuses keys that could escape the store', () => {
    expect(() => store.open('../../etc/passwd')).to.throw(/invalid blob key/);
  });
});
