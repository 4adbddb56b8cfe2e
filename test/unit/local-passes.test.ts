import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planPasses } from '../../src/embedders/local-passes';

describe('planPasses (the local model forward passes)', () => {
  const lengths = [256, 12, 130, 256, 40, 41, 9, 200, 64, 64, 64, 64, 64, 64, 64, 64, 64, 3];

  it('runs every text exactly once', () => {
    const passes = planPasses(lengths, 512);
    assert.deepEqual(passes.flat().sort((a, b) => a - b), lengths.map((_, i) => i));
  });

  it('pads no pass beyond the budget (texts × its longest), and puts texts of about the same length together', () => {
    const passes = planPasses(lengths, 512);
    for (const p of passes) {
      const longest = Math.max(...p.map((i) => lengths[i]!));
      assert.ok(p.length * longest <= 512, `pass ${JSON.stringify(p.map((i) => lengths[i]))} pads to ${p.length * longest}`);
    }
    // Ascending length across passes: a pass never holds a text shorter than one in an earlier pass.
    const seen = passes.map((p) => p.map((i) => lengths[i]!));
    for (let k = 1; k < seen.length; k++) assert.ok(Math.min(...seen[k]!) >= Math.max(...seen[k - 1]!), JSON.stringify(seen));
    // Short texts share a pass (8 of at most 64 fill 512); the two longest go in one pass of two.
    assert.deepEqual(seen, [[3, 9, 12, 40, 41, 64, 64, 64], [64, 64, 64, 64, 64, 64], [130, 200], [256, 256]]);
  });

  it('sends a text longer than the budget alone', () => {
    assert.deepEqual(planPasses([300, 10, 290], 256), [[1], [2], [0]]);
  });

  it('plans nothing for no texts', () => {
    assert.deepEqual(planPasses([], 512), []);
  });
});
