import { ConfigError } from './errors';

const COLLECTION_RE = /^[a-z][a-z0-9_]*$/;
/** `<collection>__g<n>` names a generation's storage, so no collection may end like that. */
const GENERATION_SUFFIX_RE = /__g[0-9]+$/;
export const MAX_COLLECTION_LENGTH = 48;

/**
 * Collection names become Postgres table names, Qdrant collection names and parts of workflow
 * and schedule ids, so only a conservative identifier is accepted: lowercase letters, digits and
 * underscores, starting with a letter, at most 48 characters (Postgres allows 63 bytes; the rest
 * is room for index-name suffixes).
 */
export function validateCollectionName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new ConfigError('collection name is required (lowercase letters, digits and _, starting with a letter)');
  }
  const shown = JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name);
  if (name.length > MAX_COLLECTION_LENGTH) {
    throw new ConfigError(`collection name ${shown} is ${name.length} characters long; the limit is ${MAX_COLLECTION_LENGTH}`);
  }
  if (!COLLECTION_RE.test(name) || GENERATION_SUFFIX_RE.test(name)) {
    const suggestion = name
      .toLowerCase()
      .replace(/[^a-z0-9_]+/g, '_')
      .replace(/^[^a-z]+/, '')
      .replace(/__g([0-9]+)$/, '_g$1')
      .slice(0, MAX_COLLECTION_LENGTH);
    throw new ConfigError(
      `collection name ${shown} is not allowed: use lowercase letters, digits and _, starting with a letter` +
        (GENERATION_SUFFIX_RE.test(name) ? ', not ending in __g<number> (the names of generations)' : '') +
        (suggestion ? ` (for example ${JSON.stringify(suggestion)})` : ''),
    );
  }
  return name;
}

/** Double-quotes an identifier that has already passed validation. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * The storage (pgvector table, Qdrant collection) of a collection's generation `n`: built beside
 * the live generation by a rebuild, then put behind the collection's name (a view, an alias).
 */
export function generationStorage(collection: string, n: number): string {
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`generation must be a positive integer, got ${n}`);
  return `${validateCollectionName(collection)}__g${n}`;
}

/** A storage name: a collection name, or a generation's (`<collection>__g<n>`). */
export function validateStorageName(name: string): string {
  const m = /^(.*)__g([0-9]+)$/.exec(name);
  if (m) {
    validateCollectionName(m[1]);
    return name;
  }
  return validateCollectionName(name);
}
