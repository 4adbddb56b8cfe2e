import { ConfigError } from '../errors';
import type { ChunkCondition } from './types';

/**
 * SQL for chunk conditions on a pgvector collection table: `document_id` and `chunk_index` are
 * columns, any other key is read from the `metadata` jsonb column as text (so 3 and "3" both
 * match "3"). Values are always bind parameters, numbered from `firstParam`.
 */
export function whereSql(conditions: readonly ChunkCondition[] | undefined, firstParam: number, alias = ''): { sql: string; params: unknown[] } {
  const a = alias ? `${alias}.` : '';
  const parts: string[] = [];
  const params: unknown[] = [];
  const p = (v: unknown) => {
    params.push(v);
    return `$${firstParam + params.length - 1}`;
  };
  for (const c of conditions ?? []) {
    const values = 'equals' in c ? [c.equals] : c.anyOf;
    if (c.key === 'document_id') {
      parts.push('equals' in c ? `${a}document_id = ${p(c.equals)}` : `${a}document_id = ANY(${p(values)}::text[])`);
    } else if (c.key === 'chunk_index') {
      const ints = values.map((v) => {
        if (!/^\d+$/.test(v)) throw new ConfigError(`chunk_index must be a non-negative integer, got ${JSON.stringify(v)}`);
        return Number(v);
      });
      parts.push(`${a}chunk_index = ANY(${p(ints)}::int[])`);
    } else {
      const key = p(c.key);
      parts.push('equals' in c ? `(${a}metadata ->> ${key}) = ${p(c.equals)}` : `(${a}metadata ->> ${key}) = ANY(${p(values)}::text[])`);
    }
  }
  return { sql: parts.length ? parts.join(' AND ') : 'TRUE', params };
}
