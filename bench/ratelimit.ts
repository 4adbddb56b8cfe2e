/**
 * Rate limits: the provider enforces a request budget per sliding window and states it in
 * x-ratelimit-* headers. vector-ingest learns the limit from the first answer and paces every
 * request through the token bucket all workers share in Postgres (src/state/rate-buckets.ts),
 * with nothing configured; it honours Retry-After on the 429s that still happen; the naive pipeline keeps 100 requests in flight and retries each 429 after its
 * Retry-After. Both send the same requests (the batches the planner makes of the same synthetic
 * corpus) to the same kind of server, and both are timed the same way, from the server's log
 * (see measure()).
 */
import { OpenAIEmbedder } from '../src/embedders/openai';
import { ProviderError } from '../src/errors';
import { startEmbeddingServer, type EmbeddingServerStats } from '../src/testing/embedding-server';
import { plannedPages } from './bare-pipeline';
import { dropCollection, report, startStack, timedIngest } from './lib';

/**
 * Utilisation over whole windows, the same for both pipelines: successes answered in the k
 * complete windows after the first one (first answer + W, first answer + (k+1)W], divided by
 * k × the per-window limit. A sliding window admits at most that many in any such span, so 1.0
 * is the ceiling; the first window is left out because an empty window lets anyone burst.
 */
function measure(s: EmbeddingServerStats, windowMs: number, perWindow: number) {
  const oks = s.log.filter((l) => l.status === 200).map((l) => l.at);
  const first = Math.min(...s.log.map((l) => l.at));
  const last = Math.max(...oks);
  const k = Math.floor((last - first - windowMs) / windowMs);
  const from = first + windowMs;
  const to = from + k * windowMs;
  const inWindows = oks.filter((t) => t > from && t <= to).length;
  return {
    'successful requests': s.ok,
    'seconds (first answer to last success)': (last - first) / 1000,
    'windows measured': k,
    'utilisation (successes ÷ limit, whole windows)': k > 0 ? inWindows / (k * perWindow) : NaN,
    '429 share': s.rateLimited / s.requests,
  };
}

export async function ratelimit(smoke: boolean): Promise<void> {
  // A window long enough that the 3 % the bucket leaves unspent (for jitter) is more than one
  // request (a provider's minute leaves 1.8 s), and a limit below what the pipeline can send on
  // this machine (~6.7 requests/s of these batches), so the limit is what is measured.
  const windowMs = smoke ? 5000 : 20_000;
  const rpw = smoke ? 20 : 100; // requests per window: 4 or 5 per second
  const limitPerSec = (rpw * 1000) / windowMs;
  const docs = smoke ? 60 : 500;
  const source = { kind: 'synthetic' as const, documents: docs, tokensPerDocument: 500, seed: 5 };
  const batching = { maxChunks: 4, maxTokens: 4000 }; // small batches: many requests
  const chunking = { chunkTokens: 256, overlapTokens: 0 };
  const pageSize = 100;
  const rows: Array<Record<string, unknown>> = [];

  // The same requests the durable pipeline will send: the planner's batches of the same corpus.
  const batches: string[][] = [];
  for await (const page of plannedPages({ collection: 'bench_ratelimit', source, chunking, batching, pageSize })) {
    for (const b of page) batches.push(b.texts);
  }

  // naive: semaphore(100), retry after Retry-After
  const naiveServer = await startEmbeddingServer({ dimensions: 16, latencyMs: 20, rpm: rpw, windowMs });
  try {
    const e = new OpenAIEmbedder({ apiKey: 'k', baseURL: naiveServer.url, model: 'naive', dimensions: 16, sendDimensions: false, timeoutMs: 30_000 });
    let next = 0;
    const worker = async () => {
      while (next < batches.length) {
        const texts = batches[next++]!;
        for (;;) {
          try {
            await e.embed(texts);
            break;
          } catch (err) {
            if (err instanceof ProviderError && err.type === 'RateLimited') await new Promise((r) => setTimeout(r, err.retryAfterMs ?? 1000));
            else throw err;
          }
        }
      }
    };
    await Promise.all(Array.from({ length: 100 }, worker));
    rows.push({ pipeline: 'naive semaphore(100), retry after Retry-After', ...measure(naiveServer.stats, windowMs, rpw) });
  } finally {
    await naiveServer.close();
  }

  const model = `bench-rl-${Date.now()}`;
  // No limit configured: the worker learns it from the provider's headers.
  const stack = await startStack({ model, dims: 16, emb: { latencyMs: 20, rpm: rpw, windowMs }, config: { embedConcurrency: 8 } });
  try {
    await dropCollection('bench_ratelimit');
    stack.emb.reset();
    await timedIngest(stack, `bench-rl-${Date.now()}`, { collection: 'bench_ratelimit', source, chunking, batching, pageSize, maxInFlightBatches: 16 });
    rows.push({ pipeline: 'vector-ingest (shared bucket from x-ratelimit headers, 97 % of the limit)', ...measure(stack.emb.stats, windowMs, rpw) });
  } finally {
    await stack.stop();
    await dropCollection('bench_ratelimit').catch(() => undefined);
  }
  report('ratelimit', rows, [
    `limit: ${rpw} requests per ${windowMs / 1000} s sliding window (${limitPerSec}/s); both sides send the same ${batches.length} batches (vector-ingest adds one probe request); targets: >= 95% of the limit with <= 1% 429s`,
  ]);
}
