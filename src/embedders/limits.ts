import type { EmbeddingConfig } from '../config';
import type { ChunkingOptions } from '../contracts/ingest';
import { cl100k } from '../text/tokenizer';
import { LOCAL_MAX_INPUT_TOKENS, LOCAL_MODEL } from './local-model';
import { WORDPIECE_SPECIAL_TOKENS, wordPieceName } from './local-tokenizer';
import { OFFLINE_MAX_INPUT_TOKENS } from './offline';
import { OPENAI_MAX_INPUT_TOKENS } from './openai';
import { chunkTokenLimit, type Embedder } from './types';

/** What an embedder declares about its input: enough to fit chunking to it. */
export type InputLimit = Pick<Embedder, 'maxInputTokens'> & { tokenizer: { name: string; specialTokens: number } };

/**
 * The input limit the configured embedder declares, known without building it (which for the
 * local model means loading it): the CLI shows the chunk size a run will use before the worker
 * plans it. test/unit/embedder-limits.test.ts holds these equal to the built embedders'.
 */
export function declaredInputLimit(e: Pick<EmbeddingConfig, 'provider'>): InputLimit {
  if (e.provider === 'local') {
    return { maxInputTokens: LOCAL_MAX_INPUT_TOKENS, tokenizer: { name: wordPieceName(LOCAL_MODEL), specialTokens: WORDPIECE_SPECIAL_TOKENS } };
  }
  return { maxInputTokens: e.provider === 'openai' ? OPENAI_MAX_INPUT_TOKENS : OFFLINE_MAX_INPUT_TOKENS, tokenizer: cl100k };
}

/**
 * The chunking that fits an embedder's input limit (the request itself when it fits): chunks of
 * at most the limit less the special tokens, overlap kept under half a chunk.
 */
export function fittedChunking(chunking: ChunkingOptions, embedder: InputLimit): ChunkingOptions {
  const limit = chunkTokenLimit(embedder);
  if (chunking.chunkTokens <= limit) return chunking;
  return { chunkTokens: limit, overlapTokens: Math.min(chunking.overlapTokens, Math.ceil(limit / 2) - 1) };
}
