/**
 * Document bytes in PostgreSQL (BLOB_STORE=postgres): API processes and workers on
 * different machines share nothing but the database.
 *
 * Staging inserts a row in `blob_objects` (no key yet, its writer named) and streams the
 * bytes into `blob_chunks`, 1 MiB a row (the last one shorter), each chunk written as it fills while the
 * next is read — never the document whole in memory, and an upload holds no connection
 * between chunks. Committing gives the row its key in one UPDATE, made in the transaction
 * that writes the rows naming the key (the intake's): bytes and rows commit together, and
 * the UPDATE takes no second connection from the pool while that transaction holds one (with
 * as many intakes under way as the pool has connections, each would wait for the others).
 * Without a transaction the UPDATE commits alone, as a rename does in FsBlobStore, and the
 * blob fence (BlobFence.ts) keeps the sweep out until the rows commit. Reading streams the
 * chunks back one query each. Staged rows whose writer is gone, or older than any upload can last, are removed by
 * `sweepTempFiles`.
 */
import { createHash } from 'node:crypto';
import { newRowId } from '../domain/RowId.js';
import { Readable } from 'node:stream';
import type { Knex } from 'knex';
import { YOUNG_GARBAGE_BYTES, YoungGarbage } from './YoungGarbage.js';
import { BLOB_OWNER, checkBlobKey, ownerGone, type BlobStore, type BlobTransaction, type StagedBlob } from './BlobStore.js';
import { execute, prepared } from './Prepared.js';

/** Gives a staged object its key, in the intake's transaction (Prepared.ts: the hot path). */
const BLOB_KEY_GIVEN = prepared('blob_key_given', 'UPDATE blob_objects SET blob_key = ?, committed_at = ? WHERE id = ? AND blob_key IS NULL');

/** The bytes of one chunk row. */
export const PG_CHUNK_BYTES = 1024 * 1024;

interface PgStagedBlob extends StagedBlob {
  stagingId: string;
}

export class PgBlobStore implements BlobStore {
  readonly kind = 'postgres';
  readonly root = undefined;

  constructor(private readonly db: Knex) {}

  /** The tables come with the migrations; a store opened on a database without them says so now. */
  async init(): Promise<void> {
    if (!(await this.db.schema.hasTable('blob_chunks'))) throw new Error('BLOB_STORE=postgres: the database has no blob tables; run the migrations (npm run migrate)');
  }

  async stage(source: Readable, maxBytes: number): Promise<PgStagedBlob> {
    const stagingId = newRowId();
    await this.db('blob_objects').insert({ id: stagingId, blob_key: null, owner: BLOB_OWNER, size: 0, sha256: null, created_at: new Date().toISOString() });
    const hash = createHash('sha256');
    let size = 0;
    let seq = 0;
    let tooLarge = false;
    let writeError: unknown;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    // each MiB written here makes about three more of garbage (the chunk row's bytes, the
    // driver's copy of them in its message), so the collections come more often
    const garbage = new YoungGarbage(YOUNG_GARBAGE_BYTES / 4);
    /** Writes full chunk rows of what is pending (and, `all`, the rest as a shorter one). */
    const flush = async (all: boolean) => {
      while (pendingBytes >= PG_CHUNK_BYTES || (all && pendingBytes > 0)) {
        const joined = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
        const data = joined.subarray(0, Math.min(PG_CHUNK_BYTES, joined.length));
        const rest = joined.subarray(data.length);
        pending = rest.length > 0 ? [rest] : [];
        pendingBytes = rest.length;
        try {
          await this.db('blob_chunks').insert({ blob_id: stagingId, seq: seq++, data });
          garbage.written(data.length);
        } catch (err) {
          writeError ??= err;
          pending = [];
          pendingBytes = 0;
        }
      }
    };
    try {
      // past the limit, or after a failed write, the rest is drained so the request can be answered
      for await (const chunk of source as AsyncIterable<Buffer>) {
        if (tooLarge || writeError !== undefined) continue;
        if (size + chunk.length > maxBytes) {
          tooLarge = true;
          await flush(true);
          continue;
        }
        size += chunk.length;
        hash.update(chunk);
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes >= PG_CHUNK_BYTES) await flush(false);
      }
      await flush(true);
      if (writeError !== undefined) throw writeError;
      const sha256 = hash.digest('hex');
      await this.db('blob_objects').where({ id: stagingId }).update({ size, sha256 });
      return { stagingId, size, sha256, tooLarge };
    } catch (err) {
      await this.drop(stagingId).catch(() => undefined);
      throw err;
    }
  }

  async commit(staged: StagedBlob, key: string, tx?: BlobTransaction): Promise<void> {
    const { stagingId } = staged as PgStagedBlob;
    const { changes: n } = await execute(tx?.db ?? this.db, BLOB_KEY_GIVEN, [checkBlobKey(key), new Date().toISOString(), stagingId]);
    if (n !== 1) throw new Error(`staged blob ${stagingId} is gone or already committed`);
    // in a transaction: committed once it commits; should it fail, `discard` removes the
    // bytes only if they are still staged (a commit whose answer was lost keeps them)
    if (tx) tx.afterTransaction({ committed: () => void (staged.committed = true) });
    else staged.committed = true;
  }

  async probeWrite(): Promise<void> {
    const id = newRowId();
    await this.db('blob_objects').insert({ id, blob_key: null, owner: BLOB_OWNER, size: 0, sha256: null, created_at: new Date().toISOString() });
    await this.db('blob_objects').where({ id }).delete();
  }

  async discard(staged: StagedBlob): Promise<void> {
    if (staged.committed) return;
    const id = (staged as PgStagedBlob).stagingId;
    await this.db.transaction(async (tx) => {
      // still staged (no key): a row given its key by a transaction that did commit stays
      if (!(await tx('blob_objects').where({ id }).whereNull('blob_key').forUpdate().first('id'))) return;
      await tx('blob_chunks').where({ blob_id: id }).delete();
      await tx('blob_objects').where({ id }).delete();
    });
  }

  async remove(key: string): Promise<void> {
    const row = await this.db('blob_objects').where({ blob_key: checkBlobKey(key) }).first('id');
    if (row) await this.drop(row.id as string);
  }

  async exists(key: string): Promise<boolean> {
    return (await this.db('blob_objects').where({ blob_key: checkBlobKey(key) }).first('id')) !== undefined;
  }

  /** The bytes, one chunk row per read; a missing key is an ENOENT error on the stream, as a missing file is. */
  open(key: string): Readable {
    const db = this.db;
    checkBlobKey(key);
    async function* chunks(): AsyncGenerator<Buffer> {
      const row = await db('blob_objects').where({ blob_key: key }).first('id');
      if (!row) throw Object.assign(new Error(`no blob ${key}`), { code: 'ENOENT' });
      for (let seq = 0; ; seq++) {
        const chunk = await db('blob_chunks').where({ blob_id: row.id, seq }).first('data');
        if (!chunk) return;
        yield Buffer.from(chunk.data as Uint8Array);
      }
    }
    return Readable.from(chunks(), { objectMode: false, highWaterMark: 1 });
  }

  async keys(): Promise<string[]> {
    return (await this.db('blob_objects').whereNotNull('blob_key').select('blob_key')).map((r: { blob_key: string }) => r.blob_key);
  }

  async sweepTempFiles(maxAgeMs: number): Promise<number> {
    const cutoff = new Date(Date.now() - maxAgeMs).toISOString();
    const staged: Array<{ id: string; owner: string; created_at: string }> = await this.db('blob_objects').whereNull('blob_key').select('id', 'owner', 'created_at');
    let removed = 0;
    for (const s of staged) {
      if (ownerGone(s.owner) || s.created_at <= cutoff) {
        await this.drop(s.id);
        removed++;
      }
    }
    return removed;
  }

  /** Removes a row and its chunks, together. */
  private async drop(id: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx('blob_chunks').where({ blob_id: id }).delete();
      await tx('blob_objects').where({ id }).delete();
    });
  }
}
