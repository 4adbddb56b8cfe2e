import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import type { DevServer } from '../../src/embedded/temporal';
import { startEmbeddingServer, type EmbeddingServer } from '../../src/testing/embedding-server';
import { assertExactSink, drillCorpus, drillInput, spawnWorker, startIngest } from '../support/drill';
import { startTemporal, testClient, uniqueCollection, withPg } from '../support/env';
import { maxInWindow } from '../support/rate-window';

const RPM = 120; // 2 requests a second, for the three workers together
const EMBEDDING_ACTIVITIES = new Set(['embedAndWriteBatch', 'embedBatch']);

/** The worker identities (pid@host) that ran a batch's embedding activity (embedAndWriteBatch, or embedBatch when split) in any run of the workflow. */
async function embedWorkers(client: Client, workflowId: string): Promise<Set<string>> {
  const who = new Set<string>();
  for await (const exec of client.workflow.list({ query: `WorkflowId = "${workflowId}"` })) {
    const events = (await client.workflow.getHandle(workflowId, exec.runId).fetchHistory()).events ?? [];
    const embedScheduled = new Set(events.filter((e) => EMBEDDING_ACTIVITIES.has(e.activityTaskScheduledEventAttributes?.activityType?.name ?? '')).map((e) => String(e.eventId)));
    for (const e of events) {
      const started = e.activityTaskStartedEventAttributes;
      if (started && embedScheduled.has(String(started.scheduledEventId))) who.add(started.identity ?? '');
    }
  }
  return who;
}

// Issue 17 item 2, issue 11 item 7: three `vector-ingest worker` processes against one Temporal
// server and one Postgres ingest one collection under VECTOR_INGEST_EMBED_RPM, and one of them
// is killed with SIGKILL mid-run. The provider logs when each request arrived: the three
// together stay within the limit (each alone would be allowed all of it), and the sink ends exact.
describe('three worker processes under one embedding rate limit, one killed mid-run', () => {
  let server: DevServer;
  let emb: EmbeddingServer;
  let tc: Awaited<ReturnType<typeof testClient>>;
  const workers: Array<ReturnType<typeof spawnWorker>> = [];
  const collection = uniqueCollection('three_workers');

  before(async () => {
    // The provider enforces nothing here: it only records, so what it sees is what was sent.
    [server, emb] = await Promise.all([startTemporal(), startEmbeddingServer({ dimensions: 8, latencyMs: 50 })]);
    tc = await testClient(server);
  });
  after(async () => {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    await tc?.close();
    await withPg((c) => c.query(`DROP TABLE IF EXISTS public.${collection}`)).catch(() => undefined);
    await Promise.all([server?.stop(), emb?.close()]);
  });

  it('stays within the limit together, and the sink is exact', async () => {
    const env = {
      TEMPORAL_ADDRESS: server.address,
      OPENAI_BASE_URL: emb.url,
      EMBEDDING_MODEL: `three-${collection}`,
      EMBEDDING_DIMENSIONS: '8',
      VECTOR_INGEST_EMBED_RPM: String(RPM),
    };
    for (let i = 0; i < 3; i++) workers.push(spawnWorker(env));
    await Promise.all(workers.map((w) => w.ready));
    const dir = drillCorpus(60);
    const workflowId = `${collection}-run`;
    const started = Date.now();
    // Batches of 4 chunks: ~160 requests, more than the limit allows in a minute, so the run
    // lasts over a minute and the minute-long window below is a real test.
    const input = drillInput(collection, dir, { maxInFlightBatches: 8, batching: { maxChunks: 4, maxTokens: 4000 } });
    const handle = await startIngest(tc.client, workflowId, input);
    // Kill one worker once the run is well under way (a quarter of its requests).
    while (emb.stats.requests < 40 && Date.now() - started < 120_000) await new Promise((r) => setTimeout(r, 100));
    const status = (await handle.describe()).status.name;
    workers[0]!.child.kill('SIGKILL');
    await new Promise((r) => workers[0]!.child.once('exit', r));
    const killedAfter = emb.stats.requests;
    const result = await handle.result();
    const seconds = (Date.now() - started) / 1000;
    for (const w of workers.slice(1)) {
      w.child.kill('SIGTERM');
      await new Promise((r) => w.child.once('exit', r));
    }

    assert.equal(status, 'RUNNING', 'the kill came after the run ended');
    assert.ok(killedAfter < emb.stats.requests, 'no request was sent after the kill: it was not mid-run');
    const who = await embedWorkers(tc.client, workflowId);
    assert.ok(who.size >= 2, `only ${[...who].join(', ')} ran embedding activities: the limit was not shared by several processes`);

    // What the three sent together, by the provider's clock. The bucket admits at most one
    // request beyond 97 % of the rate in any span: within any minute 1 + 116.4 of the 120.
    const arrivals = emb.stats.log.map((l) => l.arrivedAt);
    assert.ok(emb.stats.requests > RPM, `${emb.stats.requests} requests: too few to fill a minute's limit`);
    const per10s = maxInWindow(arrivals, 10_000);
    const perMinute = maxInWindow(arrivals, 60_000);
    const span = (Math.max(...arrivals) - Math.min(...arrivals)) / 1000;
    console.log(
      `three workers: ${emb.stats.requests} requests in ${span.toFixed(1)} s (${((emb.stats.requests / span) * 60).toFixed(0)}/min against ${RPM}/min); ` +
        `most in any 10 s: ${per10s} (pro rata ${RPM / 6}), in any 60 s: ${perMinute} (allowed ${RPM}); killed after ${killedAfter} requests; ` +
        `embedding activities ran on ${who.size} workers; run ${seconds.toFixed(1)} s`,
    );
    assert.ok(perMinute <= RPM, `${perMinute} requests within a minute; the limit is ${RPM}`);
    // Each worker alone may send the whole limit: without sharing, three would send up to 3×.
    // Bound below too, so the limit was what paced the run (not a slow run that never reached
    // it, which would prove nothing).
    assert.ok(perMinute >= 0.8 * RPM, `at most ${perMinute} requests within a minute: the limit never bound`);
    await assertExactSink(collection, dir, result);
  });
});
