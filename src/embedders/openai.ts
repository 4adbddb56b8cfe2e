import OpenAI from 'openai';
import { headerLookup } from '../retry-hints';
import { cl100k } from '../text/tokenizer';
import { parseRateLimitHeaders } from './rate-limits';
import type { Embedder, EmbeddingResult } from './types';
import { EmbeddingDimensionError, classifyProviderError } from './classify';

/** OpenAI's embedding models read at most 8191 cl100k tokens per input. */
export const OPENAI_MAX_INPUT_TOKENS = 8191;

export interface OpenAIEmbedderOptions {
  apiKey: string;
  baseURL?: string;
  model: string;
  dimensions: number;
  /** Send `dimensions` in the request (text-embedding-3-* can shorten vectors; others reject it). */
  sendDimensions: boolean;
  timeoutMs: number;
  /** Input limit in cl100k tokens (default OPENAI_MAX_INPUT_TOKENS). */
  maxInputTokens?: number;
}

/**
 * OpenAI-compatible embeddings over HTTP (OpenAI itself, or any server with the same API via
 * OPENAI_BASE_URL). The client never retries (maxRetries 0): Temporal's retry policy is the one
 * retry layer, and errors are classified so it knows which ones to retry and how long to wait.
 */
export class OpenAIEmbedder implements Embedder {
  readonly model: string;
  readonly dimensions: number;
  readonly semantic = true;
  readonly maxInputTokens: number;
  readonly tokenizer = cl100k;
  private readonly client: OpenAI;
  private readonly sendDimensions: boolean;

  constructor(o: OpenAIEmbedderOptions) {
    this.model = o.model;
    this.dimensions = o.dimensions;
    this.sendDimensions = o.sendDimensions;
    this.maxInputTokens = o.maxInputTokens ?? OPENAI_MAX_INPUT_TOKENS;
    this.client = new OpenAI({ apiKey: o.apiKey, baseURL: o.baseURL, maxRetries: 0, timeout: o.timeoutMs });
  }

  async embed(texts: string[]): Promise<EmbeddingResult> {
    let res;
    let headers;
    try {
      const answer = await this.client.embeddings
        .create({
          model: this.model,
          input: texts,
          encoding_format: 'float',
          ...(this.sendDimensions ? { dimensions: this.dimensions } : {}),
        })
        .withResponse();
      res = answer.data;
      headers = answer.response.headers;
    } catch (err) {
      throw classifyProviderError(err);
    }
    if (!Array.isArray(res.data) || res.data.length !== texts.length) {
      throw classifyProviderError(
        new Error(`provider returned ${res.data?.length ?? 'no'} embeddings for ${texts.length} inputs`),
      );
    }
    const vectors: number[][] = new Array(texts.length);
    for (const d of res.data) {
      const vec = d.embedding as unknown;
      if (!Array.isArray(vec) || typeof d.index !== 'number' || d.index < 0 || d.index >= texts.length) {
        throw classifyProviderError(new Error('provider returned a malformed embedding entry'));
      }
      if (vec.length !== this.dimensions) {
        throw new EmbeddingDimensionError(
          `model ${this.model} returned ${vec.length} dimensions; the collection expects ${this.dimensions} (EMBEDDING_DIMENSIONS)`,
        );
      }
      vectors[d.index] = vec as number[];
    }
    const rateLimits = parseRateLimitHeaders(headerLookup(headers));
    const used = res.usage?.total_tokens;
    return { vectors, tokens: used ?? 0, ...(typeof used === 'number' && { tokensFromProvider: true }), ...(rateLimits && { rateLimits }) };
  }

  async close(): Promise<void> {
    // The openai client holds no sockets of its own beyond fetch's keep-alive pool.
  }
}
