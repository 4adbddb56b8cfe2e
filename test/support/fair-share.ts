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
import { EMBED_TASK_QUEUE, TASK_QUEUE, UPSERT_TASK_QUEUE, type BatchPipeline } from '../../src/contracts/ingest';
import { criticalPathOf, type CriticalPath } from './critical-path';
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
  /**
   * Small runs back to back, alone and while the big one runs (default 1): one run of a few
   * hundred milliseconds is at the mercy of whatever else the machine does in that second; the
   * median of several is not.
   */
  smallRuns?: number;
  /**
   * Pause between two small runs (default 1 s). Back to back, every hop of a run started as the
   * last one ended waited ~40 ms more (queue and workflow task alike, with or without fairness,
   * old matcher too), which doubled "alone" and flattered the ratio; a collection started a minute
   * into another does not meet that.
   */
  smallGapMs?: number;
  /** Both runs' batch pipeline (IngestInput.pipeline; unset: the default). A fused batch is one mocked activity of embedMs. */
  pipeline?: BatchPipeline;
}

export interface FairShareResult {
  /** Median of the small runs alone, and beside the big one; each run's time in the arrays. */
  smallAloneMs: number;
  smallWithBigMs: number;
  smallAloneRuns: number[];
  smallBesideRuns: number[];
  /** Small runs that ended after the big one had (they did not run beside it all the time). */
  smallBesideAfterBig: number;
  bigAloneMs?: number;
  /** The big run's time beside the small ones (unset when it was stopped once they were done). */
  bigWithSmallMs?: number;
  /** Embed tasks of the big collection that started after the first small run started and before its last embed started. */
  bigEmbedsBeforeSmallDone: number;
  /** Longest time one of the first small run's embed tasks waited in the queue while the big one ran. */
  smallEmbedMaxWaitMs: number;
  /** The same wait counted in the big run's embed tasks that started meanwhile (dispatch order, not time). */
  smallEmbedMaxWaitDispatches: number;
  /** Where the median small run's time went, alone and beside the big one (test/support/critical-path.ts). */
  smallAlonePath: CriticalPath;
  smallBesidePath: CriticalPath;
}

export interface FairShareRunOptions {
  /** Also run the big one alone (its throughput loss). */
  bigAlone?: boolean;
  /** A small run first that is not measured. */
  warmUp?: boolean;
  /** Both together first, then alone (a benchmark alternates, so neither side always gets the warmer or the quieter minute). */
  togetherFirst?: boolean;
  /** Terminate the big run once the small ones are done (when only the small one's share counts). */
  stopBigAfterSmall?: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface EmbedStart {
  collection: string;
  at: number;
  scheduledAt: number;
  waitedMs: number;
}

function activities(o: FairShareOptions, starts: EmbedStart[]): Activities {
  const batchesOf = (collection: string) => (collection.startsWith('big') ? o.bigBatches : o.smallBatches);
  const embed = async (k: { collection: string }) => {
    const info = Context.current().info;
    const at = Date.now();
    starts.push({ collection: k.collection, at, scheduledAt: info.currentAttemptScheduledTimestampMs, waitedMs: at - info.currentAttemptScheduledTimestampMs });
    await sleep(o.embedMs);
    return { chunks: o.chunksPerBatch, embedded: o.chunksPerBatch, cached: 0, failed: 0, tokens: 0, costUsd: 0, requests: 1 };
  };
  const upserted = { upserted: o.chunksPerBatch, written: o.chunksPerBatch, skipped: 0 };
  return {
    prepareCollection: async () => ({ model: 'mock', dimensions: 4, semantic: true, sink: 'pgvector', searchAttributes: false }),
    planPage: async (i: { collection: string; cursor: string | null }) => {
      const page = i.cursor === null ? 0 : Number(i.cursor) + 1;
      const total = batchesOf(i.collection);
      const batches = Math.min(o.batchesPerPage, total - page * o.batchesPerPage);
      const more = (page + 1) * o.batchesPerPage < total;
      return { listed: 1, changed: 1, unchanged: 0, failed: 0, chunks: batches * o.chunksPerBatch, tokens: 0, batches, nextCursor: more ? String(page) : null, failures: [], filesExcluded: 0, directoriesExcluded: 0, filesUnsupported: 0 };
    },
    embedBatch: (k: { collection: string }) => embed(k),
    upsertBatch: async () => upserted,
    embedAndWriteBatch: async (k: { collection: string }) => ({ embed: await embed(k), upsert: upserted }),
    commitPage: async () => ({ documents: 1, failedChunks: 0 }),
    finishRun: async () => ({ documentsDeleted: 0 }),
  } as unknown as Activities;
}

/** Runs the scenario on `server`: the small one alone (smallRuns times), the big one alone (when asked), and both. */
export async function fairShare(server: DevServer, o: FairShareOptions, tag: string, opts: FairShareRunOptions = {}): Promise<FairShareResult> {
  const connection = await NativeConnection.connect({ address: server.address });
  const tc = await testClient(server);
  const starts: EmbedStart[] = [];
  const acts = activities(o, starts);
  const base = { connection, namespace: server.namespace };
  const workers = await Promise.all([
    Worker.create({ ...base, taskQueue: TASK_QUEUE, workflowBundle: await workflowBundle(), activities: acts, maxConcurrentActivityTaskExecutions: 8 }),
    Worker.create({ ...base, taskQueue: EMBED_TASK_QUEUE, activities: acts, maxConcurrentActivityTaskExecutions: o.embedSlots }),
    Worker.create({ ...base, taskQueue: UPSERT_TASK_QUEUE, activities: acts, maxConcurrentActivityTaskExecutions: 16 }),
  ]);
  const running = workers.map((w) => w.run());
  const start = (collection: string) =>
    tc.client.workflow.start(ingestCollection, {
      taskQueue: TASK_QUEUE,
      workflowId: `ingest-${collection}`,
      priority: { fairnessKey: collection },
      args: [{ collection, source: { kind: 'synthetic', documents: 1 }, maxInFlightBatches: o.window, maxPagesPerRun: 1000, ...(o.pipeline && { pipeline: o.pipeline }) }],
    });
  const run = async (collection: string) => {
    const t0 = Date.now();
    await (await start(collection)).result();
    return Date.now() - t0;
  };
  const smallRuns = Math.max(1, o.smallRuns ?? 1);
  const smalls = async (prefix: string, ends: number[] = []) => {
    const times: number[] = [];
    for (let i = 0; i < smallRuns; i++) {
      times.push(await run(i === 0 ? prefix : `${prefix}_${i + 1}`));
      ends.push(Date.now());
      if (i < smallRuns - 1) await sleep(o.smallGapMs ?? 1000);
    }
    return times;
  };
  const nameOf = (prefix: string, times: number[]) => {
    const i = times.indexOf(median(times));
    return `ingest-${i === 0 ? prefix : `${prefix}_${i + 1}`}`;
  };
  try {
    // A first run on a fresh server and worker is slower (the server switches the queues to
    // fairness mode, the worker loads the bundle): it is not measured.
    if (opts.warmUp) await run(`small_warmup_${tag}`);
    const alone = async () => ({ smallAloneRuns: await smalls(`small_alone_${tag}`), bigAloneMs: opts.bigAlone ? await run(`big_alone_${tag}`) : undefined });
    const together = async () => {
      starts.length = 0;
      const t0 = Date.now();
      const big = await start(`big_${tag}`);
      let bigEnded = Infinity;
      const bigDone = big.result().then(
        () => (bigEnded = Date.now()) - t0,
        (err) => {
          bigEnded = Date.now();
          if (!opts.stopBigAfterSmall) throw err;
          return undefined;
        },
      );
      await Promise.race([sleep(o.headStartMs), bigDone]);
      const smallStart = Date.now();
      const ends: number[] = [];
      const smallBesideRuns = await smalls(`small_${tag}`, ends);
      if (opts.stopBigAfterSmall && bigEnded === Infinity) await big.terminate('the small runs are done');
      const bigWithSmallMs = await bigDone;
      const first = `small_${tag}`;
      const lastSmall = starts.map((s) => s.collection === first).lastIndexOf(true);
      const bigEmbedsBeforeSmallDone = starts.slice(0, lastSmall).filter((s) => s.at >= smallStart && s.collection.startsWith('big')).length;
      const firstStarts = starts.filter((s) => s.collection === first);
      const smallEmbedMaxWaitMs = Math.max(...firstStarts.map((s) => s.waitedMs));
      const bigStarts = starts.filter((s) => s.collection.startsWith('big')).map((s) => s.at);
      const smallEmbedMaxWaitDispatches = Math.max(...firstStarts.map((s) => bigStarts.filter((at) => at >= s.scheduledAt && at < s.at).length));
      const smallBesideAfterBig = ends.filter((e) => e > bigEnded).length;
      return { smallBesideRuns, smallBesideAfterBig, bigWithSmallMs, bigEmbedsBeforeSmallDone, smallEmbedMaxWaitMs, smallEmbedMaxWaitDispatches };
    };
    const [a, t] = opts.togetherFirst ? await together().then(async (t) => [await alone(), t] as const) : await alone().then(async (a) => [a, await together()] as const);
    const smallAlonePath = await criticalPathOf(tc.client, nameOf(`small_alone_${tag}`, a.smallAloneRuns));
    const smallBesidePath = await criticalPathOf(tc.client, nameOf(`small_${tag}`, t.smallBesideRuns));
    return { ...a, ...t, smallAloneMs: median(a.smallAloneRuns), smallWithBigMs: median(t.smallBesideRuns), smallAlonePath, smallBesidePath };
  } finally {
    for (const w of workers) w.shutdown();
    await Promise.all(running);
    await tc.close();
    await connection.close();
  }
}

/** The middle one (the upper middle of an even count). */
export function median(xs: number[]): number {
  return [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
}
