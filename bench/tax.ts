/** Orchestration tax: chunks/s through Temporal ÷ chunks/s of the bare promise pool, same work. */
import pg from 'pg';
import { OpenAIEmbedder } from '../src/embedders/openai';
import { PgVectorStore } from '../src/sinks/pgvector';
import { TEST_DATABASE_URL } from '../test/support/env';
import { barePipeline } from './bare-pipeline';
import { taxScenario } from './tax-scenario';
import { alternating, clearEmbeddingCache, dropCollection, median, report, startStack, timedIngest } from './lib';

export async function tax(smoke: boolean): Promise<void> {
  const { latencyMs, chunking, batching, concurrency, source, workerConfig } = taxScenario(smoke);
  const model = `bench-tax-${Date.now()}`;
  // The adaptive splitter is pinned off: both sides send one provider request per batch, so they
  // do the same work (with it on, ours sent ~4x the requests of the bare pool).
  const stack = await startStack({ model, emb: { latencyMs }, config: workerConfig });
  const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: concurrency + 2 });
  // The machine is shared and noisy: several rounds, alternating which pipeline goes first,
  // each from a cold start (no sink rows, no cached embeddings); the median ratio is reported.
  const rounds = smoke ? 1 : 3;
  const rows: Array<Record<string, unknown>> = [];
  const ratios: number[] = [];
  let historyPerChunk = 0;
  try {
    const embedder = new OpenAIEmbedder({ apiKey: 'k', baseURL: stack.emb.url, model, dimensions: 64, sendDimensions: true, timeoutMs: 60_000 });
    const cold = async () => {
      await dropCollection('bench_tax_bare');
      await dropCollection('bench_tax_temporal');
      await clearEmbeddingCache(model);
      stack.emb.reset();
    };
    const runBare = async () => {
      await cold();
      const t0 = process.hrtime.bigint();
      const bare = await barePipeline({ collection: 'bench_tax_bare', source, chunking, batching, pageSize: 200, embedConcurrency: concurrency, upsertConcurrency: concurrency, window: concurrency * 2, embedder, sink: new PgVectorStore(pool) });
      return { chunks: bare.chunks, seconds: Number(process.hrtime.bigint() - t0) / 1e9, requests: stack.emb.stats.requests };
    };
    const runTemporal = async (round: number) => {
      await cold();
      const t = await timedIngest(stack, `bench-tax-${round}-${Date.now()}`, { collection: 'bench_tax_temporal', source, chunking, batching, pageSize: 200, maxInFlightBatches: concurrency * 2 });
      historyPerChunk = t.history.bytes / t.result.counters.chunksUpserted;
      return { chunks: t.result.counters.chunksUpserted, seconds: t.seconds, requests: stack.emb.stats.requests };
    };
    for (let round = 1; round <= rounds; round++) {
      const [bare, durable] = await alternating(round, runBare, () => runTemporal(round));
      const ratio = durable.chunks / durable.seconds / (bare.chunks / bare.seconds);
      ratios.push(ratio);
      for (const [pipeline, r] of [['bare promise pool', bare], ['vector-ingest (Temporal)', durable]] as const) {
        rows.push({ round, pipeline, chunks: r.chunks, seconds: r.seconds, 'chunks/s': r.chunks / r.seconds, 'embedding requests': r.requests, 'ratio this round': pipeline === 'bare promise pool' ? '' : ratio.toFixed(3) });
      }
    }
    report('tax', rows, [
      `median ratio (Temporal ÷ bare) over ${rounds} round(s): ${median(ratios).toFixed(3)} (target >= 0.9); provider latency ${latencyMs} ms; ${concurrency} embed + ${concurrency} upsert slots and a window of ${concurrency * 2} batches on both sides; adaptive splitter off (VECTOR_INGEST_ADAPTIVE_EMBED=off); history ${historyPerChunk.toFixed(1)} B/chunk`,
    ]);
  } finally {
    await pool.end();
    await stack.stop();
    await dropCollection('bench_tax_bare').catch(() => undefined);
    await dropCollection('bench_tax_temporal').catch(() => undefined);
    await clearEmbeddingCache(model).catch(() => undefined); // a run leaves no cached vectors behind
  }
}
