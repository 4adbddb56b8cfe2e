import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProviderError } from '../../src/errors';
import { OpenAIEmbedder } from '../../src/embedders/openai';
import { startEmbeddingServer } from '../../src/testing/embedding-server';
import { chaos } from '../../src/testing/fault-plan';

const embedder = (url: string, timeoutMs = 5000) =>
  new OpenAIEmbedder({ apiKey: 'k', baseURL: url, model: 'm', dimensions: 8, sendDimensions: false, timeoutMs });
const typeOf = async (p: Promise<unknown>) => {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return e instanceof ProviderError ? `${e.type}${e.retryAfterMs !== undefined ? `@${e.retryAfterMs}` : ''}` : String(e);
  }
};

// The fault server is itself a test double other tests rely on, so it gets a specification too.
describe('fault-injecting embeddings server', () => {
  it('enforces RPM like a provider: 429 with Retry-After beyond the limit, and counts it', async () => {
    // A window far longer than ten requests take even on a loaded machine (with 2 s, a slow
    // machine let the window slide mid-test and a sixth request through).
    const s = await startEmbeddingServer({ dimensions: 8, rpm: 5, windowMs: 60_000 });
    try {
      const e = embedder(s.url);
      const outcomes = [];
      for (let i = 0; i < 10; i++) outcomes.push(await typeOf(e.embed([`t${i}`])));
      assert.equal(outcomes.filter((o) => o === 'ok').length, 5);
      const limited = outcomes.filter((o) => o.startsWith('RateLimited@'));
      assert.equal(limited.length, 5);
      for (const o of limited) {
        const ms = Number(o.split('@')[1]);
        assert.ok(ms > 0 && ms <= 60_000, `retry after ${ms} ms`);
      }
      assert.equal(s.stats.rateLimited, 5);
      assert.equal(s.stats.ok, 5);
    } finally {
      await s.close();
    }
  });

  it('enforces TPM: a request that would pass the token budget waits', async () => {
    const s = await startEmbeddingServer({ dimensions: 8, tpm: 30, windowMs: 60_000 });
    try {
      const e = embedder(s.url);
      assert.equal(await typeOf(e.embed(['one two three four five six seven eight nine ten'])), 'ok');
      assert.equal(await typeOf(e.embed(['one two three four five six seven eight nine ten'])), 'ok');
      assert.match(await typeOf(e.embed(['one two three four five six seven eight nine ten eleven twelve'])), /^RateLimited@/);
    } finally {
      await s.close();
    }
  });

  it('rejects over-long inputs and poisoned inputs with 400, naming the reason', async () => {
    const s = await startEmbeddingServer({ dimensions: 8, maxInputTokens: 5, poisonMarker: 'POISON' });
    try {
      const e = embedder(s.url);
      await assert.rejects(e.embed(['a b c d e f g h']), /maximum context length is 5 tokens/);
      await assert.rejects(e.embed(['fine', 'POISON here']), (err: unknown) => err instanceof ProviderError && err.type === 'InvalidInput' && /POISON/.test(err.message));
      assert.equal(await typeOf(e.embed(['short'])), 'ok');
    } finally {
      await s.close();
    }
  });

  it('crashes (500) on every request with an input containing the crash marker, and only on those', async () => {
    const s = await startEmbeddingServer({ dimensions: 8, crashMarker: 'CRASH-ME' });
    try {
      const e = embedder(s.url);
      for (let i = 0; i < 3; i++) assert.equal(await typeOf(e.embed(['fine', `text with CRASH-ME inside ${i}`])), 'ProviderUnavailable');
      assert.equal(await typeOf(e.embed(['fine', 'also fine'])), 'ok');
      assert.equal(s.stats.byStatus['500'], 3);
    } finally {
      await s.close();
    }
  });

  it('answers malformed JSON, hangs, resets and outages as asked', async () => {
    const s = await startEmbeddingServer({ dimensions: 8 });
    try {
      s.failNext(1, { malformed: true });
      assert.equal(await typeOf(embedder(s.url).embed(['x'])), 'ProviderUnavailable');
      s.failNext(1, { hang: true });
      const started = Date.now();
      assert.equal(await typeOf(embedder(s.url, 300).embed(['x'])), 'ProviderUnavailable');
      assert.ok(Date.now() - started < 3000, 'the client timeout fired');
      s.failNext(1, { reset: true });
      assert.equal(await typeOf(embedder(s.url).embed(['x'])), 'ProviderUnavailable');
      s.failNext(1, { dimensions: 3 });
      assert.equal(await typeOf(embedder(s.url).embed(['x'])), 'EmbeddingDimensionMismatch');
      s.setOutage('503');
      assert.equal(await typeOf(embedder(s.url).embed(['x'])), 'ProviderUnavailable');
      s.setOutage('reset');
      assert.equal(await typeOf(embedder(s.url).embed(['x'])), 'ProviderUnavailable');
      s.setOutage('off');
      assert.equal(await typeOf(embedder(s.url).embed(['x'])), 'ok');
      assert.equal(s.stats.byStatus['503'], 1);
    } finally {
      await s.close();
    }
  });

  it('adds latency per request and per input, and tracks concurrency', async () => {
    const s = await startEmbeddingServer({ dimensions: 8, latencyMs: 100, perInputLatencyMs: 10 });
    try {
      const t0 = Date.now();
      await Promise.all([embedder(s.url).embed(Array(10).fill('x')), embedder(s.url).embed(['y'])]);
      assert.ok(Date.now() - t0 >= 200, `took ${Date.now() - t0} ms`);
      assert.equal(s.stats.maxConcurrent, 2);
      assert.equal(s.stats.inputs, 11);
    } finally {
      await s.close();
    }
  });

  it('plays a seeded chaos mix reproducibly', () => {
    const mix = { seed: 42, rateLimited: 0.2, serverError: 0.1, unavailable: 0.1, malformed: 0.05 };
    const a = chaos(mix);
    const b = chaos(mix);
    const seqA = Array.from({ length: 200 }, () => JSON.stringify(a()));
    const seqB = Array.from({ length: 200 }, () => JSON.stringify(b()));
    assert.deepEqual(seqA, seqB);
    const faults = seqA.filter((x) => x !== undefined && x !== 'undefined').length;
    assert.ok(faults > 60 && faults < 120, `${faults} faults in 200 for a 45% mix`);
    const other = chaos({ ...mix, seed: 7 });
    assert.notDeepEqual(Array.from({ length: 200 }, () => JSON.stringify(other())), seqA);
  });
});
