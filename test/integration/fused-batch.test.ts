/**
 * The fused batch activity (pipeline "fused", src/activities/fused.ts) against a real Postgres:
 * one activity embeds a batch's misses and writes it to pgvector, the new vectors' cache write,
 * the sink write and the landed marks in one statement, fenced by the lease like upsertBatch's.
 * What the split path guarantees must hold: a bad input is isolated and the rest lands, a
 * provider error and a sink error keep their own failure types (the circuit breaker and the
 * retry policy tell them apart), a retry writes nothing twice and embeds nothing the provider
 * answered, and no write happens for a run that does not hold the collection.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import pg from 'pg';
import pino from 'pino';
import { createActivities } from '../../src/activities';
import type { ActivityDeps } from '../../src/activities/deps';
import { toFailure } from '../../src/activities/failures';
import { embedAndWriteBatch } from '../../src/activities/fused';
import { batchSlots } from '../../src/activities/semaphore';
import { ProviderError } from '../../src/errors';
import type { Embedder, EmbeddingResult } from '../../src/embedders/types';
import { OfflineEmbedder } from '../../src/embedders/offline';
import { sha256 } from '../../src/ids';
import { PgVectorStore } from '../../src/sinks/pgvector';
import { StateStore } from '../../src/state/store';
import { TEST_DATABASE_URL, uniqueCollection } from '../support/env';
import { cacheChunks, liveCollection } from '../support/live-collection';

/** The offline embedder, counting the texts it is asked for; rejects inputs containing "BAD" (400), or everything while `down`. */
function providerOf(inner: OfflineEmbedder) {
  const asked: string[] = [];
  const p = {
    down: false,
    asked,
    embedder: Object.assign(Object.create(inner) as Embedder, {
      embed: async (texts: string[]): Promise<EmbeddingResult> => {
        if (p.down) throw new ProviderError('ProviderUnavailable', '503 Service Unavailable', true, undefined, 503);
        if (texts.some((t) => t.includes('BAD'))) throw new ProviderError('InvalidInput', '400 input rejected', false, undefined, 400);
        asked.push(...texts);
        return inner.embed(texts);
      },
    }),
  };
  return p;
}

const FAST_RETRY = { tries: 1, maxWaitMs: 10, baseDelayMs: 1 };

describe('fused batch activity (embed + write in one)', () => {
  const collection = uniqueCollection('it_fused');
  const runKey = 'run-1';
  let real: pg.Pool;
  const offline = new OfflineEmbedder(8);
  const contentOf = (i: number) => (i === 3 ? `BAD chunk ${i} of ${collection}` : `chunk ${i} of ${collection}`);
  const chunks = Array.from({ length: 24 }, (_, i) => ({
    documentId: `d${i % 4}`,
    chunkIndex: Math.floor(i / 4),
    pointId: '00000000-0000-5000-8000-' + String(i).padStart(12, '0'),
    textHash: sha256(contentOf(i)),
    content: contentOf(i),
    tokens: 4,
    batchNo: Math.floor(i / 8),
  }));

  before(async () => {
    real = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 3 });
    const store = new StateStore(real);
    await store.migrate();
    await store.staging.stagePage({ collection, runKey, pageNo: 0, seen: ['d0', 'd1', 'd2', 'd3'], planned: [], failed: [], chunks });
    // batch 1: half its texts are cached already
    await cacheChunks(store, offline, chunks.filter((c) => c.batchNo === 1).slice(0, 4));
    await liveCollection(real, collection, offline);
    await store.leases.acquire(collection, runKey, 'wf', async () => false);
  });
  after(async () => {
    await real.query(`DROP TABLE IF EXISTS public.${collection}`);
    await real.query('DELETE FROM vector_ingest.collection_leases WHERE collection = $1', [collection]);
    await real.query('DELETE FROM vector_ingest.generations WHERE collection = $1', [collection]);
    await real.query('DELETE FROM vector_ingest.staged_chunks WHERE collection = $1', [collection]);
    await real.query('DELETE FROM vector_ingest.landed_batches WHERE collection = $1', [collection]);
    await real.query('DELETE FROM vector_ingest.embedding_cache WHERE model = $1 AND text_hash = ANY($2)', [offline.model, chunks.map((c) => c.textHash)]);
    await real.end();
  });

  let provider: ReturnType<typeof providerOf>;
  beforeEach(() => {
    provider = providerOf(offline);
  });
  const deps = (over: Partial<ActivityDeps> = {}) =>
    ({ store: new StateStore(real), embedder: provider.embedder, log: pino({ level: 'silent' }), sinks: { pgvector: new PgVectorStore(real) }, defaultSink: 'pgvector', ...over }) as unknown as ActivityDeps;
  const slots = () => batchSlots(1, 1);
  const key = (batchNo: number, rk = runKey) => ({ collection, runKey: rk, pageNo: 0, batchNo });
  const sinkRows = async (batchNo: number) =>
    (
      await real.query<{ id: string; embedding: string }>(
        `SELECT id, embedding::text AS embedding FROM public.${collection} WHERE id = ANY($1::uuid[]) ORDER BY id`,
        [chunks.filter((c) => c.batchNo === batchNo).map((c) => c.pointId)],
      )
    ).rows;
  /** The batch's staged rows by status; a landed chunk's row is deleted by the landing statement. */
  const statusCounts = async (batchNo: number) =>
    Object.fromEntries(
      (await real.query('SELECT status, count(*)::int AS n FROM vector_ingest.staged_chunks WHERE collection = $1 AND batch_no = $2 GROUP BY status', [collection, batchNo])).rows.map((r) => [r.status, r.n]),
    );
  const landedTally = async (batchNo: number) =>
    (await real.query('SELECT landed FROM vector_ingest.landed_batches WHERE collection = $1 AND batch_no = $2', [collection, batchNo])).rows[0]?.landed;
  const cachedCount = async (batchNo: number) =>
    Number(
      (
        await real.query('SELECT count(*) FROM vector_ingest.embedding_cache WHERE model = $1 AND text_hash = ANY($2)', [
          offline.model,
          chunks.filter((c) => c.batchNo === batchNo).map((c) => c.textHash),
        ])
      ).rows[0].count,
    );

  it('isolates a bad input, writes the rest with the vectors it embedded, and caches them in the same write', async () => {
    const r = await embedAndWriteBatch(deps(), key(0), slots(), FAST_RETRY);
    assert.deepEqual({ chunks: r.embed.chunks, embedded: r.embed.embedded, failed: r.embed.failed }, { chunks: 8, embedded: 8, failed: 1 });
    assert.deepEqual(r.upsert, { upserted: 7, written: 7, skipped: 0 });
    assert.deepEqual(await statusCounts(0), { 2: 1 }, 'seven landed (their staged rows gone), the bad one marked failed');
    assert.equal(await landedTally(0), 7, 'the batch counts what landed');
    const rows = await sinkRows(0);
    assert.equal(rows.length, 7);
    const good = chunks.filter((c) => c.batchNo === 0 && !c.content.includes('BAD'));
    const { vectors } = await offline.embed(good.map((c) => c.content));
    const expected = new Map(good.map((c, i) => [c.pointId, vectors[i]!]));
    for (const row of rows) assert.deepEqual(JSON.parse(row.embedding).map((x: number) => x.toFixed(4)), expected.get(row.id)!.map((x) => x.toFixed(4)));
    assert.equal(await cachedCount(0), 7, 'the answered vectors are in the embedding cache');
    // a retry (the activity's result lost) embeds nothing, writes nothing twice, and reports
    // the batch's chunks in the sink as the lost result would have
    provider = providerOf(offline);
    const again = await embedAndWriteBatch(deps(), key(0), slots(), FAST_RETRY);
    assert.equal(provider.asked.length, 0);
    assert.deepEqual(again.upsert, { upserted: 7, written: 0, skipped: 0 });
    assert.equal((await sinkRows(0)).length, 7);
    assert.equal(await landedTally(0), 7, 'a retry that landed nothing adds nothing');
  });

  it('asks the provider only for the misses and takes the rest from the cache', async () => {
    const r = await embedAndWriteBatch(deps(), key(1), slots(), FAST_RETRY);
    assert.deepEqual({ embedded: r.embed.embedded, cached: r.embed.cached, requests: r.embed.requests }, { embedded: 4, cached: 4, requests: 1 });
    assert.equal(provider.asked.length, 4);
    assert.deepEqual(r.upsert, { upserted: 8, written: 8, skipped: 0 });
    assert.equal(await cachedCount(1), 8);
  });

  it('a provider outage fails as ProviderUnavailable and a sink outage as StoreUnavailable, after caching what the provider answered', async () => {
    provider.down = true;
    const outage = await embedAndWriteBatch(deps(), key(2), slots(), FAST_RETRY).then(
      () => undefined,
      (e: unknown) => toFailure(e),
    );
    assert.ok(outage instanceof ApplicationFailure && outage.type === 'ProviderUnavailable' && !outage.nonRetryable, `got ${String(outage)}`);
    assert.equal((await sinkRows(2)).length, 0);

    provider.down = false;
    const broken = new PgVectorStore(real);
    broken.upsertFromSelect = async () => {
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    };
    const sinkDown = await embedAndWriteBatch(deps({ sinks: { pgvector: broken } }), key(2), slots(), FAST_RETRY).then(
      () => undefined,
      (e: unknown) => toFailure(e),
    );
    assert.ok(sinkDown instanceof ApplicationFailure && sinkDown.type === 'StoreUnavailable' && !sinkDown.nonRetryable, `got ${String(sinkDown)}`);
    assert.equal(await cachedCount(2), 8, 'the vectors the provider answered were cached although the write failed');
    // the retry re-embeds nothing
    provider = providerOf(offline);
    const r = await embedAndWriteBatch(deps(), key(2), slots(), FAST_RETRY);
    assert.equal(provider.asked.length, 0);
    assert.deepEqual(r.upsert, { upserted: 8, written: 8, skipped: 0 });
  });

  it('writes nothing for a run that does not hold the collection, but keeps what it embedded', async () => {
    await real.query('DELETE FROM vector_ingest.embedding_cache WHERE model = $1 AND text_hash = ANY($2)', [offline.model, chunks.filter((c) => c.batchNo === 0).map((c) => c.textHash)]);
    // batch 0's seven good chunks, pending again, staged by a run that does not hold the lease
    await real.query(`DELETE FROM public.${collection}`);
    const good = chunks.filter((c) => c.batchNo === 0 && !c.content.includes('BAD'));
    await new StateStore(real).staging.stagePage({ collection, runKey: 'another-run', pageNo: 0, seen: [], planned: [], failed: [], chunks: good });
    const acts = createActivities(deps(), slots());
    await assert.rejects(acts.embedAndWriteBatch(key(0, 'another-run')), (err: Error) => err instanceof ApplicationFailure && err.type === 'CollectionBusy');
    assert.equal(await real.query(`SELECT count(*)::int AS n FROM public.${collection}`).then((r) => r.rows[0].n), 0);
    assert.equal(await cachedCount(0), 7, 'the fenced-off write still cached the answered vectors');
  });
});
