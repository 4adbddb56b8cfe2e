/**
 * The pgvector sink's index builds at a run's finish get VECTOR_INGEST_INDEX_BUILD_MEMORY as
 * maintenance_work_mem, for their own transaction only. Proof from the build itself: pgvector
 * says "hnsw graph no longer fits into maintenance_work_mem" when the graph outgrows the memory
 * it was given; at 1MB it must say so for a few thousand vectors, at 64MB it must not, and the
 * pooled connection keeps the server's setting afterwards.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { PgVectorStore } from '../../src/sinks/pgvector';
import { TEST_DATABASE_URL, uniqueCollection } from '../support/env';

const DIMS = 32;
const ROWS = 3000;

describe('index build memory of the pgvector sink', () => {
  let pool: pg.Pool;
  const notices: string[] = [];
  const collection = uniqueCollection('ibm');
  before(async () => {
    // One connection: the setting must not outlive the build on the connection the pool keeps.
    pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 1 });
    pool.on('connect', (c) => c.on('notice', (n) => notices.push(n.message ?? '')));
    await new PgVectorStore(pool).ensureCollection(collection, DIMS);
    await pool.query(
      `INSERT INTO public.${collection} (id, document_id, chunk_index, content, content_hash, embedding)
       SELECT gen_random_uuid(), 'd' || g, 0, 'text ' || g, 'h' || g,
              (SELECT array_agg(random()::real) FROM generate_series(1, ${DIMS}) WHERE g > 0)::vector(${DIMS})
       FROM generate_series(1, ${ROWS}) g`,
    );
  });
  after(async () => {
    await pool.query(`DROP TABLE IF EXISTS public.${collection}`);
    await pool.end();
  });

  const build = async (kb: number): Promise<string[]> => {
    await pool.query(`DROP INDEX IF EXISTS public.${collection}_embedding_hnsw`);
    notices.length = 0;
    await new PgVectorStore(pool, 'public', { indexBuildMemoryKb: kb }).finalize(collection);
    const r = await pool.query(`SELECT count(*)::int AS n FROM pg_indexes WHERE tablename = $1 AND indexname = $2`, [collection, `${collection}_embedding_hnsw`]);
    assert.equal(r.rows[0].n, 1, 'the HNSW index exists after finalize');
    return notices.filter((m) => /no longer fits into maintenance_work_mem/.test(m));
  };

  it('builds the graph on disk at 1MB and in memory at 64MB: the setting reaches the build', async () => {
    const serverDefault = (await pool.query(`SHOW maintenance_work_mem`)).rows[0].maintenance_work_mem;
    assert.equal((await build(1024)).length, 1, 'at 1MB, pgvector reports the graph outgrew maintenance_work_mem');
    assert.equal((await pool.query(`SHOW maintenance_work_mem`)).rows[0].maintenance_work_mem, serverDefault, 'SET LOCAL: the pooled connection keeps the server setting');
    assert.deepEqual(await build(64 * 1024), [], 'at 64MB the graph of 3000 32-d vectors fits');
  });
});
