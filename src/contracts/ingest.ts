/**
 * Plain-JSON shapes that cross the workflow boundary. Everything here ends up in Temporal
 * history, so it carries references (ids, paths, cursors, counts) and never vectors or text.
 * This file must stay free of Node imports: workflow code imports it inside the sandbox.
 */

export const TASK_QUEUE = 'vector-ingest';
export const EMBED_TASK_QUEUE = 'vector-ingest-embed';
export const UPSERT_TASK_QUEUE = 'vector-ingest-upsert';

import type { DirectorySourceSpec } from './sources/directory';
import type { GitSourceSpec } from './sources/git';
import type { PostgresSourceSpec } from './sources/postgres';
import type { S3SourceSpec } from './sources/s3';
import type { SyntheticSourceSpec } from './sources/synthetic';
import type { WebSourceSpec } from './sources/web';

export type { DirectorySourceSpec, GitSourceSpec, PostgresSourceSpec, S3SourceSpec, SyntheticSourceSpec, WebSourceSpec };

/** Where a collection's documents come from: one shape per kind (src/contracts/sources/<kind>.ts). */
export type SourceSpec =
  | DirectorySourceSpec
  | SyntheticSourceSpec
  | GitSourceSpec
  | PostgresSourceSpec
  | WebSourceSpec
  | S3SourceSpec;

export type SourceKindName = SourceSpec['kind'];

/** Every sink a collection can use: each is src/sinks/<kind>.ts, built once per worker in src/deps.ts. */
export const SINK_KINDS = ['pgvector', 'qdrant'] as const;
export type SinkKindName = (typeof SINK_KINDS)[number];

export interface ChunkingOptions {
  /** Target chunk size in tokens (cl100k_base). */
  chunkTokens: number;
  /** Tokens shared by consecutive chunks of a document. */
  overlapTokens: number;
}

export interface BatchingOptions {
  /** Most chunks in one embedding request / upsert batch. */
  maxChunks: number;
  /** Most tokens in one embedding request. */
  maxTokens: number;
}

export const BATCH_PIPELINES = ['split', 'fused'] as const;
export type BatchPipeline = (typeof BATCH_PIPELINES)[number];
/** The pipeline of a run whose input names none. */
export const DEFAULT_PIPELINE: BatchPipeline = 'split';

export const VECTOR_TYPES = ['vector', 'halfvec'] as const;
export type VectorTypeName = (typeof VECTOR_TYPES)[number];

export interface IngestInput {
  collection: string;
  source: SourceSpec;
  chunking?: Partial<ChunkingOptions>;
  batching?: Partial<BatchingOptions>;
  /** Documents listed per planning page. */
  pageSize?: number;
  /** Most embed→upsert batches in flight at once. */
  maxInFlightBatches?: number;
  /**
   * How a batch runs: 'split' (embedBatch on the embedding queue, then upsertBatch on the upsert
   * queue) or 'fused' (embedAndWriteBatch: one activity on the embedding queue embeds and writes,
   * half the activities and server events per batch). Both keep every guarantee; see
   * docs/ARCHITECTURE.md (batch pipelines). Default: DEFAULT_PIPELINE.
   */
  pipeline?: BatchPipeline;
  /** Sink of a new collection: pgvector (default) or qdrant; an existing collection keeps its own. */
  sink?: SinkKindName;
  /**
   * pgvector column type of a new generation: 'vector' (float4, default) or 'halfvec' (float2,
   * half the table and index size). Changing it for an existing collection takes `full`.
   */
  vectorType?: VectorTypeName;
  /**
   * Rebuild: plan, embed (from the cache where the model is unchanged) and write every document
   * into a new generation beside the live one, swapped in when the run completes. Needed for a
   * new embedding model, sink or vector type.
   */
  full?: boolean;
  /**
   * Retired generations to keep once a run ends (newest first); older ones are dropped with their
   * tables or Qdrant collections. Unset: every retired generation is kept until
   * `generations drop` (a scheduled `full` rebuild would otherwise add one per run).
   */
  keepRetired?: number;
  /** Pages to process before continue-as-new (besides Temporal's own suggestion). */
  maxPagesPerRun?: number;
  /** Activity timeouts; the defaults suit most deployments. */
  timeouts?: Partial<ActivityTimeouts>;
  /**
   * Share of the shared workers: every activity of the run carries the collection as its
   * Temporal fairness key; `fairnessWeight` (default 1) and `priorityKey` (1 first … 5 last,
   * default 3) adjust it. See docs/ARCHITECTURE.md (fair sharing).
   */
  priority?: { priorityKey?: number; fairnessWeight?: number };
  /** Carried across continue-as-new; absent on a fresh start. */
  state?: IngestCarry;
}

export interface ActivityTimeouts {
  /** A worker that stops heartbeating for this long is presumed dead; its activity moves on. */
  heartbeatSeconds: number;
  planSeconds: number;
  embedSeconds: number;
  upsertSeconds: number;
  /** First wait before probing a provider that looks down (doubles up to 5 minutes). */
  probeSeconds: number;
}

export const DEFAULT_TIMEOUTS: ActivityTimeouts = {
  heartbeatSeconds: 30,
  planSeconds: 900,
  embedSeconds: 300,
  upsertSeconds: 300,
  probeSeconds: 15,
};

export interface IngestCounters {
  pages: number;
  documentsListed: number;
  documentsChanged: number;
  documentsUnchanged: number;
  documentsFailed: number;
  documentsDeleted: number;
  chunksPlanned: number;
  chunksEmbedded: number;
  chunksCached: number;
  chunksUpserted: number;
  chunksFailed: number;
  /** Tokens of the chunks planned (before the embedding cache). */
  tokens: number;
  /** Tokens sent to the embedding provider (after the cache), counted by the embedder's tokenizer. (Results of older versions lack it.) */
  tokensEmbedded: number;
  /** What those tokens cost in US dollars, by the worker's price table. (Results of older versions lack it.) */
  costUsd: number;
  batches: number;
  embeddingRequests: number;
  /**
   * What the listing passed over (directory sources): files and directories left out by
   * include/exclude globs or `.vectorignore`, and files of no supported format. (Absent in the
   * results of runs made before they were counted.)
   */
  filesExcluded: number;
  directoriesExcluded: number;
  filesUnsupported: number;
}

export interface IngestCarry {
  /** Stable for the whole logical run, across continue-as-new. */
  runKey: string;
  /** Resume listing after this cursor; null means start from the beginning. */
  cursor: string | null;
  counters: IngestCounters;
  continuedAsNew: number;
  startedAt: string;
  /** The namespace has our search attributes (found by prepareCollection). */
  searchAttributes?: boolean;
  /** What the source's listing reflected (a git commit id), from the first page. */
  sourceVersion?: string;
}

export type IngestPhase = 'preparing' | 'ingesting' | 'finishing' | 'done';

export interface IngestProgress {
  collection: string;
  phase: IngestPhase;
  runKey: string;
  cursor: string | null;
  inFlightBatches: number;
  queuedBatches: number;
  continuedAsNew: number;
  startedAt: string;
  /** The embedding provider looks down: dispatch is paused while a probe waits for it. */
  circuitOpen: boolean;
  lastError: string | null;
  counters: IngestCounters;
}

export interface IngestResult {
  collection: string;
  runKey: string;
  counters: IngestCounters;
  continuedAsNew: number;
  startedAt: string;
  finishedAt: string;
  /** The version of the source this run indexed, when it has versions (the git commit id). */
  sourceVersion?: string;
}

export function emptyCounters(): IngestCounters {
  return {
    pages: 0,
    documentsListed: 0,
    documentsChanged: 0,
    documentsUnchanged: 0,
    documentsFailed: 0,
    documentsDeleted: 0,
    chunksPlanned: 0,
    chunksEmbedded: 0,
    chunksCached: 0,
    chunksUpserted: 0,
    chunksFailed: 0,
    tokens: 0,
    tokensEmbedded: 0,
    costUsd: 0,
    batches: 0,
    embeddingRequests: 0,
    filesExcluded: 0,
    directoriesExcluded: 0,
    filesUnsupported: 0,
  };
}

export const DEFAULT_CHUNKING: ChunkingOptions = { chunkTokens: 512, overlapTokens: 64 };
export const DEFAULT_BATCHING: BatchingOptions = { maxChunks: 128, maxTokens: 32_000 };
export const DEFAULT_PAGE_SIZE = 200;
export const DEFAULT_MAX_IN_FLIGHT = 8;
export const DEFAULT_MAX_PAGES_PER_RUN = 50;
/** Most documents one plan lists while its pages are unchanged (PlanInput.passOver). */
export const PASS_OVER_DOCUMENTS = 10_000;

/** Workflow id of the ingest run of a collection: one run per collection at a time. */
export function ingestWorkflowId(collection: string): string {
  return `ingest-${collection}`;
}
