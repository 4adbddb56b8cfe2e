/**
 * Custom search attributes registered on the dev server so runs can be filtered in the Web UI
 * (e.g. `Collection = "docs"`). No Node imports: used by workflow code.
 */
export const SEARCH_ATTRIBUTES = {
  Collection: 'Keyword',
  IngestPhase: 'Keyword',
  DocumentsDone: 'Int',
  DocumentsFailed: 'Int',
  ChunksDone: 'Int',
  ChunksFailed: 'Int',
} as const;
