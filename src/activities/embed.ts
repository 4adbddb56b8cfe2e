import { ProviderError } from '../errors';
import type { BatchKey, ChunkFailure, StagedChunk } from '../state/store';
import { embeddingText } from '../text/sections';
import { heartbeat } from './context';
import type { ActivityDeps } from './deps';
import { metrics } from '../metrics/registry';

export interface EmbedResult {
  chunks: number;
  /** Distinct texts sent to the provider (cache misses). */
  embedded: number;
  /** Chunks whose vector was already in the cache. */
  cached: number;
  failed: number;
  tokens: number;
  requests: number;
}

/** Errors that belong to particular inputs: isolate them instead of failing the batch. */
function isPerItem(err: unknown): err is ProviderError {
  return err instanceof ProviderError && (err.type === 'InvalidInput' || err.type === 'EmbeddingDimensionMismatch');
}

/**
 * Embeds the chunks of one batch that are not in the embedding cache and stores their vectors
 * in the cache (never in Temporal). If the provider rejects the batch's input, the batch is
 * bisected until the offending chunks are isolated: the good ones are embedded, the bad ones
 * are marked failed with the provider's reason. Transient errors propagate for Temporal to
 * retry, and everything embedded before them stays cached, so a retry does not pay twice.
 */
export async function embedBatch(deps: ActivityDeps, key: BatchKey): Promise<EmbedResult> {
  const { store, embedder } = deps;
  const rows = await store.staging.batchChunks(key);
  const byHash = new Map<string, StagedChunk[]>();
  for (const r of rows) {
    const list = byHash.get(r.textHash);
    if (list) list.push(r);
    else byHash.set(r.textHash, [r]);
  }
  const cached = await store.cache.cachedHashes(embedder.model, embedder.dimensions, [...byHash.keys()]);
  const misses = [...byHash.entries()].filter(([h]) => !cached.has(h)).map(([h, list]) => ({ hash: h, text: embeddingText(list[0]!.embedPrefix, list[0]!.content) }));

  let tokens = 0;
  let requests = 0;
  const failures: ChunkFailure[] = [];
  const run = async (items: typeof misses): Promise<void> => {
    if (items.length === 0) return;
    heartbeat({ remaining: items.length });
    try {
      requests++;
      const res = await embedder.embed(items.map((i) => i.text));
      tokens += res.tokens;
      await store.cache.putEmbeddings(embedder.model, embedder.dimensions, items.map((i) => i.hash), res.vectors);
    } catch (err) {
      if (!isPerItem(err)) throw err;
      if (items.length === 1) {
        for (const c of byHash.get(items[0]!.hash)!) {
          failures.push({ documentId: c.documentId, chunkIndex: c.chunkIndex, type: err.type, message: err.message.slice(0, 500) });
        }
        return;
      }
      const mid = Math.ceil(items.length / 2);
      await run(items.slice(0, mid));
      await run(items.slice(mid));
    }
  };
  await run(misses);
  await store.staging.markFailed(key, failures);
  for (const f of failures) metrics.itemsFailed.inc({ kind: 'chunk', type: f.type });
  if (failures.length > 0) {
    deps.log.warn({ ...key, failed: failures.length, first: failures[0] }, 'embedding rejected some chunks; they were isolated');
  }
  const missCount = misses.reduce((s, m) => s + byHash.get(m.hash)!.length, 0);
  return {
    chunks: rows.length,
    embedded: misses.length,
    cached: rows.length - missCount,
    failed: failures.length,
    tokens,
    requests,
  };
}
