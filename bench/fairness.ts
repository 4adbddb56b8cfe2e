/**
 * Fair sharing between collections: a big collection and a small one started while it runs, on
 * the same workers, on the real Temporal dev server with the project's dynamic config (fairness on,
 * one partition per task queue) beside the same server with fairness off. Activities are mocked
 * (embed: a fixed time per batch of 100 chunks on a fixed number of embed slots; nothing else
 * costs), so the measure is the task queues' sharing, not the machine's disks or the provider.
 * Reports the small run's time beside the big one ÷ its time alone (target <= 1.5), and the big
 * run's time beside the small one ÷ its time alone (its throughput loss).
 *
 *   npm run bench -- fairness            100,000 + 500 chunks (1,000 + 5 batches), 4 slots, 100 ms per batch,
 *                                        window 32 (BENCH_WINDOW; with the default 8 the queue holds too little to starve anyone)
 *   npm run bench -- fairness --smoke    12,000 + 500
 */
import { startDevServer } from '../src/embedded/temporal';
import { createLogger } from '../src/log';
import { installRuntime } from '../src/runtime';
import { tempDir } from '../test/support/env';
import { fairShare, type FairShareOptions } from '../test/support/fair-share';
import { median, report } from './lib';

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
  };
  const rounds = smoke ? 1 : Number(process.env.BENCH_ROUNDS ?? 1);
  const rows: Array<Record<string, unknown>> = [];
  for (const [label, dynamicConfig] of [
    ['fairness on (project default)', undefined],
    ['fairness off (FIFO)', { 'matching.enableFairness': false }],
  ] as const) {
    const results = [];
    for (let r = 0; r < rounds; r++) {
      const server = await startDevServer({ dataDir: tempDir('vi-fair-bench-'), headless: true, inMemory: true, cliPath: process.env.TEMPORAL_CLI_PATH, dynamicConfig });
      try {
        results.push(await fairShare(server, o, `b${r}`, { bigAlone: true, warmUp: true }));
      } finally {
        await server.stop();
      }
    }
    const ratio = median(results.map((x) => x.smallWithBigMs / x.smallAloneMs));
    const loss = median(results.map((x) => x.bigWithSmallMs / x.bigAloneMs! - 1));
    rows.push({
      server: label,
      'big chunks': o.bigBatches * chunksPerBatch,
      'small chunks': o.smallBatches * chunksPerBatch,
      'small alone s': median(results.map((x) => x.smallAloneMs)) / 1000,
      'small beside big s': median(results.map((x) => x.smallWithBigMs)) / 1000,
      'small ratio': ratio,
      'big alone s': median(results.map((x) => x.bigAloneMs!)) / 1000,
      'big beside small s': median(results.map((x) => x.bigWithSmallMs)) / 1000,
      'big throughput loss %': loss * 100,
      'small max queue wait ms': median(results.map((x) => x.smallEmbedMaxWaitMs)),
    });
  }
  report('fairness', rows, [
    `embed ${o.embedMs} ms per batch of ${chunksPerBatch} chunks on ${o.embedSlots} slots, window ${o.window}, small run started ${o.headStartMs / 1000} s into the big one; ${rounds} round(s), median.`,
  ]);
}
