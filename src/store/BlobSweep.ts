/**
 * Housekeeping of the blob store, safe whatever runs beside it:
 * - temp files: only those no process can still be writing (BlobStore.sweepTempFiles:
 *   their process on this host is gone, or they are older than any upload can last);
 * - objects no document row names (a crash between the rename and the commit leaves one, and
 *   so does a purge that stopped midway): each candidate is checked against the database
 *   again at delete time, with the blob fence held, so an object whose commit is in
 *   progress — in this process or any other — is never touched (BlobFence.ts);
 * - the other way round, a document row whose bytes are not on disk is an alarm: it is
 *   logged at error level with the messages it concerns and counted in /metrics.
 */
import type { Logger } from 'pino';
import type { BlobStore } from './BlobStore.js';
import type { Repositories } from './Repositories.js';

export interface BlobSweepReport {
  tempFiles: number;
  orphans: number;
  /** documents of messages not purged whose bytes are missing */
  missing: number;
}

export async function sweepBlobs(store: Repositories, blobs: BlobStore, options: { tempMaxAgeMs: number; log: Logger }): Promise<BlobSweepReport> {
  const { log } = options;
  const tempFiles = await blobs.sweepTempFiles(options.tempMaxAgeMs);

  // objects first, rows after: an object committed in between is in both and is no candidate
  const present = new Set(await blobs.keys());
  const live = await store.messages.liveBlobKeys();
  const candidates = [...present].filter((k) => !live.has(k));
  let orphans = 0;
  if (candidates.length > 0) {
    orphans = await store.underBlobSweep(async (tx) => {
      const stillLive = await tx.messages.liveAmong(candidates);
      let n = 0;
      for (const key of candidates) {
        if (stillLive.has(key)) continue;
        await blobs.remove(key);
        n++;
      }
      return n;
    });
  }

  // rows whose bytes are not on disk: looked at once more, file by file (a document may have
  // been committed after the listing)
  const missingKeys: string[] = [];
  for (const key of live) if (!present.has(key) && !(await blobs.exists(key))) missingKeys.push(key);
  const missing = missingKeys.length > 0 ? (await store.messages.liveAmong(missingKeys)).size : 0;

  if (tempFiles + orphans > 0) log.warn({ tempFiles, orphans }, 'blob sweep removed abandoned uploads and objects no document names');
  if (missing > 0) {
    const messages = await store.messages.messagesOfBlobs(missingKeys);
    log.error({ missing, messages: messages.slice(0, 100) }, 'ALARM: document bytes missing for messages whose documents are kept; restore them from backup');
  }
  return { tempFiles, orphans, missing };
}
