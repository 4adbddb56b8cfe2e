/**
 * Reciprocal rank fusion (Cormack, Clarke and Büttcher, SIGIR 2009): an item's fused score is
 * the sum over the rankings that contain it of 1 / (k + rank), rank counted from 1. Only ranks
 * matter, so a cosine similarity and a full-text rank score fuse without calibration. k = 60 is
 * the paper's constant.
 */
export const RRF_K = 60;

export interface Fused<T> {
  item: T;
  score: number;
  /** The item's rank (from 1) in each input ranking; undefined where it is absent. */
  ranks: Array<number | undefined>;
}

export function reciprocalRankFusion<T>(rankings: ReadonlyArray<readonly T[]>, keyOf: (item: T) => string, k = RRF_K): Array<Fused<T>> {
  if (!(k >= 0)) throw new RangeError(`RRF constant k must be >= 0, got ${k}`);
  const byKey = new Map<string, Fused<T>>();
  rankings.forEach((ranking, r) => {
    ranking.forEach((item, i) => {
      const key = keyOf(item);
      let f = byKey.get(key);
      if (!f) {
        f = { item, score: 0, ranks: rankings.map(() => undefined) };
        byKey.set(key, f);
      }
      if (f.ranks[r] !== undefined) return; // a ranking that lists an item twice counts its first place
      f.ranks[r] = i + 1;
      f.score += 1 / (k + i + 1);
    });
  });
  const best = (f: Fused<T>) => Math.min(...f.ranks.map((x) => x ?? Infinity));
  return [...byKey.entries()]
    .sort(([ka, a], [kb, b]) => b.score - a.score || best(a) - best(b) || (ka < kb ? -1 : ka > kb ? 1 : 0))
    .map(([, f]) => f);
}
