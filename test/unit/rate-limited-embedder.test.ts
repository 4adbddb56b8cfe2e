import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OfflineEmbedder } from '../../src/embedders/offline';
import { RateLimitedEmbedder, UNLIMITED_RECHECK_MS, type RateUnit, type SharedRateBudget } from '../../src/embedders/rate-limited';

// The limiter's bookkeeping against an in-memory budget that counts calls (a stand-in for the
// Postgres bucket, whose pacing across processes test/integration/rate-limit.test.ts proves):
// what matters here is which calls each request costs.
class CountingBudget implements SharedRateBudget {
  readonly calls = { reserve: 0, limits: 0, setLimit: 0 };
  recorded: Partial<Record<RateUnit, number>> = {};
  async setLimit(_key: string, unit: RateUnit, limit: { perMinute: number }): Promise<void> {
    this.calls.setLimit++;
    this.recorded[unit] = limit.perMinute;
  }
  async reserve(): Promise<{ waitMs: number; cancel(): Promise<void> }> {
    this.calls.reserve++;
    return { waitMs: 0, cancel: async () => undefined };
  }
  async holdOff(): Promise<void> {}
  async limits(): Promise<Partial<Record<RateUnit, number>>> {
    this.calls.limits++;
    return { ...this.recorded };
  }
}

describe('rate-limited embedder', () => {
  it('with no limit known anywhere, requests skip the reservation; the budget is asked again every few seconds', async () => {
    let now = 0;
    const budget = new CountingBudget();
    const e = new RateLimitedEmbedder(new OfflineEmbedder(8), budget, { key: 'k', now: () => now });
    for (let i = 0; i < 20; i++) await e.embed([`t${i}`]);
    assert.deepEqual(budget.calls, { reserve: 0, limits: 1, setLimit: 0 });
    // Another process records a limit: seen at the next check, and every request reserves from then on.
    budget.recorded.requests = 600;
    now += UNLIMITED_RECHECK_MS - 1;
    await e.embed(['still within the interval']);
    assert.equal(budget.calls.reserve, 0);
    now += 1;
    for (let i = 0; i < 5; i++) await e.embed([`limited ${i}`]);
    assert.deepEqual(budget.calls, { reserve: 5, limits: 2, setLimit: 0 });
  });

  it('a configured limit reserves from the first request, without asking what others recorded', async () => {
    const budget = new CountingBudget();
    const e = new RateLimitedEmbedder(new OfflineEmbedder(8), budget, { key: 'k', requestsPerMinute: 60 });
    for (let i = 0; i < 3; i++) await e.embed([`t${i}`]);
    assert.deepEqual(budget.calls, { reserve: 3, limits: 0, setLimit: 1 });
  });
});
