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

  it('serves Prometheus metrics: our own and the Temporal SDK\'s', async () => {
    const dir = tempDir('vi-proc-');
    buildCorpus(dir, { files: 20, largeFiles: 1 });
    const h = await tc.client.workflow.start(ingestCollection, { taskQueue: TASK_QUEUE, workflowId: `${collection}-m`, args: [{ collection, source: { kind: 'directory', path: dir }, pipeline: 'split' }] }); // split: every activity below logs
    const r = await h.result();
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    assert.equal(metricValue(text, 'vector_ingest_upsert_rows_total', { sink: 'pgvector' }), r.counters.chunksUpserted);
    assert.equal(metricValue(text, 'vector_ingest_embedding_inputs_total', { model }), emb.stats.inputs);
    assert.equal(metricValue(text, 'vector_ingest_embedding_tokens_total', { model }), emb.stats.tokens);
    assert.equal(metricValue(text, 'vector_ingest_embedding_request_seconds_count', { model, outcome: 'ok' }), emb.stats.requests);
    assert.equal(metricValue(text, 'vector_ingest_activities_in_flight', { activity: 'embedBatch' }), 0);
    // The backlog is every collection's pending chunks in this database (runs killed by other
    // tests or earlier CI runs may have left some): it must match the staging table, and this
    // finished run must have left none of its own.
    const pending = await withPg(async (c) => {
      const all = await c.query(`SELECT count(*)::int AS n FROM vector_ingest.staged_chunks WHERE status = 0`);
      const ours = await c.query(`SELECT count(*)::int AS n FROM vector_ingest.staged_chunks WHERE collection = $1`, [collection]);
      return { all: all.rows[0].n as number, ours: ours.rows[0].n as number };
    });
    assert.equal(metricValue(text, 'vector_ingest_chunks_backlog'), pending.all);
    assert.equal(pending.ours, 0, 'the finished run left staged chunks behind');
    assert.match(text, /^temporal_[a-z_]+/m, 'the Temporal SDK runtime metrics are missing');
    assert.match(text, /temporal_activity_execution_latency|temporal_worker_task_slots_available/);
  });

  it('logs JSON lines that carry the workflow, run, activity and collection', () => {
    const lines = log.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(lines.length > 0);
    // a failing activity is the typical line an operator looks for; here, every activity log line
    const withContext = lines.filter((l) => l.activity && l.workflowId && l.runId && l.activityId && l.collection);
    assert.ok(lines.some((l) => l.msg === 'starting worker'), 'no startup line');
    for (const activity of ['prepareCollection', 'planPage', 'embedBatch', 'upsertBatch', 'commitPage', 'finishRun']) {
      assert.ok(withContext.some((l) => l.activity === activity), `no ${activity} line with workflow/run/activity/collection`);
    }
    for (const l of withContext) {
      assert.equal(l.collection, collection);
      assert.equal(l.workflowId, `${collection}-m`);
    }
  });

  it('on SIGTERM with activities in flight: lets them finish, exits 0, closes clients after; a new worker completes the run exactly', async () => {
    // Slow embeddings, so a SIGTERM lands while embedBatch attempts are running.
    emb.setLatency(1500);
    const drained = uniqueCollection('it_drain');
    cleanups.push(() => withPg((c) => c.query(`DROP TABLE IF EXISTS public.${drained}`)));
    const dir = drillCorpus(20);
    const h = await startIngest(tc.client, `${drained}-run`, drillInput(drained, dir, { pipeline: 'split' })); // split: the embedBatch attempts below
    const STARTED = temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;
    let inFlight: Array<{ activityId: string; attempt: number }> = [];
    for (const deadline = Date.now() + 60_000; inFlight.length === 0 && Date.now() < deadline; ) {
      const pending = (await h.describe()).raw.pendingActivities ?? [];
      inFlight = pending
        .filter((a) => a.activityType?.name === 'embedBatch' && a.state === STARTED)
        .map((a) => ({ activityId: a.activityId ?? '', attempt: a.attempt ?? 0 }));
      if (inFlight.length === 0) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(inFlight.length > 0, 'no embedBatch was running when SIGTERM was to be sent');
    const pid = worker.pid!;
    const exit = new Promise<number | null>((r) => worker.once('exit', (code) => r(code)));
    worker.kill('SIGTERM');
    console.log(`worker-process: SIGTERM with embedBatch ${inFlight.map((a) => `#${a.activityId} (attempt ${a.attempt})`).join(', ')} running`);
    const code = await Promise.race([exit, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 45_000))]);
    assert.equal(code, 0, `worker exit: ${code}\n${log.slice(-2000)}`);
    assert.match(log, /worker drained and stopped/);
    assert.doesNotMatch(log, /unhandled|Client has already been closed|Cannot use a pool after calling end|client (was )?closed/i);

    // Each attempt that was running at the signal completed on the stopping worker (its identity
    // is pid@host), in that same attempt: drained, not abandoned to a timeout and a retry.
    const events = await chainEvents(tc.client, `${drained}-run`, h.firstExecutionRunId);
    for (const a of inFlight) {
      const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityId === a.activityId);
      assert.ok(scheduled, `activity ${a.activityId} not in history`);
      const started = events.find((e) => String(e.activityTaskStartedEventAttributes?.scheduledEventId) === String(scheduled.eventId));
      const completed = events.find((e) => String(e.activityTaskCompletedEventAttributes?.scheduledEventId) === String(scheduled.eventId));
      assert.ok(completed, `embedBatch #${a.activityId} running at SIGTERM did not complete during the drain`);
      assert.equal(started?.activityTaskStartedEventAttributes?.attempt, a.attempt, `embedBatch #${a.activityId} was retried instead of drained`);
      assert.match(started?.activityTaskStartedEventAttributes?.identity ?? '', new RegExp(`^${pid}@`), `embedBatch #${a.activityId} completed on another worker`);
    }
    assert.notEqual((await h.describe()).status.name, 'COMPLETED', 'the run ended before the worker stopped: nothing was left for the next worker');

    emb.setLatency(5);
    const next = spawnWorker({ TEMPORAL_ADDRESS: server.address, OPENAI_BASE_URL: emb.url, EMBEDDING_MODEL: model, EMBEDDING_DIMENSIONS: '8' });
    await next.ready;
    try {
      await assertExactSink(drained, dir, await h.result());
    } finally {
      next.child.kill('SIGTERM');
      await new Promise((r) => next.child.once('exit', r));
    }
  });
});
