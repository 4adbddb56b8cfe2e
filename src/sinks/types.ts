import type { SinkKindName } from '../contracts/ingest';

export interface Point {
  id: string;
  documentId: string;
  chunkIndex: number;
  content: string;
  contentHash: string;
  metadata: Record<string, unknown>;
  vector: number[];
}

/**
 * A SELECT, in the sink's own database, yielding rows of (id uuid, document_id, chunk_index,
 * content, content_hash, metadata jsonb, embedding vector): points a sink in the same database
 * as the state store can write without them passing through the worker.
 */
export interface PointsQuery {
  sql: string;
  params: unknown[];
}

export interface ChunkTrim {
  documentId: string;
  /** Delete this document's chunks with chunk_index >= keep. */
  keep: number;
}

/**
 * Where vectors end up. One implementation per store; knows nothing of Temporal or embedders.
 * Every write is idempotent: upserts by deterministic id, deletes by document.
 */
export interface VectorStore {
  readonly kind: SinkKindName;
  /** Creates the collection if missing; refuses one whose vector size differs. */
  ensureCollection(name: string, dimensions: number): Promise<void>;
  upsert(name: string, points: Point[]): Promise<number>;
  /** Same as upsert, from a SELECT in the sink's database (only pgvector has this). */
  upsertFromSelect?(name: string, points: PointsQuery): Promise<{ offered: number; written: number }>;
  deleteDocuments(name: string, documentIds: string[]): Promise<void>;
  trimDocuments(name: string, trims: ChunkTrim[]): Promise<void>;
  /** Work best done after a bulk load (building the ANN index). */
  finalize(name: string): Promise<void>;
  count(name: string): Promise<number>;
  /** Nearest chunks to a vector by cosine similarity, best first, filtered by `where`. */
  search(name: string, query: VectorQuery): Promise<ChunkHit[]>;
  /** Chunks ranked by keyword match of `text` (full-text search), best first: the lexical side of hybrid search. */
  keywordSearch(name: string, query: KeywordQuery): Promise<ChunkHit[]>;
  /** Drops the whole collection (a rebuild with another model). */
  drop(name: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * A condition on a chunk, sink-neutral. `document_id` and `chunk_index` are the chunk's own
 * fields; any other key is a metadata key (the pgvector `metadata` column, the Qdrant payload).
 * `equals` compares as the sinks store it: a metadata value 3 matches "3" (and a number 3).
 * `anyOf` (document ids resolved from a glob) matches one of the values.
 */
export type ChunkCondition =
  | { key: string; equals: string }
  | { key: string; anyOf: string[] };

export interface VectorQuery {
  vector: number[];
  limit: number;
  /** All must hold (AND). */
  where?: ChunkCondition[];
  /** HNSW candidate list size (pgvector `hnsw.ef_search`, Qdrant `hnsw_ef`); default the sink's. */
  efSearch?: number;
}

export interface KeywordQuery {
  text: string;
  limit: number;
  where?: ChunkCondition[];
}

/** One chunk found by a sink, best first. `score`: cosine similarity (dense) or the sink's keyword rank score. */
export interface ChunkHit {
  id: string;
  documentId: string;
  chunkIndex: number;
  content: string;
  metadata: Record<string, unknown>;
  score: number;
}
