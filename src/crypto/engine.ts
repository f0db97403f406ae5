/**
 * The cryptographic engines this layer runs on. Node's native WebCrypto is the default;
 * every function that signs or verifies takes a `Crypto` so an HSM-backed implementation (or
 * a test double) can be passed instead. pkijs, used here only for certificate path validation,
 * gets a CryptoEngine wrapped around the same `Crypto`.
 */
import * as pkijs from 'pkijs';

export function defaultCrypto(): Crypto {
  return globalThis.crypto;
}

const engines = new WeakMap<Crypto, pkijs.CryptoEngine>();

/** A pkijs CryptoEngine over `crypto` (one per Crypto object, created on first use). */
export function pkijsEngine(crypto: Crypto = defaultCrypto()): pkijs.CryptoEngine {
  let engine = engines.get(crypto);
  if (!engine) {
    engine = new pkijs.CryptoEngine({ name: 'node', crypto });
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
  pkijs.setEngine('node', pkijsEngine(defaultCrypto()));
  installed = true;
}

/**
 * A Uint8Array typed as WebCrypto's BufferSource (TypeScript 5.7+ distinguishes views over a
 * SharedArrayBuffer). Copies only when the view is over something other than an ArrayBuffer.
 */
export function bufferSource(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
}
