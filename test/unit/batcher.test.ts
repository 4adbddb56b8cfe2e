import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assignBatches } from '../../src/text/batcher';

const sizes = (...t: number[]) => t.map((tokens) => ({ tokens }));

function groups(items: { tokens: number }[], batchNos: number[]) {
  const out: number[][] = [];
  batchNos.forEach((b, i) => (out[b] ??= []).push(items[i]!.tokens));
  return out;
}

describe('assignBatches', () => {
  it('bounds batches by count', () => {
    const items = sizes(...Array(10).fill(1));
    assert.deepEqual(assignBatches(items, { maxChunks: 4, maxTokens: 1000 }), [0, 0, 0, 0, 1, 1, 1, 1, 2, 2]);
  });

  it('bounds batches by tokens', () => {
    const items = sizes(60, 30, 20, 50, 50, 10);
    const g = groups(items, assignBatches(items, { maxChunks: 100, maxTokens: 100 }));
    assert.deepEqual(g, [[60, 30], [20, 50], [50, 10]]);
    for (const b of g) assert.ok(b.reduce((a, x) => a + x, 0) <= 100);
  });

  it('gives an oversized item a batch of its own instead of dropping it', () => {
    const items = sizes(10, 500, 10);
    assert.deepEqual(assignBatches(items, { maxChunks: 100, maxTokens: 100 }), [0, 1, 2]);
  });

  it('keeps order and assigns every item', () => {
    const items = sizes(...Array.from({ length: 1000 }, (_, i) => (i * 37) % 90 + 1));
    const b = assignBatches(items, { maxChunks: 16, maxTokens: 400 });
    assert.equal(b.length, 1000);
    for (let i = 1; i < b.length; i++) assert.ok(b[i]! - b[i - 1]! === 0 || b[i]! - b[i - 1]! === 1);
  });

  it('rejects limits outside what providers accept', () => {
    assert.throws(() => assignBatches([], { maxChunks: 0, maxTokens: 10 }), /maxChunks/);
    assert.throws(() => assignBatches([], { maxChunks: 5000, maxTokens: 10 }), /maxChunks/);
    assert.throws(() => assignBatches([], { maxChunks: 5, maxTokens: 0 }), /maxTokens/);
  });
});
