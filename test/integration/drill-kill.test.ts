import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DevServer } from '../../src/embedded/temporal';
import { startEmbeddingServer, type EmbeddingServer } from '../../src/testing/embedding-server';
import { assertExactSink, drillCorpus, drillInput, prng, spawnWorker, startIngest } from '../support/drill';
import { startTemporal, testClient, uniqueCollection, withPg } from '../support/env';
import type { BatchPipeline } from '../../src/contracts/ingest';

const KILLS = Number(process.env.DRILL_KILLS ?? 5);
const SEED = Number(process.env.DRILL_SEED ?? Date.now() % 100_000);
/** Both batch pipelines by default (IngestInput.pipeline): two activities per batch, and one that embeds and writes. */
const PIPELINES = (process.env.DRILL_PIPELINES ?? 'split,fused').split(',') as BatchPipeline[];

// Drill: the worker process is killed with SIGKILL at random points of a run, KILLS times, and
// restarted each time. Every good chunk must land exactly once, and the counters say so.
for (const pipeline of PIPELINES)
describe(`drill: kill -9 of the worker ${KILLS} times (seed ${SEED}, ${pipeline} pipeline)`, () => {
  let server: DevServer;
  let emb: EmbeddingServer;
  let tc: Awaited<ReturnType<typeof testClient>>;
  const collection = uniqueCollection(`drill_kill_${pipeline}`);

  before(async () => {
    [server, emb] = await Promise.all([startTemporal(), startEmbeddingServer({ dimensions: 8, latencyMs: 250 })]);
    tc = await testClient(server);
  });
  after(async () => {
    await tc?.close();
    await withPg((c) => c.query(`DROP TABLE IF EXISTS public.${collection}`)).catch(() => undefined);
    await Promise.all([server?.stop(), emb?.close()]);
  });

  it('loses and duplicates nothing', async () => {
    const env = { TEMPORAL_ADDRESS: server.address, OPENAI_BASE_URL: emb.url, EMBEDDING_MODEL: `drill-${collection}`, EMBEDDING_DIMENSIONS: '8' };
    const dir = drillCorpus(120);
    const rand = prng(SEED);
    const started = Date.now();
    let w = spawnWorker(env);
    await w.ready;
    const handle = await startIngest(tc.client, `${collection}-run`, drillInput(collection, dir, { maxInFlightBatches: 2, pipeline }));
    const kills: number[] = [];
    for (let k = 0; k < KILLS; k++) {
      await new Promise((r) => setTimeout(r, 500 + rand() * 2500));
      const status = (await handle.describe()).status.name;
      w.child.kill('SIGKILL');
      await new Promise((r) => w.child.once('exit', r));
      kills.push(Date.now() - started);
      console.log(`kill ${k + 1}/${KILLS} at ${((Date.now() - started) / 1000).toFixed(1)} s (run ${status})`);
      w = spawnWorker(env);
      await w.ready;
    }
    const result = await handle.result();
    w.child.kill('SIGTERM');
    await new Promise((r) => w.child.once('exit', r));
    console.log(`drill-kill: ${KILLS} kills at ${kills.map((t) => (t / 1000).toFixed(1)).join(', ')} s; run done at ${((Date.now() - started) / 1000).toFixed(1)} s; ${emb.stats.requests} embedding requests`);
    assert.equal(result.counters.documentsListed, 120);
    await assertExactSink(collection, dir, result);
    if (pipeline === 'fused') {
      // one activity per batch: the run's history schedules no split activity
      const types = new Set((await handle.fetchHistory()).events?.map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter(Boolean));
      assert.ok(types.has('embedAndWriteBatch') && !types.has('embedBatch') && !types.has('upsertBatch'), `scheduled: ${[...types].join(', ')}`);
    }
    // The counters are exact although attempts died after writing and before reporting (a
    // kill that lands there is a matter of chance; count-after-retry.test.ts makes it certain).
    const inSink = await withPg(async (c) => (await c.query(`SELECT count(*)::int AS n FROM public.${collection}`)).rows[0].n);
    assert.equal(result.counters.chunksUpserted, inSink, 'chunks counted as upserted');
  });
});
