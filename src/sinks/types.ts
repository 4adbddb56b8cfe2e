import type { PoolClient } from 'pg';
import type { SinkKindName, VectorTypeName } from '../contracts/ingest';

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
  /**
   * Statements that must commit with the write, in the same statement: each a WITH item body
   * over the selected points (`src`, columns named as the query names them) and the query's
   * parameters, e.g. the state store marking them landed. upsertFromSelect returns how many rows
   * each yields in `counts`, by name.
   */
  with?: Record<string, string>;
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
  /**
   * Writes take a storage name: the collection's own name, or a generation's
   * (`<collection>__g<n>`, src/naming.ts). Reads (search, count) take the collection's name,
   * which shows its live generation.
   */
  /** Creates the storage if missing; refuses one whose vector size (or pgvector column type) differs. */
  ensureCollection(name: string, dimensions: number, options?: StorageOptions): Promise<void>;
  /** Where a new collection's first generation is stored (pgvector: a table of its name; Qdrant: `<name>__g1` behind an alias). */
  firstStorage(collection: string): string;
  /** Whether makeLive keeps storage that held the collection's own name (pgvector renames it to `retireAs`; Qdrant must delete it). */
  readonly keepsReplacedStorage: boolean;
  /**
   * Points the collection's name at `storage` in one step readers never see half done
   * (pgvector: a view, replaced in one transaction; Qdrant: an alias, switched in one request).
   * Storage that held the name itself (a table or collection made before generations) is
   * renamed to `retireAs` (pgvector) or deleted (Qdrant, which cannot rename). Idempotent.
   * `record` records the swap in the state store: pgvector runs it inside the swap's own
   * transaction (same database), so readers see both or neither; other sinks run it after.
   */
  makeLive(collection: string, storage: string, retireAs: string, record?: (tx?: PoolClient) => Promise<void>): Promise<void>;
  upsert(name: string, points: Point[]): Promise<number>;
  /** Same as upsert, from a SELECT in the sink's database (only pgvector has this). */
  upsertFromSelect?(name: string, points: PointsQuery): Promise<{ offered: number; written: number; counts?: Record<string, number> }>;
  deleteDocuments(name: string, documentIds: string[]): Promise<void>;
  trimDocuments(name: string, trims: ChunkTrim[]): Promise<void>;
  /** Work best done after a bulk load (building the ANN index). */
  finalize(name: string): Promise<void>;
  count(name: string): Promise<number>;
  /** Nearest chunks to a vector by cosine similarity, best first, filtered by `where`. */
  search(name: string, query: VectorQuery): Promise<ChunkHit[]>;
  /** Chunks ranked by keyword match of `text` (full-text search), best first: the lexical side of hybrid search. */
  keywordSearch(name: string, query: KeywordQuery): Promise<ChunkHit[]>;
  /** Drops a storage (a generation that is not live). */
  drop(name: string): Promise<void>;
  close(): Promise<void>;
}

/** pgvector's column type: float4 `vector` (default) or float2 `halfvec` (half the size). */
export type VectorType = VectorTypeName;

export interface StorageOptions {
  /** pgvector only; other sinks refuse 'halfvec'. */
  vectorType?: VectorType;
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
