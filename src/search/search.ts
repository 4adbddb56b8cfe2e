import type { Pool } from 'pg';
import { ConfigError } from '../errors';
import type { Embedder } from '../embedders/types';
import { validateCollectionName } from '../naming';
import type { ChunkCondition, ChunkHit } from '../sinks/types';
import type { Sinks } from '../sinks';
import type { SinkKindName } from '../contracts/ingest';
import { STATE_SCHEMA } from '../state/schema';
import { CollectionNotFoundError, EmbedderMismatchError } from './errors';
import { reciprocalRankFusion } from './rrf';
import { snippet } from './snippet';
import { globMatcher, parseWhere, type WhereClause } from './where';

/** What searchCollection needs: the state store (collection records), the sinks, the embedder. */
export interface SearchDeps {
  store: {
    collections: { get(name: string): Promise<{ name: string; sink: string; model: string; dimensions: number } | undefined> };
    /** The live generation: search reads its storage (absent, or none recorded: the storage named by the collection). */
    generations?: { live(name: string): Promise<{ generation: number; storage: string } | undefined> };
    /** The state store's pool: document-id globs are matched against the collection's documents. */
    readonly pool: Pool;
  };
  sinks: Sinks;
  embedder: Embedder;
}

export interface SearchOptions {
  collection: string;
  query: string;
  /** Results to return (default 10, at most 1000). */
  limit?: number;
  /** Fuse the dense ranking with a full-text ranking by reciprocal rank fusion. */
  hybrid?: boolean;
  /** `key=value` strings (see parseWhere) or parsed clauses; all must hold. */
  where?: ReadonlyArray<string | WhereClause>;
  /** HNSW candidate list size for this query (pgvector hnsw.ef_search, Qdrant hnsw_ef). */
  efSearch?: number;
}

export interface SearchResult {
  rank: number;
  /** Cosine similarity for a dense search; the fused RRF score for a hybrid one. */
  score: number;
  /** The document's id: its path as stored. */
  documentId: string;
  chunkIndex: number;
  /** One line of the chunk, around the first query word found in it. */
  snippet: string;
  content: string;
  metadata: Record<string, unknown>;
  /** Point id in the sink. */
  id: string;
  /** Hybrid only: the chunk's rank (from 1) in the dense and the keyword ranking, null where absent. */
  ranks?: { dense: number | null; keyword: number | null };
}

export interface SearchResponse {
  collection: string;
  sink: string;
  model: string;
  hybrid: boolean;
  results: SearchResult[];
}

const MAX_LIMIT = 1000;

/**
 * Searches a collection the way it was built: the query is embedded with the collection's
 * recorded embedder (a different model or size is refused with EmbedderMismatchError, an unknown
 * collection with CollectionNotFoundError), then the collection's sink returns the nearest
 * chunks by cosine similarity. `hybrid` adds a full-text ranking of the chunk text and fuses
 * both by reciprocal rank fusion, for queries full of names and codes that embeddings blur.
 */
export async function searchCollection(deps: SearchDeps, o: SearchOptions): Promise<SearchResponse> {
  const collection = validateCollectionName(o.collection);
  const limit = o.limit ?? 10;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new ConfigError(`limit must be an integer from 1 to ${MAX_LIMIT}, got ${o.limit}`);
  if (o.efSearch !== undefined && (!Number.isInteger(o.efSearch) || o.efSearch < 1 || o.efSearch > 1000)) {
    throw new ConfigError(`ef_search must be an integer from 1 to 1000, got ${o.efSearch}`);
  }
  if (o.query.trim() === '') throw new ConfigError('the query is empty');
  const where = (o.where ?? []).map((w) => (typeof w === 'string' ? parseWhere([w])[0]! : w));

  // A rebuild may swap generations between reading which one is live and reading its chunks;
  // then the answer (or the error, e.g. another vector size) belongs to no generation in
  // particular, so the search starts over, against the new live generation.
  for (let attempt = 1; ; attempt++) {
    const live = await liveGeneration(deps, collection);
    try {
      const r = await searchGeneration(deps, o, collection, limit, where, live?.storage ?? collection);
      if ((await liveGeneration(deps, collection))?.generation === live?.generation || attempt >= MAX_SWAP_RETRIES) return r;
    } catch (err) {
      if (err instanceof EmbedderMismatchError || err instanceof CollectionNotFoundError) throw err;
      if ((await liveGeneration(deps, collection))?.generation === live?.generation || attempt >= MAX_SWAP_RETRIES) throw err;
    }
  }
}

const MAX_SWAP_RETRIES = 3;

function liveGeneration(deps: SearchDeps, collection: string): Promise<{ generation: number; storage: string } | undefined> {
  return deps.store.generations?.live(collection).catch((err: { code?: string }) => {
    if (err.code === '42P01' || err.code === '3F000') return undefined; // a state store from before generations
    throw err;
  }) ?? Promise.resolve(undefined);
}

async function searchGeneration(deps: SearchDeps, o: SearchOptions, collection: string, limit: number, where: WhereClause[], storage: string): Promise<SearchResponse> {
  const record = await collectionRecord(deps, collection);
  const { embedder } = deps;
  if (record.model !== embedder.model || record.dimensions !== embedder.dimensions) {
    throw new EmbedderMismatchError(collection, record, { model: embedder.model, dimensions: embedder.dimensions });
  }
  const sink = deps.sinks[record.sink as SinkKindName];
  if (!sink) {
    throw new ConfigError(`collection ${collection} is stored in ${record.sink}, which is not configured here${record.sink === 'qdrant' ? ' (set QDRANT_URL)' : ''}`);
  }
  const conditions = await resolveWhere(deps.store.pool, collection, where);
  const base = { collection, sink: record.sink, model: record.model, hybrid: Boolean(o.hybrid) };
  if (conditions === undefined) return { ...base, results: [] }; // a glob that matches no document

  const { vectors } = await embedder.embed([o.query]);
  const vector = vectors[0];
  if (!vector || vector.length !== record.dimensions) {
    throw new ConfigError(`the embedder returned a query vector of ${vector?.length ?? 0} dimensions, expected ${record.dimensions}`);
  }
  if (!o.hybrid) {
    const hits = await sink.search(storage, { vector, limit, where: conditions, efSearch: o.efSearch });
    return { ...base, results: hits.map((h, i) => result(h, i + 1, h.score, o.query)) };
  }
  // Each side ranks more candidates than asked for, so that a chunk ranked modestly by both can
  // still come out on top after fusion.
  const depth = Math.min(MAX_LIMIT, Math.max(50, limit * 5));
  const [dense, keyword] = await Promise.all([
    sink.search(storage, { vector, limit: depth, where: conditions, efSearch: o.efSearch }),
    sink.keywordSearch(storage, { text: o.query, limit: depth, where: conditions }),
  ]);
  const fused = reciprocalRankFusion([dense, keyword], (h) => h.id).slice(0, limit);
  return {
    ...base,
    results: fused.map((f, i) => ({ ...result(f.item, i + 1, f.score, o.query), ranks: { dense: f.ranks[0] ?? null, keyword: f.ranks[1] ?? null } })),
  };
}

async function collectionRecord(deps: SearchDeps, collection: string) {
  try {
    const record = await deps.store.collections.get(collection);
    if (record) return record;
  } catch (err) {
    // A database where nothing was ever ingested has no state schema yet.
    if ((err as { code?: string }).code !== '42P01' && (err as { code?: string }).code !== '3F000') throw err;
  }
  throw new CollectionNotFoundError(collection);
}

/**
 * Clauses as sink conditions. A document-id glob becomes the list of the collection's document
 * ids it matches (from the state store, which records every document it ingested), so both sinks
 * filter on it the same way; undefined when a glob matches nothing.
 */
async function resolveWhere(pool: Pool, collection: string, where: WhereClause[]): Promise<ChunkCondition[] | undefined> {
  const out: ChunkCondition[] = [];
  let ids: string[] | undefined;
  for (const w of where) {
    if (!w.glob) {
      out.push({ key: w.key, equals: w.value });
      continue;
    }
    ids ??= (await pool.query<{ id: string }>(`SELECT document_id AS id FROM ${STATE_SCHEMA}.documents WHERE collection = $1`, [collection])).rows.map((r) => r.id);
    const match = globMatcher(w.value);
    const matched = ids.filter(match);
    if (matched.length === 0) return undefined;
    out.push({ key: 'document_id', anyOf: matched });
  }
  return out;
}

function result(h: ChunkHit, rank: number, score: number, query: string): SearchResult {
  return { rank, score, documentId: h.documentId, chunkIndex: h.chunkIndex, snippet: snippet(h.content, query), content: h.content, metadata: h.metadata, id: h.id };
}
