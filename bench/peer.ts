/**
 * Peer: LangChain.js `index()` with its Postgres record manager into its PGVectorStore, on the
 * same corpus, chunks, embeddings server (at 200 ms + 5 ms/input and 50 ms + 0.5 ms/input) and Postgres
 * as vector-ingest. Reported: chunks/s of each (ours ÷ theirs, target >= 3), and embedding calls
 * and deletions on an unchanged re-index.
 * LangChain is installed apart from the project's dependencies (bench/peer/), on first use.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { OpenAIEmbedder } from '../src/embedders/openai';
import { chunkDocument } from '../src/text/document';
import { DEFAULT_FORMAT_LIMITS } from '../src/text/formats';
import { embeddingText } from '../src/text/sections';
import { DirectorySource } from '../src/sources/directory';
import { buildCorpus } from '../test/support/corpus';
import { TEST_DATABASE_URL, tempDir, withPg } from '../test/support/env';
import { alternating, clearEmbeddingCache, dropCollection, median, report, startStack, timedIngest } from './lib';

function langchain() {
  const dir = path.join(__dirname, 'peer');
  if (!existsSync(path.join(dir, 'node_modules', '@langchain', 'community'))) {
    execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, stdio: 'inherit' });
  }
  const req = createRequire(path.join(dir, 'package.json'));
  return {
    index: req('@langchain/core/indexing').index,
    Embeddings: req('@langchain/core/embeddings').Embeddings,
    Document: req('@langchain/core/documents').Document,
    PostgresRecordManager: req('@langchain/community/indexes/postgres').PostgresRecordManager,
    PGVectorStore: req('@langchain/community/vectorstores/pgvector').PGVectorStore,
  };
}

export async function peer(smoke: boolean): Promise<void> {
  const files = smoke ? 60 : 600;
  // A hosted provider: ~200 ms + 5 ms per input (DESIGN.md); and a fast one at 50 ms + 0.5 ms per input.
  const latencies = smoke ? [{ ms: 50, perInput: 0.5 }] : [{ ms: 200, perInput: 5 }, { ms: 50, perInput: 0.5 }];
  const dir = tempDir('vi-bench-peer-');
  buildCorpus(dir, { files, largeFiles: Math.ceil(files / 100), seed: 21 });
  const chunking = { chunkTokens: 256, overlapTokens: 32 };
  const lc = langchain();
  const model = `bench-peer-${Date.now()}`;
  const stack = await startStack({ model, emb: { latencyMs: latencies[0]!.ms, perInputLatencyMs: latencies[0]!.perInput } });
  const table = 'bench_peer_langchain';
  try {
    await withPg(async (c) => {
      await c.query(`DROP TABLE IF EXISTS ${table}`);
      await c.query('DROP TABLE IF EXISTS bench_peer_records');
    });
    const embedder = new OpenAIEmbedder({ apiKey: 'k', baseURL: stack.emb.url, model: `lc-${Date.now()}`, dimensions: 64, sendDimensions: true, timeoutMs: 60_000 });
    // The usual way to plug an OpenAI-compatible server into LangChain: an Embeddings subclass.
    class ServerEmbeddings extends lc.Embeddings {
      constructor() {
        super({});
      }
      async embedDocuments(texts: string[]) {
        return (await embedder.embed(texts)).vectors;
      }
      async embedQuery(text: string) {
        return (await embedder.embed([text])).vectors[0];
      }
    }
    const pg = { connectionString: TEST_DATABASE_URL };
    const vectorStore = await lc.PGVectorStore.initialize(new ServerEmbeddings(), { postgresConnectionOptions: pg, tableName: table, dimensions: 64 });
    const recordManager = new lc.PostgresRecordManager('bench_peer', { postgresConnectionOptions: pg, tableName: 'bench_peer_records' });
    await recordManager.createSchema();
    const loadDocs = async () => {
      const src = new DirectorySource(dir);
      const out: unknown[] = [];
      let cursor: string | null = null;
      for (;;) {
        const page = await src.listPage(cursor, 1000);
        for (const item of page.items) {
          // The chunks vector-ingest's planner makes of the same file (sections, heading path
          // before the text), so both sides embed and store the same texts.
          const bytes = await src.read(item, 1 << 30);
          for (const c of await chunkDocument({ documentId: item.id, bytes, format: item.format, chunking, limits: DEFAULT_FORMAT_LIMITS })) {
            out.push(new lc.Document({ pageContent: embeddingText(c.embedPrefix, c.content), metadata: { source: item.id, chunk_index: c.index } }));
          }
        }
        if (!page.nextCursor) return out;
        cursor = page.nextCursor;
      }
    };
    const runLc = async () => {
      const t0 = process.hrtime.bigint();
      const docs = await loadDocs();
      const r = await lc.index({ docsSource: docs, recordManager, vectorStore, options: { cleanup: 'incremental', sourceIdKey: 'source', batchSize: 64 } });
      return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, chunks: docs.length, added: r.numAdded as number, deleted: r.numDeleted as number };
    };
    const resetLc = async () =>
      withPg(async (c) => {
        await c.query(`TRUNCATE ${table}`);
        await c.query('TRUNCATE bench_peer_records');
      });
    const rows: Array<Record<string, unknown>> = [];
    const notes: string[] = [];
    const collection = 'bench_peer_ours';
    const input = { collection, source: { kind: 'directory' as const, path: dir }, chunking, batching: { maxChunks: 64, maxTokens: 32_000 }, pageSize: 200 };
    const runLangChain = async () => {
      await resetLc();
      stack.emb.reset();
      const first = await runLc();
      const calls = stack.emb.stats.requests;
      stack.emb.reset();
      const again = await runLc();
      return {
        pipeline: 'LangChain.js index() + PGVectorStore',
        chunks: first.chunks,
        first: first.seconds,
        calls,
        again: again.seconds,
        againCalls: stack.emb.stats.requests,
        churn: `${again.deleted}/${again.added}`,
      };
    };
    const runOurs = async (latencyMs: number, round: number) => {
      // Cold like LangChain's first run: no rows and no cached embeddings.
      await dropCollection(collection);
      await clearEmbeddingCache(model);
      stack.emb.reset();
      const first = await timedIngest(stack, `bench-peer-${latencyMs}-${round}-1-${Date.now()}`, input);
      const calls = stack.emb.stats.requests;
      stack.emb.reset();
      const again = await timedIngest(stack, `bench-peer-${latencyMs}-${round}-2-${Date.now()}`, input);
      return {
        pipeline: 'vector-ingest',
        chunks: first.result.counters.chunksUpserted,
        first: first.seconds,
        calls,
        again: again.seconds,
        againCalls: stack.emb.stats.requests,
        churn: `${again.result.counters.documentsDeleted}/${again.result.counters.chunksEmbedded}`,
      };
    };
    // Shared noisy machine: several rounds per latency, alternating who goes first; median ratio.
    const rounds = smoke ? 1 : 3;
    for (const { ms: latencyMs, perInput } of latencies) {
      stack.emb.setLatency(latencyMs, perInput);
      const ratios: number[] = [];
      for (let round = 1; round <= rounds; round++) {
        const [theirs, ours] = await alternating(round, runLangChain, () => runOurs(latencyMs, round));
        const ratio = ours.chunks / ours.first / (theirs.chunks / theirs.first);
        ratios.push(ratio);
        for (const r of [theirs, ours]) {
          rows.push({
            'latency ms': `${latencyMs} + ${perInput}/input`,
            round,
            pipeline: r.pipeline,
            chunks: r.chunks,
            'first run s': r.first,
            'chunks/s': r.chunks / r.first,
            'embedding calls': r.calls,
            'unchanged re-run s': r.again,
            'calls on unchanged re-run': r.againCalls,
            're-run deleted/added': r.churn,
            'ours ÷ theirs': r === ours ? ratio.toFixed(2) : '',
          });
        }
      }
      notes.push(`provider latency ${latencyMs} ms + ${perInput} ms/input: median ours ÷ LangChain (chunks/s, first run) over ${rounds} round(s) = ${median(ratios).toFixed(2)} (target >= 3)`);
    }
    await vectorStore.end?.();
    await recordManager.end?.();
    report('peer', rows, [...notes, `${files} files, batches of 64 chunks, vector-ingest at its defaults (16 embedding activities under an adaptive limit of up to 32 requests, 4 upsert activities); LangChain's index() has no concurrency option`]);
  } finally {
    await stack.stop();
    await dropCollection('bench_peer_ours').catch(() => undefined);
    await withPg(async (c) => {
      await c.query(`DROP TABLE IF EXISTS ${table}`);
      await c.query('DROP TABLE IF EXISTS bench_peer_records');
    }).catch(() => undefined);
  }
}
