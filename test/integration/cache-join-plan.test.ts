/**
 * A batch's upsert reads its staged chunks' vectors from the embedding cache (pointsQuery, and
 * landingQuery built on it). Written as a plain join, on a cache the planner had
 * no statistics for yet (every first run), Postgres scanned the cache's primary key on
 * (model, dimensions) alone and filtered text_hash row by row: each 64-chunk batch read every
 * cached vector of its model, so a run's database work grew with the square of its size (the
 * orchestration-tax profile in BENCHMARKS.md found it). This test builds that situation in a
 * database of its own (so no earlier test's statistics exist), and checks the work one batch
 * costs through EXPLAIN's buffer counts, which do not depend on the machine's speed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { StateStore } from '../../src/state/store';
import { scratchDatabase } from '../support/scratch-db';

const db = scratchDatabase('vi_plan_db');

const CACHED = 8000;
const BATCH = 64;
const model = 'plan-test-model';
const key = { collection: 'plan_c', runKey: 'r1', pageNo: 3, batchNo: 2 };

describe('embedding cache lookups of one batch', () => {
  let pool: pg.Pool;
  let store: StateStore;
  before(async () => {
    // no statistics while the test runs: autovacuum must not analyze these tables in between
    ({ pool, store } = await db.createStateStore(['staged_chunks', 'embedding_cache']));
    // 8,000 staged chunks over 125 batches, and a cached vector for each (one model)
    await pool.query(
      `INSERT INTO vector_ingest.staged_chunks (collection, run_key, page_no, batch_no, document_id, chunk_index, point_id, text_hash, content, tokens)
       SELECT 'plan_c', 'r1', i / 512, (i / ${BATCH}) % 8, 'd' || i, 0, gen_random_uuid(), md5(i::text), 'text ' || i, 3
       FROM generate_series(0, ${CACHED - 1}) i`,
    );
    await pool.query(
      `INSERT INTO vector_ingest.embedding_cache (model, dimensions, text_hash, embedding)
       SELECT $1, 4, md5(i::text), '[1,2,3,4]' FROM generate_series(0, ${CACHED - 1}) i`,
      [model],
    );
  });
  after(async () => {
    await pool?.end();
    await db.drop();
  });

  it('probes the cache once per chunk by its whole key, however many vectors the model has cached', async () => {
    const q = store.cache.pointsQuery(key, model, 4);
    const plan = (await pool.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${q.sql}`, q.params)).rows[0]['QUERY PLAN'][0].Plan;
    assert.equal(plan['Actual Rows'], BATCH, 'the batch has 64 chunks, each with a cached vector');
    const blocks = plan['Shared Hit Blocks'] + (plan['Shared Read Blocks'] ?? 0);
    // an index probe per chunk costs ~3 blocks (64 x 3 + the batch's own rows); reading the
    // model's whole key range per chunk cost ~240,000
    assert.ok(blocks < 20 * BATCH, `one batch's lookup touched ${blocks} buffer blocks for ${BATCH} chunks and ${CACHED} cached vectors`);
  });
});
