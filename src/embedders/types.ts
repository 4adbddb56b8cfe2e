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
  embed(texts: string[]): Promise<EmbeddingResult>;
  close(): Promise<void>;
}
