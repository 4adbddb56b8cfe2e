import { leaseHeld } from '../state/leases';
import type { BatchKey } from '../state/store';
import { attemptTimeoutMs } from './context';
import { targetFor, type ActivityDeps } from './deps';
import { DEFAULT_RETRY } from './embed-retry';
import { embedMisses, type EmbedResult } from './embed';
import type { BatchSlots } from './semaphore';
import { landResult, upsertPoints, type UpsertResult } from './upsert';

export interface FusedResult {
  embed: EmbedResult;
  upsert: UpsertResult;
}

/**
 * One batch in one activity (the run's `pipeline: "fused"`): embedBatch's work, then
 * upsertBatch's, with the answered vectors passed in memory instead of read back from the cache.
 * Everything the two activities guarantee holds: bad inputs are bisected and parked, rate limits
 * and outages fail the activity with the same typed failures (a provider error is a
 * ProviderError, the sink's its own), writes are idempotent and fenced by the lease, and no
 * vector goes to Temporal. The provider is asked under the worker's embedding budget and the sink
 * written under its write budget (`slots`), each held only for its part, so an activity that
 * writes does not keep a provider slot idle.
 *
 * pgvector: the new vectors' cache write, the sink write and the landed marks are one statement
 * (freshLandingQuery). Should that statement fail, the vectors are cached on their own before the
 * error goes on, so a retry re-embeds nothing the provider answered (unless the database is down
 * for that too, as the split path's own cache write would be). Other sinks: the cache is written
 * first, then the points under the write intent as upsertBatch writes them.
 */
export async function embedAndWriteBatch(deps: ActivityDeps, key: BatchKey, slots: BatchSlots, retry = DEFAULT_RETRY): Promise<FusedResult> {
  const { store, embedder } = deps;
  const { sink, storage } = await targetFor(deps, key.collection);
  const inStatement = sink.upsertFromSelect !== undefined;
  const { result: embed, fresh, uncached } = await slots.embed.run(() => embedMisses(deps, key, retry, { deferCacheWrite: inStatement }));
  const upsert = await slots.write.run(async () => {
    if (sink.upsertFromSelect) {
      const pending = uncached ? fresh : new Map<string, number[]>();
      const q = await store.cache.freshLandingQuery(key, embedder.model, embedder.dimensions, leaseHeld('$1', '$2'), pending);
      try {
        return await landResult(deps, key, await sink.upsertFromSelect(storage, q));
      } catch (err) {
        if (pending.size > 0) {
          await store.cache.putEmbeddings(embedder.model, embedder.dimensions, [...pending.keys()], [...pending.values()]).catch(() => undefined);
        }
        throw err;
      }
    }
    return store.leases.fenced(key.collection, key.runKey, attemptTimeoutMs(), () => upsertPoints(deps, key, sink, storage, fresh));
  });
  return { embed, upsert };
}
