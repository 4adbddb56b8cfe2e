import type { BatchKey } from '../state/store';
import { targetFor, type ActivityDeps } from './deps';

export interface UpsertResult {
  /** Chunks now in the sink. */
  upserted: number;
  /** Rows the sink actually changed (0 when everything was already there). */
  written: number;
  /** Chunks with no vector (their embedding failed); they stay out of the sink. */
  skipped: number;
}

/**
 * Writes one batch to the sink: staged chunk text joined with vectors from the embedding cache,
 * upserted by deterministic point id, so a retry or a re-run overwrites instead of duplicating.
 * A sink in the state store's database (pgvector) does the join itself; others get the points.
 */
export async function upsertBatch(deps: ActivityDeps, key: BatchKey): Promise<UpsertResult> {
  const { store, embedder } = deps;
  const { sink, storage } = await targetFor(deps, key.collection);
  if (sink.upsertFromSelect) {
    // pgvector lives in the state store's database: one INSERT … SELECT from staging + cache,
    // then mark those chunks landed. Both idempotent, so a retry between them is harmless.
    const { written } = await sink.upsertFromSelect(storage, store.cache.pointsQuery(key, embedder.model, embedder.dimensions));
    const { landed, pending } = await store.cache.markLandedWithVectors(key, embedder.model, embedder.dimensions);
    return { upserted: landed, written, skipped: pending - landed };
  }
  const rows = await store.staging.batchChunks(key);
  const vectors = await store.cache.getEmbeddings(embedder.model, embedder.dimensions, [...new Set(rows.map((r) => r.textHash))]);
  const ready = rows.filter((r) => vectors.has(r.textHash));
  const written = await sink.upsert(
    storage,
    ready.map((r) => ({
      id: r.pointId,
      documentId: r.documentId,
      chunkIndex: r.chunkIndex,
      content: r.content,
      contentHash: r.textHash,
      metadata: { ...r.metadata, document_id: r.documentId, chunk_index: r.chunkIndex, tokens: r.tokens },
      vector: vectors.get(r.textHash)!,
    })),
  );
  await store.staging.markLanded(key, ready);
  return { upserted: ready.length, written, skipped: rows.length - ready.length };
}
