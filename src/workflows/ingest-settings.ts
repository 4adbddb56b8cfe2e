import { ApplicationFailure, type Priority } from '@temporalio/common';
import { collectionOrFail } from './validate';
import {
  BATCH_PIPELINES,
  DEFAULT_BATCHING,
  DEFAULT_PIPELINE,
  DEFAULT_CHUNKING,
  DEFAULT_MAX_IN_FLIGHT,
  DEFAULT_MAX_PAGES_PER_RUN,
  DEFAULT_PAGE_SIZE,
  DEFAULT_TIMEOUTS,
  type ActivityTimeouts,
  type BatchingOptions,
  type BatchPipeline,
  type ChunkingOptions,
  type IngestInput,
  type SourceSpec,
} from '../contracts/ingest';

/** An ingest run's input, checked and with every default filled in. */
export interface IngestSettings {
  collection: string;
  source: SourceSpec;
  /** What the Web UI calls the source: a directory's path, else its kind. */
  sourceLabel: string;
  pageSize: number;
  /** Most batches in flight at once. */
  window: number;
  maxPagesPerRun: number;
  timeouts: ActivityTimeouts;
  chunking: ChunkingOptions;
  batching: BatchingOptions;
  full: boolean;
  /** Of every activity: the collection is the fairness key (one share per collection). */
  priority: Priority;
  /** Two activities per batch, or one (IngestInput.pipeline). */
  pipeline: BatchPipeline;
}

function positiveInt(name: string, value: unknown, fallback: number, max: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw ApplicationFailure.nonRetryable(`${name} must be an integer from 1 to ${max}, got ${JSON.stringify(value)}`, 'ConfigError');
  }
  return value;
}

function priorityOf(collection: string, p: IngestInput['priority']): Priority {
  const priority: Priority = { fairnessKey: collection };
  if (p?.priorityKey !== undefined) priority.priorityKey = positiveInt('priority.priorityKey', p.priorityKey, 3, 5);
  if (p?.fairnessWeight !== undefined) {
    if (typeof p.fairnessWeight !== 'number' || !(p.fairnessWeight >= 0.001) || p.fairnessWeight > 1000) {
      throw ApplicationFailure.nonRetryable(`priority.fairnessWeight must be a number from 0.001 to 1000, got ${JSON.stringify(p.fairnessWeight)}`, 'ConfigError');
    }
    priority.fairnessWeight = p.fairnessWeight;
  }
  return priority;
}

/** Checks an ingest input; a bad one fails the run at once with a ConfigError naming the field. */
export function ingestSettings(input: IngestInput): IngestSettings {
  const collection = collectionOrFail(input?.collection);
  if (!input.source || typeof input.source !== 'object') {
    throw ApplicationFailure.nonRetryable('source is required, e.g. {"kind":"directory","path":"/data/docs"}', 'ConfigError');
  }
  const pageSize = positiveInt('pageSize', input.pageSize, DEFAULT_PAGE_SIZE, 10_000);
  const window = positiveInt('maxInFlightBatches', input.maxInFlightBatches, DEFAULT_MAX_IN_FLIGHT, 500);
  const maxPagesPerRun = positiveInt('maxPagesPerRun', input.maxPagesPerRun, DEFAULT_MAX_PAGES_PER_RUN, 10_000);
  if (input.keepRetired !== undefined && (typeof input.keepRetired !== 'number' || !Number.isInteger(input.keepRetired) || input.keepRetired < 0 || input.keepRetired > 1000)) {
    throw ApplicationFailure.nonRetryable(`keepRetired must be an integer from 0 to 1000, got ${JSON.stringify(input.keepRetired)}`, 'ConfigError');
  }
  if (input.pipeline !== undefined && !(BATCH_PIPELINES as readonly unknown[]).includes(input.pipeline)) {
    throw ApplicationFailure.nonRetryable(`pipeline must be one of ${BATCH_PIPELINES.join(', ')}, got ${JSON.stringify(input.pipeline)}`, 'ConfigError');
  }
  const timeouts = { ...DEFAULT_TIMEOUTS, ...input.timeouts };
  for (const [k, v] of Object.entries(timeouts)) positiveInt(`timeouts.${k}`, v, 1, 86_400);
  return {
    collection,
    source: input.source,
    sourceLabel: input.source.kind === 'directory' ? input.source.path : `${input.source.kind} source`,
    pageSize,
    window,
    maxPagesPerRun,
    timeouts,
    chunking: { ...DEFAULT_CHUNKING, ...input.chunking },
    batching: { ...DEFAULT_BATCHING, ...input.batching },
    full: input.full === true,
    priority: priorityOf(collection, input.priority),
    pipeline: input.pipeline ?? DEFAULT_PIPELINE,
  };
}
