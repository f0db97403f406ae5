/**
 * Tells an outage of what the service stands on — the database, the disk — from a defect,
 * so that a client is told to come back (503 or 507 with Retry-After and a stable code)
 * rather than given a bare 500. Looks at an error and its causes.
 *
 * - STORAGE_FULL (507): ENOSPC / EDQUOT from the file system, SQLITE_FULL from SQLite,
 *   PostgreSQL 53100 (disk_full).
 * - DATABASE_UNAVAILABLE (503): a refused, reset or timed-out connection, knex's "Timeout
 *   acquiring a connection", PostgreSQL class 08 (connection exception), the rest of class
 *   53 (insufficient resources: too many connections, out of memory), 57P01–57P03 (shutting
 *   down, cannot connect now), SQLite busy, locked, I/O error or read-only file.
 */
import { ServiceError } from './errors.js';

export const RETRY_AFTER_SECONDS = { STORAGE_FULL: 60, DATABASE_UNAVAILABLE: 5, SIGNING_KEY_UNAVAILABLE: 10 } as const;

const DISK_FULL = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL', '53100']);
const DB_DOWN_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', '57P01', '57P02', '57P03', 'SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_IOERR', 'SQLITE_READONLY', 'SQLITE_CANTOPEN']);

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The outage `err` (or one of its causes) reports, as the problem to answer; undefined for anything else. */
export function outageOf(err: unknown): ServiceError | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof ServiceError && (e.code === 'STORAGE_FULL' || e.code === 'DATABASE_UNAVAILABLE')) return e;
    const code = codeOf(e);
    if (code && (DISK_FULL.has(code) || code.startsWith('SQLITE_FULL'))) {
      return new ServiceError('STORAGE_FULL', 'the service has no storage space left; try again later', { cause: err, retryAfterSeconds: RETRY_AFTER_SECONDS.STORAGE_FULL });
    }
    const message = e instanceof Error ? e.message : '';
    if (
      (code && (DB_DOWN_CODES.has(code) || /^(08|53)[0-9A-Z]{3}$/.test(code) || code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_BUSY'))) ||
      /Timeout acquiring a connection|Connection terminated|connection is closed|Client has encountered a connection error/i.test(message)
    ) {
      return new ServiceError('DATABASE_UNAVAILABLE', 'the service cannot reach its database; try again later', { cause: err, retryAfterSeconds: RETRY_AFTER_SECONDS.DATABASE_UNAVAILABLE });
    }
  }
  return undefined;
}
