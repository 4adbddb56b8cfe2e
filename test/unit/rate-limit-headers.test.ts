import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OpenAIEmbedder } from '../../src/embedders/openai';
import { parseRateLimitHeaders } from '../../src/embedders/rate-limits';
import { headerLookup } from '../../src/retry-hints';
import { startEmbeddingServer } from '../../src/testing/embedding-server';

describe('x-ratelimit-* headers', () => {
  it('reads the limits per minute and what is left, as OpenAI sends them', () => {
    const got = parseRateLimitHeaders(
      headerLookup({
        'x-ratelimit-limit-requests': '3000',
        'x-ratelimit-remaining-requests': '2999',
        'x-ratelimit-limit-tokens': '1000000',
        'x-ratelimit-remaining-tokens': '999488',
        'x-ratelimit-reset-requests': '20ms',
      }),
    );
    assert.deepEqual(got, { requests: { perMinute: 3000, remaining: 2999 }, tokens: { perMinute: 1_000_000, remaining: 999_488 } });
  });

  it('leaves out what is absent or unreadable, and says nothing without a limit', () => {
    assert.deepEqual(parseRateLimitHeaders(headerLookup({ 'x-ratelimit-limit-requests': '500' })), { requests: { perMinute: 500 } });
    assert.equal(parseRateLimitHeaders(headerLookup({ 'x-ratelimit-remaining-requests': '5' })), undefined);
    assert.equal(parseRateLimitHeaders(headerLookup({ 'x-ratelimit-limit-requests': 'lots' })), undefined);
    assert.equal(parseRateLimitHeaders(headerLookup({ 'x-ratelimit-limit-requests': '0' })), undefined);
  });

  it('come back with each embedding from the openai embedder, per minute from the test server', async () => {
    const s = await startEmbeddingServer({ dimensions: 8, rpm: 10, tpm: 1000, windowMs: 6_000 });
    try {
      const e = new OpenAIEmbedder({ apiKey: 'k', baseURL: s.url, model: 'm', dimensions: 8, sendDimensions: false, timeoutMs: 5_000 });
      const r = await e.embed(['one two three']);
      // 10 requests per 6 s is 100 a minute; 1 used, so 99 remain of the minute's figure.
      assert.equal(r.rateLimits?.requests?.perMinute, 100);
      assert.equal(r.rateLimits?.requests?.remaining, 99);
      assert.equal(r.rateLimits?.tokens?.perMinute, 10_000);
      assert.equal(r.rateLimits?.tokens?.remaining, 10_000 - r.tokens);
    } finally {
      await s.close();
    }
  });
});
