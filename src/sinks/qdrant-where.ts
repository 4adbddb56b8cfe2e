import type { Schemas } from '@qdrant/js-client-rest';
import { ConfigError } from '../errors';
import type { ChunkCondition } from './types';

type Condition = Schemas['Condition'];

/**
 * Qdrant filter for chunk conditions (all must hold). Payload values keep their JSON type in
 * Qdrant, so a value from the command line that reads as an integer or a boolean matches both
 * that and the string (`page=3` finds page 3 and "3"), as pgvector's text comparison does.
 */
export function qdrantFilter(conditions: readonly ChunkCondition[] | undefined, extra: Condition[] = []): Schemas['Filter'] | undefined {
  const must: Condition[] = [];
  for (const c of conditions ?? []) {
    const values = 'equals' in c ? [c.equals] : c.anyOf;
    if (c.key === 'chunk_index') {
      const ints = values.map((v) => {
        if (!/^\d+$/.test(v)) throw new ConfigError(`chunk_index must be a non-negative integer, got ${JSON.stringify(v)}`);
        return Number(v);
      });
      must.push({ key: 'chunk_index', match: { any: ints } });
    } else if (c.key === 'document_id' || 'anyOf' in c) {
      must.push({ key: c.key, match: { any: values } });
    } else {
      const typed = typedAlternatives(c.equals);
      must.push(typed.length === 0 ? { key: c.key, match: { value: c.equals } } : { should: [{ key: c.key, match: { value: c.equals } }, ...typed.map((v) => ({ key: c.key, match: { value: v } }))] });
    }
  }
  must.push(...extra);
  return must.length ? { must } : undefined;
}

function typedAlternatives(v: string): Array<number | boolean> {
  if (/^-?\d{1,15}$/.test(v)) return [Number(v)];
  if (v === 'true' || v === 'false') return [v === 'true'];
  return [];
}

/** Lowercase words (letters and digits), as Qdrant's `word` tokenizer with `lowercase` splits text. */
export function words(text: string): string[] {
  return [...new Set(text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [])];
}
