import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { planDocuments } from '../../src/activities/plan-documents';
import { DocumentError } from '../../src/errors';
import type { Source, SourceItem } from '../../src/sources';
import { plannedChunks, type ChunkJob } from '../../src/text/chunk-job';
import { CHUNK_THREAD_LIMITS, ChunkThreads } from '../../src/text/chunk-threads';
import { DEFAULT_FORMAT_LIMITS } from '../../src/text/formats/types';
import { cl100k, type TextTokenizer } from '../../src/text/tokenizer';
import { defaultModelDir, LOCAL_MODEL, localModelPath } from '../../src/embedders/local-model';
import { wordPieceTokenizer } from '../../src/embedders/local-tokenizer';

// Real worker threads (src/text/chunk-thread.ts under tsx): what a thread answers must be what
// chunking inline gives, errors included, and a dead thread must cost a retry, not a document.
const chunking = { chunkTokens: 64, overlapTokens: 8 };
const limits = { ...DEFAULT_FORMAT_LIMITS, maxDocumentBytes: 1 << 20 };
const text = (s: string) => new TextEncoder().encode(s);
const markdown = (n: number) => `# Guide ${n}\n\n## Install\n\n${'Run the installer and follow the prompts. '.repeat(20 + n)}\n\n## Use\n\n${'Open a terminal and type the command. '.repeat(15)}\n`;
const job = (documentId: string, body: string, format = 'markdown'): ChunkJob => ({ collection: 'c', documentId, bytes: text(body), format, chunking, limits });

describe('chunking threads', () => {
  const threads = new ChunkThreads(2);
  after(() => threads.close());

  it('give the chunks chunking inline gives: text, heading prefix, metadata, point ids, text hashes', async () => {
    const jobs = [job('a.md', markdown(1)), job('b.md', markdown(7)), job('c.txt', 'plain words here. '.repeat(200), 'text'), job('d.html', `<h1>T</h1><p>${'para '.repeat(300)}</p>`, 'html')];
    const fromThreads = await Promise.all(jobs.map((j) => threads.chunk(j, cl100k)));
    const inline = await Promise.all(jobs.map((j) => plannedChunks(j, cl100k)));
    assert.deepEqual(fromThreads, inline);
    assert.ok(fromThreads[0]!.length > 1 && fromThreads[0]!.some((c) => c.embedPrefix.includes('Install')));
  });

  it("rebuild the local model's WordPiece tokenizer from its spec: the same chunks as inline", async () => {
    // The model files come from scripts/infra/install-model.sh (CI installs them).
    const wp = wordPieceTokenizer(localModelPath(process.env.VECTOR_INGEST_MODEL_DIR ?? defaultModelDir()), LOCAL_MODEL);
    assert.equal(wp.spec?.kind, 'wordpiece');
    const j = job('w.md', markdown(12));
    const threaded = await threads.chunk(j, wp);
    assert.deepEqual(threaded, await plannedChunks(j, wp));
    assert.notDeepEqual(threaded, await plannedChunks(j, cl100k), 'counted by WordPiece, not cl100k');
  });

  it('refuse a bad document with the DocumentError chunking inline throws', async () => {
    const inline = await plannedChunks(job('empty.md', ''), cl100k).catch((e: unknown) => e);
    const threaded = await threads.chunk(job('empty.md', ''), cl100k).catch((e: unknown) => e);
    assert.ok(inline instanceof DocumentError && threaded instanceof DocumentError);
    assert.equal(threaded.type, inline.type);
    assert.equal(threaded.message, inline.message);
    const unsupported = await threads.chunk(job('x.bin', 'abc', 'nosuchformat'), cl100k).catch((e: unknown) => e);
    assert.ok(unsupported instanceof DocumentError && unsupported.type === 'UnsupportedDocument');
  });

  it('a thread that dies fails what it held with a plain (retryable) error, and the next document gets a new thread', async () => {
    const one = new ChunkThreads(1);
    try {
      await one.chunk(job('warm.md', markdown(1)), cl100k); // starts the thread
      const t = (one as unknown as { threads: Array<{ worker: { terminate(): Promise<number> } }> }).threads[0]!;
      const held = one.chunk(job('held.md', markdown(20_000)), cl100k); // ~1 MB: still being chunked when the thread dies
      await t.worker.terminate();
      const err = await held.catch((e: unknown) => e);
      assert.ok(err instanceof Error && !(err instanceof DocumentError), `expected a plain error, got ${String(err)}`);
      assert.match((err as Error).message, /chunking thread/);
      assert.equal((await one.chunk(job('after.md', markdown(2)), cl100k)).length, (await plannedChunks(job('after.md', markdown(2)), cl100k)).length);
    } finally {
      await one.close();
    }
  });

  it("run with the heap limits of CHUNK_THREAD_LIMITS, not the machine-sized defaults (4 GB old space on 24 GB)", async () => {
    const one = new ChunkThreads(1);
    try {
      await one.chunk(job('warm.md', markdown(1)), cl100k); // starts the thread
      const t = (one as unknown as { threads: Array<{ worker: import('node:worker_threads').Worker }> }).threads[0]!;
      const limits = t.worker.resourceLimits!;
      // Process-wide heap flags (NODE_OPTIONS) take precedence over a thread's limits.
      const flagged = /--max-(old|semi)-space-size/.test(`${process.env.NODE_OPTIONS ?? ''} ${process.execArgv.join(' ')}`);
      if (!flagged) {
        assert.equal(limits.maxYoungGenerationSizeMb, CHUNK_THREAD_LIMITS.maxYoungGenerationSizeMb);
        assert.equal(limits.maxOldGenerationSizeMb, CHUNK_THREAD_LIMITS.maxOldGenerationSizeMb);
      }
      assert.ok(CHUNK_THREAD_LIMITS.maxOldGenerationSizeMb >= 512, 'room to plan a 20 MB document (VECTOR_INGEST_MAX_DOCUMENT_BYTES)');
    } finally {
      await one.close();
    }
  });

  it('warm() starts every thread before the first document, once', async () => {
    const t = new ChunkThreads(2).warm();
    try {
      const threads = (t as unknown as { threads: Array<{ worker: { threadId: number } } | undefined> }).threads;
      const ids = threads.map((x) => x?.worker.threadId);
      assert.equal(ids.filter((id) => id !== undefined).length, 2);
      t.warm();
      assert.deepEqual(threads.map((x) => x?.worker.threadId), ids, 'a second warm() starts none');
      assert.deepEqual(await t.chunk(job('w.md', markdown(4)), cl100k), await plannedChunks(job('w.md', markdown(4)), cl100k));
    } finally {
      await t.close();
    }
  });

  it('chunk inline when the tokenizer cannot be rebuilt in a thread (no spec) or there are no threads', async () => {
    const { spec: _spec, ...rest } = cl100k;
    const noSpec: TextTokenizer = rest;
    const none = new ChunkThreads(0);
    const j = job('a.md', markdown(3));
    assert.deepEqual(await none.chunk(j, cl100k), await plannedChunks(j, cl100k));
    const t = new ChunkThreads(1);
    try {
      assert.deepEqual(await t.chunk(j, noSpec), await plannedChunks(j, noSpec));
      assert.deepEqual((t as unknown as { threads: unknown[] }).threads, [undefined], 'no thread was started');
    } finally {
      await t.close();
    }
  });
});

describe('planDocuments on chunking threads', () => {
  const docs: Record<string, string> = {};
  for (let i = 0; i < 40; i++) docs[`doc-${String(i).padStart(2, '0')}.md`] = i % 13 === 5 ? '' : markdown(i);
  const items: SourceItem[] = Object.keys(docs).map((id) => ({ id, format: 'markdown' }));
  const source = { read: async (item: SourceItem) => text(docs[item.id]!), describe: () => 'memory' } as unknown as Source;
  const log = pino({ level: 'silent' });
  const embedder = { model: 'm', maxInputTokens: 8191, tokenizer: cl100k } as never;
  const plan = (chunker?: ChunkThreads) =>
    planDocuments({ embedder, limits, log, ...(chunker && { chunker }) }, { collection: 'c', source, items, known: new Map(), chunking, batching: { maxChunks: 16, maxTokens: 100_000 }, full: false });

  it('plans what planning inline plans, in the same order, failures included', async () => {
    const threads = new ChunkThreads(2);
    try {
      const [inline, threaded] = [await plan(), await plan(threads)];
      assert.deepEqual(threaded, inline);
      assert.equal(inline.failed.length, 3);
      assert.deepEqual(inline.failed.map((f) => f.type), ['EmptyDocument', 'EmptyDocument', 'EmptyDocument']);
      assert.ok(inline.chunks.length > 40);
    } finally {
      await threads.close();
    }
  });
});
