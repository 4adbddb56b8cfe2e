import { ApplicationFailure } from '@temporalio/common';
import { validateCollectionName } from '../naming';
import { sinkOf, type ActivityDeps, type SinkKind } from './deps';
import type { IngestInput } from '../contracts/ingest';

export interface PrepareInput {
  collection: string;
  runKey: string;
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
  const { embedder, store } = deps;
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
  return { model: embedder.model, dimensions: embedder.dimensions, semantic: embedder.semantic, sink: sink.kind, searchAttributes: deps.searchAttributes };
}
