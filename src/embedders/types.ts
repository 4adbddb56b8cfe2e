import type { TextTokenizer } from '../text/tokenizer';
import type { ProviderRateLimits } from './rate-limits';

export interface EmbeddingResult {
  vectors: number[][];
  /** Tokens the provider counted (or our own count when it does not say). */
  tokens: number;
  /**
   * `tokens` is the provider's own usage figure for this call (an OpenAI-compatible response's
   * `usage`), which is what it bills: the run counts it as is instead of counting the texts again.
   */
  tokensFromProvider?: boolean;
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
  return rememberedCount(e.tokenizer, text) + e.tokenizer.specialTokens;
}

/**
 * Characters of text whose counts inputTokens remembers, per tokenizer (the oldest forgotten
 * first). A request's texts are counted twice: by the rate limiter before it is sent (when a
 * limit applies) and by embedMisses after it is answered (the billed tokens); in between, other
 * requests of this process count theirs. A few MB holds every request in flight (a batch is at
 * most maxTokens, 32k tokens by default), and a text forgotten is only counted again.
 */
export const TOKEN_MEMO_CHARS = 4 * 1024 * 1024;

interface CountMemo {
  counts: Map<string, number>;
  chars: number;
}

const memos = new WeakMap<TextTokenizer, CountMemo>();

/**
 * tokenizer.count(text), remembered for the last TOKEN_MEMO_CHARS characters counted: a
 * tokenizer is a pure function of the text, so a remembered count is the count. The BPE pass is
 * the cost (cl100k: ~0.05 ms for a 200-token chunk, 0.4 CPU-s per pass over the tax benchmark's
 * 7,828 chunks); a lookup hashes the string (V8 keeps the hash on it). The memo keeps the texts
 * alive until forgotten: a few MB at most.
 */
function rememberedCount(tokenizer: TextTokenizer, text: string): number {
  let memo = memos.get(tokenizer);
  if (memo === undefined) memos.set(tokenizer, (memo = { counts: new Map(), chars: 0 }));
  const known = memo.counts.get(text);
  if (known !== undefined) return known;
  const n = tokenizer.count(text);
  if (text.length <= TOKEN_MEMO_CHARS / 64) {
    memo.counts.set(text, n);
    memo.chars += text.length;
    if (memo.chars > TOKEN_MEMO_CHARS) {
      for (const oldest of memo.counts.keys()) {
        memo.counts.delete(oldest);
        memo.chars -= oldest.length;
        if (memo.chars <= TOKEN_MEMO_CHARS) break;
      }
    }
  }
  return n;
}
