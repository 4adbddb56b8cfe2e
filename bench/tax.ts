/** Orchestration tax: chunks/s through Temporal ÷ chunks/s of the bare promise pool, same work. */
import pg from 'pg';
import { OpenAIEmbedder } from '../src/embedders/openai';
import { PgVectorStore } from '../src/sinks/pgvector';
import { TEST_DATABASE_URL } from '../test/support/env';
import { barePipeline } from './bare-pipeline';
import { dropCollection, report, startStack, timedIngest } from './lib';

export async function tax(smoke: boolean): Promise<void> {
  const docs = smoke ? 120 : 1500;
  const latencyMs = 50;
  const chunking = { chunkTokens: 256, overlapTokens: 32 };
  const batching = { maxChunks: 64, maxTokens: 32_000 };
  const concurrency = 4;
  const source = { kind: 'synthetic' as const, documents: docs, tokensPerDocument: 800, seed: 3 };
  const model = `bench-tax-${Date.now()}`;
  const stack = await startStack({ model, emb: { latencyMs }, config: { embedConcurrency: concurrency, upsertConcurrency: concurrency } });
  const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: concurrency + 2 });
  try {
    await dropCollection('bench_tax_bare');
    await dropCollection('bench_tax_temporal');
    // bare pipeline: same server, same batches, same concurrency
    const embedder = new OpenAIEmbedder({ apiKey: 'k', baseURL: stack.emb.url, model, dimensions: 64, sendDimensions: true, timeoutMs: 60_000 });
    stack.emb.reset();
    const t0 = process.hrtime.bigint();
    const bare = await barePipeline({ collection: 'bench_tax_bare', source, chunking, batching, pageSize: 200, concurrency, embedder, sink: new PgVectorStore(pool) });
    const bareSecs = Number(process.hrtime.bigint() - t0) / 1e9;
    const bareRequests = stack.emb.stats.requests;
    stack.emb.reset();
    const t = await timedIngest(stack, `bench-tax-${Date.now()}`, { collection: 'bench_tax_temporal', source, chunking, batching, pageSize: 200, maxInFlightBatches: concurrency * 2 });
    const temporalRate = t.result.counters.chunksUpserted / t.seconds;
    const bareRate = bare.chunks / bareSecs;
    report(
      'tax',
      [
        { pipeline: 'bare promise pool', chunks: bare.chunks, seconds: bareSecs, 'chunks/s': bareRate, 'embedding requests': bareRequests },
        { pipeline: 'vector-ingest (Temporal)', chunks: t.result.counters.chunksUpserted, seconds: t.seconds, 'chunks/s': temporalRate, 'embedding requests': stack.emb.stats.requests },
      ],
      [`ratio (Temporal ÷ bare): ${(temporalRate / bareRate).toFixed(3)} (target >= 0.9); provider latency ${latencyMs} ms; concurrency ${concurrency}; history ${(t.history.bytes / t.result.counters.chunksUpserted).toFixed(1)} B/chunk`],
    );
  } finally {
    await pool.end();
    await stack.stop();
    await dropCollection('bench_tax_bare').catch(() => undefined);
    await dropCollection('bench_tax_temporal').catch(() => undefined);
  }
}
