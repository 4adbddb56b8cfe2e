import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { Activities } from '../../src/activities';
import type { DevServer } from '../../src/embedded/temporal';
import { ingestCollection } from '../../src/workflows';
import { EMBED_TASK_QUEUE, TASK_QUEUE, UPSERT_TASK_QUEUE, type IngestInput } from '../../src/contracts/ingest';
import { BATCH_ATTEMPTS } from '../../src/workflows/ingest-activities';
import { startTemporal, testClient, workflowBundle } from '../support/env';
import { installRuntime } from '../../src/runtime';
import { createLogger } from '../../src/log';

// Workflow logic against a real Temporal dev server with the activities mocked: the mocks
// count what the workflow asks for, so the window bound, paging and continue-as-new are
// checked exactly, with no database or embedding provider involved.
describe('ingestCollection workflow (mocked activities)', () => {
  let server: DevServer;
  let tc: Awaited<ReturnType<typeof testClient>>;
  let connection: NativeConnection;

  before(async () => {
    installRuntime(createLogger('warn', { pretty: false }));
    server = await startTemporal();
    tc = await testClient(server);
    connection = await NativeConnection.connect({ address: server.address });
  });
  after(async () => {
    await tc?.close();
    await connection?.close();
    await server?.stop();
  });

  interface Mock {
    activities: Activities;
    log: { planned: Array<{ pageNo: number; cursor: string | null; runKey: string; previousPageBatchesDone: number }>; committed: number[]; maxInFlight: number; finished: number; batchesDone: Map<number, number>; calls: { split: number; fused: number } };
  }

  /** A source of `pages` pages with `batchesPerPage` batches of `chunksPerBatch` chunks each. */
  function mock(pages: number, batchesPerPage: number, chunksPerBatch: number, opts: { embedDelayMs?: number; failBatch?: [number, number]; failedPerBatch?: number; upsertRateLimited?: { pageNo: number; batchNo: number; times: number } } = {}): Mock {
    const log: Mock['log'] = { planned: [], committed: [], maxInFlight: 0, finished: 0, batchesDone: new Map(), calls: { split: 0, fused: 0 } };
    let inFlight = 0;
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const embed = async (k: { pageNo: number; batchNo: number }) => {
      inFlight++;
      log.maxInFlight = Math.max(log.maxInFlight, inFlight);
      try {
        await sleep(opts.embedDelayMs ?? 20);
        if (opts.failBatch && k.pageNo === opts.failBatch[0] && k.batchNo === opts.failBatch[1]) {
          throw ApplicationFailure.nonRetryable('model does not exist', 'ModelNotFound');
        }
        const failed = opts.failedPerBatch ?? 0;
        return { chunks: chunksPerBatch, embedded: chunksPerBatch - failed, cached: 0, failed, tokens: chunksPerBatch * 10, requests: 1 };
      } finally {
        inFlight--;
      }
    };
    const upsert = async (k: { pageNo: number; batchNo: number }) => {
      const rl = opts.upsertRateLimited;
      if (rl && k.pageNo === rl.pageNo && k.batchNo === rl.batchNo && rl.times > 0) {
        rl.times--;
        throw ApplicationFailure.create({ type: 'RateLimited', message: 'rate limited (mock)', nextRetryDelay: '50ms' });
      }
      log.batchesDone.set(k.pageNo, (log.batchesDone.get(k.pageNo) ?? 0) + 1);
      return { upserted: chunksPerBatch, written: chunksPerBatch, skipped: 0 };
    };
    const activities = {
      prepareCollection: async () => ({ model: 'mock', dimensions: 4, semantic: true, sink: 'pgvector' }),
      planPage: async (i: { pageNo: number; cursor: string | null; runKey: string }) => {
        log.planned.push({ pageNo: i.pageNo, cursor: i.cursor, runKey: i.runKey, previousPageBatchesDone: log.batchesDone.get(i.pageNo - 1) ?? 0 });
        const page = i.cursor === null ? 0 : Number(i.cursor.slice(1)) + 1;
        return {
          listed: 10,
          changed: 10,
          unchanged: 0,
          failed: 0,
          chunks: batchesPerPage * chunksPerBatch,
          tokens: batchesPerPage * chunksPerBatch * 10,
          batches: batchesPerPage,
          nextCursor: page + 1 < pages ? `p${page}` : null,
          failures: [],
        };
      },
      // The split pipeline: two activities per batch.
      embedBatch: async (k: { pageNo: number; batchNo: number }) => {
        log.calls.split++;
        return embed(k);
      },
      upsertBatch: upsert,
      // The default pipeline (fused): both in one activity.
      embedAndWriteBatch: async (k: { pageNo: number; batchNo: number }) => {
        log.calls.fused++;
        return { embed: await embed(k), upsert: await upsert(k) };
      },
      commitPage: async (k: { pageNo: number }) => {
        // a page is committed only after all of its batches landed
        assert.equal(log.batchesDone.get(k.pageNo) ?? 0, batchesPerPage, `page ${k.pageNo} committed early`);
        log.committed.push(k.pageNo);
        return { documents: 10, failedChunks: 0 };
      },
      finishRun: async () => {
        log.finished++;
        return { documentsDeleted: 3 };
      },
    };
    return { activities: activities as unknown as Activities, log };
  }

  async function withWorkers<T>(m: Mock, fn: () => Promise<T>): Promise<T> {
    const bundle = await workflowBundle();
    const base = { connection, namespace: server.namespace };
    const workers = await Promise.all([
      Worker.create({ ...base, taskQueue: TASK_QUEUE, workflowBundle: bundle, activities: m.activities }),
      Worker.create({ ...base, taskQueue: EMBED_TASK_QUEUE, activities: m.activities, maxConcurrentActivityTaskExecutions: 50 }),
      Worker.create({ ...base, taskQueue: UPSERT_TASK_QUEUE, activities: m.activities, maxConcurrentActivityTaskExecutions: 50 }),
    ]);
    const running = workers.map((w) => w.run());
    try {
      return await fn();
    } finally {
      for (const w of workers) w.shutdown();
      await Promise.all(running);
    }
  }

  const start = (id: string, input: IngestInput) => tc.client.workflow.start(ingestCollection, { taskQueue: TASK_QUEUE, workflowId: id, args: [input] });
  /** The input the latest run of a chain started with (a continue-as-new writes it). */
  async function latestRunInput(id: string): Promise<IngestInput> {
    const history = await tc.client.workflow.getHandle(id).fetchHistory();
    const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    assert.ok(payload?.data, 'the run has no input');
    return JSON.parse(Buffer.from(payload.data).toString('utf8')) as IngestInput;
  }

  it('keeps at most maxInFlightBatches batches in flight, and does fill the window', async () => {
    const m = mock(3, 12, 5, { embedDelayMs: 40 });
    const result = await withWorkers(m, async () => (await start('wf-window', { collection: 'wf', source: { kind: 'synthetic', documents: 1 }, maxInFlightBatches: 3 })).result());
    assert.ok(m.log.maxInFlight <= 3, `max in flight ${m.log.maxInFlight} > window 3`);
    assert.equal(m.log.maxInFlight, 3, 'the window was never filled');
    assert.equal(result.counters.batches, 36);
    assert.equal(result.counters.chunksUpserted, 180);
  });

  it('plans the next page while the current page is still being embedded (plan-ahead)', async () => {
    const m = mock(3, 4, 5, { embedDelayMs: 300 });
    const result = await withWorkers(m, async () => (await start('wf-plan-ahead', { collection: 'wf', source: { kind: 'synthetic', documents: 1 }, maxInFlightBatches: 2 })).result());
    assert.deepEqual(m.log.planned.map((p) => p.pageNo), [0, 1, 2]);
    // Without plan-ahead, page 1 would be planned only once page 0's batches were all dispatched,
    // i.e. after 2 of its 4 had landed (window 2); with it, before the first 300 ms embed is back.
    assert.deepEqual(m.log.planned.slice(1).map((p) => p.previousPageBatchesDone), [0, 0]);
    assert.equal(result.counters.chunksUpserted, 60);
    assert.deepEqual([...m.log.committed].sort((a, b) => a - b), [0, 1, 2]);
  });

  it('continues as new every maxPagesPerRun pages, without skipping or repeating a page, counters intact', async () => {
    const m = mock(7, 2, 4);
    const handle = await start('wf-can', { collection: 'wf', source: { kind: 'synthetic', documents: 1 }, maxPagesPerRun: 2, maxInFlightBatches: 4 });
    const result = await withWorkers(m, () => handle.result());
    assert.equal(result.continuedAsNew, 3); // pages 0-1 | 2-3 | 4-5 | 6
    assert.deepEqual(m.log.planned.map((p) => p.pageNo), [0, 1, 2, 3, 4, 5, 6]);
    assert.deepEqual(m.log.planned.map((p) => p.cursor), [null, 'p0', 'p1', 'p2', 'p3', 'p4', 'p5']);
    assert.equal(new Set(m.log.planned.map((p) => p.runKey)).size, 1, 'runKey changed across continue-as-new');
    assert.equal(m.log.planned[0]!.runKey, handle.firstExecutionRunId);
    assert.deepEqual([...m.log.committed].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6]);
    assert.equal(m.log.finished, 1);
    const c = result.counters;
    assert.equal(c.pages, 7);
    assert.equal(c.documentsListed, 70);
    assert.equal(c.chunksPlanned, 56);
    assert.equal(c.chunksUpserted, 56);
    assert.equal(c.embeddingRequests, 14);
    assert.equal(c.documentsDeleted, 3);
    // the history of the last run starts from the carried state, not from scratch
    const last = await tc.client.workflow.getHandle('wf-can').describe();
    assert.notEqual(last.runId, handle.firstExecutionRunId);
    // no pipeline named: the default (fused), and the continued runs name it, so a later change
    // of the default cannot switch a run midway
    assert.deepEqual(m.log.calls, { split: 0, fused: 14 });
    assert.equal((await latestRunInput('wf-can')).pipeline, 'fused');
  });

  it('keeps a split run split across continue-as-new', async () => {
    const m = mock(5, 2, 2);
    const handle = await start('wf-can-split', { collection: 'wf', source: { kind: 'synthetic', documents: 1 }, maxPagesPerRun: 2, pipeline: 'split' });
    const result = await withWorkers(m, () => handle.result());
    assert.equal(result.continuedAsNew, 2);
    assert.deepEqual(m.log.calls, { split: 10, fused: 0 });
    assert.equal(result.counters.chunksUpserted, 20);
    assert.equal((await latestRunInput('wf-can-split')).pipeline, 'split');
  });

  it('counts a batch\'s failed chunks once when the batch is dispatched again after its upsert was rate-limited', async () => {
    // upsertBatch allows 5 attempts (BATCH_ATTEMPTS); the 5 rate-limited answers send the batch
    // back to the queue, and its second dispatch embeds again (the mock reports its failed chunk again).
    const m = mock(1, 3, 4, { failedPerBatch: 1, upsertRateLimited: { pageNo: 0, batchNo: 1, times: BATCH_ATTEMPTS } });
    // The split pipeline: the re-dispatch embeds again in an activity of its own, whose result counts.
    const result = await withWorkers(m, async () => (await start('wf-count-once', { collection: 'wf', source: { kind: 'synthetic', documents: 1 }, pipeline: 'split' })).result());
    assert.equal(m.log.batchesDone.get(0), 3);
    assert.equal(result.counters.chunksFailed, 3, 'a re-dispatched batch counted its failed chunk twice');
    assert.equal(result.counters.chunksEmbedded, 9);
    assert.equal(result.counters.embeddingRequests, 4, 'every request the provider answered is counted');
  });

  it('fails the run with the activity\'s message on a non-retryable error, committing nothing after it', async () => {
    const m = mock(2, 3, 2, { failBatch: [0, 1] });
    await withWorkers(m, async () => {
      const h = await start('wf-fail', { collection: 'wf', source: { kind: 'synthetic', documents: 1 } });
      await assert.rejects(h.result(), (e: unknown) => {
        assert.ok(e instanceof WorkflowFailedError);
        const cause = (e.cause as { cause?: ApplicationFailure })?.cause;
        assert.equal(cause?.type, 'ModelNotFound');
        assert.match(cause?.message ?? '', /model does not exist/);
        return true;
      });
    });
    assert.ok(!m.log.committed.includes(0), 'the page with the failed batch was committed');
    assert.equal(m.log.finished, 0);
  });

  it('refuses a hostile collection name at start, before any activity runs', async () => {
    const m = mock(1, 1, 1);
    await withWorkers(m, async () => {
      const h = await start('wf-hostile', { collection: 'docs; DROP TABLE x', source: { kind: 'synthetic', documents: 1 } });
      await assert.rejects(h.result(), (e: unknown) => {
        assert.ok(e instanceof WorkflowFailedError);
        assert.match(String((e.cause as Error)?.message), /collection name "docs; DROP TABLE x" is not allowed/);
        return true;
      });
    });
    assert.equal(m.log.planned.length, 0);
  });
});
