/**
 * The adaptive embedder against the real OpenAI-compatible test server over HTTP: vectors come
 * back in input order whatever the split, in-flight requests grow while the provider keeps up,
 * halve on 429 and 5xx, never exceed the ceiling, and errors reach the caller unretried.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AdaptiveEmbedder, AimdLimiter } from '../../src/embedders/adaptive';
import { OpenAIEmbedder } from '../../src/embedders/openai';
import { ProviderError } from '../../src/errors';
import { startEmbeddingServer, type EmbeddingServer } from '../../src/testing/embedding-server';

describe('AdaptiveEmbedder', () => {
  let server: EmbeddingServer;
  let plain: OpenAIEmbedder;
  before(async () => {
    server = await startEmbeddingServer({ dimensions: 8, latencyMs: 30, perInputLatencyMs: 1 });
    plain = new OpenAIEmbedder({ apiKey: 'k', baseURL: server.url, model: 'm', dimensions: 8, sendDimensions: false, timeoutMs: 5000 });
  });
  after(() => server.close());

  const texts = (n: number, tag = 't') => Array.from({ length: n }, (_, i) => `${tag} ${i}`);

  it('splits a batch into concurrent sub-requests and returns the vectors in input order', async () => {
    const e = new AdaptiveEmbedder(plain, { initial: 4, min: 1, max: 8, minPartSize: 16, latencyTolerance: 2 });
    server.reset();
    const input = texts(64);
    const got = await e.embed(input);
    const want = await plain.embed(input);
    assert.deepEqual(got.vectors, want.vectors);
    assert.equal(server.stats.requests, 4 + 1, 'four sub-requests of 16, then the one reference request');
    assert.equal(server.stats.maxConcurrent, 4);
    assert.equal(got.requests, 4, 'the call reports the provider requests it took, for the run summary');
  });

  it('does not split below the smallest part size', async () => {
    const e = new AdaptiveEmbedder(plain, { initial: 8, min: 1, max: 8, minPartSize: 16, latencyTolerance: 2 });
    server.reset();
    const got = await e.embed(texts(20));
    assert.equal(server.stats.requests, 1);
    assert.equal(got.requests, 1);
  });

  it('raises in-flight requests while the provider keeps up, never above the ceiling', async () => {
    const e = new AdaptiveEmbedder(plain, { initial: 2, min: 1, max: 6, minPartSize: 4, latencyTolerance: 3 });
    server.reset();
    await Promise.all(Array.from({ length: 8 }, (_, i) => e.embed(texts(32, `c${i}`))));
    assert.equal(e.limiter.limit, 6);
    assert.ok(server.stats.maxConcurrent <= 6, `at most 6 in flight, saw ${server.stats.maxConcurrent}`);
    assert.ok(server.stats.maxConcurrent > 2, `grew beyond the initial 2, saw ${server.stats.maxConcurrent}`);
  });

  it('halves the limit on a 429 and on a 503, and lets the error through unretried', async () => {
    const e = new AdaptiveEmbedder(plain, { initial: 8, min: 1, max: 8, minPartSize: 64, latencyTolerance: 2 });
    server.reset();
    server.failNext(1, { status: 429, headers: { 'retry-after': '1' } });
    await assert.rejects(e.embed(texts(4)), (err: unknown) => err instanceof ProviderError && err.type === 'RateLimited');
    assert.equal(e.limiter.limit, 4);
    server.failNext(1, { status: 503 });
    await assert.rejects(e.embed(texts(4)), (err: unknown) => err instanceof ProviderError && err.type === 'ProviderUnavailable');
    assert.equal(e.limiter.limit, 2);
    assert.equal(server.stats.requests, 2, 'no retries inside the embedder');
  });

  /** A limiter on a clock the test moves: each answer takes exactly the milliseconds given. */
  function clocked(o: { initial: number; max: number }) {
    let t = 0;
    const l = new AimdLimiter({ ...o, min: 1, minPartSize: 16, latencyTolerance: 2 }, () => t);
    const answer = (ms: number) => l.run(16, async () => void (t += ms));
    return { l, answer };
  }

  it('one late answer among prompt ones does not end slow start', async () => {
    // A busy worker hears one answer late (GC, a starved event loop, the rate limiter's database
    // round trip); that is not the provider slowing down.
    const { l, answer } = clocked({ initial: 2, max: 32 });
    for (const ms of [100, 100, 300, 100, 100, 100]) await answer(ms);
    assert.equal(l.limit, 2 + 6, 'each of the six answers added one (slow start)');
  });

  it('a provider that stays slow stops the growth', async () => {
    const { l, answer } = clocked({ initial: 2, max: 32 });
    await answer(100);
    await answer(100);
    for (let i = 0; i < 3; i++) await answer(300);
    const held = l.limit;
    for (let i = 0; i < 20; i++) await answer(300);
    assert.equal(l.limit, held, 'no growth while answers stay at 3x the best');
    assert.ok(held < 32);
  });

  it('never goes below the floor', async () => {
    const l = new AimdLimiter({ initial: 2, min: 1, max: 4, minPartSize: 1, latencyTolerance: 2 });
    for (let i = 0; i < 5; i++) {
      await assert.rejects(l.run(1, () => Promise.reject(new ProviderError('RateLimited', 'slow down', true, 10))));
    }
    assert.equal(l.limit, 1);
  });
});
