/**
 * The cryptographic engines this layer runs on. Node's native WebCrypto is the default;
 * every function that signs or verifies takes a `Crypto` so an HSM-backed implementation (or
 * a test double) can be passed instead. pkijs, used here only for certificate path validation,
 * gets a CryptoEngine wrapped around the same `Crypto`.
 */
import { createRequire } from 'node:module';
import type * as Pkijs from 'pkijs';
import { defaultCrypto } from './webcrypto.js';

const require = createRequire(import.meta.url);
let pkijsModule: typeof Pkijs | undefined;

/**
 * pkijs, loaded on first use (Node ≥ 20.19 requires ES modules synchronously, into the same
 * module cache as `import`): a process that never validates a certification path — the
 * service on its hot path, a sealing worker — does not pay its ~14 MB.
 */
export function loadPkijs(): typeof Pkijs {
  return (pkijsModule ??= require('pkijs') as typeof Pkijs);
}

export { bufferSource, defaultCrypto } from './webcrypto.js';

const engines = new WeakMap<Crypto, Pkijs.CryptoEngine>();

/** A pkijs CryptoEngine over `crypto` (one per Crypto object, created on first use). */
export function pkijsEngine(crypto: Crypto = defaultCrypto()): Pkijs.CryptoEngine {
  let engine = engines.get(crypto);
  if (!engine) {
    engine = new (loadPkijs().CryptoEngine)({ name: 'node', crypto });
    engines.set(crypto, engine);
  }
  return engine;
}

let installed = false;

/**
 * Installs node's WebCrypto as pkijs' global engine, for pkijs code paths that take no engine
 * argument. Idempotent; called by the modules that use pkijs.
 */
export function installPkijsEngine(): void {
  if (installed) return;
  loadPkijs().setEngine('node', pkijsEngine(defaultCrypto()));
  installed = true;
}
