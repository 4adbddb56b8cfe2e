import type { Embedder, EmbeddingResult } from './types';

/**
 * An embedder that wraps another and changes only how `embed` is sent (split it, pace it,
 * measure it): everything that describes the model (name, dimensions, tokenizer, input limit)
 * is the inner embedder's, and closing closes the inner one. Subclasses override `embed`.
 */
export abstract class EmbedderDecorator implements Embedder {
  constructor(protected readonly inner: Embedder) {}

  get model(): string {
    return this.inner.model;
  }
  get dimensions(): number {
    return this.inner.dimensions;
  }
  get semantic(): boolean {
    return this.inner.semantic;
  }
  get maxInputTokens(): number {
    return this.inner.maxInputTokens;
  }
  get tokenizer(): Embedder['tokenizer'] {
    return this.inner.tokenizer;
  }

  abstract embed(texts: string[]): Promise<EmbeddingResult>;

  close(): Promise<void> {
    return this.inner.close();
  }
}
