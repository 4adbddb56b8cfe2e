/**
 * In-memory points of one collection and the subset of Qdrant's filter language the sink uses:
 * must / should / must_not over field conditions with `match` (value, any) and `range`.
 */
export type Payload = Record<string, unknown>;

export interface StoredPoint {
  id: string | number;
  vector: number[];
  payload: Payload;
}

interface FieldCondition {
  key: string;
  match?: { value?: unknown; any?: unknown[] };
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
