/**
 * The default WebCrypto `Crypto` and a BufferSource helper, apart from engine.ts so that code
 * which only signs or hashes (the proof and token writers, the sealing worker threads) does not
 * load pkijs: each worker thread would pay ~9 MB of heap for it.
 */
export function defaultCrypto(): Crypto {
  return globalThis.crypto;
}

/**
 * A Uint8Array typed as WebCrypto's BufferSource (TypeScript 5.7+ distinguishes views over a
 * SharedArrayBuffer). Copies only when the view is over something other than an ArrayBuffer.
 */
export function bufferSource(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
}
