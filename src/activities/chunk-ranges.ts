/** Compresses chunk indexes into inclusive [first, last] ranges: [1,2,3,7] → [[1,3],[7,7]]. */
export function chunkRanges(indexes: number[]): Array<[number, number]> {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const out: Array<[number, number]> = [];
  for (const i of sorted) {
    const last = out[out.length - 1];
    if (last && i === last[1] + 1) last[1] = i;
    else out.push([i, i]);
  }
  return out;
}
