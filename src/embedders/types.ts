import type { TextTokenizer } from '../text/tokenizer';

export interface EmbeddingResult {
  vectors: number[][];
  /** Tokens the provider counted (or our own count when it does not say). */
  tokens: number;
}

/** Turns texts into vectors. Knows nothing of Temporal, sinks or the state store. */
export interface Embedder {
  /** Model name recorded with the collection; a collection never mixes models. */
  readonly model: string;
  readonly dimensions: number;
  /** False for the offline embedder: its vectors do not capture meaning. */
  readonly semantic: boolean;
  /**
   * The most tokens the model reads of one input, special tokens included (counted by
   * `tokenizer`); it silently drops or refuses the rest, so chunks must fit it.
   */
  readonly maxInputTokens: number;
  /** The model's own tokenizer: chunking counts with it. */
  readonly tokenizer: TextTokenizer;
  embed(texts: string[]): Promise<EmbeddingResult>;
  close(): Promise<void>;
}

/** The most text tokens a chunk may hold for this embedder: its input limit less its special tokens. */
export function chunkTokenLimit(e: Pick<Embedder, 'maxInputTokens'> & { tokenizer: Pick<TextTokenizer, 'specialTokens'> }): number {
  return e.maxInputTokens - e.tokenizer.specialTokens;
}
