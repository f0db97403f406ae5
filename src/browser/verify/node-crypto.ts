/**
 * `node:crypto` in the verification page's bundle (scripts/build-pages.ts maps the import
 * here). The verifier hashes with `createHash` (SHA-1/256/384/512, from @noble/hashes) and
 * checks signatures through the WebCrypto it is given, never with Node's keys: the other
 * functions the crypto layer imports for signing and key files refuse to run in the page.
 */
import { sha1 } from '@noble/hashes/legacy.js';
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { Buffer } from 'buffer';

const HASHES = { sha1, sha256, sha384, sha512 } as const;

class Hash {
  private readonly hash;
  constructor(name: string) {
    const fn = HASHES[name.toLowerCase().replace('-', '') as keyof typeof HASHES];
    if (!fn) throw new Error(`hash ${name} is not available in the browser`);
    this.hash = fn.create();
  }
  update(data: Uint8Array | string): this {
    this.hash.update(typeof data === 'string' ? new TextEncoder().encode(data) : data);
    return this;
  }
  digest(): Buffer;
  digest(encoding: 'hex' | 'base64' | 'latin1'): string;
  digest(encoding?: 'hex' | 'base64' | 'latin1'): Buffer | string {
    const out = Buffer.from(this.hash.digest());
    return encoding ? out.toString(encoding) : out;
  }
}

export function createHash(name: string): Hash {
  return new Hash(name);
}

function unavailable(name: string): () => never {
  return () => {
    throw new Error(`node:crypto ${name} is not available in the browser (the page verifies with WebCrypto)`);
  };
}

export const createPublicKey = unavailable('createPublicKey');
export const createPrivateKey = unavailable('createPrivateKey');
export const verify = unavailable('verify');
export const sign = unavailable('sign');
export const randomBytes = unavailable('randomBytes');
export const randomFillSync = unavailable('randomFillSync');
export class KeyObject {
  constructor() {
    unavailable('KeyObject')();
  }
}
export default { createHash, createPublicKey, createPrivateKey, verify, sign, randomBytes, randomFillSync, KeyObject };
