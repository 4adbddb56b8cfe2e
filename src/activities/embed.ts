import { ProviderError } from '../errors';
import type { BatchKey, ChunkFailure, StagedChunk } from '../state/store';
import { embeddingText } from '../text/sections';
import { activityInfo, attemptTimeoutMs, heartbeat } from './context';
import { DEFAULT_RETRY, isTransient, withRetries } from './embed-retry';
import type { ActivityDeps } from './deps';
import { metrics } from '../metrics/registry';
import { inputTokens } from '../embedders/types';
import { costUsd } from '../embedders/pricing';

export interface EmbedResult {
  chunks: number;
  /** Distinct texts sent to the provider (cache misses). */
  embedded: number;
  /** Chunks whose vector was already in the cache. */
  cached: number;
  failed: number;
  /**
   * Tokens of the texts the provider embedded (requests that succeeded: what it bills): the
   * provider's own usage figure when it reports one, else counted by the embedder's own
   * tokenizer (inputTokens), like `ingest --dry-run` counts them.
   */
  tokens: number;
  /** Those tokens' price in US dollars (the worker's price table, src/embedders/pricing.ts). */
  costUsd: number;
  requests: number;
}

/** Errors that belong to particular inputs: isolate them instead of failing the batch. */
function isPerItem(err: unknown): err is ProviderError {
  return err instanceof ProviderError && (err.type === 'InvalidInput' || err.type === 'EmbeddingDimensionMismatch');
}

/** The per-item type of an input on which the provider keeps failing (5xx, timeouts) while it is well otherwise. */
export const PROVIDER_CRASH_ON_INPUT = 'ProviderCrashOnInput';

/**
 * Embeds the chunks of one batch that are not in the embedding cache and stores their vectors
 * in the cache (never in Temporal). Each request is retried on transient errors inside the
 * attempt (embed-retry.ts). A batch the provider rejects (400/422) is bisected until the bad
 * chunks are isolated; so is a batch that keeps failing with 5xx/timeouts while a tiny probe
 * request succeeds (model servers crash on some inputs): a chunk that fails alone like that is
 * a per-item failure, ProviderCrashOnInput. Isolated chunks are marked failed in staging at
 * once and good vectors are cached at once, so a later attempt keeps what this one learned.
 * If the probe fails too, the provider is down: the error goes to Temporal and the workflow's
 * circuit breaker.
 */
export async function embedBatch(deps: ActivityDeps, key: BatchKey, retry = DEFAULT_RETRY): Promise<EmbedResult> {
  return (await embedMisses(deps, key, retry, { deferCacheWrite: false })).result;
}

/** What embedMisses learned: the counts, and the vectors the provider answered, by text hash. */
export interface EmbeddedBatch {
  result: EmbedResult;
  fresh: Map<string, number[]>;
  /** Whether `fresh` still has to be written to the embedding cache (deferCacheWrite, one request answered the whole batch). */
  uncached: boolean;
}

/**
 * embedBatch's work, keeping the answered vectors in memory too. With deferCacheWrite, a batch
 * that one request answers whole leaves its cache write to the caller (the fused activity
 * writes it in the sink write's own statement); vectors learned while bisecting are cached at
 * once either way, so a later attempt never asks for them again.
 */
export async function embedMisses(deps: ActivityDeps, key: BatchKey, retry: typeof DEFAULT_RETRY, opts: { deferCacheWrite: boolean }): Promise<EmbeddedBatch> {
  const { store, embedder } = deps;
  const fresh = new Map<string, number[]>();
  let uncached = false;
  // One round trip: the batch's pending chunks, which are cached, and what earlier attempts failed.
  const { chunks: rows, cached, failedBefore } = await store.cache.batchToEmbed(key, embedder.model, embedder.dimensions);
  const byHash = new Map<string, StagedChunk[]>();
  for (const r of rows) {
    const list = byHash.get(r.textHash);
    if (list) list.push(r);
    else byHash.set(r.textHash, [r]);
  }
  const misses = [...byHash.entries()].filter(([h]) => !cached.has(h)).map(([h, list]) => ({ hash: h, text: embeddingText(list[0]!.embedPrefix, list[0]!.content) }));

  const budget = { ...retry, deadline: Date.now() + attemptTimeoutMs(300_000) * 0.8 };
  let tokens = 0;
  let requests = 0;
  const failures: ChunkFailure[] = [];
  const request = async (texts: string[]) => {
    // A failed try counts as one request; an answered call as the requests it took (a
    // splitting embedder sends several).
    const res = await withRetries(budget, async () => {
      try {
        const r = await embedder.embed(texts);
        requests += r.requests ?? 1;
        return r;
      } catch (err) {
        requests++;
        throw err;
      }
    });
    // Only answered requests are billed; a failed try or a bisected half that failed is not.
    // The provider's own usage figure is what it bills; without one, the texts are counted.
    if (res.tokensFromProvider) tokens += res.tokens;
    else for (const t of texts) tokens += inputTokens(embedder, t);
    return res;
  };
  const fail = async (item: (typeof misses)[number], type: string, message: string) => {
    const found = byHash.get(item.hash)!.map((c) => ({ documentId: c.documentId, chunkIndex: c.chunkIndex, type, message: message.slice(0, 500) }));
    failures.push(...found);
    await store.staging.markFailed(key, found);
  };
  const run = async (items: typeof misses): Promise<void> => {
    if (items.length === 0) return;
    // Progress while bisecting (the whole batch's one request needs none: see whileHeartbeating).
    if (items.length < misses.length) heartbeat({ remaining: items.length });
    try {
      const res = await request(items.map((i) => i.text));
      items.forEach((item, i) => fresh.set(item.hash, res.vectors[i]!));
      if (opts.deferCacheWrite && items.length === misses.length) uncached = true;
      else await store.cache.putEmbeddings(embedder.model, embedder.dimensions, items.map((i) => i.hash), res.vectors);
      return;
    } catch (err) {
      if (isPerItem(err)) {
        if (items.length === 1) return fail(items[0]!, err.type, err.message);
      } else if (isTransient(err) && err.type !== 'RateLimited') {
        // Down, or is it this input? A tiny request answers that.
        await request(['vector-ingest health probe']).catch(() => {
          throw err;
        });
        if (items.length === 1) {
          // Random 5xx can hit one input several times in a row (seen in the chaos drill), so
          // one attempt's failures are not proof: the activity's next attempt (Temporal's retry,
          // after its backoff) must see this input fail alone again before it is parked.
          const attempt = activityInfo()?.attempt;
          if (attempt !== undefined && attempt < 2) throw err;
          return fail(items[0]!, PROVIDER_CRASH_ON_INPUT, `the provider fails on this input while it answers others (${retry.tries} tries in each of two attempts): ${err.message}`);
        }
        deps.log.warn({ ...key, items: items.length, err: err.message }, 'batch keeps failing while the provider answers a probe: bisecting it');
      } else {
        throw err;
      }
      const mid = Math.ceil(items.length / 2);
      await run(items.slice(0, mid));
      await run(items.slice(mid));
    }
  };
  await run(misses);
  for (const f of failures) metrics.itemsFailed.inc({ kind: 'chunk', type: f.type });
  const cost = costUsd(tokens, deps.price ?? { perMTok: 0 });
  metrics.collectionTokens.inc({ collection: key.collection, model: embedder.model }, tokens);
  metrics.collectionCost.inc({ collection: key.collection, model: embedder.model }, cost);
  if (failures.length > 0) {
    deps.log.warn({ ...key, failed: failures.length, first: failures[0] }, 'embedding rejected some chunks; they were isolated');
  }
  const missCount = misses.reduce((s, m) => s + byHash.get(m.hash)!.length, 0);
  // Chunks isolated by an earlier attempt of this batch are no longer staged as pending: count
  // them too (asked again only when some failed: a concurrent attempt may have marked more).
  const failed = failedBefore === 0 && failures.length === 0 ? 0 : await store.staging.failedCount(key);
  const result = {
    chunks: rows.length + failed - failures.length,
    embedded: misses.length,
    cached: rows.length - missCount,
    failed,
    tokens,
    costUsd: cost,
    requests,
  };
  return { result, fresh, uncached };
}
