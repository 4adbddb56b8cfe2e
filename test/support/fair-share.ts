/**
 * Two collections on the same workers, with mocked activities whose embed takes a fixed time on a
 * small embed worker: the small one started while the big one runs, and alone. Shared by the
 * fairness test (test/integration/fairness.test.ts) and its benchmark (bench/fairness.ts).
 */
import { Context } from '@temporalio/activity';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { Activities } from '../../src/activities';
import type { DevServer } from '../../src/embedded/temporal';
import { ingestCollection } from '../../src/workflows';
import { EMBED_TASK_QUEUE, TASK_QUEUE, UPSERT_TASK_QUEUE } from '../../src/contracts/ingest';
import { testClient, workflowBundle } from './env';

export interface FairShareOptions {
  /** Batches of the big and the small collection (batchesPerPage each page). */
  bigBatches: number;
  smallBatches: number;
  batchesPerPage: number;
  chunksPerBatch: number;
  embedMs: number;
  embedSlots: number;
  /** The big run's window (maxInFlightBatches). */
  window: number;
  /** How long the big run goes on alone before the small one starts. */
  headStartMs: number;
}

export interface FairShareResult {
  smallAloneMs: number;
  smallWithBigMs: number;
  bigAloneMs?: number;
  bigWithSmallMs: number;
  /** Embed tasks of the big collection that started after the small run started and before its last embed started. */
  bigEmbedsBeforeSmallDone: number;
  /** Longest time one of the small collection's embed tasks waited in the queue while the big one ran. */
  smallEmbedMaxWaitMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function activities(o: FairShareOptions, starts: Array<{ collection: string; at: number; waitedMs: number }>): Activities {
  const batchesOf = (collection: string) => (collection.startsWith('big') ? o.bigBatches : o.smallBatches);
  return {
    prepareCollection: async () => ({ model: 'mock', dimensions: 4, semantic: true, sink: 'pgvector', searchAttributes: false }),
    planPage: async (i: { collection: string; cursor: string | null }) => {
      const page = i.cursor === null ? 0 : Number(i.cursor) + 1;
      const total = batchesOf(i.collection);
      const batches = Math.min(o.batchesPerPage, total - page * o.batchesPerPage);
      const more = (page + 1) * o.batchesPerPage < total;
      return { listed: 1, changed: 1, unchanged: 0, failed: 0, chunks: batches * o.chunksPerBatch, tokens: 0, batches, nextCursor: more ? String(page) : null, failures: [], filesExcluded: 0, directoriesExcluded: 0, filesUnsupported: 0 };
    },
    embedBatch: async (k: { collection: string }) => {
      const info = Context.current().info;
      starts.push({ collection: k.collection, at: Date.now(), waitedMs: Date.now() - info.currentAttemptScheduledTimestampMs });
      await sleep(o.embedMs);
      return { chunks: o.chunksPerBatch, embedded: o.chunksPerBatch, cached: 0, failed: 0, tokens: 0, costUsd: 0, requests: 1 };
    },
    upsertBatch: async () => ({ upserted: o.chunksPerBatch, written: o.chunksPerBatch, skipped: 0 }),
    commitPage: async () => ({ documents: 1, failedChunks: 0 }),
    finishRun: async () => ({ documentsDeleted: 0 }),
  } as unknown as Activities;
}

/** Runs the scenario on `server`: the small one alone, the big one alone (when asked), then both. */
export async function fairShare(server: DevServer, o: FairShareOptions, tag: string, opts: { bigAlone?: boolean; warmUp?: boolean } = {}): Promise<FairShareResult> {
  const connection = await NativeConnection.connect({ address: server.address });
  const tc = await testClient(server);
  const starts: Array<{ collection: string; at: number; waitedMs: number }> = [];
  const acts = activities(o, starts);
  const base = { connection, namespace: server.namespace };
  const workers = await Promise.all([
    Worker.create({ ...base, taskQueue: TASK_QUEUE, workflowBundle: await workflowBundle(), activities: acts, maxConcurrentActivityTaskExecutions: 8 }),
    Worker.create({ ...base, taskQueue: EMBED_TASK_QUEUE, activities: acts, maxConcurrentActivityTaskExecutions: o.embedSlots }),
    Worker.create({ ...base, taskQueue: UPSERT_TASK_QUEUE, activities: acts, maxConcurrentActivityTaskExecutions: 16 }),
  ]);
  const running = workers.map((w) => w.run());
  const run = async (collection: string, window: number) => {
    const t0 = Date.now();
    await tc.client.workflow.execute(ingestCollection, {
      taskQueue: TASK_QUEUE,
      workflowId: `ingest-${collection}`,
      priority: { fairnessKey: collection },
      args: [{ collection, source: { kind: 'synthetic', documents: 1 }, maxInFlightBatches: window, maxPagesPerRun: 1000 }],
    });
    return Date.now() - t0;
  };
  try {
    // A first run on a fresh server and worker is slower (the server switches the queues to
    // fairness mode, the worker loads the bundle): it is not measured.
    if (opts.warmUp) await run(`small_warmup_${tag}`, o.window);
    const smallAloneMs = await run(`small_alone_${tag}`, o.window);
    const bigAloneMs = opts.bigAlone ? await run(`big_alone_${tag}`, o.window) : undefined;
    starts.length = 0;
    const big = run(`big_${tag}`, o.window);
    await sleep(o.headStartMs);
    const smallStart = Date.now();
    const smallWithBigMs = await run(`small_${tag}`, o.window);
    const bigWithSmallMs = await big;
    const lastSmall = starts.map((s) => s.collection.startsWith('small')).lastIndexOf(true);
    const bigEmbedsBeforeSmallDone = starts.slice(0, lastSmall).filter((s) => s.at >= smallStart && s.collection.startsWith('big')).length;
    const smallEmbedMaxWaitMs = Math.max(...starts.filter((s) => s.collection.startsWith('small')).map((s) => s.waitedMs));
    return { smallAloneMs, smallWithBigMs, bigAloneMs, bigWithSmallMs, bigEmbedsBeforeSmallDone, smallEmbedMaxWaitMs };
  } finally {
    for (const w of workers) w.shutdown();
    await Promise.all(running);
    await tc.close();
    await connection.close();
  }
}
