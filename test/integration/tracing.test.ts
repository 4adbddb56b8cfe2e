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
import { startTemporal, teardown, tempDir, testClient, testConfig, TEST_DATABASE_URL, uniqueCollection } from '../support/env';

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
    await teardown({ tc, worker: { stop: async () => { worker.set.shutdown(); await worker.done; } }, server, collection });
    await tracing.shutdown();
  });

  it('has a workflow span, activity spans in its trace, and embed and sink spans under their activities; logs carry the trace id', async () => {
    const corpus = tempDir('vi-trace-');
    buildCorpus(corpus, { files: 6, largeFiles: 0, seed: Date.now() % 1_000_000 }); // texts no earlier run cached, so the run embeds
    const handle = await tc.client.workflow.start(ingestCollection, {
      taskQueue: TASK_QUEUE,
      workflowId: `${collection}-1`,
      // The split pipeline (named; the default is fused): its spans are checked per activity below.
      args: [{ collection, source: { kind: 'directory', path: corpus }, chunking: { chunkTokens: 100, overlapTokens: 10 }, pipeline: 'split' }],
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

    for (const activity of ['prepareCollection', 'planPage', 'embedBatch', 'upsertBatch', 'commitPage', 'finishRun']) {
      const runs = named(`RunActivity:${activity}`);
      assert.ok(runs.length > 0, `no span for ${activity}`);
      for (const s of runs) {
        assert.equal(s.spanContext().traceId, traceId, `${activity} is in the workflow's trace`);
        assert.deepEqual(ancestors(s).slice(0, 2), [`StartActivity:${activity}`, 'RunWorkflow:ingestCollection']);
      }
    }
    const embeds = named('embed');
    assert.ok(embeds.length > 0, 'embedder calls are spans');
    for (const s of embeds) {
      assert.equal(parentOf(s)?.name, 'RunActivity:embedBatch');
      assert.equal(s.spanContext().traceId, traceId);
      assert.equal(s.attributes['embedding.model'], 'offline-hash-v1');
    }
    const upserts = named('sink.upsert');
    assert.ok(upserts.length > 0, 'sink writes are spans');
    for (const s of upserts) {
      assert.equal(parentOf(s)?.name, 'RunActivity:upsertBatch');
      assert.equal(s.spanContext().traceId, traceId);
      assert.equal(s.attributes['sink.collection'], collection);
    }
    assert.ok(named('sink.finalize').some((s) => parentOf(s)?.name === 'RunActivity:finishRun'));
    // The same number of embed spans as requests the run made (one span per embedder call).
    assert.equal(embeds.length, result.counters.embeddingRequests);

    // Log lines written inside an activity carry its trace and span ids.
    const done = lines.filter((l) => l.msg === 'embedBatch done');
    assert.ok(done.length > 0, 'the activity logged');
    const activitySpans = new Set(named('RunActivity:embedBatch').map((s) => s.spanContext().spanId));
    for (const l of done) {
      assert.equal(l.trace_id, traceId);
      assert.ok(activitySpans.has(l.span_id as string), 'span_id is the activity span');
    }
    // Outside any span, no trace fields.
    assert.deepEqual(traceFields(), {});
  });

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
