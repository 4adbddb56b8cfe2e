export interface Point {
  id: string;
  documentId: string;
  chunkIndex: number;
  content: string;
  contentHash: string;
  metadata: Record<string, unknown>;
  vector: number[];
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
  readonly kind: 'pgvector' | 'qdrant';
  /** Creates the collection if missing; refuses one whose vector size differs. */
  ensureCollection(name: string, dimensions: number): Promise<void>;
  upsert(name: string, points: Point[]): Promise<number>;
  deleteDocuments(name: string, documentIds: string[]): Promise<void>;
  trimDocuments(name: string, trims: ChunkTrim[]): Promise<void>;
  /** Work best done after a bulk load (building the ANN index). */
  finalize(name: string): Promise<void>;
  count(name: string): Promise<number>;
  /** Drops the whole collection (a rebuild with another model). */
  drop(name: string): Promise<void>;
  close(): Promise<void>;
}
