/**
 * The operator token of a development start. With APP_ENV=development and no ADMIN_TOKEN, the
 * admin API would answer every call 401; instead the server draws a token on its first start
 * and keeps it in `$DATA_DIR/dev-admin-token` (mode 0600 in the 0700 data folder), as the
 * development PKI is kept in certs-dev: the same token after a restart, readable by the
 * service's own user only, never logged — the start-up log says where it is. Outside
 * development there is no default: ADMIN_TOKEN unset means no admin API.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, type Config } from '../config.js';
import { checkPrivateFile, ensurePrivateDirectory } from '../store/FilePermissions.js';

export const DEV_ADMIN_TOKEN_FILE = 'dev-admin-token';

export interface DevAdminToken {
  /** the configuration with `adminToken` set */
  config: Config;
  file: string;
  /** drawn by this start (false: read from an earlier one) */
  created: boolean;
}

/** In development without ADMIN_TOKEN: the kept token, drawn on first use; otherwise undefined. */
export function devAdminToken(config: Config): DevAdminToken | undefined {
  if (config.env !== 'development' || config.adminToken !== undefined) return undefined;
  ensurePrivateDirectory(config.dataDir);
  const file = path.join(config.dataDir, DEV_ADMIN_TOKEN_FILE);
  let created = false;
  try {
    const fd = fs.openSync(file, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY, 0o600);
    try {
      fs.writeSync(fd, `rma_${randomBytes(32).toString('base64url')}\n`);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    created = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  checkPrivateFile(file, 'chmod 600');
  const token = fs.readFileSync(file, 'utf8').trim();
  if (token.length < 16) throw new ConfigError('ADMIN_TOKEN', `${file} holds no development admin token (at least 16 characters); delete it to have one drawn`);
  return { config: { ...config, adminToken: token }, file, created };
}
