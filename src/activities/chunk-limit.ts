import type { ChunkingOptions } from '../contracts/ingest';
import { fittedChunking } from '../embedders/limits';
import type { Embedder } from '../embedders/types';
import type { Logger } from '../log';

const told = new Set<string>();

/**
 * The chunking a run asked for, fitted to the embedder (DESIGN invariant 13): a chunk may hold at
 * most the model's input limit less its special tokens, counted by its own tokenizer, so no model
 * silently drops the end of a chunk. A larger chunkTokens is lowered (and overlap with it, to stay
 * under half a chunk), and the worker says so once per setting.
 */
export function fitChunking(chunking: ChunkingOptions, embedder: Pick<Embedder, 'model' | 'maxInputTokens' | 'tokenizer'>, log: Logger): ChunkingOptions {
  const fitted = fittedChunking(chunking, embedder);
  if (fitted === chunking) return chunking;
  const limit = fitted.chunkTokens;
  const key = `${embedder.model}:${chunking.chunkTokens}:${chunking.overlapTokens}`;
  if (!told.has(key)) {
    told.add(key);
    log.info(
      { model: embedder.model, tokenizer: embedder.tokenizer.name, requested: chunking, used: fitted, maxInputTokens: embedder.maxInputTokens },
      `chunkTokens ${chunking.chunkTokens} is over what ${embedder.model} reads; chunks are cut at ${limit} ${embedder.tokenizer.name} tokens`,
    );
  }
  return fitted;
}
