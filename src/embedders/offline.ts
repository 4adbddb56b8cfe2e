import { cl100k } from '../text/tokenizer';
import type { Embedder, EmbeddingResult } from './types';

export const OFFLINE_MODEL = 'offline-hash-v1';
/** It reads any length; the limit only keeps chunks of the usual sizes (counted in cl100k). */
export const OFFLINE_MAX_INPUT_TOKENS = 8000;

/**
 * A deterministic, dependency-free embedder for machines with no embedding service: feature
 * hashing of lowercase words and word bigrams into `dimensions` signed buckets, L2-normalised.
 * Documents that share words land near each other, but it is NOT semantic: synonyms and
 * paraphrases are unrelated to it. It exists so that a laptop with no API key can run the whole
 * pipeline end to end, and so that tests and benchmarks are reproducible.
 */
export class OfflineEmbedder implements Embedder {
  readonly model = OFFLINE_MODEL;
  readonly semantic = false;
  readonly maxInputTokens = OFFLINE_MAX_INPUT_TOKENS;
  readonly tokenizer = cl100k;

  constructor(readonly dimensions: number) {
    if (!Number.isInteger(dimensions) || dimensions < 2 || dimensions > 16000) {
      throw new RangeError(`offline embedder dimensions must be an integer from 2 to 16000, got ${dimensions}`);
    }
  }

  async embed(texts: string[]): Promise<EmbeddingResult> {
    let tokens = 0;
    const vectors = texts.map((t) => {
      const { vector, words } = hashEmbed(t, this.dimensions);
      tokens += words;
      return vector;
    });
    return { vectors, tokens };
  }

  async close(): Promise<void> {}
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function hashEmbed(text: string, dimensions: number): { vector: number[]; words: number } {
  const v = new Float64Array(dimensions);
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const add = (feature: string, weight: number) => {
    const h = fnv1a(feature);
    v[h % dimensions]! += h & 0x80000000 ? -weight : weight;
  };
  for (let i = 0; i < words.length; i++) {
    add(words[i]!, 1);
    if (i > 0) add(`${words[i - 1]} ${words[i]}`, 0.5);
  }
  let norm = 0;
  for (let i = 0; i < dimensions; i++) norm += v[i]! * v[i]!;
  norm = Math.sqrt(norm);
  const out = new Array<number>(dimensions);
  if (norm === 0) {
    // Empty or symbol-only text still needs a valid, non-zero unit vector (cosine needs it).
    out.fill(0);
    out[0] = 1;
  } else {
    for (let i = 0; i < dimensions; i++) out[i] = Math.fround(v[i]! / norm);
  }
  return { vector: out, words: words.length };
}
