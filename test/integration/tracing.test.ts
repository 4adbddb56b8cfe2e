import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { DevServer } from '../../src/embedded/temporal';
import { startWorker, type RunningWorker } from '../../src/stack';
import { startTracing, type Tracing } from '../../src/tracing/setup';
import { traceFields } from '../../src/log';
import { registry } from '../../src/metrics/registry';
import { ingestCollection } from '../../src/workflows';
import { TASK_QUEUE } from '../../src/contracts/ingest';
import { buildCorpus } from '../support/corpus';
import { bundleWorkflowCode } from '@temporalio/worker';
import { TRACING_INTERCEPTOR_MODULES } from '../../src/workflow-bundle';
import { dropCollectionTables, startTemporal, teardown, tempDir, testClient, testConfig, TEST_DATABASE_URL, uniqueCollection } from '../support/env';

// A real Temporal dev server and real Postgres; spans go to OpenTelemetry's in-memory exporter
// instead of an OTLP collector (none runs here): the same SDK path up to the exporter.
describe('OpenTelemetry tracing of a run', () => {
  let server: DevServer;
  let worker: RunningWorker;
  let tc: Awaited<ReturnType<typeof testClient>>;
  let tracing: Tracing;
  const exporter = new InMemorySpanExporter();
  const lines: Array<Record<string, unknown>> = [];
  const collection = uniqueCollection('it_trace');
  const collections: string[] = [];

  before(async () => {
    tracing = startTracing(new SimpleSpanProcessor(exporter), 'vector-ingest-test');
    server = await startTemporal();
    // The bundle a tracing worker uses (src/workflow-bundle.ts builds it as workflow-bundle.traced.js).
    const bundle = await bundleWorkflowCode({
      workflowsPath: require.resolve('../../src/workflows'),
      workflowInterceptorModules: TRACING_INTERCEPTOR_MODULES,
      logger: { trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, log: () => undefined },
    });
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
    const log = pino({ level: 'debug', mixin: traceFields }, sink);
    worker = await startWorker(
      testConfig(),
      log,
      { temporalAddress: server.address, connection: { address: server.address }, namespace: server.namespace, databaseUrl: TEST_DATABASE_URL, fromDev: false, stop: async () => undefined },
      { metricsPort: 0, workflowBundle: bundle, shutdownGraceTime: '5s', tracing },
    );
    tc = await testClient(server);
  });
  after(async () => {
    await teardown({ tc, worker: { stop: async () => { worker.set.shutdown(); await worker.done; } }, server });
    for (const c of collections) await dropCollectionTables(c).catch(() => undefined);
    await tracing.shutdown();
  });

  // Both batch pipelines: fused (the default, one embedAndWriteBatch per batch) and split
  // (embedBatch, then upsertBatch). Each run's spans and log lines are checked on their own.
  for (const pipeline of ['fused', 'split'] as const) {
    const embedding = pipeline === 'fused' ? 'embedAndWriteBatch' : 'embedBatch';
    const writing = pipeline === 'fused' ? 'embedAndWriteBatch' : 'upsertBatch';
    it(`has a workflow span, activity spans in its trace, and embed and sink spans under their activities; logs carry the trace id (${pipeline} pipeline)`, async () => {
      exporter.reset();
      lines.length = 0;
      const corpus = tempDir('vi-trace-');
      buildCorpus(corpus, { files: 6, largeFiles: 0, seed: Date.now() % 1_000_000 }); // texts no earlier run cached, so the run embeds
      const name = `${collection}_${pipeline}`;
      collections.push(name);
      const handle = await tc.client.workflow.start(ingestCollection, {
        taskQueue: TASK_QUEUE,
        workflowId: `${name}-1`,
        args: [{ collection: name, source: { kind: 'directory', path: corpus }, chunking: { chunkTokens: 100, overlapTokens: 10 }, ...(pipeline === 'split' && { pipeline }) }],
      });
      const result = await handle.result();
      assert.ok(result.counters.chunksUpserted > 0);
      await tracing.spanProcessor.forceFlush();
      const spans = exporter.getFinishedSpans();
      const named = (n: string) => spans.filter((s) => s.name === n);
      const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
      const parentOf = (s: ReadableSpan) => (s.parentSpanId ? byId.get(s.parentSpanId) : undefined);
      const ancestors = (s: ReadableSpan): string[] => {
        const out: string[] = [];
        for (let p = parentOf(s), i = 0; p && i < 20; p = parentOf(p), i++) out.push(p.name);
        return out;
      };

      const wf = named('RunWorkflow:ingestCollection');
      assert.equal(wf.length, 1, `workflow spans: ${spans.map((s) => s.name).join(', ')}`);
      const traceId = wf[0]!.spanContext().traceId;

      const batchActivities = pipeline === 'fused' ? ['embedAndWriteBatch'] : ['embedBatch', 'upsertBatch'];
      const absent = pipeline === 'fused' ? ['embedBatch', 'upsertBatch'] : ['embedAndWriteBatch'];
      for (const activity of ['prepareCollection', 'planPage', ...batchActivities, 'commitPage', 'finishRun']) {
        const runs = named(`RunActivity:${activity}`);
        assert.ok(runs.length > 0, `no span for ${activity}`);
        for (const s of runs) {
          assert.equal(s.spanContext().traceId, traceId, `${activity} is in the workflow's trace`);
          assert.deepEqual(ancestors(s).slice(0, 2), [`StartActivity:${activity}`, 'RunWorkflow:ingestCollection']);
        }
      }
      for (const activity of absent) assert.equal(named(`RunActivity:${activity}`).length, 0, `${activity} ran in a ${pipeline} run`);
      // One batch activity span per batch (no retries here), of each activity the pipeline has.
      for (const activity of batchActivities) assert.equal(named(`RunActivity:${activity}`).length, result.counters.batches, `${activity} spans`);
      const embeds = named('embed');
      assert.ok(embeds.length > 0, 'embedder calls are spans');
      for (const s of embeds) {
        assert.equal(parentOf(s)?.name, `RunActivity:${embedding}`);
        assert.equal(s.spanContext().traceId, traceId);
        assert.equal(s.attributes['embedding.model'], 'offline-hash-v1');
      }
      const upserts = named('sink.upsert');
      assert.ok(upserts.length > 0, 'sink writes are spans');
      for (const s of upserts) {
        assert.equal(parentOf(s)?.name, `RunActivity:${writing}`);
        assert.equal(s.spanContext().traceId, traceId);
        assert.equal(s.attributes['sink.collection'], name);
      }
      // One write per batch, and the points they wrote are the chunks the run counts as upserted.
      assert.equal(upserts.length, result.counters.batches);
      assert.equal(upserts.reduce((n, s) => n + Number(s.attributes['sink.points']), 0), result.counters.chunksUpserted);
      assert.ok(named('sink.finalize').some((s) => parentOf(s)?.name === 'RunActivity:finishRun'));
      // The same number of embed spans as requests the run made (one span per embedder call).
      assert.equal(embeds.length, result.counters.embeddingRequests);

      // Log lines written inside an activity carry its trace and span ids.
      for (const activity of batchActivities) {
        const done = lines.filter((l) => l.msg === `${activity} done`);
        assert.equal(done.length, result.counters.batches, `${activity} logged once per batch`);
        const activitySpans = new Set(named(`RunActivity:${activity}`).map((s) => s.spanContext().spanId));
        for (const l of done) {
          assert.equal(l.trace_id, traceId);
          assert.ok(activitySpans.has(l.span_id as string), 'span_id is the activity span');
        }
      }
      // Outside any span, no trace fields.
      assert.deepEqual(traceFields(), {});
    });
  }

  it('the pool gauges show the worker\'s real pg.Pool, and no embedding request is left in flight', async () => {
    const text = await registry.metrics(); // what the worker's /metrics endpoint serves
    const value = (name: string) => Number(text.split('\n').find((l) => l.startsWith(`${name} `))?.split(' ')[1]);
    const pool = worker.deps.pool;
    assert.ok(pool.totalCount > 0, 'the run left connections open in the pool');
    assert.equal(value('vector_ingest_pg_pool_connections'), pool.totalCount);
    assert.equal(value('vector_ingest_pg_pool_idle_connections'), pool.idleCount);
    assert.equal(value('vector_ingest_pg_pool_waiting_clients'), 0);
    assert.match(text, /vector_ingest_embedding_requests_in_flight\{model="offline-hash-v1"\} 0/);
  });
});
