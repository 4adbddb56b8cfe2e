import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../../src/embedded/ports';
import type { DevServer } from '../../src/embedded/temporal';
import { startEmbeddingServer, type EmbeddingServer } from '../../src/testing/embedding-server';
import { ingestCollection } from '../../src/workflows';
import { TASK_QUEUE } from '../../src/contracts/ingest';
import { temporal } from '@temporalio/proto';
import { buildCorpus } from '../support/corpus';
import { assertExactSink, drillCorpus, drillInput, spawnWorker, startIngest } from '../support/drill';
import { chainEvents } from '../support/history';
import { startTemporal, TEST_DATABASE_URL, tempDir, testClient, uniqueCollection, withPg } from '../support/env';

const BIN = path.resolve(__dirname, '../../bin/vector-ingest.js');

function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  const lines = text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  const match = lines.find((l) => Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  return match ? Number(match.split(' ').pop()) : NaN;
}

// `vector-ingest worker` as operators run it: a separate process, configured by environment,
// scraped by Prometheus, stopped with SIGTERM.
describe('the worker process', () => {
  let server: DevServer;
  let emb: EmbeddingServer;
  let worker: ChildProcess;
  let log = '';
  let metricsPort: number;
  let tc: Awaited<ReturnType<typeof testClient>>;
  const collection = uniqueCollection('it_proc');
  const model = `proc-${collection}`;

  before(async () => {
    [server, emb, metricsPort] = await Promise.all([startTemporal(), startEmbeddingServer({ dimensions: 8, latencyMs: 5 }), freePort()]);
    tc = await testClient(server);
    worker = spawn(process.execPath, [BIN, 'worker', '--metrics-port', String(metricsPort)], {
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: server.address,
        DATABASE_URL: TEST_DATABASE_URL,
        OPENAI_BASE_URL: emb.url,
        EMBEDDING_MODEL: model,
        EMBEDDING_DIMENSIONS: '8',
        LOG_LEVEL: 'debug',
        LOG_FORMAT: 'json',
      },
    });
    worker.stdout!.on('data', (d) => (log += d));
    worker.stderr!.on('data', (d) => (log += d));
    const deadline = Date.now() + 60_000;
    while (!log.includes('worker running') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.match(log, /worker running/, `worker did not start:\n${log}`);
  });

  const cleanups: Array<() => Promise<unknown>> = [];
  after(async () => {
    if (worker.exitCode === null) worker.kill('SIGKILL');
    for (const c of cleanups) await c().catch(() => undefined);
    await tc?.close();
    await withPg((c) => c.query(`DROP TABLE IF EXISTS public.${collection}`)).catch(() => undefined);
    await Promise.all([server?.stop(), emb?.close()]);
  });

  // Both batch pipelines, one run each on this worker: fused (the default: embedAndWriteBatch)
  // and split (embedBatch, then upsertBatch). Metrics are the process's since it started, so
  // each run is checked by what its scrape added to the one before it.
  const PIPELINES = ['fused', 'split'] as const;
  const BATCH_ACTIVITIES = { fused: ['embedAndWriteBatch'], split: ['embedBatch', 'upsertBatch'] } as const;
  const runOf = (pipeline: (typeof PIPELINES)[number]) => `${collection}_${pipeline}`;
  for (const [i, pipeline] of PIPELINES.entries()) {
    it(`serves Prometheus metrics: our own and the Temporal SDK's (${pipeline} pipeline)`, async () => {
      const name = runOf(pipeline);
      cleanups.push(() => withPg((c) => c.query(`DROP TABLE IF EXISTS public.${name}`)));
      const dir = tempDir('vi-proc-');
      buildCorpus(dir, { files: 20, largeFiles: 1, seed: 11 + i }); // texts of their own: each run embeds
      const scrape = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      const before = await scrape();
      const provider = { inputs: emb.stats.inputs, tokens: emb.stats.tokens, requests: emb.stats.requests };
      const h = await tc.client.workflow.start(ingestCollection, { taskQueue: TASK_QUEUE, workflowId: `${name}-m`, args: [{ collection: name, source: { kind: 'directory', path: dir }, pipeline }] });
      const r = await h.result();
      const text = await scrape();
      const added = (metric: string, labels: Record<string, string> = {}) => metricValue(text, metric, labels) - (metricValue(before, metric, labels) || 0);
      assert.ok(r.counters.chunksUpserted > 0 && r.counters.chunksEmbedded > 0, 'the run embedded and wrote');
      // chunks written and one timed write per batch
      assert.equal(added('vector_ingest_upsert_rows_total', { sink: 'pgvector' }), r.counters.chunksUpserted);
      assert.equal(added('vector_ingest_upsert_seconds_count', { sink: 'pgvector' }), r.counters.batches);
      // what went to the provider: texts (the run's embedded chunks), tokens, timed requests
      assert.equal(added('vector_ingest_embedding_inputs_total', { model }), emb.stats.inputs - provider.inputs);
      assert.equal(added('vector_ingest_embedding_inputs_total', { model }), r.counters.chunksEmbedded);
      assert.equal(added('vector_ingest_embedding_tokens_total', { model }), emb.stats.tokens - provider.tokens);
      assert.equal(added('vector_ingest_embedding_request_seconds_count', { model, outcome: 'ok' }), emb.stats.requests - provider.requests);
      assert.equal(added('vector_ingest_collection_tokens_total', { collection: name, model }), r.counters.tokensEmbedded);
      // the pipeline's batch activities ran here (the gauge exists once one has) and none is left running
      for (const activity of BATCH_ACTIVITIES[pipeline]) assert.equal(metricValue(text, 'vector_ingest_activities_in_flight', { activity }), 0, `${activity} in flight`);
      // The backlog is every collection's pending chunks in this database (runs killed by other
      // tests or earlier CI runs may have left some): it must match the staging table, and this
      // finished run must have left none of its own.
      const pending = await withPg(async (c) => {
        const all = await c.query(`SELECT count(*)::int AS n FROM vector_ingest.staged_chunks WHERE status = 0`);
        const ours = await c.query(`SELECT count(*)::int AS n FROM vector_ingest.staged_chunks WHERE collection = $1`, [name]);
        return { all: all.rows[0].n as number, ours: ours.rows[0].n as number };
      });
      assert.equal(metricValue(text, 'vector_ingest_chunks_backlog'), pending.all);
      assert.equal(pending.ours, 0, 'the finished run left staged chunks behind');
      assert.match(text, /^temporal_[a-z_]+/m, 'the Temporal SDK runtime metrics are missing');
      assert.match(text, /temporal_activity_execution_latency|temporal_worker_task_slots_available/);
    });
  }

  it('logs JSON lines that carry the workflow, run, activity and collection', () => {
    const lines = log.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(lines.length > 0);
    // a failing activity is the typical line an operator looks for; here, every activity log line
    const withContext = lines.filter((l) => l.activity && l.workflowId && l.runId && l.activityId && l.collection);
    assert.ok(lines.some((l) => l.msg === 'starting worker'), 'no startup line');
    for (const pipeline of PIPELINES) {
      const ofRun = withContext.filter((l) => l.collection === runOf(pipeline));
      for (const activity of ['prepareCollection', 'planPage', ...BATCH_ACTIVITIES[pipeline], 'commitPage', 'finishRun']) {
        assert.ok(ofRun.some((l) => l.activity === activity), `no ${activity} line with workflow/run/activity/collection (${pipeline} pipeline)`);
      }
    }
    for (const l of withContext) assert.equal(l.workflowId, `${String(l.collection)}-m`);
  });

  // The drain, for each pipeline's embedding activity: fused (the default) on the worker the
  // tests above used, then split on a worker started for it (the first one is gone by then).
  for (const pipeline of PIPELINES) {
    const activity = BATCH_ACTIVITIES[pipeline][0];
    it(`on SIGTERM with activities in flight: lets them finish, exits 0, closes clients after; a new worker completes the run exactly (${pipeline} pipeline)`, async () => {
      const workerEnv = { TEMPORAL_ADDRESS: server.address, OPENAI_BASE_URL: emb.url, EMBEDDING_MODEL: model, EMBEDDING_DIMENSIONS: '8' };
      let victim: ChildProcess = worker;
      let output = () => log;
      if (victim.exitCode !== null || victim.signalCode !== null) {
        const spawned = spawnWorker(workerEnv);
        await spawned.ready;
        victim = spawned.child;
        output = spawned.output;
      }
      // Slow embeddings, so a SIGTERM lands while the embedding activity's attempts are running.
      emb.setLatency(1500);
      const drained = uniqueCollection(`it_drain_${pipeline}`);
      cleanups.push(() => withPg((c) => c.query(`DROP TABLE IF EXISTS public.${drained}`)));
      const dir = drillCorpus(20);
      const h = await startIngest(tc.client, `${drained}-run`, drillInput(drained, dir, { pipeline }));
      const STARTED = temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;
      let inFlight: Array<{ activityId: string; attempt: number }> = [];
      for (const deadline = Date.now() + 60_000; inFlight.length === 0 && Date.now() < deadline; ) {
        const pending = (await h.describe()).raw.pendingActivities ?? [];
        inFlight = pending
          .filter((a) => a.activityType?.name === activity && a.state === STARTED)
          .map((a) => ({ activityId: a.activityId ?? '', attempt: a.attempt ?? 0 }));
        if (inFlight.length === 0) await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(inFlight.length > 0, `no ${activity} was running when SIGTERM was to be sent`);
      const pid = victim.pid!;
      const exit = new Promise<number | null>((r) => victim.once('exit', (code) => r(code)));
      victim.kill('SIGTERM');
      console.log(`worker-process: SIGTERM with ${activity} ${inFlight.map((a) => `#${a.activityId} (attempt ${a.attempt})`).join(', ')} running`);
      const code = await Promise.race([exit, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 45_000))]);
      assert.equal(code, 0, `worker exit: ${code}\n${output().slice(-2000)}`);
      assert.match(output(), /worker drained and stopped/);
      assert.doesNotMatch(output(), /unhandled|Client has already been closed|Cannot use a pool after calling end|client (was )?closed/i);

      // Each attempt that was running at the signal completed on the stopping worker (its identity
      // is pid@host), in that same attempt: drained, not abandoned to a timeout and a retry.
      const events = await chainEvents(tc.client, `${drained}-run`, h.firstExecutionRunId);
      for (const a of inFlight) {
        const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityId === a.activityId);
        assert.ok(scheduled, `activity ${a.activityId} not in history`);
        assert.equal(scheduled.activityTaskScheduledEventAttributes?.activityType?.name, activity);
        const started = events.find((e) => String(e.activityTaskStartedEventAttributes?.scheduledEventId) === String(scheduled.eventId));
        const completed = events.find((e) => String(e.activityTaskCompletedEventAttributes?.scheduledEventId) === String(scheduled.eventId));
        assert.ok(completed, `${activity} #${a.activityId} running at SIGTERM did not complete during the drain`);
        assert.equal(started?.activityTaskStartedEventAttributes?.attempt, a.attempt, `${activity} #${a.activityId} was retried instead of drained`);
        assert.match(started?.activityTaskStartedEventAttributes?.identity ?? '', new RegExp(`^${pid}@`), `${activity} #${a.activityId} completed on another worker`);
      }
      assert.notEqual((await h.describe()).status.name, 'COMPLETED', 'the run ended before the worker stopped: nothing was left for the next worker');

      emb.setLatency(5);
      const next = spawnWorker(workerEnv);
      await next.ready;
      try {
        const result = await h.result();
        await assertExactSink(drained, dir, result);
        // the drained attempts' chunks are counted: what the run says it wrote is what the sink holds
        const inSink = await withPg(async (c) => (await c.query(`SELECT count(*)::int AS n FROM public.${drained}`)).rows[0].n as number);
        assert.equal(result.counters.chunksUpserted, inSink);
      } finally {
        next.child.kill('SIGTERM');
        await new Promise((r) => next.child.once('exit', r));
      }
    });
  }
});
