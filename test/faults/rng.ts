/**
 * Seeded random numbers (xorshift32), so that a run can be replayed: the seed is printed,
 * `--seed S` runs the same document sizes, the same fault kinds and the same waits between
 * faults again. (What the machine's scheduler does in between is not replayable.)
 */
export type Random = () => number;

export function seeded(seed: number): Random {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/** An independent stream for one purpose, derived from `seed` and a label. */
export function stream(seed: number, label: string): Random {
  let h = seed >>> 0;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
  const r = seeded(h || 1);
  for (let i = 0; i < 8; i++) r(); // leave the correlated first draws behind
  return r;
}

export function between(r: Random, lo: number, hi: number): number {
  return lo + r() * (hi - lo);
}

export function pick<T>(r: Random, items: readonly T[]): T {
  return items[Math.floor(r() * items.length)]!;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
