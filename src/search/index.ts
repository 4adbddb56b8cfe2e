export { searchCollection, type SearchDeps, type SearchOptions, type SearchResponse, type SearchResult } from './search';
export { openSearch } from './open';
export { CollectionNotFoundError, EmbedderMismatchError } from './errors';
export { parseWhere, globMatcher, type WhereClause } from './where';
export { reciprocalRankFusion, RRF_K, type Fused } from './rrf';
