import picomatch from 'picomatch';
import { ConfigError } from '../errors';

/**
 * `--where key=value` filters. Repeated filters all hold (AND). `path` and `document_id` name
 * the chunk's document id (its path as stored) and take globs (`path=docs/**`, `*.md`, `{a,b}`,
 * picomatch syntax, dotfiles included); `chunk_index` is the chunk's position; any other key is a
 * chunk metadata key (the pgvector `metadata` column, the Qdrant payload), compared for equality
 * as text (`page=3` matches 3 and "3").
 */
export interface WhereClause {
  key: string;
  value: string;
  /** True for a document-id glob (matched by picomatch). */
  glob: boolean;
}

const KEY = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
const DOCUMENT_KEYS = new Set(['path', 'document_id']);

export function parseWhere(items: readonly string[] | undefined): WhereClause[] {
  return (items ?? []).map((item) => {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--where ${JSON.stringify(item)}: expected key=value, e.g. --where path=docs/** or --where format=pdf`);
    const rawKey = item.slice(0, eq).trim();
    const value = item.slice(eq + 1);
    if (!KEY.test(rawKey)) throw new ConfigError(`--where ${JSON.stringify(item)}: key ${JSON.stringify(rawKey)} is not a field name (letters, digits, _ . -)`);
    if (value === '') throw new ConfigError(`--where ${JSON.stringify(item)}: the value is empty`);
    const key = DOCUMENT_KEYS.has(rawKey) ? 'document_id' : rawKey;
    const glob = key === 'document_id' && picomatch.scan(value).isGlob;
    return { key, value, glob };
  });
}

/** A matcher for a document-id glob, with the options `--where path=` documents. */
export function globMatcher(glob: string): (path: string) => boolean {
  const isMatch = picomatch(glob, { dot: true });
  return (path) => isMatch(path) === true; // picomatch's second argument returns an object: never pass it on
}
