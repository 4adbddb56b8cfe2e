/**
 * The hand-written alternative to the Temporal pipeline: a concurrency-bounded promise pool over
 * the same source, chunker, batcher, embedder and sink, with no durability at all (a crash
 * loses the run, a bad document or a 429 fails it). It makes the same embedding calls and the
 * same writes, so the ratio of the two is the cost of the orchestration.
 *
 * It gets the durable side's concurrency: `window` batches in flight at once, of which at most
 * `embedConcurrency` are being embedded and `upsertConcurrency` written at any moment (the
 * durable pipeline's sliding window and its two task queues' slots), and it reads the next page
 * while the current one's batches are in flight.
 */
import { pointId, sha256 } from '../src/ids';
import type { Embedder } from '../src/embedders/types';
import type { Point, VectorStore } from '../src/sinks/types';
import { openSource } from '../src/sources';
import { assignBatches } from '../src/text/batcher';
import { chunkText } from '../src/text/chunker';
import { decodeUtf8, extractText } from '../src/text/extract';
import type { BatchingOptions, ChunkingOptions, SourceSpec } from '../src/contracts/ingest';

export async function barePipeline(o: {
  collection: string;
  source: SourceSpec;
  chunking: ChunkingOptions;
  batching: BatchingOptions;
  pageSize: number;
  embedConcurrency: number;
  upsertConcurrency: number;
  window: number;
  embedder: Embedder;
  sink: VectorStore;
}): Promise<{ chunks: number; requests: number }> {
  await o.sink.ensureCollection(o.collection, o.embedder.dimensions);
  let chunksDone = 0;
  let requests = 0;
  const running = new Set<Promise<void>>();
  const embedSlots = semaphore(o.embedConcurrency);
  const upsertSlots = semaphore(o.upsertConcurrency);
  const run = async (batch: Point[]) => {
    const res = await embedSlots(() => retried(() => o.embedder.embed(batch.map((p) => p.content))));
    requests++;
    batch.forEach((p, i) => (p.vector = res.vectors[i]!));
    await upsertSlots(() => o.sink.upsert(o.collection, batch));
    chunksDone += batch.length;
  };
  for await (const batches of plannedPages(o)) {
    for (const b of batches) {
      while (running.size >= o.window) await Promise.race(running);
      const p: Promise<void> = run(b).finally(() => running.delete(p));
      running.add(p);
    }
  }
  await Promise.all(running);
  await o.sink.finalize(o.collection);
  return { chunks: chunksDone, requests };
}

/** The source's pages, each as the batches of points (no vectors yet) the durable planner makes of it. */
export async function* plannedPages(o: { collection: string; source: SourceSpec; chunking: ChunkingOptions; batching: BatchingOptions; pageSize: number }): AsyncGenerator<Point[][]> {
  const source = openSource(o.source);
  let cursor: string | null = null;
  for (;;) {
    const page = await source.listPage(cursor, o.pageSize);
    const points: Point[] = [];
    for (const item of page.items) {
      const bytes = await source.read(item, 1 << 30);
      const text = extractText(item.id, decodeUtf8(item.id, bytes), item.format);
      for (const c of chunkText(text, o.chunking)) {
        points.push({ id: pointId(o.collection, item.id, c.index), documentId: item.id, chunkIndex: c.index, content: c.text, contentHash: sha256(c.text), metadata: { tokens: c.tokens }, vector: [] });
      }
    }
    const nos = assignBatches(points.map((p) => ({ tokens: (p.metadata as { tokens: number }).tokens })), o.batching);
    const batches: Point[][] = [];
    nos.forEach((b, i) => (batches[b] ??= []).push(points[i]!));
    yield batches.filter(Boolean);
    if (page.nextCursor === null) return;
    cursor = page.nextCursor;
  }
}

/** At most `n` calls of the returned function run at once; the rest wait in order. */
export function semaphore(n: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async (fn) => {
    if (active >= n) await new Promise<void>((r) => waiting.push(r));
    else active++;
    try {
      return await fn();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}

/**
 * A careful user's retry (the openai package's own default is two): a transient error is tried
 * again up to twice. On a loaded machine the embedding server sometimes closes a keep-alive
 * connection as it is reused ("fetch failed"), which used to end a bare round and the benchmark.
 */
async function retried<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= 3 || (err as { retryable?: boolean }).retryable !== true) throw err;
      await new Promise((r) => setTimeout(r, 100 * attempt));
    }
  }
}
