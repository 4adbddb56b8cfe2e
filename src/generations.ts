import { ConfigError } from './errors';
import { validateCollectionName } from './naming';
import type { Sinks } from './sinks';
import type { SinkKindName } from './contracts/ingest';
import { CacheEviction } from './state/cache-eviction';
import type { GenerationRecord } from './state/generations';
import type { StateStore } from './state/store';

/** A collection's generations, oldest first (none for a collection made before generations and not run since). */
export async function listGenerations(store: StateStore, collection: string): Promise<GenerationRecord[]> {
  const name = validateCollectionName(collection);
  if (!(await store.collections.get(name))) throw new GenerationError('notFound', `no collection ${name}`);
  return store.generations.list(name);
}

export class GenerationError extends Error {
  constructor(
    readonly kind: 'notFound' | 'refused',
    message: string,
  ) {
    super(message);
    this.name = 'GenerationError';
  }
}

/**
 * Drops the retired generations of a collection beyond the newest `keep` (by generation number),
 * each as `dropGeneration` does. The live generation and a rebuild are never touched.
 */
export async function pruneRetired(deps: { store: StateStore; sinks: Sinks }, collection: string, keep: number): Promise<DropResult[]> {
  const retired = (await listGenerations(deps.store, collection)).filter((g) => g.state === 'retired').sort((a, b) => b.generation - a.generation);
  const dropped: DropResult[] = [];
  for (const g of retired.slice(keep)) dropped.push(await dropGeneration(deps, collection, g.generation));
  return dropped;
}

export interface DropResult {
  dropped: GenerationRecord;
  /** Cached vectors of models no generation uses any more, evicted. */
  evicted: number;
}

/**
 * Drops a generation that is not live: a retired one (kept since a rebuild swapped it out), or
 * an unfinished rebuild. An unfinished rebuild is refused while a run holds the collection
 * (it may be writing it) unless `force`; after it is dropped the next run plans every document
 * again, so the live generation catches up with what the abandoned rebuild recorded.
 */
export async function dropGeneration(
  deps: { store: StateStore; sinks: Sinks },
  collection: string,
  generation: number,
  options: { force?: boolean } = {},
): Promise<DropResult> {
  const gens = await listGenerations(deps.store, collection);
  const g = gens.find((x) => x.generation === generation);
  if (!g) throw new GenerationError('notFound', `collection ${collection} has no generation ${generation} (it has ${gens.map((x) => `${x.generation} (${x.state})`).join(', ') || 'none recorded'})`);
  if (g.state === 'live') throw new GenerationError('refused', `generation ${generation} is the live generation of ${collection}: search reads it; only a retired or unfinished one can be dropped`);
  if (g.state === 'building' && !options.force) {
    const lease = await deps.store.leases.get(collection);
    if (lease && lease.releasedAt === null) {
      throw new GenerationError(
        'refused',
        `generation ${generation} of ${collection} is being built, and workflow ${lease.workflowId} holds the collection; ` +
          `stop that run first (temporal workflow terminate --workflow-id ${lease.workflowId}), then drop with --force`,
      );
    }
  }
  const sink = deps.sinks[g.sink as SinkKindName];
  if (!sink) throw new ConfigError(`generation ${generation} of ${collection} is stored in ${g.sink}, which is not configured here${g.sink === 'qdrant' ? ' (set QDRANT_URL)' : ''}`);
  await sink.drop(g.storage);
  await deps.store.generations.forget(collection, generation);
  const evicted = await new CacheEviction(deps.store.pool).pruneUnusedModels();
  return { dropped: g, evicted };
}
