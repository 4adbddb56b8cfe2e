import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ProviderError } from '../../src/errors';
import { OfflineEmbedder } from '../../src/embedders/offline';
import { OpenAIEmbedder } from '../../src/embedders/openai';
import { startEmbeddingServer, type EmbeddingServer, type FaultAnswer } from '../../src/testing/embedding-server';

describe('OfflineEmbedder', () => {
  it('is deterministic, unit length, and says it is not semantic', async () => {
    const e = new OfflineEmbedder(64);
    const a = await e.embed(['the quick brown fox', 'the quick brown fox', '']);
    assert.deepEqual(a.vectors[0], a.vectors[1]);
    for (const v of a.vectors) {
      assert.equal(v.length, 64);
      const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
      assert.ok(Math.abs(norm - 1) < 1e-5);
    }
    assert.equal(e.semantic, false);
  });

  it('puts texts sharing words closer than unrelated ones', async () => {
    const e = new OfflineEmbedder(256);
    const { vectors: [a, b, c] } = await e.embed(['retry policy for rate limits', 'rate limits and the retry policy', 'banana bread recipe with walnuts']);
    const dot = (x: number[], y: number[]) => x.reduce((s, v, i) => s + v * y[i]!, 0);
    assert.ok(dot(a!, b!) > dot(a!, c!) + 0.3);
  });
});

// A real HTTP server speaking the OpenAI embeddings API; the real `openai` client talks to it.
describe('OpenAIEmbedder against an OpenAI-compatible server', () => {
  let server: EmbeddingServer;
  let next: FaultAnswer;
  before(async () => {
    server = await startEmbeddingServer({ dimensions: 16, fault: () => next });
  });
  after(() => server.close());
  const embedder = (dims = 16) =>
    new OpenAIEmbedder({ apiKey: 'sk-test', baseURL: server.url, model: 'm', dimensions: dims, sendDimensions: false, timeoutMs: 5000 });

  it('embeds in order, asks for floats, and reports tokens', async () => {
    next = undefined;
    server.reset();
    const res = await embedder().embed(['one', 'two two', 'three three three']);
    assert.equal(res.vectors.length, 3);
    assert.ok(res.tokens > 0);
    assert.equal(server.stats.requestBodies[0]!.encodingFormat, 'float');
    const again = await embedder().embed(['two two']);
    assert.deepEqual(again.vectors[0], res.vectors[1]);
  });

  it('does not retry on its own: one request per call, even on 500', async () => {
    next = { status: 500 };
    server.reset();
    await assert.rejects(embedder().embed(['x']), (e: unknown) => e instanceof ProviderError && e.type === 'ProviderUnavailable' && e.retryable);
    assert.equal(server.stats.requests, 1);
  });

  it('classifies 429 with the server\'s Retry-After', async () => {
    next = { status: 429, headers: { 'retry-after': '7' } };
    await assert.rejects(
      embedder().embed(['x']),
      (e: unknown) => e instanceof ProviderError && e.type === 'RateLimited' && e.retryable && e.retryAfterMs === 7000,
    );
  });

  it('classifies 400 as a non-retryable input error and 401 as an auth failure', async () => {
    next = { status: 400, body: { error: { message: 'too many tokens', type: 'invalid_request_error' } } };
    await assert.rejects(embedder().embed(['x']), (e: unknown) => e instanceof ProviderError && e.type === 'InvalidInput' && !e.retryable);
    next = { status: 401 };
    await assert.rejects(embedder().embed(['x']), (e: unknown) => e instanceof ProviderError && e.type === 'AuthenticationFailed' && !e.retryable);
  });

  it('refuses vectors of the wrong size', async () => {
    next = { dimensions: 8 };
    await assert.rejects(embedder(16).embed(['x']), (e: unknown) => e instanceof ProviderError && e.type === 'EmbeddingDimensionMismatch');
  });

  it('classifies a refused connection as retryable', async () => {
    const dead = new OpenAIEmbedder({ apiKey: 'k', baseURL: 'http://127.0.0.1:9/v1', model: 'm', dimensions: 4, sendDimensions: false, timeoutMs: 2000 });
    await assert.rejects(dead.embed(['x']), (e: unknown) => e instanceof ProviderError && e.type === 'ProviderUnavailable' && e.retryable);
  });
});
