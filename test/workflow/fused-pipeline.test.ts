import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Activities } from '../../src/activities';
import { ingestCollection } from '../../src/workflows';
import { TASK_QUEUE, type IngestInput } from '../../src/contracts/ingest';
import { startTimeSkipping, withMockedWorkers } from '../support/time-skipping';

// The fused pipeline (IngestInput.pipeline "fused"): one embedAndWriteBatch activity per batch
// instead of embedBatch + upsertBatch, with the split path's handling of what comes back: failed
// chunks counted once, outages opening the circuit, rate limits sending the batch to the back of
// the queue. On the time-skipping server, activities mocked.
describe('fused batch pipeline (one activity per batch)', () => {
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await startTimeSkipping();
  });
  after(() => env?.teardown());

  const PAGES = 2;
  const BATCHES = 4;
  const CHUNKS = 3;

  /** Mocked activities; `fused` decides what one embedAndWriteBatch call does (throw, or the batch's result). */
  function mocked(fused: (k: { pageNo: number; batchNo: number }) => void, o: { failedPerBatch?: number; probe?: () => void } = {}) {
    const calls = { fused: 0, embed: 0, upsert: 0, probes: 0 };
    const landed = new Map<string, number>();
    const activities = {
      prepareCollection: async () => ({ model: 'm', dimensions: 4, semantic: true, sink: 'pgvector', searchAttributes: false }),
      planPage: async (i: { cursor: string | null }) => {
        const page = i.cursor === null ? 0 : Number(i.cursor) + 1;
        return { listed: 1, changed: 1, unchanged: 0, failed: 0, chunks: BATCHES * CHUNKS, tokens: 10, batches: BATCHES, nextCursor: page + 1 < PAGES ? String(page) : null, failures: [] };
      },
      embedAndWriteBatch: async (k: { pageNo: number; batchNo: number }) => {
        calls.fused++;
        fused(k);
        const id = `${k.pageNo}/${k.batchNo}`;
        landed.set(id, (landed.get(id) ?? 0) + 1);
        const failed = o.failedPerBatch ?? 0;
        return {
          embed: { chunks: CHUNKS, embedded: CHUNKS, cached: 0, failed, tokens: 10, costUsd: 0, requests: 1 },
          upsert: { upserted: CHUNKS - failed, written: CHUNKS - failed, skipped: 0 },
        };
      },
      embedBatch: async () => {
        calls.embed++;
        return { chunks: CHUNKS, embedded: CHUNKS, cached: 0, failed: 0, tokens: 10, costUsd: 0, requests: 1 };
      },
      upsertBatch: async () => {
        calls.upsert++;
        return { upserted: CHUNKS, written: CHUNKS, skipped: 0 };
      },
      probeEmbedder: async () => {
        calls.probes++;
        o.probe?.();
        return { ok: true, dimensions: 4 };
      },
      commitPage: async () => ({ documents: 1, failedChunks: 0 }),
      finishRun: async () => ({ documentsDeleted: 0 }),
    } as unknown as Activities;
    return { activities, calls, landed };
  }

  const input = (collection: string, extra: Partial<IngestInput> = {}): IngestInput => ({ collection, source: { kind: 'synthetic', documents: 1 }, maxInFlightBatches: 3, pipeline: 'fused', ...extra });
  const run = (m: ReturnType<typeof mocked>, id: string, i: IngestInput) =>
    withMockedWorkers(env, m.activities, () => env.client.workflow.execute(ingestCollection, { taskQueue: TASK_QUEUE, workflowId: id, args: [i] }));

  it('runs each batch as one activity, counts its embedding, failed chunks and write from that one result, and records no embed or upsert activity', async () => {
    const m = mocked(() => undefined, { failedPerBatch: 1 });
    const result = await run(m, 'fused-one', input('fused_one'));
    assert.deepEqual(m.calls, { fused: PAGES * BATCHES, embed: 0, upsert: 0, probes: 0 });
    const c = result.counters;
    assert.equal(c.batches, PAGES * BATCHES);
    assert.equal(c.chunksEmbedded, PAGES * BATCHES * CHUNKS);
    assert.equal(c.chunksFailed, PAGES * BATCHES, 'the failed chunk of each batch is counted');
    assert.equal(c.chunksUpserted, PAGES * BATCHES * (CHUNKS - 1));
    assert.equal(c.embeddingRequests, PAGES * BATCHES);
    const types = new Set<string>();
    for (const e of (await env.client.workflow.getHandle('fused-one').fetchHistory()).events ?? []) {
      const t = e.activityTaskScheduledEventAttributes?.activityType?.name;
      if (t) types.add(t);
    }
    assert.ok(types.has('embedAndWriteBatch'));
    assert.ok(!types.has('embedBatch') && !types.has('upsertBatch'), `scheduled: ${[...types].join(', ')}`);
  });

  it('still runs the split pipeline when the input asks for it', async () => {
    const m = mocked(() => undefined);
    const result = await run(m, 'fused-split', input('fused_split', { pipeline: 'split' }));
    assert.deepEqual(m.calls, { fused: 0, embed: PAGES * BATCHES, upsert: PAGES * BATCHES, probes: 0 });
    assert.equal(result.counters.chunksUpserted, PAGES * BATCHES * CHUNKS);
  });

  it('opens the circuit on a provider outage, probes, and lands every batch exactly once after', async () => {
    let down = true;
    let probes = 0;
    const m = mocked(
      () => {
        if (down) throw ApplicationFailure.retryable('503 Service Unavailable', 'ProviderUnavailable');
      },
      {
        probe: () => {
          probes++;
          if (probes >= 2) down = false;
          if (down) throw ApplicationFailure.retryable('connection refused', 'ProviderUnavailable');
        },
      },
    );
    const result = await run(m, 'fused-outage', input('fused_outage'));
    assert.equal(probes, 2, 'the circuit opened and probed until the provider was back');
    assert.equal(m.landed.size, PAGES * BATCHES);
    assert.ok([...m.landed.values()].every((n) => n === 1), 'a batch landed twice');
    assert.equal(result.counters.chunksUpserted, PAGES * BATCHES * CHUNKS);
  });

  it('treats a sink outage like the split path\'s upsert outage: the batch waits and lands', async () => {
    let storeDown = 6; // more than one batch's five attempts
    const m = mocked(() => {
      if (storeDown-- > 0) throw ApplicationFailure.retryable('database unavailable: ECONNREFUSED', 'StoreUnavailable');
    });
    const result = await run(m, 'fused-store', input('fused_store', { maxInFlightBatches: 1 }));
    assert.ok(m.calls.probes >= 1, 'the circuit opened');
    assert.equal(m.landed.size, PAGES * BATCHES);
    assert.equal(result.counters.chunksUpserted, PAGES * BATCHES * CHUNKS);
  });

  it('sends a rate-limited batch to the back of the queue without opening the circuit', async () => {
    let limited = 7; // more than one batch's five attempts
    const m = mocked(() => {
      if (limited-- > 0) throw ApplicationFailure.create({ message: '429 Too Many Requests', type: 'RateLimited', nextRetryDelay: '2s' });
    });
    const result = await run(m, 'fused-429', input('fused_429', { maxInFlightBatches: 1 }));
    assert.equal(m.calls.probes, 0, 'the circuit opened on rate limits');
    assert.equal(m.landed.size, PAGES * BATCHES);
    assert.equal(result.counters.chunksUpserted, PAGES * BATCHES * CHUNKS);
  });

  it('fails the run on a non-retryable error of a fused batch, and refuses an unknown pipeline at start', async () => {
    const m = mocked((k) => {
      if (k.pageNo === 0 && k.batchNo === 1) throw ApplicationFailure.nonRetryable('model does not exist', 'ModelNotFound');
    });
    await assert.rejects(run(m, 'fused-fatal', input('fused_fatal')), (e: unknown) => e instanceof WorkflowFailedError && (e.cause as { cause?: ApplicationFailure })?.cause?.type === 'ModelNotFound');
    await assert.rejects(run(mocked(() => undefined), 'fused-bad', input('fused_bad', { pipeline: 'both' as never })), (e: unknown) => e instanceof WorkflowFailedError && /pipeline must be one of split, fused/.test(String((e.cause as Error)?.message)));
  });
});
