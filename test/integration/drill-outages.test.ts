import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { freePort } from '../../src/embedded/ports';
import { startDevServer, type DevServer } from '../../src/embedded/temporal';
import { startEmbeddingServer, type EmbeddingServer } from '../../src/testing/embedding-server';
import { chaos } from '../../src/testing/fault-plan';
import type { IngestResult } from '../../src/contracts/ingest';
import { assertExactSink, DRILL_CHUNKING, drillCorpus, drillInput, startIngest } from '../support/drill';
import { expectedRows } from '../support/expected';
import { activityFailuresSeen } from '../support/history';
import { startTemporal, startTestWorker, TEST_DATABASE_URL, tempDir, testClient, testConfig, uniqueCollection, withPg, type TestWorker } from '../support/env';
import { startTcpProxy } from '../support/tcp-proxy';

const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

/** Waits for a run's result through outages of the server itself (each attempt bounded). */
async function resultThrough(get: () => Promise<IngestResult>, deadlineMs: number): Promise<IngestResult> {
  const deadline = Date.now() + deadlineMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      return await get();
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  throw last;
}

describe('drill: the Temporal server restarts mid-run (persisted database)', () => {
  it('carries on after the restart and loses nothing', async () => {
    const dataDir = tempDir('vi-drill-temporal-');
    const port = await freePort();
    const start = () => startDevServer({ dataDir, port, headless: true, inMemory: false, cliPath: process.env.TEMPORAL_CLI_PATH });
    let server: DevServer = await start();
    cleanups.push(() => server.stop());
    const emb = await startEmbeddingServer({ dimensions: 8, latencyMs: 150 });
    cleanups.push(() => emb.close());
    const collection = uniqueCollection('drill_tsrv');
    cleanups.push(() => withPg((c) => c.query(`DROP TABLE IF EXISTS public.${collection}`)));
    const worker = await startTestWorker(server, testConfig({}, { OPENAI_BASE_URL: emb.url, EMBEDDING_MODEL: `drill-${collection}`, EMBEDDING_DIMENSIONS: '8' }));
    cleanups.push(() => worker.stop());
    const dir = drillCorpus(80);
    const first = await testClient(server);
    const h = await startIngest(first.client, `${collection}-run`, drillInput(collection, dir));
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal((await h.describe()).status.name, 'RUNNING', 'the run should still be going when the server stops');
    await first.close();
    const t0 = Date.now();
    await server.stop();
    await new Promise((r) => setTimeout(r, 2000));
    server = await start();
    console.log(`drill-temporal-restart: server down for ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const tc = await testClient(server);
    cleanups.push(() => tc.close());
    const result = await resultThrough(() => tc.client.workflow.getHandle(`${collection}-run`).result() as Promise<IngestResult>, 120_000);
    await assertExactSink(collection, dir, result);
  });
});

/** The test database's URL with its port swapped for the proxy's (same database, same user). */
function viaProxy(url: string, port: number): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(port);
  return u.toString();
}

describe('drill: Postgres unreachable mid-run', () => {
  it('is cut while batches are landing; activities see StoreUnavailable; the worker survives; nothing is lost', async () => {
    const server = await startTemporal();
    cleanups.push(() => server.stop());
    const emb = await startEmbeddingServer({ dimensions: 8, latencyMs: 100 });
    cleanups.push(() => emb.close());
    const proxy = await startTcpProxy(5432);
    cleanups.push(() => proxy.close());
    const collection = uniqueCollection('drill_pg');
    cleanups.push(() => withPg((c) => c.query(`DROP TABLE IF EXISTS public.${collection}`)));
    const worker: TestWorker = await startTestWorker(
      server,
      testConfig({}, { OPENAI_BASE_URL: emb.url, EMBEDDING_MODEL: `drill-${collection}`, EMBEDDING_DIMENSIONS: '8' }),
      viaProxy(TEST_DATABASE_URL, proxy.port),
    );
    cleanups.push(() => worker.stop());
    const tc = await testClient(server);
    cleanups.push(() => tc.close());
    const dir = drillCorpus(80);
    const expected = expectedRows(collection, dir, DRILL_CHUNKING).length;
    const h = await startIngest(tc.client, `${collection}-run`, drillInput(collection, dir));
    // Cut once the first batches have landed (read from the database directly, not through the
    // proxy), so the outage hits a run that is writing, not one still planning or already done.
    const landed = async () =>
      withPg(async (c) => {
        const t = await c.query(`SELECT to_regclass($1) AS t`, [`public.${collection}`]);
        return t.rows[0].t ? (await c.query(`SELECT count(*)::int AS n FROM public.${collection}`)).rows[0].n as number : 0;
      });
    const deadline = Date.now() + 60_000;
    while ((await landed()) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    proxy.cut();
    const atCut = await landed();
    const statusAtCut = (await h.describe()).status.name;
    console.log(`drill-postgres: database cut off with ${atCut} of ${expected} chunks in the sink (run ${statusAtCut})`);
    assert.ok(atCut > 0 && atCut < expected, `the cut did not hit the run mid-flight: ${atCut} of ${expected} chunks had landed`);
    assert.equal(statusAtCut, 'RUNNING');
    const outage = 7000;
    await new Promise((r) => setTimeout(r, outage));
    assert.ok((await landed()) < expected, 'chunks kept landing through a database that was cut off');
    proxy.restore();
    console.log(`drill-postgres: database back after ${outage / 1000} s`);
    const result = await h.result();
    for (const w of worker.set.workers) assert.equal(w.getState(), 'RUNNING', 'a worker died during the outage');
    // The outage reached the activities as the typed, retryable StoreUnavailable (from history:
    // the failure a retried attempt carries, or an attempt sent back to the workflow).
    const seen = await activityFailuresSeen(tc.client, `${collection}-run`, h.firstExecutionRunId);
    const store = seen.filter((f) => f.types.includes('StoreUnavailable'));
    console.log(`drill-postgres: ${store.length} activity failures typed StoreUnavailable (${[...new Set(store.map((f) => f.activityType))].join(', ')}), ${seen.length} failures in all`);
    assert.ok(store.length > 0, `no activity saw StoreUnavailable; failures seen: ${JSON.stringify(seen.slice(0, 5))}`);
    await assertExactSink(collection, dir, result);
  });
});

describe('drill: embedding provider chaos', () => {
  it('rides out 429s, 5xx, malformed bodies and slow answers; nothing lost, nothing failed', async () => {
    const server = await startTemporal();
    cleanups.push(() => server.stop());
    const emb = await startEmbeddingServer({
      dimensions: 8,
      latencyMs: 20,
      fault: chaos({ seed: 20261124, rateLimited: 0.15, serverError: 0.1, unavailable: 0.1, malformed: 0.05, slow: 0.1, slowMs: 800, retryAfterSeconds: 1 }),
    });
    cleanups.push(() => emb.close());
    const collection = uniqueCollection('drill_chaos');
    cleanups.push(() => withPg((c) => c.query(`DROP TABLE IF EXISTS public.${collection}`)));
    const worker = await startTestWorker(server, testConfig({}, { OPENAI_BASE_URL: emb.url, EMBEDDING_MODEL: `drill-${collection}`, EMBEDDING_DIMENSIONS: '8' }));
    cleanups.push(() => worker.stop());
    const tc = await testClient(server);
    cleanups.push(() => tc.close());
    const dir = drillCorpus(80);
    const h = await startIngest(tc.client, `${collection}-run`, drillInput(collection, dir));
    const result = await h.result();
    const s = emb.stats;
    console.log(`drill-chaos: ${s.requests} requests, ${s.ok} ok, ${s.rateLimited} × 429, ${s.byStatus['500'] ?? 0} × 500, ${s.byStatus['503'] ?? 0} × 503, malformed and slow included`);
    assert.ok(s.errors >= 5, `the chaos mix injected only ${s.errors} errors`);
    await assertExactSink(collection, dir, result);
  });
});
