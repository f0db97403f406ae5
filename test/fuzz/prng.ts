/**
 * The fuzzer's pseudo-random numbers: xoshiro128** seeded from SHA-256("<seed>:<index>"), so
 * that every case can be regenerated on its own from the run's seed and its index, without
 * replaying the cases before it.
 */
import { createCipheriv, createHash } from 'node:crypto';

export class Rng {
  private s: Uint32Array;

  constructor(seed: string) {
    const d = createHash('sha256').update(seed).digest();
    this.s = new Uint32Array([d.readUInt32LE(0), d.readUInt32LE(4), d.readUInt32LE(8), d.readUInt32LE(12)]);
    if (this.s.every((x) => x === 0)) this.s[0] = 1;
  }

  /** The generator of case `index` of the run seeded `seed`. */
  static forCase(seed: string, index: number): Rng {
    return new Rng(`${seed}:${index}`);
  }

  /** A uniformly distributed 32-bit unsigned integer. */
  u32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** [0, 1) */
  float(): number {
    return this.u32() / 2 ** 32;
  }

  /** An integer in [0, n) */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** An integer in [min, max] */
  between(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from nothing');
    return items[this.int(items.length)]!;
  }

  /** Picks by weight: [[weight, value], …] */
  weighted<T>(table: ReadonlyArray<readonly [number, T]>): T {
    const total = table.reduce((n, [w]) => n + w, 0);
    let x = this.float() * total;
    for (const [w, v] of table) {
      if (x < w) return v;
      x -= w;
    }
    return table[table.length - 1]![1];
  }

  bytes(n: number): Buffer {
    if (n > 256) {
      // long runs: AES-128-CTR keyed from this generator (same bytes for the same seed, much faster)
      const key = Buffer.alloc(32);
      for (let i = 0; i < 32; i += 4) key.writeUInt32LE(this.u32(), i);
      const cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16));
      return Buffer.concat([cipher.update(Buffer.alloc(n)), cipher.final()]);
    }
    const out = Buffer.allocUnsafe(n);
    let i = 0;
    for (; i + 4 <= n; i += 4) out.writeUInt32LE(this.u32(), i);
    for (; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }

  /** A string of `n` characters drawn from `alphabet`. */
  chars(n: number, alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789'): string {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[this.int(alphabet.length)];
    return s;
  }

  /** A fresh UUID v4 drawn from this generator (reproducible, unlike randomUUID). */
  uuid(): string {
    const b = this.bytes(16);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = b.toString('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
