import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startDevServer, type DevServer } from '../../src/embedded/temporal';
import { createLogger } from '../../src/log';
import { installRuntime } from '../../src/runtime';
import { tempDir } from '../support/env';
import { fairShare, type FairShareOptions } from '../support/fair-share';

// Fair sharing between collections on the same workers, on the real Temporal dev server (the
// pinned CLI) with the project's dynamic config (fairness on, one partition) against the same
// server with fairness off. Activities are mocked (a fixed 100 ms embed on 2 embed slots) so the
// queue's dispatch order is what is measured, not the machine. The big run's window (24) keeps
// a backlog in the embed queue; the small run (6 batches) starts 1.5 s into it.
const SCENARIO: FairShareOptions = { bigBatches: 120, smallBatches: 6, batchesPerPage: 40, chunksPerBatch: 100, embedMs: 100, embedSlots: 2, window: 24, headStartMs: 1500 };

describe('fair sharing between collections (fairness key per collection)', () => {
  let fair: DevServer;
  let fifo: DevServer;
  before(async () => {
    installRuntime(createLogger('error', { pretty: false }));
    const start = (dynamicConfig?: Record<string, boolean>) => startDevServer({ dataDir: tempDir('vi-fair-'), headless: true, inMemory: true, cliPath: process.env.TEMPORAL_CLI_PATH, dynamicConfig });
    [fair, fifo] = await Promise.all([start(), start({ 'matching.enableFairness': false })]);
  });
  after(async () => {
    await fair?.stop();
    await fifo?.stop();
  });

  it("dispatches a small collection's batches between the big one's, instead of after its backlog", async () => {
    const withFairness = await fairShare(fair, SCENARIO, 'fair');
    const withoutFairness = await fairShare(fifo, SCENARIO, 'fifo');
    console.log(JSON.stringify({ withFairness, withoutFairness }));
    // FIFO: the small run's batches wait behind the big run's window (24 queued); with fairness
    // each free slot goes to the key that had fewer, so about one big batch per small one.
    assert.ok(withoutFairness.bigEmbedsBeforeSmallDone >= SCENARIO.window / 2, `without fairness only ${withoutFairness.bigEmbedsBeforeSmallDone} big batches went first: the scenario does not build a backlog`);
    assert.ok(
      withFairness.bigEmbedsBeforeSmallDone <= 3 * SCENARIO.smallBatches,
      `with fairness ${withFairness.bigEmbedsBeforeSmallDone} big batches were dispatched before the small run's ${SCENARIO.smallBatches} were`,
    );
    assert.ok(withFairness.smallEmbedMaxWaitMs < withoutFairness.smallEmbedMaxWaitMs / 2, `a small batch waited ${withFairness.smallEmbedMaxWaitMs} ms with fairness, ${withoutFairness.smallEmbedMaxWaitMs} ms without`);
  });
});
