/**
 * The PKCS#11 side of the benches: a SoftHSM2 token in a temporary folder (SOFTHSM2_CONF set
 * for this process and the processes it starts), with the development keys generated in it.
 * Fails when SoftHSM2 is not installed (apt-get install softhsm2).
 */
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { generateDevPkiOnToken, type DevTokenPki, type KeyAlgorithm } from '../src/crypto/index.js';
import { run } from './bench-lib.js';

const MODULES = ['/usr/lib/softhsm/libsofthsm2.so', '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so', '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so', '/usr/lib64/softhsm/libsofthsm2.so'];

export interface BenchToken {
  module: string;
  tokenLabel: string;
  pinFile: string;
  pki: DevTokenPki;
  /** the variables that put the service's `prefix` key in this token */
  env(prefix: 'SEAL' | 'TSA'): Record<string, string>;
}

let root: string | undefined;

/** A new token holding the development keys of `algorithm`. */
export async function benchToken(algorithm: KeyAlgorithm): Promise<BenchToken> {
  const module = MODULES.find((m) => existsSync(m));
  if (!module) throw new Error('SoftHSM2 is not installed: apt-get install softhsm2');
  if (!root) {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-softhsm-'));
    await fs.mkdir(path.join(root, 'tokens'), { mode: 0o700 });
    await fs.writeFile(path.join(root, 'softhsm2.conf'), `directories.tokendir = ${path.join(root, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
    process.env.SOFTHSM2_CONF = path.join(root, 'softhsm2.conf');
    const dir = root;
    process.on('exit', () => void fs.rm(dir, { recursive: true, force: true }));
  }
  const tokenLabel = `bench-${randomBytes(3).toString('hex')}`;
  const pin = randomBytes(6).toString('hex');
  await run('softhsm2-util', ['--init-token', '--free', '--label', tokenLabel, '--so-pin', randomBytes(6).toString('hex'), '--pin', pin]);
  const pinFile = path.join(root, `${tokenLabel}.pin`);
  await fs.writeFile(pinFile, `${pin}\n`, { mode: 0o600 });
  const pki = await generateDevPkiOnToken({ module, tokenLabel, pinFile }, algorithm, path.join(root, tokenLabel));
  return {
    module,
    tokenLabel,
    pinFile,
    pki,
    env: (prefix) => ({
      SOFTHSM2_CONF: process.env.SOFTHSM2_CONF!,
      [`${prefix}_PKCS11_MODULE`]: module,
      [`${prefix}_PKCS11_TOKEN_LABEL`]: tokenLabel,
      [`${prefix}_PKCS11_KEY_LABEL`]: prefix === 'SEAL' ? pki.sealKeyLabel : pki.tsaKeyLabel,
      [`${prefix}_PKCS11_PIN_FILE`]: pinFile,
    }),
  };
}
