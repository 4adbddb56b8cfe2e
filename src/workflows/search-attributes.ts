import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes, so runs can be filtered in the Web UI and the CLI
 * (`Collection = "docs" AND IngestPhase = "ingesting"`). The embedded dev server registers them;
 * on a real cluster register them once (README). Workflows upsert them only when the worker
 * found them registered: an unregistered attribute would fail every workflow task.
 * No Node imports: used by workflow code.
 */
export const SEARCH_ATTRIBUTES = {
  Collection: 'Keyword',
  IngestPhase: 'Keyword',
  // The SQLite-backed dev server allows at most 3 Int attributes.
  ChunksDone: 'Int',
  ChunksFailed: 'Int',
  DocumentsFailed: 'Int',
} as const;

export const SA = {
  collection: defineSearchAttributeKey('Collection', SearchAttributeType.KEYWORD),
  phase: defineSearchAttributeKey('IngestPhase', SearchAttributeType.KEYWORD),
  chunksDone: defineSearchAttributeKey('ChunksDone', SearchAttributeType.INT),
  chunksFailed: defineSearchAttributeKey('ChunksFailed', SearchAttributeType.INT),
  documentsFailed: defineSearchAttributeKey('DocumentsFailed', SearchAttributeType.INT),
};
