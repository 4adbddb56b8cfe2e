import type pg from 'pg';
import { PgVectorStore } from '../../src/sinks/pgvector';
import type { StateStore } from '../../src/state/store';

interface Model {
  model: string;
  dimensions: number;
  embed(texts: string[]): Promise<{ vectors: number[][] }>;
}

/** Caches the embedder's vectors of these chunks, as an earlier run would have left them. */
export async function cacheChunks(store: StateStore, embedder: Model, chunks: ReadonlyArray<{ content: string; textHash: string }>): Promise<void> {
  const { vectors } = await embedder.embed(chunks.map((c) => c.content));
  await store.cache.putEmbeddings(embedder.model, embedder.dimensions, chunks.map((c) => c.textHash), vectors);
}

/** A pgvector collection as prepareCollection leaves it: generation 1, live, in the collection's own table. */
export async function liveCollection(pool: pg.Pool, collection: string, embedder: Model): Promise<void> {
  await new PgVectorStore(pool).ensureCollection(collection, embedder.dimensions);
  await pool.query(
    `INSERT INTO vector_ingest.generations (collection, generation, state, sink, model, dimensions, storage) VALUES ($1, 1, 'live', 'pgvector', $2, $3, $1)`,
    [collection, embedder.model, embedder.dimensions],
  );
}
