/**
 * The package's public API, for programs that embed vector-ingest (package.json `main`).
 * The CLI (bin/vector-ingest.js) is the other face; both sit on the same modules.
 */
export {
  searchCollection,
  openSearch,
  CollectionNotFoundError,
  EmbedderMismatchError,
  parseWhere,
  reciprocalRankFusion,
  type SearchDeps,
  type SearchOptions,
  type SearchResponse,
  type SearchResult,
  type WhereClause,
} from './search';
export { loadConfig, type Config } from './config';
export { createEmbedder } from './embedders';
export type { Embedder, EmbeddingResult } from './embedders/types';
export type { VectorStore, ChunkHit, ChunkCondition, VectorQuery, KeywordQuery } from './sinks/types';
