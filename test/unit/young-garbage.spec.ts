/**
 * A large upload has V8's young generation collected as it goes (src/store/YoungGarbage.ts):
 * a collection asked for after every so many bytes written (the blob stores' own specs check
 * that they report what they write).
 * Counted as the young-generation collections forced in this process (perf_hooks' `gc`
 * entries: kind minor, flag forced), which V8's own collections are not.
 */
import { expect } from 'chai';
import { YoungGarbage } from '../../src/store/YoungGarbage.js';
import { forcedYoungCollections } from '../helpers/gc.js';

const MiB = 1024 * 1024;

describe("a large upload's garbage collected as it goes (YoungGarbage)", () => {
  it('asks for a young-generation collection after every so many bytes written, and only then', async () => {
    const garbage = new YoungGarbage(4 * MiB);
    expect(await forcedYoungCollections(() => void Array.from({ length: 10 }, () => garbage.written(MiB)))).to.equal(2);
    expect(await forcedYoungCollections(() => garbage.written(MiB))).to.equal(0);
    expect(await forcedYoungCollections(() => garbage.written(MiB))).to.equal(1);
  });
});
