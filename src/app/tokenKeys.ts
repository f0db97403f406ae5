/**
 * Keys in a PKCS#11 token (KeySource `pkcs11`): opens the signer, turns a set-up mistake into
 * a configuration error naming the variable (`SEAL_PKCS11_PIN_FILE: the token refuses the
 * PIN…`), and logs when the token goes away and comes back. /readyz asks each such key to
 * sign a probe (readiness.ts).
 */
import type { Logger } from 'pino';
import { ConfigError, PKCS11_VARIABLES, type Pkcs11KeySource } from '../config.js';
import { Pkcs11SetupError, Pkcs11Signer, type Pkcs11Setting } from '../crypto/index.js';

const VARIABLE_OF: Record<Pkcs11Setting, (s: Pkcs11KeySource) => string> = {
  module: () => PKCS11_VARIABLES.module,
  token: (s) => (s.tokenLabel !== undefined ? PKCS11_VARIABLES.token : PKCS11_VARIABLES.slot),
  pinFile: () => PKCS11_VARIABLES.pinFile,
  key: (s) => (s.keyLabel !== undefined ? PKCS11_VARIABLES.keyLabel : PKCS11_VARIABLES.keyId),
  certFile: () => PKCS11_VARIABLES.certFile,
  chainFile: () => PKCS11_VARIABLES.chainFile,
};

export async function openTokenKey(source: Pkcs11KeySource, prefix: 'SEAL' | 'TSA', log: Logger): Promise<Pkcs11Signer> {
  let signer: Pkcs11Signer;
  try {
    signer = await Pkcs11Signer.open({
      module: source.module,
      ...(source.tokenLabel !== undefined ? { tokenLabel: source.tokenLabel } : {}),
      ...(source.slot !== undefined ? { slot: source.slot } : {}),
      ...(source.keyLabel !== undefined ? { keyLabel: source.keyLabel } : {}),
      ...(source.keyId !== undefined ? { keyId: Buffer.from(source.keyId, 'hex') } : {}),
      pinFile: source.pinFile,
      ...(source.certFile !== undefined ? { certFile: source.certFile } : {}),
      ...(source.chainFile !== undefined ? { chainFile: source.chainFile } : {}),
      sessions: source.sessions,
    });
  } catch (err) {
    if (err instanceof Pkcs11SetupError) {
      const variable = `${prefix}_${VARIABLE_OF[err.setting](source)}`;
      throw new ConfigError(variable, err.message);
    }
    throw err;
  }
  const key = prefix === 'SEAL' ? 'sealing key' : 'TSA key';
  signer.onStateChange = (state, reason) => {
    if (state === 'unavailable') log.error({ key: prefix.toLowerCase(), reason }, `the ${key} in the PKCS#11 token is unavailable: ${reason ?? ''}; sealing jobs wait and retry`);
    else log.warn({ key: prefix.toLowerCase() }, `the ${key} in the PKCS#11 token signs again`);
  };
  log.info({ key: prefix.toLowerCase(), module: source.module, token: source.tokenLabel ?? source.slot, keyLabel: source.keyLabel, keyId: source.keyId, sessions: source.sessions, algorithm: signer.algorithm }, `${key} in a PKCS#11 token`);
  return signer;
}
