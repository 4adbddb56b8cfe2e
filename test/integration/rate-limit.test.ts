import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { OpenAIEmbedder } from '../../src/embedders/openai';
import { RateLimitedEmbedder } from '../../src/embedders/rate-limited';
import { ProviderError } from '../../src/errors';
import { StateStore } from '../../src/state/store';
import { startEmbeddingServer, type EmbeddingServer } from '../../src/testing/embedding-server';
import { countTokens } from '../../src/text/tokenizer';
import { TEST_DATABASE_URL, uniqueCollection } from '../support/env';
import { maxInWindow } from '../support/rate-window';

// Three "worker processes" (each its own pg pool, its own embedder and limiter objects, nothing
// shared in memory) send as fast as they can to one provider that enforces a limit per sliding
// window and states it in x-ratelimit-* headers. What they send together must fit the limit:
// the proof is the provider's own log of when each request arrived, rejected ones included.
describe('the shared embedding rate limit (Postgres token bucket)', () => {
  const pools: pg.Pool[] = [];
  let emb: EmbeddingServer | undefined;

  const process = (url: string, key: string, o: { rpm?: number; tpm?: number } = {}) => {
    const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 4 });
    pools.push(pool);
    const inner = new OpenAIEmbedder({ apiKey: 'k', baseURL: url, model: key, dimensions: 8, sendDimensions: false, timeoutMs: 30_000 });
    return new RateLimitedEmbedder(inner, new StateStore(pool).rateBuckets, { key, requestsPerMinute: o.rpm, tokensPerMinute: o.tpm, maxWaitMs: 60_000 });
  };
  /** Each of `n` senders embeds `requests` texts one request after another; 429s are counted, not retried. */
  const hammer = async (embedders: RateLimitedEmbedder[], perSender: number, senders: number, text: (i: number) => string) => {
    let limited = 0;
    await Promise.all(
      embedders.flatMap((e, p) =>
        Array.from({ length: senders }, async (_, s) => {
          for (let i = 0; i < perSender; i++) {
            await e.embed([text(p * 1000 + s * 100 + i)]).catch((err) => {
              if (err instanceof ProviderError && err.type === 'RateLimited') limited++;
              else throw err;
            });
          }
        }),
      ),
    );
    return limited;
  };

  before(async () => {
    await new StateStore(new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 1 })).migrate();
  });
  after(async () => {
    await Promise.all(pools.map((p) => p.end()));
    await emb?.close();
  });

  it('learns requests per minute from x-ratelimit headers and holds it across three processes', async () => {
    // The bucket spends 97 % of the limit: 3 % of a window is slack for network and scheduling
    // jitter (up to ~100 ms seen on this shared machine). A provider's minute gives 1.8 s; this
    // window gives 240 ms (at 4 s, 120 ms, 3 requests of 240 came too close together).
    const windowMs = 8_000;
    const perWindow = 200; // 1500 per minute as the headers state it
    emb = await startEmbeddingServer({ dimensions: 8, rpm: perWindow, windowMs });
    const key = uniqueCollection('rl_req');
    const procs = [0, 1, 2].map(() => process(emb!.url, key));
    // Configure the bucket as the first answer's headers would, before the burst: this test is
    // about the shared pacing, the next one about learning from headers mid-flight.
    await procs[0]!.embed(['warm up']);
    emb.reset();
    const limited = await hammer(procs, 30, 4, (i) => `text ${i}`); // 360 requests, 12 in flight
    const arrivals = emb.stats.log.map((l) => l.arrivedAt);
    assert.equal(emb.stats.requests, 360);
    // The target is at most 1 % 429s. Here the provider and the three clients share one event
    // loop on a loaded machine, so a stall of a few hundred ms now and then delays arrivals and
    // lets the next ones land together (seen: 1 request of 360 over the limit, just after the
    // first window); separate processes (test/integration/three-workers.test.ts) see less.
    assert.ok(limited <= 360 * 0.01, `429s: ${JSON.stringify(emb.stats.byStatus)}`);
    const most = maxInWindow(arrivals, windowMs);
    assert.ok(most <= perWindow + limited, `${most} requests arrived within ${windowMs} ms; the limit is ${perWindow}`);
    // Paced, not merely lucky: 360 requests at 97 % of 25/s take about 14.8 s.
    const span = Math.max(...arrivals) - Math.min(...arrivals);
    assert.ok(span >= 13_500, `360 requests arrived within ${span} ms`);
  });

  it('starts a process that learns the limit from the first answer in debt by what is already used', async () => {
    const windowMs = 2_000;
    const perWindow = 12;
    await emb?.close();
    emb = await startEmbeddingServer({ dimensions: 8, rpm: perWindow, windowMs });
    const key = uniqueCollection('rl_learn');
    // Someone else used 8 of the 12 just now; the limiter has never heard of this provider.
    const other = new OpenAIEmbedder({ apiKey: 'k', baseURL: emb.url, model: key, dimensions: 8, sendDimensions: false, timeoutMs: 30_000 });
    for (let i = 0; i < 8; i++) await other.embed([`other ${i}`]);
    const p = process(emb.url, key);
    await p.embed(['first']); // unlimited: the budget learns 360/min with 9 of its window used
    const limited = await hammer([p], 6, 1, (i) => `after ${i}`);
    assert.equal(limited, 0, `429s: ${JSON.stringify(emb.stats.byStatus)}`);
    assert.ok(maxInWindow(emb.stats.log.map((l) => l.arrivedAt), windowMs) <= perWindow);
  });

  it('holds tokens per minute: a configured limit below the provider\'s wins', async () => {
    await emb?.close();
    const windowMs = 60_000;
    emb = await startEmbeddingServer({ dimensions: 8, tpm: 100_000, windowMs });
    const key = uniqueCollection('rl_tok');
    const tpm = 600; // 10 tokens a second; each text below is 20 tokens
    const text = (i: number) => `${'alpha beta gamma delta epsilon '.repeat(4).trim()} ${i}`.slice(0, 200);
    const tokens = countTokens(text(1));
    const procs = [0, 1].map(() => process(emb!.url, key, { tpm }));
    const t0 = Date.now();
    const limited = await hammer(procs, 3, 2, text); // 12 requests
    const elapsed = Date.now() - t0;
    assert.equal(limited, 0);
    const sent = emb.stats.tokens;
    assert.ok(sent >= 12 * (tokens - 1), `sent ${sent} tokens`);
    // At 97 % of 10 tokens/s, paying before sending: the last request leaves once all are paid.
    const least = (sent / (0.97 * tpm)) * 60_000;
    assert.ok(elapsed >= least * 0.9, `${sent} tokens went out in ${elapsed} ms; at ${tpm}/min they take ${Math.round(least)} ms`);
  });

  it('a 429 from the provider holds every process off for its Retry-After', async () => {
    await emb?.close();
    emb = await startEmbeddingServer({ dimensions: 8 });
    const key = uniqueCollection('rl_hold');
    const [a, b] = [process(emb.url, key, { rpm: 60_000 }), process(emb.url, key, { rpm: 60_000 })];
    await a.embed(['set up the bucket']);
    emb.failNext(1, { status: 429, headers: { 'retry-after-ms': '1500' } });
    await assert.rejects(a.embed(['limited']), (err: unknown) => err instanceof ProviderError && err.type === 'RateLimited');
    const t0 = Date.now();
    await b.embed(['the other process']);
    assert.ok(Date.now() - t0 >= 1_400, `the other process sent after ${Date.now() - t0} ms`);
  });
});
