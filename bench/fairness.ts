/**
 * Fair sharing between collections: a big collection and a small one started while it runs, on
 * the same workers, on the real Temporal dev server with the project's dynamic config (fairness on,
 * one partition per task queue) beside the same server with fairness off. Activities are mocked
 * (embed: a fixed time per batch of 100 chunks on a fixed number of embed slots; nothing else
 * costs), so the measure is the task queues' sharing, not the machine's disks or the provider.
 * Reports the small run's time beside the big one ÷ its time alone (target <= 1.5), the big run's
 * chunks/s alone and beside the small one (its throughput loss), where the small run's time went
 * (its critical path from history: test/support/critical-path.ts) and the load average.
 *
 * Method: BENCH_ROUNDS rounds (default 3), median with range; each round gets fresh servers and
 * alternates the order (odd rounds measure alone first, even rounds together first; the two
 * servers swap places too), so neither side always gets the quieter minute. In each round the
 * small collection runs BENCH_SMALL_RUNS times back to back (default 5) alone and beside the big
 * one, and the round's small times are the medians of those: one run of half a second on a
 * shared machine measures the machine's second more than the queue.
 *
 *   npm run bench -- fairness            100,000 + 500 chunks (1,000 + 5 batches), 4 slots, 100 ms per batch,
 *                                        window 32 (BENCH_WINDOW; with the default 8 the queue holds too little to starve anyone)
 *   npm run bench -- fairness --smoke    12,000 + 500, one round
 *   BENCH_FIFO=0                         only the project's server (fairness on)
 *   BENCH_PIPELINE=fused|split           both runs' batch pipeline (default: the workflow's default)
 *   BENCH_SERVER_CONFIG='{"k":v}'        extra dynamic config on both servers (A/B of a server setting,
 *                                        e.g. '{"history.transferProcessorMaxPollRPS":20}', the default before)
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { startDevServer } from '../src/embedded/temporal';
import { createLogger } from '../src/log';
import { installRuntime } from '../src/runtime';
import { tempDir } from '../test/support/env';
import { fairShare, type FairShareOptions, type FairShareResult } from '../test/support/fair-share';
import { BATCH_PIPELINES, type BatchPipeline } from '../src/contracts/ingest';
import { median, report } from './lib';

const SERVERS = [
  ['fairness on (project default)', undefined],
  ['fairness off (FIFO)', { 'matching.enableFairness': false }],
] as const;

export async function fairness(smoke: boolean): Promise<void> {
  installRuntime(createLogger('error', { pretty: false }));
  const chunksPerBatch = 100;
  const o: FairShareOptions = {
    bigBatches: smoke ? 120 : 1000,
    smallBatches: 5,
    batchesPerPage: 40,
    chunksPerBatch,
    embedMs: 100,
    embedSlots: 4,
    window: Number(process.env.BENCH_WINDOW ?? 32),
    headStartMs: smoke ? 2000 : 10_000,
    smallRuns: Number(process.env.BENCH_SMALL_RUNS ?? (smoke ? 3 : 5)),
    ...(pipelineFromEnv() && { pipeline: pipelineFromEnv() }),
  };
  const rounds = smoke ? 1 : Number(process.env.BENCH_ROUNDS ?? 3);
  const servers = process.env.BENCH_FIFO === '0' ? SERVERS.slice(0, 1) : SERVERS;
  const extra = JSON.parse(process.env.BENCH_SERVER_CONFIG ?? '{}') as Record<string, string | number | boolean>;
  const results = new Map<string, FairShareResult[]>(servers.map(([label]) => [label, []]));
  const loads: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? servers : [...servers].reverse();
    for (const [label, dynamicConfig] of order) {
      const server = await startDevServer({ dataDir: tempDir('vi-fair-bench-'), headless: true, inMemory: true, cliPath: process.env.TEMPORAL_CLI_PATH, dynamicConfig: { ...extra, ...dynamicConfig } });
      try {
        loads.push(loadavg()[0]!);
        const res = await fairShare(server, o, `b${r}`, { bigAlone: true, warmUp: true, togetherFirst: r % 2 === 1 });
        loads.push(loadavg()[0]!);
        results.get(label)!.push(res);
        console.log(JSON.stringify({ round: r + 1, server: label, load1: loads.slice(-2), ...res }));
      } finally {
        await server.stop();
      }
    }
  }
  const bigChunks = o.bigBatches * chunksPerBatch;
  const mr = (xs: number[], scale = 1) => `${(median(xs) * scale).toFixed(2)} (${(Math.min(...xs) * scale).toFixed(2)}–${(Math.max(...xs) * scale).toFixed(2)})`;
  const rows = [...results].map(([label, rs]) => ({
    server: label,
    rounds: rs.length,
    'small alone s': mr(rs.map((x) => x.smallAloneMs / 1000)),
    'small beside big s': mr(rs.map((x) => x.smallWithBigMs / 1000)),
    'small runs that outlived the big one': rs.reduce((n, x) => n + x.smallBesideAfterBig, 0),
    'small ratio': mr(rs.map((x) => x.smallWithBigMs / x.smallAloneMs)),
    'big chunks/s alone': mr(rs.map((x) => bigChunks / (x.bigAloneMs! / 1000))),
    'big chunks/s beside small': mr(rs.map((x) => bigChunks / (x.bigWithSmallMs! / 1000))),
    'big loss %': mr(rs.map((x) => 1 - x.bigAloneMs! / x.bigWithSmallMs!), 100),
    'small max queue wait ms': median(rs.map((x) => x.smallEmbedMaxWaitMs)),
    'small max queue wait, big batches': mr(rs.map((x) => x.smallEmbedMaxWaitDispatches)),
    'small critical path beside big (median ms)': pathSummary(rs.map((x) => x.smallBesidePath)),
    'small critical path alone (median ms)': pathSummary(rs.map((x) => x.smallAlonePath)),
  }));
  report('fairness', rows, [
    `${bigChunks} + ${o.smallBatches * chunksPerBatch} chunks; pipeline ${o.pipeline ?? 'default'}; embed ${o.embedMs} ms per batch of ${chunksPerBatch} on ${o.embedSlots} slots, window ${o.window}, small run started ${o.headStartMs / 1000} s into the big one.`,
    `${rounds} round(s) of ${o.smallRuns} small runs each, median (range), order alternated; 1-minute load average ${mr(loads)} (nice ${niceness()}).`,
    ...(Object.keys(extra).length ? [`extra server config: ${JSON.stringify(extra)}`] : []),
  ]);
}

function pathSummary(paths: Array<Record<string, number>>): string {
  const keys = [...new Set(paths.flatMap((p) => Object.keys(p)))];
  return keys
    .map((k) => [k, median(paths.map((p) => p[k] ?? 0))] as const)
    .filter(([, v]) => v > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}

function pipelineFromEnv(): BatchPipeline | undefined {
  const p = process.env.BENCH_PIPELINE;
  if (p === undefined || p === '') return undefined;
  if (!(BATCH_PIPELINES as readonly string[]).includes(p)) throw new Error(`BENCH_PIPELINE must be one of ${BATCH_PIPELINES.join(', ')}`);
  return p as BatchPipeline;
}

function niceness(): number {
  try {
    return Number(readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ')[16]);
  } catch {
    return 0;
  }
}
