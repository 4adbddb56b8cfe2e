/**
 * xorshift32: a tiny seeded PRNG for reproducible test data, chaos mixes and drill timings
 * (Math.random cannot be replayed). Returns raw 32-bit values; `unit` maps them to [0, 1).
 */
export function xorshift32(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

export function unit(next: () => number): () => number {
  return () => next() / 0x1_0000_0000;
}
