import { ApplicationFailure } from '@temporalio/common';
import { validateCollectionName } from '../naming';
import { validateSource } from '../sources';
import { whileHeartbeating } from './context';
import { sinkOf, type ActivityDeps, type SinkKind } from './deps';
import type { IngestInput } from '../contracts/ingest';
import { activityInfo, heartbeat } from './context';
import { isReplayRunKey } from '../state/leases';
import { generationStorage } from '../naming';
import type { NewGeneration } from '../state/generations';

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
 * records its configuration, and picks the generation this run writes. A generation never mixes
 * embedding models: a different model, size, sink or vector type is refused unless the run is a
 * rebuild (`full`), which writes a new generation beside the live one (search keeps reading the
 * live one; finishRun swaps them). A rebuild left unfinished is resumed by the next run whose
 * worker has its model, replaced by the next `full` run, or refused otherwise.
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
  const requestedType = input.ingestConfig?.vectorType;
  const result: PrepareResult = { model: embedder.model, dimensions: embedder.dimensions, semantic: embedder.semantic, sink: sink.kind, searchAttributes: deps.searchAttributes };

  if (!saved) {
    const storage = sink.firstStorage(name);
    const vectorType = requestedType ?? 'vector';
    await sink.ensureCollection(storage, embedder.dimensions, { vectorType });
    await sink.makeLive(name, storage, storage);
    await store.generations.ensureFirst(name, { sink: sink.kind, model: embedder.model, dimensions: embedder.dimensions, vectorType, storage });
    await store.collections.put({ name, sink: sink.kind, model: embedder.model, dimensions: embedder.dimensions, ingestConfig: input.ingestConfig });
    await store.staging.dropAbandoned(name, input.runKey);
    return result;
  }

  // A collection made before generations: what it has is generation 1, stored under its name.
  await store.generations.ensureFirst(name, { sink: saved.sink, model: saved.model, dimensions: saved.dimensions, vectorType: 'vector', storage: name });
  const gens = await store.generations.list(name);
  const live = gens.find((g) => g.state === 'live')!;
  const building = gens.find((g) => g.state === 'building');
  const want = { sink: sink.kind, model: embedder.model, dimensions: embedder.dimensions, vectorType: requestedType ?? building?.vectorType ?? live.vectorType };
  const same = (g: NewGeneration) => g.sink === want.sink && g.model === want.model && g.dimensions === want.dimensions && g.vectorType === want.vectorType;
  const describe = (g: NewGeneration) => `${g.sink} / ${g.model} (${g.dimensions} dimensions${g.vectorType === 'vector' ? '' : `, ${g.vectorType}`})`;

  let target: { storage: string; generation: number };
  if (building && same(building) && !input.full) {
    deps.log.info({ collection: name, generation: building.generation }, 'resuming the rebuild of a new generation');
    target = building;
  } else if (input.full) {
    if (building) {
      deps.log.warn({ collection: name, generation: building.generation }, 'a new rebuild replaces an unfinished one');
      await whileHeartbeating(() => sinkOf(deps, building.sink as SinkKind).drop(building.storage));
      await store.generations.forget(name, building.generation);
    }
    const g = await store.generations.startBuilding(name, want, (n) => generationStorage(name, n));
    deps.log.info({ collection: name, generation: g.generation, from: describe(live), to: describe(want) }, 'building a new generation beside the live one');
    target = g;
  } else if (building) {
    throw ApplicationFailure.create({
      type: 'CollectionConfigChanged',
      nonRetryable: true,
      message:
        `collection ${name} has an unfinished rebuild: generation ${building.generation}, ${describe(building)}, beside the live ${describe(live)}; ` +
        `this worker has ${describe(want)}. Finish it with a worker that has that model, start a new rebuild with --full, ` +
        `or drop it (vector-ingest generations drop ${name} ${building.generation}).`,
    });
  } else if (!same(live)) {
    throw ApplicationFailure.create({
      type: 'CollectionConfigChanged',
      nonRetryable: true,
      message:
        `collection ${name} was built with ${describe(live)}, but this worker has ${describe(want)}. ` +
        `Mixing models makes search meaningless: run with --full to build a new generation beside the live one ` +
        `(search keeps answering from the live one until the rebuild completes), or use another collection name.`,
    });
  } else {
    target = live;
  }
  await whileHeartbeating(() => sink.ensureCollection(target.storage, embedder.dimensions, { vectorType: want.vectorType }));
  // The record keeps the live generation's model (what search embeds with) until the swap.
  await store.collections.put({ name, sink: saved.sink, model: saved.model, dimensions: saved.dimensions, ingestConfig: input.ingestConfig });
  await store.staging.dropAbandoned(name, input.runKey);
  return result;
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
