/**
 * Custom search attributes registered on the dev server so runs can be filtered in the Web UI
 * (e.g. `Collection = "docs"`). No Node imports: used by workflow code.
 */
export const SEARCH_ATTRIBUTES = {
  Collection: 'Keyword',
  IngestPhase: 'Keyword',
  // The SQLite-backed dev server allows at most 3 Int attributes.
  DocumentsFailed: 'Int',
  ChunksDone: 'Int',
  ChunksFailed: 'Int',
} as const;
