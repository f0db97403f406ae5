/**
 * A large upload has V8's young generation collected as it goes (src/store/YoungGarbage.ts):
 * a collection asked for after every so many bytes written, and none for a small document.
 * Counted as the young-generation collections forced in this process (perf_hooks' `gc`
 * entries: kind minor, flag forced), which V8's own collections are not.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { expect } from 'chai';
import { FsBlobStore } from '../../src/store/FsBlobStore.js';
import { YOUNG_GARBAGE_BYTES, YoungGarbage } from '../../src/store/YoungGarbage.js';
import { forcedYoungCollections } from '../helpers/gc.js';

const MiB = 1024 * 1024;

/** `bytes` in pieces of 64 KiB, as a socket gives them */
const upload = (bytes: number) => Readable.from(Array.from({ length: Math.ceil(bytes / 65_536) }, (_, i) => Buffer.alloc(Math.min(65_536, bytes - i * 65_536), i % 251)));

describe("a large upload's garbage collected as it goes (YoungGarbage)", () => {
  it('asks for a young-generation collection after every so many bytes written, and only then', async () => {
    const garbage = new YoungGarbage(4 * MiB);
    expect(await forcedYoungCollections(() => void Array.from({ length: 10 }, () => garbage.written(MiB)))).to.equal(2);
    expect(await forcedYoungCollections(() => garbage.written(MiB))).to.equal(0);
    expect(await forcedYoungCollections(() => garbage.written(MiB))).to.equal(1);
  });

  describe('the filesystem blob store', () => {
    let dir: string;
    let store: FsBlobStore;
    before(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'young-garbage-'));
      store = new FsBlobStore(dir);
      await store.init();
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it(`has one collected every ${YOUNG_GARBAGE_BYTES / MiB} MiB it writes of a document`, async () => {
      expect(await forcedYoungCollections(async () => void (await store.stage(upload(20 * MiB), 100 * MiB)))).to.equal(2);
    });

    it('none for a letter of 100 KB', async () => {
      expect(await forcedYoungCollections(async () => void (await store.stage(upload(100_000), 100 * MiB)))).to.equal(0);
    });
  });
});
