import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as path from 'node:path';
import { pointId } from '../../src/ids';
import { SA } from '../../src/workflows/search-attributes';
import { startEmbeddingServer, type EmbeddingServer } from '../../src/testing/embedding-server';
import type { DevServer } from '../../src/embedded/temporal';
import { ingestCollection } from '../../src/workflows';
import { TASK_QUEUE, type IngestInput, type IngestResult } from '../../src/contracts/ingest';
import { buildCorpus } from '../support/corpus';
import {
  historyPayloadText,
  historySize,
  startTemporal,
  teardown,
  startTestWorker,
  tempDir,
  testClient,
  testConfig,
  uniqueCollection,
  withPg,
  type TestWorker,
} from '../support/env';

// Real Temporal dev server, real Postgres 15 + pgvector, real HTTP embeddings server with the
// real `openai` client. Nothing is mocked here.
describe('ingestCollection end to end', () => {
  const FILES = 220;
  const LARGE = 4;
  const DIMS = 64;
  let server: DevServer;
  let emb: EmbeddingServer;
  let worker: TestWorker;
  let tc: Awaited<ReturnType<typeof testClient>>;
  let corpus: string;
  let ids: string[];
  const collection = uniqueCollection('it_ingest');

  const input = (): IngestInput => ({
    collection,
    source: { kind: 'directory', path: corpus },
    pageSize: 40,
    maxPagesPerRun: 2, // forces continue-as-new several times on this corpus
    chunking: { chunkTokens: 200, overlapTokens: 24 },
    batching: { maxChunks: 64, maxTokens: 12_000 },
    maxInFlightBatches: 4,
  });

  const run = async (workflowId: string): Promise<{ result: IngestResult; firstRunId: string }> => {
    const handle = await tc.client.workflow.start(ingestCollection, { taskQueue: TASK_QUEUE, workflowId, args: [input()] });
    return { result: await handle.result(), firstRunId: handle.firstExecutionRunId };
  };

  before(async () => {
    corpus = tempDir('vi-corpus-');
    ids = buildCorpus(corpus, { files: FILES, largeFiles: LARGE });
    [server, emb] = await Promise.all([startTemporal(), startEmbeddingServer({ dimensions: DIMS })]);
    const config = testConfig({}, { OPENAI_BASE_URL: emb.url, OPENAI_API_KEY: 'sk-test-not-a-secret', EMBEDDING_MODEL: 'test-embed', EMBEDDING_DIMENSIONS: String(DIMS) });
    worker = await startTestWorker(server, config);
    tc = await testClient(server);
  });

  after(() => teardown({ tc, worker, server, emb, collection }));

  let first: IngestResult;
  let rowsAfterFirst: Array<{ id: string; xmin: string }>;

  it('first run writes exactly one row per chunk, with the right ids and sizes', async () => {
    const { result, firstRunId } = await run(`${collection}-1`);
    first = result;
    const c = result.counters;
    assert.equal(c.documentsListed, FILES);
    assert.equal(c.documentsChanged, FILES);
    assert.equal(c.documentsFailed, 0);
    assert.equal(c.chunksFailed, 0);
    assert.ok(c.chunksPlanned > FILES, `expected more chunks than files, got ${c.chunksPlanned}`);
    assert.equal(c.chunksUpserted, c.chunksPlanned);
    assert.ok(result.continuedAsNew >= 2, `expected continue-as-new, got ${result.continuedAsNew}`);
    assert.equal(c.pages, Math.ceil(FILES / 40));

    await withPg(async (db) => {
      const t = `public.${collection}`;
      const r = await db.query(
        `SELECT count(*)::int AS rows, count(DISTINCT id)::int AS ids, count(DISTINCT document_id)::int AS docs,
                min(vector_dims(embedding)) AS dmin, max(vector_dims(embedding)) AS dmax FROM ${t}`,
      );
      assert.deepEqual(r.rows[0], { rows: c.chunksPlanned, ids: c.chunksPlanned, docs: FILES, dmin: DIMS, dmax: DIMS });
      // chunk indexes of every document are 0..n-1 and ids are UUIDv5(collection, doc, index)
      const gaps = await db.query(
        `SELECT document_id FROM ${t} GROUP BY document_id HAVING max(chunk_index) + 1 <> count(*) OR min(chunk_index) <> 0`,
      );
      assert.equal(gaps.rowCount, 0);
      const sample = await db.query(`SELECT id, document_id, chunk_index FROM ${t} ORDER BY document_id, chunk_index LIMIT 50`);
      for (const row of sample.rows) assert.equal(row.id, pointId(collection, row.document_id, row.chunk_index));
      const docs = await db.query(`SELECT DISTINCT document_id FROM ${t} ORDER BY 1`);
      assert.deepEqual(docs.rows.map((x) => x.document_id).sort(), [...ids].sort());
      const idx = await db.query(`SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = $1`, [collection]);
      assert.ok(idx.rows.some((x) => /USING hnsw \(embedding vector_cosine_ops\)/.test(x.indexdef)), 'HNSW index missing');
      const staged = await db.query(`SELECT count(*)::int AS n FROM vector_ingest.staged_chunks WHERE collection = $1`, [collection]);
      assert.equal(staged.rows[0].n, 0, 'staging rows left behind');
      // a large document was split into many chunks, and text made it through intact
      const big = await db.query(`SELECT count(*)::int AS n FROM ${t} WHERE document_id = $1`, [ids[0]]);
      assert.ok(big.rows[0].n > 20, `large document has only ${big.rows[0].n} chunks`);
      const text = await db.query(`SELECT content FROM ${t} WHERE document_id = $1 AND chunk_index = 0`, [ids[0]]);
      assert.match(text.rows[0].content, /d0p0-0\./);
      rowsAfterFirst = (await db.query(`SELECT id, xmin::text AS xmin FROM ${t} ORDER BY id`)).rows;
    });

    // every distinct chunk text was embedded exactly once, through the real HTTP API
    assert.equal(emb.stats.inputs, c.chunksEmbedded);
    assert.equal(c.chunksEmbedded + c.chunksCached, c.chunksPlanned);
    assert.equal(emb.stats.requests, c.embeddingRequests);

    // the run is findable in the Web UI / CLI by its typed search attributes
    const desc = await tc.client.workflow.getHandle(`${collection}-1`).describe();
    assert.equal(desc.typedSearchAttributes.get(SA.collection), collection);
    assert.equal(desc.typedSearchAttributes.get(SA.phase), 'done');
    assert.equal(desc.typedSearchAttributes.get(SA.chunksDone), c.chunksUpserted);
    assert.equal(desc.typedSearchAttributes.get(SA.chunksFailed), 0);

    const h = await historySize(tc.client, `${collection}-1`, firstRunId);
    const perChunk = h.bytes / c.chunksPlanned;
    console.log(`history: ${h.bytes} bytes, ${h.events} events, ${h.runs} runs, ${c.chunksPlanned} chunks -> ${perChunk.toFixed(1)} B/chunk`);
    assert.equal(h.runs, result.continuedAsNew + 1);
    assert.ok(perChunk <= 100, `history ${perChunk.toFixed(1)} B/chunk exceeds the 100 B budget`);
  });

  it('a second run over the same documents embeds nothing and writes nothing', async () => {
    assert.ok(first, 'first run must have passed');
    emb.reset();
    const { result } = await run(`${collection}-2`);
    const c = result.counters;
    assert.equal(c.documentsListed, FILES);
    assert.equal(c.documentsUnchanged, FILES);
    assert.equal(c.documentsChanged, 0);
    assert.equal(c.chunksPlanned, 0);
    assert.equal(c.chunksUpserted, 0);
    assert.equal(c.documentsDeleted, 0);
    assert.equal(emb.stats.requests, 0, 'the embedding server was called on an unchanged re-run');
    await withPg(async (db) => {
      const rows = (await db.query(`SELECT id, xmin::text AS xmin FROM public.${collection} ORDER BY id`)).rows;
      assert.deepEqual(rows, rowsAfterFirst, 'rows were rewritten on an unchanged re-run');
    });
  });

  it('history carries references only: no chunk text, no vectors', async () => {
    const text = await historyPayloadText(tc.client, `${collection}-1`);
    assert.ok(text.includes(corpus), 'positive control: the source path (a reference) should be in history');
    assert.ok(text.includes('"chunksUpserted"'), 'positive control: counters should be in history');
    assert.ok(!text.includes('d0p0-0'), 'chunk text found in history');
    assert.ok(!/\[-?\d\.\d+(e-?\d+)?,-?\d\.\d+(e-?\d+)?,-?\d\.\d+/.test(text), 'a vector-like array found in history');
  });
});
