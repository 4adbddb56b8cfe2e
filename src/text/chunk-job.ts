import type { ChunkingOptions } from '../contracts/ingest';
import { pointId, sha256 } from '../ids';
import { chunkDocument } from './document';
import type { FormatLimits } from './formats/types';
import { embeddingText } from './sections';
import type { TextTokenizer } from './tokenizer';

/** One document to chunk: everything chunkDocument needs, as plain data a thread can receive. */
export interface ChunkJob {
  collection: string;
  documentId: string;
  bytes: Uint8Array;
  format: string;
  modifiedAt?: string;
  metadata?: Record<string, unknown>;
  chunking: ChunkingOptions;
  limits: FormatLimits;
}

/** A chunk as the planner stages it (src/state/staging.ts StagedChunk, before batching). */
export interface PlannedChunk {
  documentId: string;
  chunkIndex: number;
  pointId: string;
  /** sha256 of what is embedded: the heading path and the text (the embedding cache's key). */
  textHash: string;
  content: string;
  embedPrefix: string;
  metadata: Record<string, unknown>;
  tokens: number;
}

/**
 * A document's bytes into the chunks the planner stages, with their point ids and text hashes:
 * the planning activity's CPU work, run on the worker's chunking threads (chunk-threads.ts) or
 * inline. `progress` is called during long extractions (inline only: a PDF's pages).
 */
export async function plannedChunks(job: ChunkJob, tokenizer: TextTokenizer, progress?: () => void): Promise<PlannedChunk[]> {
  const chunks = await chunkDocument({ ...job, tokenizer, ...(progress && { progress }) });
  return chunks.map((c) => ({
    documentId: job.documentId,
    chunkIndex: c.index,
    pointId: pointId(job.collection, job.documentId, c.index),
    textHash: sha256(embeddingText(c.embedPrefix, c.content)),
    content: c.content,
    embedPrefix: c.embedPrefix,
    metadata: c.metadata as unknown as Record<string, unknown>,
    tokens: c.tokens,
  }));
}
