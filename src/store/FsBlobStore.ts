/**
 * Document bytes on the filesystem (the embedded default; BlobStore.ts).
 *
 * A document is first staged: streamed into `tmp/` while it is hashed (SHA-256) and
 * counted, then fsynced. Committing renames it into `objects/` and fsyncs the directory,
 * so once `commit` returns the bytes survive a crash. Nothing is ever read into memory
 * whole. A temp file's name says which process writes it (a tag of its host and its pid),
 * so that a sweep removes only temp files no process can still be writing
 * (`sweepTempFiles`); objects no row names are removed by the blob sweep
 * (src/store/BlobSweep.ts), fenced off from commits in progress (BlobFence.ts).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { YoungGarbage } from './YoungGarbage.js';
import { BLOB_OWNER, checkBlobKey, ownerGone, type BlobStore, type StagedBlob as BaseStagedBlob } from './BlobStore.js';
import { ensurePrivateDirectory } from './FilePermissions.js';

/** Staged bytes: a temp file (`tooLarge`: it holds only a prefix; `committed`: it has moved to its key). */
export interface StagedBlob extends BaseStagedBlob {
  tempPath: string;
}

const OWNER = BLOB_OWNER;

/** Chunks of an upload are gathered up to this many bytes before each write. */
const WRITE_BUFFER_BYTES = 256 * 1024;

export class FsBlobStore implements BlobStore {
  readonly kind = 'filesystem';
  private readonly tmpDir: string;
  private readonly objectsDir: string;
  /** shard directories known to exist (created once, never removed) */
  private readonly shards = new Set<string>();

  constructor(readonly root: string) {
    this.tmpDir = path.join(root, 'tmp');
    this.objectsDir = path.join(root, 'objects');
  }

  /** Makes the folders (mode 0700), or refuses existing ones that group or others can enter (DATA_PERMISSIONS). */
  async init(): Promise<void> {
    for (const dir of [this.root, this.tmpDir, this.objectsDir]) ensurePrivateDirectory(dir);
  }

  /**
   * Streams `source` to a temp file, hashing as it goes; chunks are written in runs of up
   * to 256 KiB, each in one writev(2) of the chunks as they came (one write for a small
   * document, flat memory for a large one, no copy). Past
   * `maxBytes` the rest is drained, not written. A write that fails (a full disk) stops the
   * writing too: the rest is drained, so the request is read to its end and can be answered,
   * then the temp file is removed and the write's error thrown.
   */
  async stage(source: Readable, maxBytes: number): Promise<StagedBlob> {
    const tempPath = path.join(this.tmpDir, `${OWNER}.${randomUUID()}.part`);
    const fh = await fsp.open(tempPath, 'wx', 0o600);
    const hash = createHash('sha256');
    let size = 0;
    let tooLarge = false;
    let writeError: unknown;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const garbage = new YoungGarbage();
    const flush = async () => {
      if (pendingBytes === 0) return;
      const run = pending;
      const bytes = pendingBytes;
      pending = [];
      pendingBytes = 0;
      try {
        await writeAll(fh, run);
        garbage.written(bytes);
      } catch (err) {
        writeError ??= err;
      }
    };
    try {
      for await (const chunk of source as AsyncIterable<Buffer>) {
        if (tooLarge || writeError !== undefined) continue;
        if (size + chunk.length > maxBytes) {
          tooLarge = true;
          await flush();
          continue;
        }
        size += chunk.length;
        hash.update(chunk);
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes >= WRITE_BUFFER_BYTES) await flush();
      }
      await flush();
      if (writeError !== undefined) throw writeError;
      await fh.sync();
    } catch (err) {
      await fh.close().catch(() => undefined);
      await fsp.rm(tempPath, { force: true });
      throw err;
    }
    await fh.close();
    return { tempPath, size, sha256: hash.digest('hex'), tooLarge };
  }

  /** Moves a staged file to its permanent key; durable when this returns (a transaction is not its concern). */
  async commit(staged: StagedBlob, key: string): Promise<void> {
    const target = this.pathOf(key);
    const dir = path.dirname(target);
    if (!this.shards.has(dir)) await this.makeShard(dir);
    try {
      await fsp.rename(staged.tempPath, target);
    } catch (err) {
      // the shard directory was removed behind our back: make it again, once
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      await this.makeShard(dir);
      await fsp.rename(staged.tempPath, target);
    }
    staged.committed = true;
    await fsyncDir(dir);
  }

  private async makeShard(dir: string): Promise<void> {
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
    this.shards.add(dir);
  }

  /** Writes, syncs and removes a small temp file: whether the store takes writes now. */
  async probeWrite(): Promise<void> {
    const file = path.join(this.tmpDir, `${OWNER}.probe-${randomUUID()}.part`);
    const fh = await fsp.open(file, 'wx', 0o600);
    try {
      await writeAll(fh, [Buffer.alloc(512)]);
      await fh.sync();
    } finally {
      await fh.close();
      await fsp.rm(file, { force: true });
    }
  }

  /** Removes a staged file that was not committed. */
  async discard(staged: StagedBlob): Promise<void> {
    if (staged.committed) return;
    await fsp.rm(staged.tempPath, { force: true });
  }

  async remove(key: string): Promise<void> {
    await fsp.rm(this.pathOf(key), { force: true });
  }

  async exists(key: string): Promise<boolean> {
    try {
      await fsp.access(this.pathOf(key));
      return true;
    } catch {
      return false;
    }
  }

  open(key: string): Readable {
    return fs.createReadStream(this.pathOf(key));
  }

  /** Every object key present on disk. */
  async keys(): Promise<string[]> {
    const out: string[] = [];
    for (const shard of await readdirOrEmpty(this.objectsDir)) {
      for (const name of await readdirOrEmpty(path.join(this.objectsDir, shard))) out.push(name);
    }
    return out;
  }

  /**
   * Removes the temp files no process can still be writing: those of a process of this host
   * that is gone, and any older than `maxAgeMs` (no upload outlives the server's request
   * timeout). Returns how many it removed.
   */
  async sweepTempFiles(maxAgeMs: number): Promise<number> {
    const cutoff = Date.now() - maxAgeMs;
    let removed = 0;
    for (const name of await readdirOrEmpty(this.tmpDir)) {
      const owner = /^([0-9a-f]{8}-\d+)\./.exec(name);
      if ((owner !== null && ownerGone(owner[1]!)) || (await statMtime(path.join(this.tmpDir, name))) <= cutoff) {
        await fsp.rm(path.join(this.tmpDir, name), { force: true });
        removed++;
      }
    }
    return removed;
  }

  private pathOf(key: string): string {
    checkBlobKey(key);
    return path.join(this.objectsDir, shardOf(key), key);
  }
}

/** A UUID of version 7 (src/domain/RowId.ts): it begins with the time, and ends with random bits. */
const TIME_ORDERED = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * The folder of `objects/` a key's file is in: two of the key's characters, random ones, so
 * the files spread over at most 256 folders. The first two of a random key (a UUID of
 * version 4, as every document's was before row identifiers came in time order, and stays
 * where it was put); the last two of a UUID of version 7, whose first ones are the time and
 * would put the documents of decades in one folder.
 */
export function shardOf(key: string): string {
  return TIME_ORDERED.test(key) ? key.slice(-2) : key.slice(0, 2);
}

/**
 * Writes all of `data`. A write(2) on a file system that fills up writes what fits and
 * returns the count without an error (ENOSPC comes with the next write), so one `write` may
 * leave a file short of what was hashed: write the rest until it is all there or refused.
 */
/** Writes the chunks in order, in one writev(2) (not copied into one buffer first), and what a short write left. */
async function writeAll(fh: fsp.FileHandle, chunks: Buffer[]): Promise<void> {
  let rest = chunks;
  while (rest.length > 0) {
    const { bytesWritten } = rest.length === 1 ? await fh.write(rest[0]!) : await fh.writev(rest);
    // write(2) on a regular file writes something or fails; never loop on nothing
    if (bytesWritten <= 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO' });
    let written = bytesWritten;
    const left: Buffer[] = [];
    for (const chunk of rest) {
      if (written >= chunk.length) written -= chunk.length;
      else {
        left.push(written > 0 ? chunk.subarray(written) : chunk);
        written = 0;
      }
    }
    rest = left;
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await fsp.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

async function statMtime(p: string): Promise<number> {
  try {
    return (await fsp.stat(p)).mtimeMs;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}
