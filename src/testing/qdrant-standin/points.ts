/**
 * In-memory points of one collection and the subset of Qdrant's filter language the sink uses:
 * must / should / must_not over field conditions with `match` (value, any, text) and `range`,
 * and exact (brute-force) cosine scoring for the query and search endpoints.
 */
export type Payload = Record<string, unknown>;

export interface StoredPoint {
  id: string | number;
  vector: number[];
  payload: Payload;
}

interface FieldCondition {
  key: string;
  match?: { value?: unknown; any?: unknown[]; text?: string };
  range?: { lt?: number; gt?: number; gte?: number; lte?: number };
}

export interface Filter {
  must?: Array<FieldCondition | Filter> | null;
  should?: Array<FieldCondition | Filter> | null;
  must_not?: Array<FieldCondition | Filter> | null;
}

function condition(p: StoredPoint, c: FieldCondition | Filter): boolean {
  if ('key' in c) {
    const v = p.payload[c.key];
    if (c.match) {
      if ('value' in c.match) return v === c.match.value;
      if (c.match.any) return c.match.any.includes(v);
      if (typeof c.match.text === 'string') {
        // Full-text match as Qdrant's word tokenizer (lowercased) does it: every word of the
        // query is a word of the field.
        if (typeof v !== 'string') return false;
        const have = new Set(tokens(v));
        return tokens(c.match.text).every((t) => have.has(t));
      }
      throw new Error('stand-in: unsupported match');
    }
    if (c.range) {
      if (typeof v !== 'number') return false;
      const r = c.range;
      return (r.lt === undefined || v < r.lt) && (r.gt === undefined || v > r.gt) && (r.gte === undefined || v >= r.gte) && (r.lte === undefined || v <= r.lte);
    }
    throw new Error('stand-in: unsupported field condition');
  }
  return matches(p, c);
}

export function matches(p: StoredPoint, f: Filter | null | undefined): boolean {
  if (!f) return true;
  if (f.must && !f.must.every((c) => condition(p, c))) return false;
  if (f.should && f.should.length > 0 && !f.should.some((c) => condition(p, c))) return false;
  if (f.must_not && f.must_not.some((c) => condition(p, c))) return false;
  return true;
}

function tokens(s: string): string[] {
  return s.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** Cosine similarity, exactly (Qdrant normalises Cosine vectors on write and takes the dot product). */
export function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** The `limit` points nearest to `vector` that pass `filter`, best first, by exhaustive scan. */
export function nearest(points: Iterable<StoredPoint>, vector: readonly number[], filter: Filter | null | undefined, limit: number, offset = 0, threshold?: number | null): Array<{ point: StoredPoint; score: number }> {
  const scored: Array<{ point: StoredPoint; score: number }> = [];
  for (const p of points) {
    if (!matches(p, filter)) continue;
    const score = cosine(vector, p.vector);
    if (threshold !== undefined && threshold !== null && score < threshold) continue;
    scored.push({ point: p, score });
  }
  scored.sort((x, y) => y.score - x.score || (String(x.point.id) < String(y.point.id) ? -1 : 1));
  return scored.slice(offset, offset + limit);
}
