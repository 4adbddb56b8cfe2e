import { ApplicationFailure } from '@temporalio/common';
import { validateCollectionName } from '../naming';
import { validateSource } from '../sources';
import { whileHeartbeating } from './context';
import { sinkOf, type ActivityDeps, type SinkKind } from './deps';
import type { IngestInput } from '../contracts/ingest';
import { activityInfo, heartbeat } from './context';
import { CacheEviction } from '../state/cache-eviction';
import { isReplayRunKey } from '../state/leases';

export interface PrepareInput {
  collection: string;
  runKey: string;
  /** The run's workflow id (default: the calling activity's), recorded with the lease. */
  workflowId?: string;
  full?: boolean;
  /** Sink of a new collection (default: the worker's); an existing one keeps its own. */
  sink?: SinkKind;
  /** Saved for scheduled re-indexes: the run's source and options (no run state, no secrets). */
  ingestConfig?: Omit<IngestInput, 'state' | 'full'>;
}

export interface PrepareResult {
  model: string;
  dimensions: number;
  semantic: boolean;
  sink: string;
  /** Custom search attributes are registered: the workflow may upsert them. */
  searchAttributes: boolean;
}

/**
 * Checks the collection can be written with this worker's embedder and sink, creates it if new,
 * and records its configuration. A collection never mixes embedding models: a different model
 * or size is refused unless the run is a full rebuild, which starts the collection over.
 */
export async function prepareCollection(deps: ActivityDeps, input: PrepareInput): Promise<PrepareResult> {
  const name = validateCollectionName(input.collection);
  // A source that cannot be listed (unreachable, refused, no such ref/table/column) fails the
  // run here, with a ConfigError naming the problem, before anything is created or saved.
  if (input.ingestConfig?.source) await whileHeartbeating(() => validateSource(input.ingestConfig!.source, deps.sources));
  const { embedder, store } = deps;
  await takeLease(deps, name, input);
  heartbeat('lease taken');
  const saved = await store.collections.get(name);
  const sink = sinkOf(deps, input.sink ?? (saved?.sink as SinkKind | undefined) ?? deps.defaultSink);
  const changed =
    saved !== undefined &&
    (saved.model !== embedder.model || saved.dimensions !== embedder.dimensions || saved.sink !== sink.kind);
  if (changed && !input.full) {
    throw ApplicationFailure.create({
      type: 'CollectionConfigChanged',
      nonRetryable: true,
      message:
        `collection ${name} was built with ${saved.sink} / ${saved.model} (${saved.dimensions} dimensions), ` +
        `but this worker has ${sink.kind} / ${embedder.model} (${embedder.dimensions} dimensions). ` +
        `Mixing models makes search meaningless: run with --full to rebuild the collection, or use another collection name.`,
    });
  }
  if (changed && input.full) {
    deps.log.warn({ collection: name, from: saved, to: embedder.model }, 'rebuilding collection with a new embedding model');
    await sinkOf(deps, saved.sink as SinkKind).drop(name);
    await store.documents.reset(name);
  }
  await sink.ensureCollection(name, embedder.dimensions);
  await store.collections.put({ name, sink: sink.kind, model: embedder.model, dimensions: embedder.dimensions, ingestConfig: input.ingestConfig });
  await store.staging.dropAbandoned(name, input.runKey);
  if (changed && input.full) {
    // The old model's vectors can never be read again unless another collection uses it.
    const evicted = await new CacheEviction(store.pool).pruneUnusedModels();
    deps.log.info({ collection: name, evicted }, 'evicted cached vectors of models no collection uses');
  }
  return { model: embedder.model, dimensions: embedder.dimensions, semantic: embedder.semantic, sink: sink.kind, searchAttributes: deps.searchAttributes };
}

/**
 * One active run per collection: a second run while the holder is open fails with
 * CollectionBusy naming the holder; a holder that is closed (completed, failed, terminated,
 * timed out) is taken over. Runs of one chain (continue-as-new) share the run key.
 */
async function takeLease(deps: ActivityDeps, collection: string, input: PrepareInput): Promise<void> {
  const workflowId = input.workflowId ?? activityInfo()?.workflowId ?? 'unknown';
  for (let round = 0; round < 100; round++) {
    // A replay holds the lease only while its fenced writes last: taken over once they end.
    const out = await deps.store.leases.acquire(collection, input.runKey, workflowId, (holder) => (isReplayRunKey(holder.runKey) ? Promise.resolve(true) : deps.runs.isClosed(holder)));
    if (out.acquired) {
      if (out.takenOverFrom) deps.log.warn({ collection, from: out.takenOverFrom }, 'took over the lease of a closed run');
      return;
    }
    const h = out.holder;
    if (!out.drainingUntil) {
      throw ApplicationFailure.create({
        type: 'CollectionBusy',
        nonRetryable: true,
        message:
          `collection ${collection} is being written by another run: workflow ${h.workflowId} (run ${h.runKey}, since ${new Date(h.acquiredAt).toISOString()}). ` +
          `One run per collection at a time: wait for it to finish, or stop it (temporal workflow terminate --workflow-id ${h.workflowId}) and start again.`,
      });
    }
    // The holder is closed but a write it started may still be landing: wait it out.
    const waitMs = Math.min(Math.max(new Date(out.drainingUntil).getTime() - Date.now(), 200), 5_000);
    deps.log.info({ collection, holder: h.workflowId, until: out.drainingUntil }, 'waiting for the writes of a closed run to end');
    heartbeat({ waitingFor: h.workflowId });
    await new Promise((r) => setTimeout(r, waitMs));
  }
  throw new Error(`collection ${collection}: the closed run holding it still had writes in flight after waiting; retrying`);
}
