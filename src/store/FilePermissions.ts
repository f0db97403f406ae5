/**
 * What the service keeps on local disk — the SQLite database with its -wal and -shm files
 * (webhook secrets, INSZ numbers, phone numbers, push tokens) and the documents — is for the
 * service's own user only: folders 0700, files 0600. Folders and the database file are
 * created so; SQLite gives its -wal and -shm files the database file's mode. At start an
 * existing folder or file that lets group or others in is refused (DATA_PERMISSIONS), as a
 * private key file is, rather than silently served.
 */
import fs from 'node:fs';
import path from 'node:path';

export class DataPermissionError extends Error {
  readonly code = 'DATA_PERMISSIONS';
  constructor(readonly file: string, mode: number, fix: string) {
    super(`${file} has mode ${(mode & 0o777).toString(8).padStart(4, '0')}; group and others must have no access (${fix})`);
    this.name = 'DataPermissionError';
  }
}

const enforced = process.platform !== 'win32';

/** Makes `dir` (and missing parents) with mode 0700, or checks an existing one. */
export function ensurePrivateDirectory(dir: string): void {
  if (!fs.existsSync(dir)) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    return;
  }
  checkPrivate(dir, 'chmod 700');
}

/**
 * Before SQLite opens `filename`: its folder private, the file created empty with mode 0600
 * when absent (SQLite takes an empty file as a new database), and the file, -wal and -shm
 * refused when group or others can read them.
 */
export function preparePrivateSqliteFile(filename: string): void {
  ensurePrivateDirectory(path.dirname(filename));
  try {
    fs.closeSync(fs.openSync(filename, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY, 0o600));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  for (const f of [filename, `${filename}-wal`, `${filename}-shm`]) {
    if (fs.existsSync(f)) checkPrivate(f, 'chmod 600');
  }
}

/** Refuses a file or folder that group or others can enter (DATA_PERMISSIONS), saying how to fix it. */
export function checkPrivateFile(file: string, fix: string): void {
  checkPrivate(file, fix);
}

function checkPrivate(file: string, fix: string): void {
  if (!enforced) return;
  const mode = fs.statSync(file).mode;
  if ((mode & 0o077) !== 0) throw new DataPermissionError(file, mode, fix);
}
