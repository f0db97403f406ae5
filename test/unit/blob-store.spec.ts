import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp, { type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { expect } from 'chai';
import { newRowId } from '../../src/domain/RowId.js';
import { FsBlobStore, shardOf } from '../../src/store/FsBlobStore.js';
import { YOUNG_GARBAGE_BYTES } from '../../src/store/YoungGarbage.js';
import { forcedYoungCollections } from '../helpers/gc.js';

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

  it("spreads the files over folders by random characters of their keys: a UUID of version 7's last two, another key's first two", async () => {
    const v7 = Array.from({ length: 300 }, () => newRowId());
    // made one after the other: the same first characters (the time), the shards all over
    expect(new Set(v7.map((k) => k.slice(0, 2))).size).to.equal(1);
    expect(new Set(v7.map(shardOf)).size).to.be.greaterThan(150);
    const v4 = 'c3d5e7f9-1a2b-4c3d-8e4f-5a6b7c8d9e0f';
    const keys = [...v7.slice(0, 3), v4, 'abcdef0123456789'];
    for (const key of keys) await store.commit(await store.stage(Readable.from([Buffer.from(key)]), 100), key);
    for (const key of v7.slice(0, 3)) expect(fs.readFileSync(path.join(dir, 'objects', key.slice(-2), key), 'utf8')).to.equal(key);
    // a random key (every document's before) stays where it always was
    expect(fs.readFileSync(path.join(dir, 'objects', 'c3', v4), 'utf8')).to.equal(v4);
    expect(fs.readFileSync(path.join(dir, 'objects', 'ab', 'abcdef0123456789'), 'utf8')).to.equal('abcdef0123456789');
    expect((await store.keys()).sort()).to.deep.equal([...keys].sort());
    for (const key of keys) {
      expect(await store.exists(key)).to.equal(true);
      const back: Buffer[] = [];
      for await (const c of store.open(key)) back.push(c as Buffer);
      expect(Buffer.concat(back).toString()).to.equal(key);
    }
    await store.remove(v7[0]!);
    expect(await store.exists(v7[0]!)).to.equal(false);
  });

  it(`has the young generation collected every ${YOUNG_GARBAGE_BYTES / 2 ** 20} MiB it writes of a document, and not for a letter of 100 KB`, async () => {
    /** `bytes` in pieces of 64 KiB, as a socket gives them */
    const upload = (bytes: number) => Readable.from(Array.from({ length: Math.ceil(bytes / 65_536) }, (_, i) => Buffer.alloc(Math.min(65_536, bytes - i * 65_536), i % 251)));
    expect(await forcedYoungCollections(async () => void (await store.stage(upload(20 * 2 ** 20), 100 * 2 ** 20)))).to.equal(2);
    expect(await forcedYoungCollections(async () => void (await store.stage(upload(100_000), 100 * 2 ** 20)))).to.equal(0);
  });

  // a document in one run of writes is hashed off the main thread, a larger one run by run
  for (const [label, size] of [['empty', 0], ['one byte', 1], ['one run, to its last byte', 256 * 1024], ['a run and a byte', 256 * 1024 + 1], ['several runs', 1_000_003]] as const) {
    it(`gives the SHA-256 of what it wrote: ${label} (${size} bytes)`, async () => {
      const body = Buffer.from(Array.from({ length: size }, (_, i) => (i * 7) % 253));
      const chunks: Buffer[] = [];
      for (let at = 0; at < size; at += 65_536) chunks.push(body.subarray(at, at + 65_536));
      const staged = await store.stage(Readable.from(chunks), 2_000_000);
      expect(staged).to.include({ size, tooLarge: false, sha256: createHash('sha256').update(body).digest('hex') });
      expect(fs.readFileSync(staged.tempPath).equals(body)).to.equal(true);
    });
  }

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

  // A file system that fills up during a write(2) writes what fits and returns the count
  // without an error (ENOSPC comes only with the next write): found by the disk-full fault
  // campaign (test/faults), where acknowledged documents were kept truncated.
  describe('short writes (a disk that fills up during a write)', () => {
    const open = fsp.open;
    /** Makes every write of the files opened from now on write at most `limit` bytes at a time, as write(2) and writev(2) may. */
    function shortWrites(limit: number, failAfter?: number): void {
      let written = 0;
      (fsp as { open: typeof fsp.open }).open = async (...args: Parameters<typeof fsp.open>) => {
        const fh: FileHandle = await open(...args);
        const write = fh.write.bind(fh) as (b: Uint8Array, o?: number, l?: number) => Promise<{ bytesWritten: number; buffer: Uint8Array }>;
        (fh as { write: unknown }).write = async (buffer: Uint8Array, offset = 0, length = buffer.byteLength - offset) => {
          if (failAfter !== undefined && written >= failAfter) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
          const n = Math.min(length, limit, failAfter === undefined ? Infinity : failAfter - written);
          written += n;
          return write(buffer, offset, n);
        };
        const writev = fh.writev.bind(fh) as (buffers: Uint8Array[]) => Promise<{ bytesWritten: number; buffers: Uint8Array[] }>;
        (fh as { writev: unknown }).writev = async (buffers: Uint8Array[]) => {
          if (failAfter !== undefined && written >= failAfter) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
          let n = Math.min(
            buffers.reduce((sum, b) => sum + b.byteLength, 0),
            limit,
            failAfter === undefined ? Infinity : failAfter - written,
          );
          written += n;
          // the first n bytes of the buffers, as writev(2) may take only those
          const taken: Uint8Array[] = [];
          for (const b of buffers) {
            if (n === 0) break;
            taken.push(b.subarray(0, Math.min(n, b.byteLength)));
            n -= Math.min(n, b.byteLength);
          }
          return writev(taken);
        };
        return fh;
      };
    }
    afterEach(() => ((fsp as { open: typeof fsp.open }).open = open));

    it('writes the rest of a run the file system took only in part', async () => {
      shortWrites(1000);
      const body = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 251));
      // three chunks in one run: short writes end inside a chunk and at a chunk's end (1000 | 30,000)
      const staged = await store.stage(Readable.from([body.subarray(0, 30_000), body.subarray(30_000, 30_500), body.subarray(30_500)]), 1_000_000);
      expect(staged).to.include({ size: body.length, sha256: createHash('sha256').update(body).digest('hex') });
      expect(fs.readFileSync(staged.tempPath).equals(body), 'the file holds every byte that was hashed').to.equal(true);
    });

    it('refuses the document (ENOSPC) when the rest does not fit, and leaves no temp file', async () => {
      shortWrites(1_000_000, 50_000);
      const body = Buffer.alloc(70_000, 7);
      let failure: unknown;
      await store.stage(Readable.from([body]), 1_000_000).catch((err) => (failure = err));
      expect((failure as { code?: string } | undefined)?.code).to.equal('ENOSPC');
      expect(fs.readdirSync(path.join(dir, 'tmp'))).to.deep.equal([]);
    });
  });

  it('refuses keys that could escape the store', () => {
    expect(() => store.open('../../etc/passwd')).to.throw(/invalid blob key/);
  });
});
