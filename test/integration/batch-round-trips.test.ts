/**
 * Statements the state store sends per batch. On a loaded machine each one is a wait for the
 * Postgres backend to be scheduled (tens of ms at load 15+, BENCHMARKS.md "Tax profile"), so a
 * batch's activities are as slow as their count of round trips. embedBatch reads what it needs
 * in one (pending chunks, which are cached, earlier failures) and writes the misses' vectors in
 * one; upsertBatch into pgvector finds its target and writes in one statement that also holds
 * the lease's fence and marks the chunks landed. The fence must still keep a run that lost the
 * collection from writing, including one whose write waited for the takeover.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import pino from 'pino';
import { createActivities } from '../../src/activities';
import { embedBatch } from '../../src/activities/embed';
import type { ActivityDeps } from '../../src/activities/deps';
import { OfflineEmbedder } from '../../src/embedders/offline';
import { sha256 } from '../../src/ids';
import { PgVectorStore } from '../../src/sinks/pgvector';
import { LeaseLostError } from '../../src/state/leases';
import { StateStore } from '../../src/state/store';
import { TEST_DATABASE_URL, uniqueCollection } from '../support/env';
import { cacheChunks, liveCollection } from '../support/live-collection';

/** The pool, with every statement sent through it counted. */
function countingPool(real: pg.Pool): { pool: pg.Pool; sent: string[] } {
  const sent: string[] = [];
  const pool = new Proxy(real, {
    get(target, prop, receiver) {
      if (prop === 'query') {
        return (sql: string, params?: unknown[]) => {
          sent.push(sql.replace(/\s+/g, ' ').slice(0, 60));
          return target.query(sql, params);
        };
      }
      return Reflect.get(target, prop, receiver);
    },
  });
  return { pool, sent };
}

describe('state-store round trips of one batch', () => {
  const collection = uniqueCollection('it_rt');
  const runKey = 'run-1';
  let real: pg.Pool;
  const embedder = new OfflineEmbedder(8);
  const chunks = Array.from({ length: 16 }, (_, i) => {
    const content = `chunk ${i} of ${collection}`;
    return { documentId: `d${i % 4}`, chunkIndex: Math.floor(i / 4), pointId: '00000000-0000-5000-8000-' + String(i).padStart(12, '0'), textHash: sha256(content), content, tokens: 4, batchNo: i < 8 ? 0 : 1 };
  });

  before(async () => {
    real = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 2 });
    const store = new StateStore(real);
    await store.migrate();
    await store.staging.stagePage({ collection, runKey, pageNo: 0, seen: ['d0', 'd1', 'd2', 'd3'], planned: [], failed: [], chunks });
    // batch 1's texts are cached already
    await cacheChunks(store, embedder, chunks.filter((c) => c.batchNo === 1));
    await liveCollection(real, collection, embedder);
  });
  after(async () => {
    await real.query(`DROP TABLE IF EXISTS public.${collection}`);
    await real.query('DELETE FROM vector_ingest.collection_leases WHERE collection = $1', [collection]);
    await real.query('DELETE FROM vector_ingest.generations WHERE collection = $1', [collection]);
    await real.query('DELETE FROM vector_ingest.staged_chunks WHERE collection = $1', [collection]);
    await real.query('DELETE FROM vector_ingest.documents WHERE collection = $1', [collection]);
    await real.end();
  });

  const deps = (pool: pg.Pool) =>
    ({ store: new StateStore(pool), embedder, log: pino({ level: 'silent' }), sinks: { pgvector: new PgVectorStore(pool) }, defaultSink: 'pgvector' }) as unknown as ActivityDeps;
  const sinkCount = async (batchNo: number) =>
    Number((await real.query(`SELECT count(*) FROM public.${collection} WHERE id = ANY($1::uuid[])`, [chunks.filter((c) => c.batchNo === batchNo).map((c) => c.pointId)])).rows[0].count);
  /** A landed chunk's staged row is deleted by the landing statement: what is staged no more. */
  const landedCount = async (batchNo: number) =>
    8 - Number((await real.query('SELECT count(*) FROM vector_ingest.staged_chunks WHERE collection = $1 AND batch_no = $2', [collection, batchNo])).rows[0].count);

  it('embeds a batch of misses with one read and one write', async () => {
    const c = countingPool(real);
    const r = await embedBatch(deps(c.pool), { collection, runKey, pageNo: 0, batchNo: 0 });
    assert.deepEqual({ chunks: r.chunks, embedded: r.embedded, cached: r.cached, failed: r.failed }, { chunks: 8, embedded: 8, cached: 0, failed: 0 });
    assert.equal(c.sent.filter((s) => !s.includes("'vector'::regtype")).length, 2, `statements sent: ${c.sent.join(' | ')}`);
  });

  it('sends nothing but its read when the whole batch is cached', async () => {
    const c = countingPool(real);
    const r = await embedBatch(deps(c.pool), { collection, runKey, pageNo: 0, batchNo: 1 });
    assert.deepEqual({ chunks: r.chunks, embedded: r.embedded, cached: r.cached, failed: r.failed, requests: r.requests }, { chunks: 8, embedded: 0, cached: 8, failed: 0, requests: 0 });
    assert.equal(c.sent.length, 1, `statements sent: ${c.sent.join(' | ')}`);
  });

  it('writes a batch to pgvector in one statement besides finding its target, fenced and marked landed', async () => {
    await new StateStore(real).leases.acquire(collection, runKey, 'wf', async () => false);
    const c = countingPool(real);
    const r = await createActivities(deps(c.pool)).upsertBatch({ collection, runKey, pageNo: 0, batchNo: 1 });
    assert.deepEqual(r, { upserted: 8, written: 8, skipped: 0 });
    assert.equal(await sinkCount(1), 8);
    assert.equal(await landedCount(1), 8);
    assert.equal(c.sent.filter((s) => !s.includes("'vector'::regtype")).length, 2, `statements sent: ${c.sent.join(' | ')}`);
    // a retry (the result lost) finds nothing left to write, and reports the batch's chunks in
    // the sink as the lost result would have, in the same one statement
    const c2 = countingPool(real);
    assert.deepEqual(await createActivities(deps(c2.pool)).upsertBatch({ collection, runKey, pageNo: 0, batchNo: 1 }), { upserted: 8, written: 0, skipped: 0 });
    assert.equal(await sinkCount(1), 8);
    assert.equal(c2.sent.filter((s) => !s.includes("'vector'::regtype")).length, 3, `statements sent: ${c2.sent.join(' | ')}`);
  });

  it('writes nothing for a run that does not hold the collection, nor for one whose write waited for the takeover', async () => {
    const acts = createActivities(deps(real));
    await assert.rejects(acts.upsertBatch({ collection, runKey: 'another-run', pageNo: 0, batchNo: 0 }), (err: Error) => err.name === LeaseLostError.name || /does not hold/.test(err.message));
    assert.equal(await sinkCount(0), 0);
    assert.equal(await landedCount(0), 0);
    // A takeover holds the lease row (as LeaseStore.acquire does) while this run's write starts:
    // the write waits for it, then finds the lease gone and writes nothing.
    const takeover = await real.connect();
    try {
      await takeover.query('BEGIN');
      await takeover.query('SELECT 1 FROM vector_ingest.collection_leases WHERE collection = $1 FOR UPDATE', [collection]);
      const write = acts.upsertBatch({ collection, runKey, pageNo: 0, batchNo: 0 });
      const outcome = write.then(() => 'wrote', (err: Error) => err.message);
      await new Promise((r) => setTimeout(r, 300));
      await takeover.query(`UPDATE vector_ingest.collection_leases SET run_key = 'new-holder' WHERE collection = $1`, [collection]);
      await takeover.query('COMMIT');
      assert.match(await outcome, /does not hold/);
    } finally {
      takeover.release();
    }
    assert.equal(await sinkCount(0), 0);
    assert.equal(await landedCount(0), 0);
  });
});
