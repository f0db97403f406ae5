/**
 * SoftHSM2 for the tests: one configuration per test process, its token directory in a
 * temporary folder (never the system's /var/lib/softhsm), and a fresh token per caller.
 * SoftHSM2 reads SOFTHSM2_CONF when the module initialises, so it is set in this process's
 * environment before any module loads; child processes inherit it.
 *
 * A missing SoftHSM2 (or pkcs11-tool) is an error, never a skip: `.ci/run` installs the
 * Debian packages softhsm2 and opensc.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pkcs11js from 'pkcs11js';
import type { TokenLogin } from '../../src/crypto/index.js';

export const SOFTHSM_INSTALL_HINT = 'SoftHSM2 is not installed: apt-get install softhsm2 opensc (.ci/run installs them)';

const MODULES = ['/usr/lib/softhsm/libsofthsm2.so', '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so', '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so', '/usr/lib64/softhsm/libsofthsm2.so'];

export interface Token extends TokenLogin {
  tokenLabel: string;
  pinFile: string;
  pin: string;
}

export interface SoftHsm {
  module: string;
  /** the SOFTHSM2_CONF file */
  conf: string;
  dir: string;
  /** A new token with a random PIN in a 0600 file. */
  initToken(label?: string): Promise<Token>;
  softhsmUtil(args: string[]): Promise<string>;
  pkcs11Tool(args: string[]): Promise<string>;
}

function run(cmd: string, args: string[], hint: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env: process.env }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') return reject(new Error(`${cmd} cannot be run: ${hint}`));
      if (err) return reject(new Error(`${cmd} ${args.join(' ')} failed: ${stderr || err.message}`));
      resolve(`${stdout}${stderr}`);
    });
  });
}

let shared: Promise<SoftHsm> | undefined;

/** The process's SoftHSM2: throws (with how to install it) when it is missing. */
export function softHsm(): Promise<SoftHsm> {
  shared ??= (async () => {
    const module = MODULES.find((m) => existsSync(m));
    if (!module) throw new Error(`${SOFTHSM_INSTALL_HINT} (no libsofthsm2.so in ${MODULES.join(', ')})`);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rm-softhsm-'));
    await fs.mkdir(path.join(dir, 'tokens'), { mode: 0o700 });
    const conf = path.join(dir, 'softhsm2.conf');
    await fs.writeFile(conf, `directories.tokendir = ${path.join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
    process.env.SOFTHSM2_CONF = conf;
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    const hsm: SoftHsm = {
      module,
      conf,
      dir,
      softhsmUtil: (args) => run('softhsm2-util', args, SOFTHSM_INSTALL_HINT),
      pkcs11Tool: (args) => run('pkcs11-tool', ['--module', module, ...args], 'pkcs11-tool is not installed: apt-get install opensc (.ci/run installs it)'),
      async initToken(label = `t-${randomBytes(4).toString('hex')}`) {
        const pin = randomBytes(6).toString('hex');
        await hsm.softhsmUtil(['--init-token', '--free', '--label', label, '--so-pin', randomBytes(6).toString('hex'), '--pin', pin]);
        const pinFile = path.join(dir, `${label}.pin`);
        await fs.writeFile(pinFile, `${pin}\n`, { mode: 0o600 });
        return { module, tokenLabel: label, pinFile, pin };
      },
    };
    return hsm;
  })();
  return shared;
}

/**
 * Closes every session on the token `tokenLabel`, as a token reset does, through a second
 * user of the module in this process (the module may already be initialised here).
 */
export function closeAllSessions(module: string, tokenLabel: string): void {
  const lib = new pkcs11js.PKCS11();
  lib.load(module);
  try {
    lib.C_Initialize();
  } catch (err) {
    if ((err as Error).message !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') throw err;
  }
  const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trim() === tokenLabel);
  if (!slot) throw new Error(`no token labelled ${tokenLabel}`);
  lib.C_CloseAllSessions(slot);
}
