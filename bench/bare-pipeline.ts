/**
 * The hand-written alternative to the Temporal pipeline: a concurrency-bounded promise pool over
 * the same source, chunker, batcher, embedder and sink, with no durability at all (a crash
 * loses the run, a bad document or a 429 fails it). It makes the same embedding calls and the
 * same writes, so the ratio of the two is the cost of the orchestration.
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
  concurrency: number;
  embedder: Embedder;
  sink: VectorStore;
}): Promise<{ chunks: number; requests: number }> {
  const source = openSource(o.source);
  await o.sink.ensureCollection(o.collection, o.embedder.dimensions);
  let chunksDone = 0;
  let requests = 0;
  const running = new Set<Promise<void>>();
  const run = async (batch: Point[]) => {
    const res = await o.embedder.embed(batch.map((p) => p.content));
    requests++;
    batch.forEach((p, i) => (p.vector = res.vectors[i]!));
    await o.sink.upsert(o.collection, batch);
    chunksDone += batch.length;
  };
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
    for (const b of batches) {
      while (running.size >= o.concurrency) await Promise.race(running);
      const p: Promise<void> = run(b).finally(() => running.delete(p));
      running.add(p);
    }
    if (page.nextCursor === null) break;
    cursor = page.nextCursor;
  }
  await Promise.all(running);
  await o.sink.finalize(o.collection);
  return { chunks: chunksDone, requests };
}
