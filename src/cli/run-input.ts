import type { EmbeddingConfig } from '../config';
import { DEFAULT_CHUNKING, type BatchPipeline, type IngestInput, type SinkKindName, type SourceSpec, type VectorTypeName } from '../contracts/ingest';
import { declaredInputLimit, fittedChunking } from '../embedders/limits';

/** The run-shaping flags of `ingest` (`watch` has the chunking ones). */
export interface RunShapeOpts {
  full?: boolean;
  sink?: SinkKindName;
  vectorType?: VectorTypeName;
  chunkTokens?: number;
  overlapTokens?: number;
  batchSize?: number;
  batchTokens?: number;
  pageSize?: number;
  window?: number;
  keepRetired?: number;
  pipeline?: BatchPipeline;
}

/** The workflow input of a run: only what a flag set, so the workflow's defaults apply to the rest. */
export function ingestInput(collection: string, source: SourceSpec, opts: RunShapeOpts): IngestInput {
  return {
    collection,
    source,
    ...(opts.full ? { full: true } : {}),
    ...(opts.sink ? { sink: opts.sink } : {}),
    ...(opts.vectorType ? { vectorType: opts.vectorType } : {}),
    ...(opts.chunkTokens !== undefined || opts.overlapTokens !== undefined
      ? { chunking: { ...(opts.chunkTokens !== undefined && { chunkTokens: opts.chunkTokens }), ...(opts.overlapTokens !== undefined && { overlapTokens: opts.overlapTokens }) } }
      : {}),
    ...(opts.batchSize !== undefined || opts.batchTokens !== undefined
      ? { batching: { ...(opts.batchSize !== undefined && { maxChunks: opts.batchSize }), ...(opts.batchTokens !== undefined && { maxTokens: opts.batchTokens }) } }
      : {}),
    ...(opts.pageSize !== undefined ? { pageSize: opts.pageSize } : {}),
    ...(opts.window !== undefined ? { maxInFlightBatches: opts.window } : {}),
    ...(opts.keepRetired !== undefined ? { keepRetired: opts.keepRetired } : {}),
    ...(opts.pipeline ? { pipeline: opts.pipeline } : {}),
  };
}

/**
 * The chunking a run will use, as the worker fits it to the embedder's input limit (the same
 * fittedChunking), and what was asked when that was more than the model reads.
 */
export function effectiveChunking(embedding: Pick<EmbeddingConfig, 'provider' | 'model'>, input: Pick<IngestInput, 'chunking'>) {
  const asked = { ...DEFAULT_CHUNKING, ...input.chunking };
  const limit = declaredInputLimit(embedding);
  const used = fittedChunking(asked, limit);
  const lowered = used.chunkTokens < asked.chunkTokens;
  return {
    ...used,
    asked,
    lowered,
    text:
      `${used.chunkTokens} ${limit.tokenizer.name} tokens, ${used.overlapTokens} overlap` +
      (lowered ? ` (lowered from ${asked.chunkTokens}: ${embedding.model} reads at most ${limit.maxInputTokens} tokens per input)` : ''),
  };
}
