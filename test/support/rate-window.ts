/** The most events (or their weights) in any span of `windowMs`, as a sliding-window limit counts them. */
export function maxInWindow(times: number[], windowMs: number, weights?: number[]): number {
  const ev = times.map((t, i) => ({ t, w: weights?.[i] ?? 1 })).sort((a, b) => a.t - b.t);
  let best = 0;
  let sum = 0;
  let lo = 0;
  for (let hi = 0; hi < ev.length; hi++) {
    sum += ev[hi]!.w;
    while (ev[hi]!.t - ev[lo]!.t >= windowMs) sum -= ev[lo++]!.w;
    best = Math.max(best, sum);
  }
  return best;
}
