import type { TextTokenizer } from '../text/tokenizer';
import type { ProviderRateLimits } from './rate-limits';

export interface EmbeddingResult {
  vectors: number[][];
  /** Tokens the provider counted (or our own count when it does not say). */
  tokens: number;
  /** The provider's rate limits as its response headers stated them (remote providers only). */
  rateLimits?: ProviderRateLimits;
  /**
   * Provider requests this call took when it was more than one (a splitting decorator such as
   * the adaptive embedder sums its parts); absent means one. Run summaries count these, so
   * their request count is what the provider saw.
   */
  requests?: number;
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

/**
 * Tokens one input costs, counted the embedder's own way: its tokenizer's count plus the special
 * tokens it adds. For OpenAI's models this is what the provider counts and bills (cl100k, no
 * special tokens). The run's token counter, `ingest --dry-run` and the metrics all count with it,
 * so an estimate and the run it estimates agree.
 */
export function inputTokens(e: Pick<Embedder, 'tokenizer'>, text: string): number {
  return e.tokenizer.count(text) + e.tokenizer.specialTokens;
}
