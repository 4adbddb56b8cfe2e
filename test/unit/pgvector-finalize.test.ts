/**
 * finalize() when a parallel HNSW build cannot get its dynamic shared memory (Postgres in a
 * container with the default 64MB /dev/shm and a larger maintenance_work_mem): the build is
 * repeated once without parallel workers instead of failing the run's finish on every retry.
 * Other errors are not retried here.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pool } from 'pg';
import { hnswBuildKb, PgVectorStore } from '../../src/sinks/pgvector';

/** `rows`: the table's row count as the build's sizing query sees it (null: the index exists already). */
function fakePool(failFirstBuild: Error | undefined, rows: number | null = null): { pool: Pool; log: string[] } {
  const log: string[] = [];
  let failed = false;
  const query = async (sql: string) => {
    const s = sql.replace(/\s+/g, ' ').trim();
    if (s.startsWith('SELECT a.atttypmod')) return { rows: [{ typmod: 3, type: 'vector' }] };
    if (s.startsWith('SELECT CASE WHEN to_regclass')) return { rows: [{ rows: rows === null ? null : String(rows) }] };
    log.push(s.slice(0, 60));
    if (failFirstBuild && !failed && s.includes('USING hnsw')) {
      failed = true;
      throw failFirstBuild;
    }
    return { rows: [] };
  };
  const client = { query, on: () => undefined, off: () => undefined, release: () => undefined };
  return { pool: { query, connect: async () => client } as unknown as Pool, log };
}

describe('PgVectorStore.finalize', () => {
  it('sets maintenance_work_mem for the build transaction', async () => {
    const { pool, log } = fakePool(undefined);
    await new PgVectorStore(pool, 'public', { indexBuildMemoryKb: 1024 * 1024 }).finalize('c');
    assert.deepEqual(log.slice(0, 2), ['BEGIN', "SET LOCAL maintenance_work_mem = '1048576kB'"]);
    assert.equal(log.at(-1), 'COMMIT');
  });

  it('gives a build no more memory than its table\'s graph needs, and the configured most to a big one', async () => {
    const small = fakePool(undefined, 7_800);
    await new PgVectorStore(small.pool, 'public', { indexBuildMemoryKb: 1024 * 1024 }).finalize('c');
    assert.equal(small.log[1], "SET LOCAL maintenance_work_mem = '65536kB'");
    const big = fakePool(undefined, 5_000_000);
    await new PgVectorStore(big.pool, 'public', { indexBuildMemoryKb: 1024 * 1024 }).finalize('c');
    assert.equal(big.log[1], "SET LOCAL maintenance_work_mem = '1048576kB'");
    const lowCap = fakePool(undefined, 7_800);
    await new PgVectorStore(lowCap.pool, 'public', { indexBuildMemoryKb: 1024 }).finalize('c');
    assert.equal(lowCap.log[1], "SET LOCAL maintenance_work_mem = '1024kB'", 'never above the configured most');
    assert.equal(hnswBuildKb(200_000, 1536), Math.ceil((200_000 * (4 * 1536 + 1024) * 2) / 1024));
  });

  it('repeats a build that ran out of shared memory without parallel workers', async () => {
    const { pool, log } = fakePool(new Error('could not resize shared memory segment "/PostgreSQL.1" to 1073741824 bytes: No space left on device'));
    await new PgVectorStore(pool, 'public', { indexBuildMemoryKb: 1024 * 1024 }).finalize('c');
    assert.ok(log.includes('ROLLBACK'));
    const retry = log.slice(log.indexOf('ROLLBACK') + 1);
    assert.deepEqual(retry.slice(0, 3), ['BEGIN', "SET LOCAL maintenance_work_mem = '1048576kB'", 'SET LOCAL max_parallel_maintenance_workers = 0']);
    assert.equal(retry.at(-1), 'COMMIT');
  });

  it('does not retry other errors', async () => {
    const { pool, log } = fakePool(new Error('permission denied for table c'));
    await assert.rejects(new PgVectorStore(pool).finalize('c'), /permission denied/);
    assert.equal(log.filter((l) => l === 'BEGIN').length, 1);
  });
});
