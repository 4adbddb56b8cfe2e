import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { headerLookup, parseDurationMs, retryAfterMs } from '../../src/retry-hints';

describe('retry hints', () => {
  it('parses OpenAI reset durations', () => {
    assert.equal(parseDurationMs('1s'), 1000);
    assert.equal(parseDurationMs('6m0s'), 360_000);
    assert.equal(parseDurationMs('250ms'), 250);
    assert.equal(parseDurationMs('1h2m3.5s'), 3_723_500);
    assert.equal(parseDurationMs('2'), 2000);
    assert.equal(parseDurationMs('soon'), undefined);
  });

  it('prefers retry-after-ms, then retry-after, then the reset headers', () => {
    assert.equal(retryAfterMs(headerLookup({ 'retry-after-ms': '1500', 'retry-after': '9' })), 1500);
    assert.equal(retryAfterMs(headerLookup({ 'retry-after': '3' })), 3000);
    assert.equal(retryAfterMs(headerLookup({ 'x-ratelimit-reset-requests': '2s', 'x-ratelimit-reset-tokens': '500ms' })), 2000);
    assert.equal(retryAfterMs(headerLookup({})), undefined);
  });

  it('reads an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(retryAfterMs(headerLookup({ 'retry-after': 'Thu, 01 Jan 2026 00:00:05 GMT' }), now), 5000);
  });

  it('works with fetch Headers', () => {
    assert.equal(retryAfterMs(headerLookup(new Headers({ 'Retry-After': '4' }))), 4000);
  });
});
