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
import type { Embedder } from '../src/embedders/types';
import type { Point, VectorStore } from '../src/sinks/types';
import { openSource, type SourceItem } from '../src/sources';
import { plannedChunks, type ChunkJob, type PlannedChunk } from '../src/text/chunk-job';
import type { ChunkThreads } from '../src/text/chunk-threads';
import { cl100k } from '../src/text/tokenizer';
import { assignBatches } from '../src/text/batcher';
import { fittedChunking } from '../src/embedders/limits';
import { DEFAULT_FORMAT_LIMITS } from '../src/text/formats';
import { embeddingText } from '../src/text/sections';
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
  /** Chunking threads, as the durable worker has them; absent: chunked inline. */
  chunker?: ChunkThreads;
}): Promise<{ chunks: number; requests: number }> {
  await o.sink.ensureCollection(o.collection, o.embedder.dimensions);
  let chunksDone = 0;
  let requests = 0;
  const running = new Set<Promise<void>>();
  const embedSlots = semaphore(o.embedConcurrency);
  const upsertSlots = semaphore(o.upsertConcurrency);
  const run = async ({ points, texts }: PlannedBatch) => {
    const res = await embedSlots(() => retried(() => o.embedder.embed(texts)));
    requests++;
    points.forEach((p, i) => (p.vector = res.vectors[i]!));
    await upsertSlots(() => o.sink.upsert(o.collection, points));
    chunksDone += points.length;
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

/** One batch as the bare pool sends it: the points to write and, in the same order, the texts to embed. */
export interface PlannedBatch {
  points: Point[];
  /** What is embedded for each point: its heading path, a blank line, its content (embeddingText). */
  texts: string[];
}

/**
 * The source's pages, each as the batches of points (no vectors yet) the durable planner makes
 * of it: the same chunker (chunkDocument: the format's sections, the heading path embedded
 * before the text, the chunk metadata) fitted to the embedder and counted by its tokenizer, the
 * same point ids, content hashes and metadata as the sink rows of a durable run, and the same
 * batches. What a user of the library who wanted no durability would write.
 */
export async function* plannedPages(o: {
  collection: string;
  source: SourceSpec;
  chunking: ChunkingOptions;
  batching: BatchingOptions;
  pageSize: number;
  /** Whose input limit and tokenizer the chunks fit (when not given: cl100k_base, chunkTokens as asked). */
  embedder?: Pick<Embedder, 'maxInputTokens' | 'tokenizer'>;
  /** Chunk on these threads, as the durable planner does (src/text/chunk-threads.ts); absent: inline. */
  chunker?: ChunkThreads;
}): AsyncGenerator<PlannedBatch[]> {
  const source = openSource(o.source);
  const tokenizer = o.embedder?.tokenizer ?? cl100k;
  const chunking = o.embedder ? fittedChunking(o.chunking, o.embedder) : o.chunking;
  const planPage = async (cursor: string | null): Promise<{ batches: PlannedBatch[]; nextCursor: string | null }> => {
    const page = await source.listPage(cursor, o.pageSize);
    const job = async (item: SourceItem): Promise<ChunkJob> => {
      const { bytes, metadata, format } = source.readWithMetadata ? await source.readWithMetadata(item, 1 << 30) : { bytes: await source.read(item, 1 << 30) };
      return { collection: o.collection, documentId: item.id, bytes, format: format ?? item.format, chunking, limits: DEFAULT_FORMAT_LIMITS, ...(item.modifiedAt && { modifiedAt: item.modifiedAt }), ...(metadata && { metadata }) };
    };
    // Inline: one document after the other. On chunking threads: the page's documents handed to
    // the threads at once (each thread works through its share in order), results in page order.
    const docs: PlannedChunk[][] = [];
    if (o.chunker) docs.push(...(await Promise.all(page.items.map(async (item) => o.chunker!.chunk(await job(item), tokenizer)))));
    else for (const item of page.items) docs.push(await plannedChunks(await job(item), tokenizer));
    const planned: Array<{ point: Point; text: string; tokens: number }> = [];
    for (const c of docs.flat()) {
      planned.push({
        point: {
          id: c.pointId,
          documentId: c.documentId,
          chunkIndex: c.chunkIndex,
          content: c.content,
          contentHash: c.textHash,
          metadata: { ...c.metadata, document_id: c.documentId, chunk_index: c.chunkIndex, tokens: c.tokens },
          vector: [],
        },
        text: embeddingText(c.embedPrefix, c.content),
        tokens: c.tokens,
      });
    }
    const batches: PlannedBatch[] = [];
    assignBatches(planned, o.batching).forEach((b, i) => {
      const batch = (batches[b] ??= { points: [], texts: [] });
      batch.points.push(planned[i]!.point);
      batch.texts.push(planned[i]!.text);
    });
    return { batches: batches.filter(Boolean), nextCursor: page.nextCursor };
  };
  // On chunking threads the next page is planned while this one's batches are embedded and
  // written (the threads do the work); inline, planning it early would only hold up dispatch.
  let next = planPage(null);
  for (;;) {
    const { batches, nextCursor } = await next;
    if (nextCursor !== null && o.chunker) next = planPage(nextCursor);
    yield batches;
    if (nextCursor === null) return;
    if (!o.chunker) next = planPage(nextCursor);
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
