/** pgvector's text form is a JSON array of numbers: "[0.1,0.2,...]". */
export function toVectorLiteral(v: readonly number[]): string {
  for (const x of v) {
    if (!Number.isFinite(x)) throw new RangeError('vector contains a non-finite number');
  }
  return `[${v.join(',')}]`;
}

export function parseVectorLiteral(s: string): number[] {
  return JSON.parse(s) as number[];
}
