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
    return landResult(deps, key, await sink.upsertFromSelect(storage, q));
  }
  // Other sinks are written from the worker, fenced by a write intent (leases.ts fenced).
  return store.leases.fenced(key.collection, key.runKey, attemptTimeoutMs(), () => upsertPoints(deps, key, sink, storage));
}

/**
 * Writes the batch's staged chunks that have a vector to a sink the worker feeds, and marks them
 * landed. `known` are vectors the caller holds already (the fused activity's fresh answers); the
 * rest come from the embedding cache.
 */
export async function upsertPoints(deps: ActivityDeps, key: BatchKey, sink: WriteTarget['sink'], storage: string, known: ReadonlyMap<string, number[]> = new Map()): Promise<UpsertResult> {
  const { store, embedder } = deps;
  const rows = await store.staging.batchChunks(key);
  const vectors = new Map(known);
  const unknown = [...new Set(rows.map((r) => r.textHash))].filter((h) => !vectors.has(h));
  for (const [h, v] of await store.cache.getEmbeddings(embedder.model, embedder.dimensions, unknown)) vectors.set(h, v);
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

/**
 * What a fenced pgvector landing statement did; nothing offered: nothing left to write (a retry), or the fence held the rows back.
 * `landed_before` (landingQuery, and so freshLandingQuery): chunks earlier attempts landed,
 * counted as in the sink, so a retry of a write that committed reports what the lost result would have.
 */
export async function landResult(deps: ActivityDeps, key: BatchKey, r: { offered: number; written: number; counts?: Record<string, number> }): Promise<UpsertResult> {
  if (r.offered === 0) await deps.store.leases.check(key.collection, key.runKey);
  const pending = r.counts?.pending ?? r.offered;
  return { upserted: r.offered + (r.counts?.landed_before ?? 0), written: r.written, skipped: pending - r.offered };
}
