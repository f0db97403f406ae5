/**
 * Where document bytes live. Two stores keep the same protocol:
 *
 *   stage(source)   stream the bytes somewhere private while hashing (SHA-256) and counting;
 *                   nothing is ever held in memory whole
 *   commit(staged)  give them their key; durable when it returns, before the rows that
 *                   name the key commit (the blob fence keeps the sweep out in between)
 *   open(key)       stream them back
 *
 * - FsBlobStore (the embedded default): files under BLOB_DIR (tmp/ then objects/).
 * - PgBlobStore (BLOB_STORE=postgres): rows of the PostgreSQL database, in chunks, so that
 *   API processes and workers on different machines share nothing but the database.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import type { Readable } from 'node:stream';
import type { Knex } from 'knex';
import type { TransactionScope } from './TransactionHooks.js';

export interface StagedBlob {
  size: number;
  sha256: string;
  /** true when the source was longer than the limit: only a prefix was kept */
  tooLarge: boolean;
  /** set by `commit`: the bytes have their key, there is nothing left to discard */
  committed?: boolean;
}

export type BlobStoreKind = 'filesystem' | 'postgres';

/**
 * The transaction that writes the rows naming committed bytes (Repositories): a store that
 * keeps its bytes in the same database gives them their key in it, so that bytes and rows
 * commit together, on the transaction's own connection.
 */
export interface BlobTransaction extends TransactionScope {
  readonly db: Knex;
}

export interface BlobStore {
  readonly kind: BlobStoreKind;
  /** the folder whose file system holds the bytes (readiness checks its free space); undefined when they are in the database */
  readonly root: string | undefined;
  init(): Promise<void>;
  /** Streams `source` in, hashing as it goes; past `maxBytes` the rest is drained, not kept. */
  stage(source: Readable, maxBytes: number): Promise<StagedBlob>;
  /**
   * Gives staged bytes their permanent key; durable when this returns, or — a store in the
   * database, given the transaction `tx` — when `tx` commits, together with its rows.
   */
  commit(staged: StagedBlob, key: string, tx?: BlobTransaction): Promise<void>;
  /** Writes and removes a little: whether the store takes writes now. */
  probeWrite(): Promise<void>;
  /** Removes staged bytes that were not committed. */
  discard(staged: StagedBlob): Promise<void>;
  remove(key: string): Promise<void>;
  exists(key: string): Promise<boolean>;
  open(key: string): Readable;
  /** Every committed key. */
  keys(): Promise<string[]>;
  /** Removes staged bytes no process can still be writing; returns how many. */
  sweepTempFiles(maxAgeMs: number): Promise<number>;
}

/** A blob key: what document ids look like (the stores refuse anything else). */
export function checkBlobKey(key: string): string {
  if (!/^[A-Za-z0-9_-]{8,100}$/.test(key)) throw new Error(`invalid blob key: ${key}`);
  return key;
}

/** This host, as a short tag (a hostname may hold any character). */
const HOST_TAG = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);

/** Who stages bytes: this host and process (`<host tag>-<pid>`), in temp file names and staging rows. */
export const BLOB_OWNER = `${HOST_TAG}-${process.pid}`;

/** Whether staged bytes of `owner` can no longer be written: its process, on this host, is gone. */
export function ownerGone(owner: string): boolean {
  const m = /^([0-9a-f]{8})-(\d+)$/.exec(owner);
  return m !== null && m[1] === HOST_TAG && !processAlive(Number(m[2]));
}

/** Whether a process of this host with this pid runs (EPERM: it does, as another user). */
function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
