import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { DevServer } from '../../src/embedded/temporal';
import { hashEmbed } from '../../src/embedders/offline';
import { pointId } from '../../src/ids';
import { openSearch } from '../../src/search/open';
import { searchCollection } from '../../src/search/search';
import { PgVectorStore } from '../../src/sinks/pgvector';
import { startEmbeddingServer, type EmbeddingServer } from '../../src/testing/embedding-server';
import { ingestCollection } from '../../src/workflows';
import { TASK_QUEUE, type IngestInput } from '../../src/contracts/ingest';
import { buildCorpus } from '../support/corpus';
import { startTemporal, startTestWorker, teardown, tempDir, testClient, testConfig, TEST_DATABASE_URL, uniqueCollection, withPg, type TestWorker } from '../support/env';
import { expectedRows } from '../support/expected';

const CHUNKING = { chunkTokens: 120, overlapTokens: 16 };

// `--vector-type halfvec`: pgvector stores float16s (halfvec), indexes them with
// halfvec_cosine_ops, and search queries them as halfvec, end to end on real Postgres.
describe('halfvec collections (pgvector)', () => {
  let server: DevServer;
  let emb: EmbeddingServer;
  let worker: TestWorker;
  let tc: Awaited<ReturnType<typeof testClient>>;
  let dir: string;
  const collection = uniqueCollection('it_half');
  const env = () => ({ OPENAI_BASE_URL: emb.url, EMBEDDING_MODEL: `half-${collection}`, EMBEDDING_DIMENSIONS: '32', EMBEDDING_SEND_DIMENSIONS: 'true' });

  before(async () => {
    dir = tempDir('vi-half-');
    buildCorpus(dir, { files: 20, largeFiles: 1 });
    [server, emb] = await Promise.all([startTemporal(), startEmbeddingServer({ dimensions: 32 })]);
    worker = await startTestWorker(server, testConfig({}, env()));
    tc = await testClient(server);
  });
  after(() => teardown({ tc, worker, server, emb, collection }));

  it('ingests into a halfvec column with a halfvec HNSW index, and search finds each chunk by its own text', async () => {
    const input: IngestInput = { collection, source: { kind: 'directory', path: dir }, chunking: CHUNKING, vectorType: 'halfvec' };
    const h = await tc.client.workflow.start(ingestCollection, { taskQueue: TASK_QUEUE, workflowId: `${collection}-1`, args: [input] });
    await h.result();
    const expected = expectedRows(collection, dir, CHUNKING);
    const { type, index, n } = await withPg(async (c) => ({
      type: (await c.query(`SELECT format_type(atttypid, atttypmod) AS t FROM pg_attribute WHERE attrelid = 'public.${collection}'::regclass AND attname = 'embedding'`)).rows[0].t,
      index: (await c.query(`SELECT indexdef FROM pg_indexes WHERE tablename = $1 AND indexname LIKE '%hnsw'`, [collection])).rows[0]?.indexdef,
      n: (await c.query(`SELECT count(*)::int AS n FROM public.${collection}`)).rows[0].n,
    }));
    assert.equal(type, 'halfvec(32)');
    assert.match(index, /USING hnsw \(embedding halfvec_cosine_ops\)/);
    assert.equal(n, expected.length);
    const search = await openSearch(testConfig({}, env()), TEST_DATABASE_URL);
    try {
      // A chunk's own text is its nearest neighbour (the fake embedder is deterministic), even in float16.
      for (const row of expected.filter((_, i) => i % 7 === 0)) {
        const r = await searchCollection(search, { collection, query: row.content, limit: 3 });
        assert.equal(r.results.length, 3);
        assert.equal(r.results[0]!.id, row.id, `the top hit for chunk ${row.document_id}#${row.chunk_index} is itself`);
        // The score is the cosine of the query's vector and the stored float16s, to float16 precision.
        const stored = await withPg(async (c) => JSON.parse((await c.query(`SELECT embedding::text AS e FROM public.${collection} WHERE id = $1`, [row.id])).rows[0].e) as number[]);
        const q = hashEmbed(row.content, 32).vector;
        const cos = q.reduce((s, x, i) => s + x * stored[i]!, 0) / (Math.hypot(...q) * Math.hypot(...stored));
        assert.ok(Math.abs(r.results[0]!.score - cos) < 2e-3, `score ${r.results[0]!.score} vs cosine ${cos}`);
      }
    } finally {
      await search.close();
    }
  });

  it('writes through binary COPY the same float16s as pgvector\'s own vector → halfvec cast', async () => {
    const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 2 });
    const name = uniqueCollection('it_halfcopy');
    try {
      const store = new PgVectorStore(pool);
      await store.ensureCollection(name, 4, { vectorType: 'halfvec' });
      const v = [0.1, 1 / 3, -65504, 6e-8];
      await store.upsert(name, [{ id: pointId(name, 'd', 0), documentId: 'd', chunkIndex: 0, content: 'x', contentHash: 'h', metadata: {}, vector: v }]);
      const r = await pool.query(`SELECT embedding::text AS stored, $1::vector::halfvec::text AS cast FROM public.${name}`, [`[${v.join(',')}]`]);
      assert.equal(r.rows[0].stored, r.rows[0].cast);
      // The same point again with another vector: the merge path (a temp table of halfvecs, then ON CONFLICT).
      const w = [0.2, -1 / 7, 1000.5, 0];
      await store.upsert(name, [{ id: pointId(name, 'd', 0), documentId: 'd', chunkIndex: 0, content: 'x', contentHash: 'h2', metadata: {}, vector: w }]);
      const m = await pool.query(`SELECT embedding::text AS stored, $1::vector::halfvec::text AS cast FROM public.${name}`, [`[${w.join(',')}]`]);
      assert.equal(m.rows[0].stored, m.rows[0].cast);
      await assert.rejects(store.upsert(name, [{ id: pointId(name, 'd', 1), documentId: 'd', chunkIndex: 1, content: 'y', contentHash: 'h', metadata: {}, vector: [1e6, 0, 0, 0] }]), /beyond halfvec range/);
      assert.equal(await store.count(name), 1);
    } finally {
      await pool.query(`DROP TABLE IF EXISTS public.${name}`);
      await pool.end();
    }
  });
});
