import type { Logger } from 'pino';
import { ConfigError } from '../errors';
import type { Embedder } from '../embedders/types';
import type { Price } from '../embedders/pricing';
import type { FailureReporter } from '../failure-reporter';
import type { SourceContext } from '../sources/types';
import type { VectorStore } from '../sinks/types';
import type { FormatLimits } from '../text/formats/types';
import type { ChunkThreads } from '../text/chunk-threads';

export type SinkKind = VectorStore['kind'];
import type { StateStore } from '../state/store';
import type { RunLiveness } from '../run-liveness';
import type { BackgroundVacuum } from './vacuum-state';

/** Everything an activity may touch, built once per worker process (src/deps.ts). */
export interface ActivityDeps {
  store: StateStore;
  /** Asks Temporal whether a lease holder's run is still open. */
  runs: RunLiveness;
  /** The sinks this worker can write to; a collection records which one it uses. */
  sinks: Partial<Record<SinkKind, VectorStore>>;
  /** The sink of new collections that name none. */
  defaultSink: SinkKind;
  embedder: Embedder;
  /** The embedder's price (src/embedders/pricing.ts); absent: costs are 0 (tests). */
  price?: Price;
  log: Logger;
  /** Items that failed for good go to the collection's replay workflow through this. */
  failures: FailureReporter;
  /** The namespace has our custom search attributes, so workflows may upsert them. */
  searchAttributes: boolean;
  /** The worker's data dir, environment and shared source clients, for opening sources. */
  sources: SourceContext;
  /**
   * The worker's end-of-run vacuum, run after finishRun returns (vacuum-state.ts). Absent (tests
   * that build deps by hand): finishRun vacuums before it returns, as it did before.
   */
  vacuum?: Pick<BackgroundVacuum, 'request'>;
  /** Per-document limits: the read's size, and each format's own (src/text/formats/types.ts). */
  /** Threads that chunk documents off the main thread (src/text/chunk-threads.ts); absent: inline. */
  chunker?: ChunkThreads;
  limits: FormatLimits & {
    /** Documents larger than this are refused (DocumentTooLarge) instead of read. */
    maxDocumentBytes: number;
  };
}

/** The sink a collection was created with (recorded by prepareCollection). */
export async function sinkFor(deps: ActivityDeps, collection: string): Promise<VectorStore> {
  const rec = await deps.store.collections.get(collection);
  return sinkOf(deps, (rec?.sink as SinkKind | undefined) ?? deps.defaultSink);
}

/** Where a run writes: the generation being built if there is one, else the live one. */
export interface WriteTarget {
  sink: VectorStore;
  /** The storage (table, Qdrant collection) to write. */
  storage: string;
  /** The generation being built (the run swaps it in at its end), if that is where it writes. */
  building?: number;
}

/**
 * The write target of a collection: its building generation, else its live one, else (a
 * collection made before generations, or not prepared yet) the storage named by the collection.
 */
export async function targetFor(deps: ActivityDeps, collection: string): Promise<WriteTarget> {
  const gens = await deps.store.generations.list(collection);
  const g = gens.find((x) => x.state === 'building') ?? gens.find((x) => x.state === 'live');
  if (g) return { sink: sinkOf(deps, g.sink as SinkKind), storage: g.storage, ...(g.state === 'building' && { building: g.generation }) };
  return { sink: await sinkFor(deps, collection), storage: collection };
}

export function sinkOf(deps: ActivityDeps, kind: SinkKind): VectorStore {
  const sink = deps.sinks[kind];
  if (!sink) {
    throw new ConfigError(
      kind === 'qdrant'
        ? 'this collection uses Qdrant, but the worker has no QDRANT_URL; set QDRANT_URL (and QDRANT_API_KEY if needed) on the worker'
        : `this worker has no ${kind} sink`,
    );
  }
  return sink;
}
