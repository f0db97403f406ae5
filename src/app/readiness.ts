/**
 * Readiness (GET /readyz): whether this process can take work now — its database answers,
 * its blob store has room and takes writes, and a signing key kept in a PKCS#11 token signs. Liveness (GET /healthz) asks less: only that
 * the process answers, so that an orchestrator restarts a stuck process but not a healthy
 * one waiting for its database.
 */
import fsp from 'node:fs/promises';
import { ServiceError } from '../domain/errors.js';
import type { BlobStore } from '../store/BlobStore.js';
import { outageOf, RETRY_AFTER_SECONDS } from '../domain/outage.js';
import type { Repositories } from '../store/Repositories.js';

export type CheckState = 'ok' | 'unavailable' | 'full';

export interface Readiness {
  database: CheckState;
  storage: CheckState;
  /** present when a signing key is in a PKCS#11 token: whether each such key signs a probe */
  signingKeys?: CheckState;
}

/** A signing key outside this process (a PKCS#11 token): `check` signs a probe. */
export interface KeyCheck {
  check(): Promise<'ok' | 'unavailable'>;
}

/** A check that has not answered within this long counts as failed. */
const CHECK_TIMEOUT_MS = 2000;

export class ReadinessService {
  constructor(
    private readonly store: Repositories,
    private readonly blobs: BlobStore,
    /** free bytes the blob store must keep: room for at least one more document */
    private readonly minFreeBytes: number,
    private readonly keys: readonly KeyCheck[] = [],
  ) {}

  /**
   * The state of each dependency; throws DATABASE_UNAVAILABLE, STORAGE_FULL or
   * SIGNING_KEY_UNAVAILABLE (with the checks) when one is out.
   */
  async check(): Promise<Readiness> {
    const [database, storage, signingKeys] = await Promise.all([this.database(), this.storage(), this.signingKeys()]);
    const checks: Readiness = { database, storage, ...(signingKeys ? { signingKeys } : {}) };
    if (database !== 'ok') {
      throw new ServiceError('DATABASE_UNAVAILABLE', 'the database does not answer', { extensions: { checks }, retryAfterSeconds: RETRY_AFTER_SECONDS.DATABASE_UNAVAILABLE });
    }
    if (storage !== 'ok') {
      throw new ServiceError('STORAGE_FULL', storage === 'full' ? 'the blob store has no room left' : 'the blob store takes no writes', {
        extensions: { checks },
        retryAfterSeconds: RETRY_AFTER_SECONDS.STORAGE_FULL,
      });
    }
    if (signingKeys && signingKeys !== 'ok') {
      throw new ServiceError('SIGNING_KEY_UNAVAILABLE', 'a signing key in the PKCS#11 token does not sign', { extensions: { checks }, retryAfterSeconds: RETRY_AFTER_SECONDS.SIGNING_KEY_UNAVAILABLE });
    }
    return checks;
  }

  private async signingKeys(): Promise<CheckState | undefined> {
    if (this.keys.length === 0) return undefined;
    try {
      const states = await withTimeout(Promise.all(this.keys.map((k) => k.check())));
      return states.every((s) => s === 'ok') ? 'ok' : 'unavailable';
    } catch {
      return 'unavailable';
    }
  }

  private async database(): Promise<CheckState> {
    try {
      await withTimeout(this.store.ping());
      return 'ok';
    } catch {
      return 'unavailable';
    }
  }

  private async storage(): Promise<CheckState> {
    try {
      // bytes in files: room for a document on their file system (in the database: the database's own check)
      if (this.blobs.root !== undefined) {
        const fs = await withTimeout(fsp.statfs(this.blobs.root));
        if (fs.bavail * fs.bsize < this.minFreeBytes) return 'full';
      }
      await withTimeout(this.blobs.probeWrite());
      return 'ok';
    } catch (err) {
      return outageOf(err)?.code === 'STORAGE_FULL' ? 'full' : 'unavailable';
    }
  }
}

function withTimeout<T>(p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error('check timed out')), CHECK_TIMEOUT_MS)))]).finally(() => clearTimeout(timer));
}
