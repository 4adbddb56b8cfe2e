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
// a backlog in the embed queue; the small run (6 batches) starts 1.5 s into it, three times one
// after another (the big one has work for 30 s at least; it is stopped once they are done).
// Assertions are on dispatch order, not on time; the time ratio (median of the three, beside
// the big one ÷ alone) is logged, and measured at full size by `npm run bench -- fairness`.
const SCENARIO: FairShareOptions = { bigBatches: 600, smallBatches: 6, batchesPerPage: 40, chunksPerBatch: 100, embedMs: 100, embedSlots: 2, window: 24, headStartMs: 1500, smallRuns: 3 };

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
    const withFairness = await fairShare(fair, SCENARIO, 'fair', { stopBigAfterSmall: true, warmUp: true });
    const withoutFairness = await fairShare(fifo, SCENARIO, 'fifo', { stopBigAfterSmall: true, warmUp: true });
    const ratio = (r: typeof withFairness) => +(r.smallWithBigMs / r.smallAloneMs).toFixed(2);
    console.log(JSON.stringify({ ratioWithFairness: ratio(withFairness), ratioWithoutFairness: ratio(withoutFairness), withFairness, withoutFairness }));
    for (const r of [withFairness, withoutFairness]) assert.equal(r.smallBesideAfterBig, 0, 'a small run outlived the big one: the scenario did not measure it beside the big one');
    // FIFO: the small run's batches wait behind the big run's window (24 queued); with fairness
    // each free slot goes to the key that had fewer, so about one big batch per small one.
    assert.ok(withoutFairness.bigEmbedsBeforeSmallDone >= SCENARIO.window / 2, `without fairness only ${withoutFairness.bigEmbedsBeforeSmallDone} big batches went first: the scenario does not build a backlog`);
    assert.ok(
      withFairness.bigEmbedsBeforeSmallDone <= 3 * SCENARIO.smallBatches,
      `with fairness ${withFairness.bigEmbedsBeforeSmallDone} big batches were dispatched before the small run's ${SCENARIO.smallBatches} were`,
    );
    // The longest a small batch waited, counted in big batches dispatched meanwhile (FIFO: the
    // big window's backlog; fair: about one per small batch ahead of it). Counted, not timed: on
    // a loaded machine the big run refills its window late and queue times in ms converge.
    assert.ok(
      withFairness.smallEmbedMaxWaitDispatches < withoutFairness.smallEmbedMaxWaitDispatches / 2,
      `a small batch waited for ${withFairness.smallEmbedMaxWaitDispatches} big batches with fairness, ${withoutFairness.smallEmbedMaxWaitDispatches} without`,
    );
  });
});
