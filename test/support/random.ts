/**
 * mulberry32: a small seeded PRNG for tests, soaks and fuzzers, so a run replays exactly from its
 * seed. Returns floats in [0, 1); `Math.floor(next() * 2 ** 32)` gives the generator's raw 32 bits.
 */
export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
