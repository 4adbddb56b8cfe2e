import { attemptTimeoutMs, heartbeat, whileHeartbeating } from './context';
import { generationStorage } from '../naming';
import { pruneRetired } from '../generations';
import { targetFor, type ActivityDeps, type WriteTarget } from './deps';
import { vacuumStateStore } from './vacuum-state';

export interface FinishInput {
  collection: string;
  runKey: string;
}

export interface FinishResult {
  documentsDeleted: number;
}

const DELETE_PAGE = 500;

/**
 * Ends a complete pass over the source: documents the pass did not see have vanished, so their
 * chunks leave the sink and their records leave the state store. Then the sink gets its
 * post-load work (the ANN index) and leftover staging rows of this run are dropped. A run that
 * built a new generation swaps it in: the collection's name now shows it, the old one is kept.
 * Last, the state tables are vacuumed if runs left them full of dead rows (src/state/vacuum.ts):
 * on the worker after this activity returns (deps.vacuum), so the run's completion does not wait
 * for housekeeping that the next finished run would do anyway.
 */
export async function finishRun(deps: ActivityDeps, input: FinishInput): Promise<FinishResult> {
  const { store } = deps;
  const { leases } = store;
  const lease = await leases.get(input.collection);
  if (lease && lease.runKey === input.runKey && lease.releasedAt !== null) return { documentsDeleted: 0 }; // a retry of a finished finish
  const target = await targetFor(deps, input.collection);
  const { sink, storage } = target;
  const windowMs = attemptTimeoutMs();
  // How long each step took, logged at the end (the run's tail: BENCHMARKS.md tax profile).
  const ms: Record<string, number> = {};
  let t = Date.now();
  const lap = (step: string) => {
    const now = Date.now();
    ms[step] = now - t;
    t = now;
  };
  let deleted = 0;
  for (let round = 0; round < 1_000_000; round++) {
    // Fenced: only while this run holds the collection, and a takeover waits for the round, so
    // a run that lost the collection never deletes documents the new holder saw.
    const n = await leases.fenced(input.collection, input.runKey, windowMs, async () => {
      const docs = await store.documents.unseen(input.collection, input.runKey, DELETE_PAGE);
      if (docs.length === 0) return 0;
      const ids = docs.map((d) => d.documentId);
      await sink.deleteDocuments(storage, ids);
      const hadErrors = docs.filter((d) => d.hadError).map((d) => d.documentId);
      if (hadErrors.length > 0) await deps.failures.resolve({ collection: input.collection, documentIds: hadErrors });
      await store.documents.delete(input.collection, ids);
      return ids.length;
    });
    if (n === 0) break;
    deleted += n;
    heartbeat({ deleted });
  }
  lap('unseen');
  await leases.fenced(input.collection, input.runKey, windowMs, () => sink.finalize(storage));
  lap('finalize');
  if (target.building !== undefined) await leases.fenced(input.collection, input.runKey, windowMs, () => whileHeartbeating(() => swap(deps, input.collection, target)));
  else await store.collections.clearReplan(input.collection);
  lap('swap');
  await store.staging.dropRun(input.collection, input.runKey);
  lap('dropRun');
  await pruneGenerations(deps, input.collection);
  lap('prune');
  await leases.release(input.collection, input.runKey);
  lap('release');
  // After the release: the next run need not wait for it; on the worker after this activity
  // returns when the worker runs housekeeping (deps.vacuum), else here.
  if (deps.vacuum) deps.vacuum.request();
  else await vacuumStateStore(deps);
  lap('vacuum');
  deps.log.info({ documentsDeleted: deleted, ms }, 'run finished');
  return { documentsDeleted: deleted };
}

/** Retired generations beyond the collection's `keepRetired` (its saved ingest options) are dropped, while the run still holds the collection. */
async function pruneGenerations(deps: ActivityDeps, collection: string): Promise<void> {
  const keep = ((await deps.store.collections.get(collection))?.ingestConfig as { keepRetired?: number } | undefined)?.keepRetired;
  if (keep === undefined) return;
  let dropped;
  try {
    dropped = await pruneRetired(deps, collection, keep);
  } catch (err) {
    // Housekeeping: a generation that cannot be dropped here (its sink is not configured on this
    // worker, say) stays listed for `generations drop`; the run itself has succeeded.
    deps.log.warn({ collection, keepRetired: keep, err: (err as Error).message }, 'could not drop retired generations beyond keepRetired');
    return;
  }
  if (dropped.length > 0) deps.log.info({ collection, dropped: dropped.map((d) => d.dropped.generation), keepRetired: keep }, 'dropped retired generations beyond keepRetired');
}

/**
 * Puts the generation this run built behind the collection's name (the sink's view or alias, in
 * one step), then records it live and the old one retired. A retry after either step repeats
 * it harmlessly: both are idempotent.
 */
async function swap(deps: ActivityDeps, collection: string, target: WriteTarget): Promise<void> {
  const live = (await deps.store.generations.list(collection)).find((g) => g.state === 'live');
  const sameSink = live?.sink === target.sink.kind;
  // A first generation stored under the collection's own name moves aside (pgvector) or goes (Qdrant).
  const retireAs = live && sameSink && live.storage === collection ? generationStorage(collection, live.generation) : (live?.storage ?? collection);
  const retired = !live || !sameSink || live.storage !== collection || target.sink.keepsReplacedStorage ? { storage: retireAs } : ('gone' as const);
  await target.sink.makeLive(collection, target.storage, retireAs, (tx) => deps.store.generations.promote(collection, target.building!, retired, tx));
  deps.log.info({ collection, generation: target.building, retired: live?.generation }, 'new generation is live');
}
