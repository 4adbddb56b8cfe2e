import type { BatchingOptions } from '../contracts/ingest';

export interface Sized {
  tokens: number;
}

export function validateBatching(o: BatchingOptions): void {
  if (!Number.isInteger(o.maxChunks) || o.maxChunks < 1 || o.maxChunks > 2048) {
    throw new RangeError(`maxChunks must be an integer from 1 to 2048 (the OpenAI input limit), got ${o.maxChunks}`);
  }
  if (!Number.isInteger(o.maxTokens) || o.maxTokens < 1 || o.maxTokens > 300_000) {
    throw new RangeError(`maxTokens must be an integer from 1 to 300000, got ${o.maxTokens}`);
  }
}

/**
 * Greedy, order-preserving packing into batches bounded by item count and by token sum.
 * An item larger than maxTokens on its own still gets a batch (of one): the provider decides
 * whether it is too long, and that failure is then isolated to that one item.
 * Returns the batch number of each item.
 */
export function assignBatches(items: readonly Sized[], o: BatchingOptions): number[] {
  validateBatching(o);
  const out: number[] = [];
  let batch = 0;
  let count = 0;
  let tokens = 0;
  for (const item of items) {
    if (count > 0 && (count + 1 > o.maxChunks || tokens + item.tokens > o.maxTokens)) {
      batch++;
      count = 0;
      tokens = 0;
    }
    out.push(batch);
    count++;
    tokens += item.tokens;
  }
  return out;
}
