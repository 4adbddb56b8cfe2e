/**
 * Scale: the same workflow code for small and large corpora. History bytes per chunk, events per
 * run (continue-as-new keeps each run's history bounded) and the worker process's peak RSS. A synthetic source generates the documents on
 * the fly; the embeddings server answers with 0 ms latency to show pure overhead.
 */
import { readFileSync } from 'node:fs';
import { startEmbeddingServer } from '../src/testing/embedding-server';
import { spawnWorker } from '../test/support/drill';
import { startTemporal, testClient } from '../test/support/env';
import { dropCollection, report, timedIngest, type Stack } from './lib';

/** Resident set size of another process, from /proc (the worker runs in its own process). */
function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

export async function scale(smoke: boolean): Promise<void> {
  const sizes = smoke ? [2_000] : process.argv.includes('--million') ? [10_000, 100_000, 1_000_000] : [10_000, 100_000];
  const rows: Array<Record<string, unknown>> = [];
  // The worker is `vector-ingest worker` in a process of its own (compiled CLI), so its RSS is
  // the worker's alone, not the benchmark's.
  const server = await startTemporal();
  const emb = await startEmbeddingServer({ dimensions: 32 });
  const tc = await testClient(server);
  const w = spawnWorker({ TEMPORAL_ADDRESS: server.address, OPENAI_BASE_URL: emb.url, EMBEDDING_MODEL: `bench-scale-${Date.now()}`, EMBEDDING_DIMENSIONS: '32' });
  await w.ready;
  const stack = { server, emb, client: tc.client } as unknown as Stack;
  try {
    for (const chunks of sizes) {
      // The synthetic 700-token documents come out at ~4.4 chunks each at 256-token chunks.
      const documents = Math.ceil(chunks / 4.4);
      const collection = `bench_scale_${chunks}`;
      await dropCollection(collection);
      const pid = w.child.pid!;
      const before = rssOf(pid);
      let peak = before;
      const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 500);
      const t = await timedIngest(stack, `bench-scale-${chunks}-${Date.now()}`, {
        collection,
        source: { kind: 'synthetic', documents, tokensPerDocument: 700, seed: 11 },
        chunking: { chunkTokens: 256, overlapTokens: 16 },
        pageSize: 500,
        maxInFlightBatches: 8,
      });
      clearInterval(sampler);
      const c = t.result.counters.chunksUpserted;
      rows.push({
        chunks: c,
        seconds: t.seconds,
        'chunks/s': c / t.seconds,
        'history B/chunk': t.history.bytes / c,
        'events (all runs)': t.history.events,
        runs: t.history.runs,
        'events per run': Math.round(t.history.events / t.history.runs),
        'worker RSS before MB': before,
        'worker peak RSS MB': peak,
      });
      await dropCollection(collection);
    }
  } finally {
    w.child.kill('SIGTERM');
    await new Promise((r) => w.child.once('exit', r));
    await tc.close();
    await server.stop();
    await emb.close();
  }
  report('scale', rows, ['targets: <= 100 B of history per chunk, <= 10k events per run, flat RSS <= 300 MB']);
}
