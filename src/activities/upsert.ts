import { leaseHeld } from '../state/leases';
import type { BatchKey } from '../state/store';
import { attemptTimeoutMs } from './context';
import { targetFor, type ActivityDeps, type WriteTarget } from './deps';

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
    // pgvector lives in the state store's database: the batch's write is one statement (one
    // round trip, one commit), fenced by the lease inside it: INSERT … SELECT from staging +
    // cache while this run holds the collection, and those chunks marked landed with it.
    const q = store.cache.landingQuery(key, embedder.model, embedder.dimensions, leaseHeld('$1', '$2'));
    const { offered, written, counts } = await sink.upsertFromSelect(storage, q);
    // Nothing offered: nothing left to write (a retry), or the fence held the rows back.
    if (offered === 0) await store.leases.check(key.collection, key.runKey);
    const pending = counts?.pending ?? offered;
    return { upserted: offered, written, skipped: pending - offered };
  }
  // Other sinks are written from the worker, fenced by a write intent (leases.ts fenced).
  return store.leases.fenced(key.collection, key.runKey, attemptTimeoutMs(), () => upsertPoints(deps, key, sink, storage));
}

async function upsertPoints(deps: ActivityDeps, key: BatchKey, sink: WriteTarget['sink'], storage: string): Promise<UpsertResult> {
  const { store, embedder } = deps;
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
