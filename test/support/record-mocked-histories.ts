/**
 * Records histories of the ingest workflow in the situations a real run rarely shows on demand
 * (a provider outage and its circuit breaker, rate limits on embed and on upsert, a non-retryable
 * failure, an empty page, many batches landing in one workflow task), on Temporal's time-skipping
 * test server with mocked activities, into test/histories/ingest-<scenario>.mocked.json. The
 * determinism test (test/workflow/replay-histories.test.ts) replays them against the current
 * workflow code, so a refactor that changes the order of commands in any of these fails there.
 *
 *   eval "$(bash scripts/infra/install-temporal.sh)"; export TEMPORAL_TEST_SERVER_PATH
 *   node --import tsx test/support/record-mocked-histories.ts
 *
 * Like record-histories.ts: keep old files, they are what running workflows look like.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { temporal } from '@temporalio/proto';
import type { Activities } from '../../src/activities';
import { ingestCollection } from '../../src/workflows';
import { TASK_QUEUE, type IngestInput } from '../../src/contracts/ingest';
import { startTimeSkipping, withMockedWorkers } from './time-skipping';

interface Scenario {
  pages: number;
  batches: (page: number) => number;
  /** Pages that planned nothing (every document unchanged); default none. */
  idle?: (page: number) => boolean;
  input: Partial<IngestInput>;
  embed?: (k: { pageNo: number; batchNo: number }, call: number) => void;
  upsert?: (k: { pageNo: number; batchNo: number }, call: number) => void;
  probe?: (call: number) => void;
  planFailures?: boolean;
}

const rateLimited = () => ApplicationFailure.create({ message: '429 Too Many Requests', type: 'RateLimited', nextRetryDelay: '2s' });

export const SCENARIOS: Record<string, Scenario> = {
  // 4 pages of 7 batches through a window of 3, continue-as-new after 2 pages; activities take
  // different times so completions interleave and several land in one workflow task.
  window: { pages: 5, batches: (p) => (p === 2 ? 0 : 7), input: { maxInFlightBatches: 3, maxPagesPerRun: 2 }, planFailures: true },
  // the provider is down for the first calls and three probes
  outage: {
    pages: 2,
    batches: () => 5,
    input: { maxInFlightBatches: 3, timeouts: { probeSeconds: 5 } },
    embed: (_k, call) => {
      if (call >= 2 && call < 40) throw ApplicationFailure.retryable('503 Service Unavailable', 'ProviderUnavailable');
    },
    probe: (call) => {
      if (call < 3) throw ApplicationFailure.retryable('connection refused', 'ProviderUnavailable');
    },
  },
  // 429s on embed beyond one batch's attempts: the batch goes to the back of the queue
  'embed-rate-limited': { pages: 1, batches: () => 4, input: { maxInFlightBatches: 2 }, embed: (_k, call) => { if (call < 7) throw rateLimited(); } },
  // 429s on one batch's upsert beyond its attempts: the batch is dispatched again, embed included
  'upsert-rate-limited': {
    pages: 2,
    batches: () => 3,
    input: {},
    upsert: (k) => {
      if (k.pageNo === 0 && k.batchNo === 1 && upsertLimited.left-- > 0) throw rateLimited();
    },
  },
  // a store outage on upsert opens the circuit too
  'store-outage': {
    pages: 1,
    batches: () => 4,
    input: { maxInFlightBatches: 2, timeouts: { probeSeconds: 3 } },
    upsert: (k, call) => {
      if (k.batchNo === 0 && call < 12) throw ApplicationFailure.retryable('connection refused', 'StoreUnavailable');
    },
  },
  // a re-index that finds most pages unchanged: those schedule no commitPage (skip-idle-commits)
  unchanged: { pages: 5, batches: (p) => (p === 2 ? 3 : 0), idle: (p) => p !== 2, input: { maxInFlightBatches: 2, maxPagesPerRun: 3 } },
  // a non-retryable error fails the run
  failure: {
    pages: 2,
    batches: () => 3,
    input: {},
    embed: (k) => {
      if (k.pageNo === 0 && k.batchNo === 1) throw ApplicationFailure.nonRetryable('model does not exist', 'ModelNotFound');
    },
  },
};
const upsertLimited = { left: 10 };

function activitiesFor(s: Scenario): Activities {
  const calls = { embed: 0, upsert: 0, probe: 0 };
  const pause = (k: { pageNo: number; batchNo: number }) => new Promise((r) => setTimeout(r, ((k.pageNo * 7 + k.batchNo * 3) % 5) * 15));
  return {
    prepareCollection: async () => ({ model: 'm', dimensions: 4, semantic: true, sink: 'pgvector', searchAttributes: false }),
    planPage: async (i: { cursor: string | null }) => {
      const page = i.cursor === null ? 0 : Number(i.cursor) + 1;
      const batches = s.batches(page);
      const failed = s.planFailures && page === 1 ? 1 : 0;
      const idle = s.idle?.(page) === true;
      return {
        listed: 3,
        changed: idle ? 0 : 3 - failed,
        unchanged: idle ? 3 - failed : 0,
        failed,
        chunks: batches * 2,
        tokens: batches * 20,
        batches,
        nextCursor: page + 1 < s.pages ? String(page) : null,
        failures: failed ? [{ documentId: 'bad.md', type: 'DocumentUnreadable', message: 'binary' }] : [],
      };
    },
    embedBatch: async (k: { pageNo: number; batchNo: number }) => {
      await pause(k);
      s.embed?.(k, calls.embed++);
      return { chunks: 2, embedded: 1, cached: 0, failed: 1, tokens: 20, requests: 1 };
    },
    probeEmbedder: async () => {
      s.probe?.(calls.probe++);
      return { ok: true, dimensions: 4 };
    },
    upsertBatch: async (k: { pageNo: number; batchNo: number }) => {
      await pause({ pageNo: k.batchNo, batchNo: k.pageNo });
      s.upsert?.(k, calls.upsert++);
      return { upserted: 1, written: 1, skipped: 1 };
    },
    commitPage: async () => ({ documents: 3, failedChunks: 1 }),
    finishRun: async () => ({ documentsDeleted: 1 }),
  } as unknown as Activities;
}

async function main(): Promise<void> {
  const out = path.resolve(__dirname, '../histories');
  mkdirSync(out, { recursive: true });
  const env = await startTimeSkipping();
  const only = process.argv.slice(2);
  try {
    for (const [name, s] of Object.entries(SCENARIOS)) {
      if (only.length > 0 && !only.includes(name)) continue;
      const activities = activitiesFor(s);
      await withMockedWorkers(env, activities, async () => {
        const h = await env.client.workflow.start(ingestCollection, {
          taskQueue: TASK_QUEUE,
          workflowId: `mocked-${name}`,
          // The scenarios play embedBatch and upsertBatch: the split pipeline, named (the default is fused).
          args: [{ collection: 'mocked', source: { kind: 'synthetic', documents: 1 }, pipeline: 'split', ...s.input }],
        });
        const outcome = await h.result().then(
          (r) => `done, ${r.counters.chunksUpserted} chunks, ${r.continuedAsNew} continue-as-new`,
          (e: Error) => `failed: ${e.message}`,
        );
        let runId: string | undefined = h.firstExecutionRunId;
        let n = 0;
        while (runId) {
          const hist: temporal.api.history.v1.IHistory = await env.client.workflow.getHandle(`mocked-${name}`, runId).fetchHistory();
          const file = `ingest-${name}${n > 0 ? `-run${n + 1}` : ''}.mocked.json`;
          writeFileSync(path.join(out, file), historyToJSON(hist));
          console.log(`${file}: ${hist.events?.length} events (${outcome})`);
          const last: temporal.api.history.v1.IHistoryEvent | undefined = hist.events?.[hist.events.length - 1];
          runId = last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
          n++;
        }
      });
    }
  } finally {
    await env.teardown();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
