/** Orchestration tax: chunks/s through Temporal ÷ chunks/s of the bare promise pool, same work. */
import pg from 'pg';
import { OpenAIEmbedder } from '../src/embedders/openai';
import { PgVectorStore } from '../src/sinks/pgvector';
import { TEST_DATABASE_URL } from '../test/support/env';
import { barePipeline } from './bare-pipeline';
import { ChunkThreads } from '../src/text/chunk-threads';
import { defaultPlanThreads } from '../src/deps';
import { taxScenario } from './tax-scenario';
import { loadavg } from 'node:os';
import { BATCH_PIPELINES, type BatchPipeline } from '../src/contracts/ingest';
import { clearEmbeddingCache, dropCollection, median, report, startProviderStack, timedIngest } from './lib';

export async function tax(smoke: boolean): Promise<void> {
  const { latencyMs, chunking, batching, concurrency, source, workerConfig } = taxScenario(smoke);
  const model = `bench-tax-${Date.now()}`;
  // The adaptive splitter is pinned off: both sides send one provider request per batch, so they
  // do the same work (with it on, ours sent ~4x the requests of the bare pool).
  // The provider runs in a process of its own, as a real one does (bench/provider-process.ts).
  const stack = await startProviderStack({ model, emb: { latencyMs }, config: workerConfig });
  const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: concurrency + 2 });
  // As many chunking threads as the durable worker gets by default (src/deps.ts).
  const chunker = new ChunkThreads(defaultPlanThreads()).warm(); // warm, as the worker's are
  // The machine is shared and noisy: several rounds, alternating which pipeline goes first,
  // each from a cold start (no sink rows, no cached embeddings); the median ratio is reported.
  const rounds = smoke ? 1 : Number(process.env.BENCH_ROUNDS ?? 3);
  const rows: Array<Record<string, unknown>> = [];
  const historyPerChunk = new Map<BatchPipeline, number>();
  try {
    const embedder = new OpenAIEmbedder({ apiKey: 'k', baseURL: stack.provider.url, model, dimensions: 64, sendDimensions: true, timeoutMs: 60_000 });
    const cold = async () => {
      await dropCollection('bench_tax_bare');
      await dropCollection('bench_tax_temporal');
      await clearEmbeddingCache(model);
      await stack.provider.reset();
    };
    const runBare = async (threads: boolean) => {
      await cold();
      const t0 = process.hrtime.bigint();
      const bare = await barePipeline({ collection: 'bench_tax_bare', source, chunking, batching, pageSize: 200, embedConcurrency: concurrency, upsertConcurrency: concurrency, window: concurrency * 2, embedder, sink: new PgVectorStore(pool), ...(threads && { chunker }) });
      return { chunks: bare.chunks, seconds: Number(process.hrtime.bigint() - t0) / 1e9, requests: (await stack.provider.stats()).requests };
    };
    const runTemporal = async (round: number, pipeline: BatchPipeline) => {
      await cold();
      const t = await timedIngest(stack, `bench-tax-${pipeline}-${round}-${Date.now()}`, { collection: 'bench_tax_temporal', source, chunking, batching, pageSize: 200, maxInFlightBatches: concurrency * 2, pipeline });
      historyPerChunk.set(pipeline, t.history.bytes / t.result.counters.chunksUpserted);
      return { chunks: t.result.counters.chunksUpserted, seconds: t.seconds, requests: (await stack.provider.stats()).requests };
    };
    // Four sides: the bare pool chunking inline and on the worker's chunking threads (the
    // durable worker chunks on those: src/text/chunk-threads.ts), and both batch pipelines
    // (IngestInput.pipeline); the order rotated each round so no side always runs first or last.
    // The ratio is reported against each bare side; against the threaded one it is like for like.
    type Side = { label: string; pipeline?: BatchPipeline; threads?: boolean };
    const BARE = 'bare promise pool, chunking inline';
    const BARE_THREADS = `bare promise pool, ${chunker.size} chunking thread(s)`;
    const sides: Side[] = [{ label: BARE, threads: false }, { label: BARE_THREADS, threads: true }, ...BATCH_PIPELINES.map((p) => ({ label: `vector-ingest (Temporal, ${p})`, pipeline: p }))];
    const ratios = new Map<string, number[]>();
    const push = (k: string, v: number) => ratios.set(k, [...(ratios.get(k) ?? []), v]);
    for (let round = 1; round <= rounds; round++) {
      const order = sides.map((_, i) => sides[(i + round - 1) % sides.length]!);
      const got = new Map<string, { chunks: number; seconds: number; requests: number }>();
      for (const side of order) got.set(side.label, side.pipeline ? await runTemporal(round, side.pipeline) : await runBare(side.threads === true));
      const rate = (label: string) => got.get(label)!.chunks / got.get(label)!.seconds;
      for (const side of sides) {
        const r = got.get(side.label)!;
        const vsThreads = r.chunks / r.seconds / rate(BARE_THREADS);
        const vsInline = r.chunks / r.seconds / rate(BARE);
        if (side.pipeline) {
          push(`${side.pipeline} vs threaded bare`, vsThreads);
          push(`${side.pipeline} vs inline bare`, vsInline);
        }
        rows.push({ round, pipeline: side.label, 'ran as': order.indexOf(side) + 1, chunks: r.chunks, seconds: r.seconds, 'chunks/s': r.chunks / r.seconds, 'embedding requests': r.requests, 'ratio vs threaded bare': side.pipeline ? vsThreads.toFixed(3) : '', 'ratio vs inline bare': side.pipeline ? vsInline.toFixed(3) : '' });
      }
    }
    const range = (xs: number[]) => `${median(xs).toFixed(3)} (${Math.min(...xs).toFixed(3)}–${Math.max(...xs).toFixed(3)})`;
    report('tax', rows, [
      `median ratio (Temporal ÷ bare) over ${rounds} round(s): ${[...ratios].map(([k, xs]) => `${k} ${range(xs)}`).join(', ')} (target >= 0.9, like for like: against the threaded bare pool); 1-minute load average ${loadavg()[0]!.toFixed(2)} at the end; provider latency ${latencyMs} ms; ${concurrency} embed + ${concurrency} upsert slots and a window of ${concurrency * 2} batches on both sides; adaptive splitter off (VECTOR_INGEST_ADAPTIVE_EMBED=off); history ${[...historyPerChunk].map(([p, b]) => `${p} ${b.toFixed(1)}`).join(', ')} B/chunk`,
    ]);
  } finally {
    await pool.end();
    await chunker.close();
    await stack.stop();
    await dropCollection('bench_tax_bare').catch(() => undefined);
    await dropCollection('bench_tax_temporal').catch(() => undefined);
    await clearEmbeddingCache(model).catch(() => undefined); // a run leaves no cached vectors behind
  }
}
