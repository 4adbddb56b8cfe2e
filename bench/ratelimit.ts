/**
 * Rate limits: the provider enforces a request budget per window. vector-ingest paces embedding
 * activities with the server-enforced task-queue rate (VECTOR_INGEST_EMBED_RATE) and honours
 * Retry-After on the 429s that still happen; the naive pipeline keeps 100 requests in flight
 * and retries each 429 after its Retry-After. Reported: sustained requests/s ÷ the limit, and
 * the share of requests answered 429.
 */
import { OpenAIEmbedder } from '../src/embedders/openai';
import { ProviderError } from '../src/errors';
import { startEmbeddingServer } from '../src/testing/embedding-server';
import { dropCollection, report, startStack, timedIngest } from './lib';

export async function ratelimit(smoke: boolean): Promise<void> {
  const windowMs = 5000;
  const rpw = smoke ? 20 : 40; // requests per window: 4 or 8 per second
  const limitPerSec = (rpw * 1000) / windowMs;
  const docs = smoke ? 60 : 400;
  const source = { kind: 'synthetic' as const, documents: docs, tokensPerDocument: 500, seed: 5 };
  const batching = { maxChunks: 4, maxTokens: 4000 }; // small batches: many requests
  const chunking = { chunkTokens: 256, overlapTokens: 0 };
  const rows: Array<Record<string, unknown>> = [];

  // naive: semaphore(100), retry after Retry-After
  const naiveServer = await startEmbeddingServer({ dimensions: 16, latencyMs: 20, rpm: rpw, windowMs });
  try {
    const e = new OpenAIEmbedder({ apiKey: 'k', baseURL: naiveServer.url, model: 'naive', dimensions: 16, sendDimensions: false, timeoutMs: 30_000 });
    const requests = Math.ceil((docs * 2) / batching.maxChunks);
    const t0 = Date.now();
    let next = 0;
    const worker = async () => {
      while (next < requests) {
        const i = next++;
        for (;;) {
          try {
            await e.embed([`text ${i}`, `more ${i}`, `and ${i}`, `more ${i} again`]);
            break;
          } catch (err) {
            if (err instanceof ProviderError && err.type === 'RateLimited') await new Promise((r) => setTimeout(r, err.retryAfterMs ?? 1000));
            else throw err;
          }
        }
      }
    };
    await Promise.all(Array.from({ length: 100 }, worker));
    const secs = (Date.now() - t0) / 1000;
    const s = naiveServer.stats;
    rows.push({ pipeline: 'naive semaphore(100)', 'successful requests': s.ok, seconds: secs, 'requests/s ÷ limit': s.ok / secs / limitPerSec, '429 share': s.rateLimited / s.requests });
  } finally {
    await naiveServer.close();
  }

  const model = `bench-rl-${Date.now()}`;
  const stack = await startStack({ model, dims: 16, emb: { latencyMs: 20, rpm: rpw, windowMs }, config: { embedConcurrency: 8, embedRatePerSecond: limitPerSec * 0.9 } });
  try {
    await dropCollection('bench_ratelimit');
    stack.emb.reset();
    const t = await timedIngest(stack, `bench-rl-${Date.now()}`, { collection: 'bench_ratelimit', source, chunking, batching, pageSize: 100, maxInFlightBatches: 16 });
    const s = stack.emb.stats;
    // the embedding phase: from the first to the last successful request
    const oks = s.log.filter((l) => l.status === 200).map((l) => l.at);
    const span = oks.length > 1 ? (Math.max(...oks) - Math.min(...oks)) / 1000 : t.seconds;
    rows.push({ pipeline: 'vector-ingest (task-queue rate limit + Retry-After)', 'successful requests': s.ok, seconds: span, 'requests/s ÷ limit': (s.ok - 1) / span / limitPerSec, '429 share': s.rateLimited / s.requests });
  } finally {
    await stack.stop();
    await dropCollection('bench_ratelimit').catch(() => undefined);
  }
  report('ratelimit', rows, [`limit: ${rpw} requests per ${windowMs / 1000} s window (${limitPerSec}/s); targets: >= 95% of the limit with <= 1% 429s`]);
}
