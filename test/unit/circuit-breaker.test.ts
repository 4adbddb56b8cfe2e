import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CircuitBreaker, MAX_PROBE_DELAY_MS } from '../../src/workflows/circuit-breaker';
import { settle } from '../support/conditions';

// The breaker on its own: timers and probes are the test's, so the backoff is checked exactly.
function harness(downForProbes: number) {
  const sleeps: number[] = [];
  const events: string[] = [];
  let probes = 0;
  const breaker = new CircuitBreaker(15_000, {
    sleep: async (ms) => void sleeps.push(ms),
    probe: async () => {
      probes++;
      if (probes <= downForProbes) throw new Error(`down (${probes})`);
    },
    changed: (open, why) => events.push(open ? `open: ${why}` : 'closed'),
    probeFailed: (err) => events.push(`probe failed: ${(err as Error).message}`),
  });
  return { breaker, sleeps, events, probes: () => probes };
}

describe('CircuitBreaker', () => {
  it('is closed until opened; open probes after the first delay and closes on the first success', async () => {
    const h = harness(0);
    assert.equal(h.breaker.isOpen, false);
    const opened = h.breaker.open('503');
    assert.equal(h.breaker.isOpen, true);
    await opened;
    assert.equal(h.breaker.isOpen, false);
    assert.deepEqual(h.sleeps, [15_000]);
    assert.deepEqual(h.events, ['open: 503', 'closed']);
  });

  it('doubles the wait after each failed probe, up to 5 minutes', async () => {
    const h = harness(6);
    await h.breaker.open('timeout');
    assert.deepEqual(h.sleeps, [15_000, 30_000, 60_000, 120_000, 240_000, MAX_PROBE_DELAY_MS, MAX_PROBE_DELAY_MS]);
    assert.equal(h.probes(), 7);
    assert.equal(h.events.filter((e) => e.startsWith('probe failed')).length, 6);
    assert.equal(h.events.at(-1), 'closed');
  });

  it('opening again while open does nothing: one probe loop at a time', async () => {
    const h = harness(1);
    const first = h.breaker.open('a');
    const second = h.breaker.open('b');
    assert.equal(h.breaker.isOpen, true);
    await second;
    await first;
    await settle();
    assert.deepEqual(h.events, ['open: a', 'probe failed: down (1)', 'closed']);
    assert.equal(h.probes(), 2);
  });
});
