/**
 * A large upload's buffers collected as it goes, not 32 MiB at a time.
 *
 * Every chunk of a streamed document is a new buffer: the socket's, and on PostgreSQL the
 * chunk row's and the driver's copy of it. Each is garbage once written, but V8 frees a
 * young buffer's memory only at a young-generation collection, and it starts one for this
 * memory only once the young buffers hold 32 MiB (twice its default largest semi-space,
 * whatever the process's own flags: `Heap::AllocateExternalBackingStore`). Until then
 * nothing else may need one, so during a 2 GiB upload the process holds up to that much
 * garbage — most of what an upload adds to the resident size.
 *
 * A stager reports the bytes it has written; after every `YOUNG_GARBAGE_BYTES` it asks V8
 * for a young-generation collection (a scavenge: it copies what is alive, and the young
 * buffers are almost all dead; a 2 GiB upload went no slower for it, README). V8 exposes that
 * collection as `gc({ type: 'minor' })` to a context made after `--expose-gc` is set; the
 * flag affects nothing else. Letters of a few MiB never reach the threshold.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

/** Bytes written between two collections asked for, by default. */
export const YOUNG_GARBAGE_BYTES = 8 * 1024 * 1024;

type Collect = (options: { type: 'minor' | 'major' }) => void;
let collect: Collect | null | undefined;

function collector(): Collect | null {
  if (collect === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc');
      collect = vm.runInNewContext('gc') as Collect;
    } catch {
      // (a runtime without V8's gc extension) the collections come as V8 decides
      collect = null;
    }
  }
  return collect;
}

/** Counts one upload's bytes written, and has the young generation collected every `every` bytes. */
export class YoungGarbage {
  private since = 0;

  constructor(private readonly every = YOUNG_GARBAGE_BYTES) {}

  written(bytes: number): void {
    this.since += bytes;
    if (this.since < this.every) return;
    this.since = 0;
    collector()?.({ type: 'minor' });
  }
}
