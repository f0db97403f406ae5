/**
 * Seeded pseudo-random numbers for the e-Box simulator (mulberry32, public domain).
 *
 * Only for reproducible fault injection and jitter: the same seed gives the same
 * sequence, so a test that drew a failure draws it again. Never for anything secret.
 */
export type Random = () => number;

/** A generator of floats in [0, 1) determined by `seed` (any 32-bit integer). */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
