/**
 * The state store's per-batch and per-page lookups must cost work proportional to what they
 * return, whatever statistics Postgres has. Found by the orchestration-tax profile (BENCHMARKS.md,
 * "Tax profile"): on tables never analyzed (every first run), `text_hash = ANY($hashes)` was
 * planned as a scan of the model's whole key range in the embedding cache, and a page commit's
 * correlated NOT EXISTS rescanned the whole page's staged chunks once per document. Each test
 * builds the situation in a database of its own (no statistics, autovacuum off) and counts the
 * buffer blocks the store's own statements touch through EXPLAIN, which does not depend on the
 * machine's speed.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { StateStore } from '../../src/state/store';
import { scratchDatabase } from '../support/scratch-db';

const db = scratchDatabase('vi_plans_db');

/** A pool whose every query is first run under EXPLAIN (ANALYZE, BUFFERS) in a rolled-back transaction; the blocks are summed. */
function explainingPool(real: pg.Pool): { pool: pg.Pool; blocks: () => number; reset: () => void } {
  let blocks = 0;
  const query = async (sql: string, params?: unknown[]) => {
    const c = await real.connect();
    try {
      await c.query('BEGIN');
      const plan = (await c.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${sql}`, params)).rows[0]['QUERY PLAN'][0];
      blocks += plan.Plan['Shared Hit Blocks'] + (plan.Plan['Shared Read Blocks'] ?? 0);
      await c.query('ROLLBACK');
    } finally {
      c.release();
    }
    return real.query(sql, params);
  };
  return { pool: { query } as unknown as pg.Pool, blocks: () => blocks, reset: () => (blocks = 0) };
}

describe('state store lookups on tables without statistics', () => {
  let pool: pg.Pool;
  before(async () => {
    ({ pool } = await db.createStateStore(['staged_chunks', 'embedding_cache', 'documents']));
  });
  after(async () => {
    await pool?.end();
    await db.drop();
  });

  it('looks a batch of hashes up in the cache one probe each, however many vectors the model has cached', async () => {
    const CACHED = 8000;
    await pool.query(
      `INSERT INTO vector_ingest.embedding_cache (model, dimensions, text_hash, embedding)
       SELECT 'm', 4, md5(i::text), '[1,2,3,4]' FROM generate_series(0, ${CACHED - 1}) i`,
    );
    const x = explainingPool(pool);
    const store = new StateStore(x.pool);
    // 64 hashes of a batch: 60 cached, 4 not
    const hashes = [...Array.from({ length: 60 }, (_, i) => md5(i * 97)), 'n1', 'n2', 'n3', 'n4'];
    const cached = await store.cache.cachedHashes('m', 4, hashes);
    assert.equal(cached.size, 60);
    assert.ok(!cached.has('n1'));
    const vectors = await store.cache.getEmbeddings('m', 4, hashes);
    assert.equal(vectors.size, 60);
    assert.deepEqual(vectors.get(md5(97)), [1, 2, 3, 4]);
    // a probe costs ~3 blocks (2 x 64 x 3); the model's whole key range cost ~570 per call here,
    // and grows with the cache
    assert.ok(x.blocks() < 2 * 64 * 5, `two lookups of 64 hashes touched ${x.blocks()} buffer blocks with ${CACHED} vectors cached`);
  });

  it("reads a page's staged chunks once to find the documents whose every chunk landed", async () => {
    const DOCS = 200;
    await pool.query(
      `INSERT INTO vector_ingest.documents (collection, document_id, last_seen_run, pending_hash, pending_chunk_count, pending_page)
       SELECT 'c', 'doc' || d, 'r1', 'h', 5, 'r1:' || (d / ${DOCS}) FROM generate_series(0, ${4 * DOCS - 1}) d`,
    );
    // 4 pages of 200 documents of 5 chunks; page 2's doc410 has a failed chunk, doc411 one still pending
    await pool.query(
      `INSERT INTO vector_ingest.staged_chunks (collection, run_key, page_no, batch_no, document_id, chunk_index, point_id, text_hash, content, tokens, status)
       SELECT 'c', 'r1', d / ${DOCS}, ((d % ${DOCS}) * 5 + c) / 64, 'doc' || d, c, gen_random_uuid(), md5(d || '-' || c), repeat('x', 1000), 256,
              CASE WHEN d = 410 AND c = 2 THEN 2 WHEN d = 411 AND c = 4 THEN 0 ELSE 1 END
       FROM generate_series(0, ${4 * DOCS - 1}) d, generate_series(0, 4) c`,
    );
    const x = explainingPool(pool);
    const store = new StateStore(x.pool);
    const committed = await store.staging.committablePage('c', 'r1', 2);
    assert.equal(committed.length, DOCS - 2);
    assert.ok(!committed.some((d) => d.documentId === 'doc410' || d.documentId === 'doc411'));
    assert.deepEqual(committed.find((d) => d.documentId === 'doc400'), { documentId: 'doc400', chunkCount: 5, hadError: false });
    // the page's 1,000 chunks (~1,000 blocks, one row per block at this text size) once, plus the
    // documents; once per document was ~200,000
    assert.ok(x.blocks() < 3 * DOCS * 5, `one page commit's lookup touched ${x.blocks()} buffer blocks for ${DOCS} documents of 5 chunks`);
  });
});

/** Postgres's md5(i::text). */
function md5(i: number): string {
  return createHash('md5').update(String(i)).digest('hex');
}
