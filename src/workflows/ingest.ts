import { condition, continueAsNew, defineQuery, log, patched, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import { BatchWindow } from './batch-window';
import { batchRunner } from './batch-runner';
import { CircuitBreaker } from './circuit-breaker';
import { ingestActivities } from './ingest-activities';
import { IngestTally } from './ingest-counters';
import { ingestSettings } from './ingest-settings';
import { IngestStatus } from './ingest-status';
import { PagePlanner } from './page-planner';
import { errorText } from './outage';
import { DEFAULT_PIPELINE, emptyCounters, PASS_OVER_DOCUMENTS, type IngestCarry, type IngestInput, type IngestProgress, type IngestResult } from '../contracts/ingest';

export const progressQuery = defineQuery<IngestProgress>('progress');

/**
 * Ingests a collection from its source: plan a page → embed and upsert its batches through a
 * sliding window → commit the page; continue-as-new every few pages carrying only a cursor and
 * counters; at the end delete what vanished from the source. History holds ids and counts only.
 * The parts: settings (ingest-settings), counters (ingest-counters), the window of batches
 * (batch-window, batch-runner), plan-ahead (page-planner), the circuit breaker
 * (circuit-breaker), what the run shows (ingest-status, ingest-visibility).
 */
export async function ingestCollection(input: IngestInput): Promise<IngestResult> {
  // An input that names no pipeline gets the default (fused); runs recorded before that
  // default got split, and replay them so. Asked once, at the start, so a run keeps its pipeline.
  const s = ingestSettings(input, input?.pipeline === undefined && !patched('fused-default') ? 'split' : DEFAULT_PIPELINE);
  const { collection } = s;
  const acts = ingestActivities(s.timeouts, s.priority);
  const carry: IngestCarry = input.state ?? { runKey: workflowInfo().firstExecutionRunId, cursor: null, counters: emptyCounters(), continuedAsNew: 0, startedAt: new Date().toISOString() };
  const { runKey } = carry;
  const tally = new IngestTally(carry.counters);
  carry.counters = tally.counters;
  const status = new IngestStatus(collection, s.sourceLabel, carry, tally.counters, Boolean(input.state), () => ({ inFlight: window.inFlight, queued: window.queued, circuitOpen: circuit.isOpen }));
  const circuit = new CircuitBreaker(s.timeouts.probeSeconds * 1000, {
    sleep,
    probe: () => acts.probe.probeEmbedder(),
    probeFailed: (err) => (status.lastError = errorText(err)),
    changed: (open, why) => {
      status.show();
      if (open) log.warn('embedding provider unavailable: pausing dispatch and probing', { error: why });
      else log.info('embedding provider is back: resuming dispatch');
    },
  });
  const replay = { source: s.source, chunking: s.chunking, batching: s.batching };
  const window: BatchWindow = new BatchWindow(s.window, {
    waitUntil: condition,
    paused: () => circuit.isOpen,
    run: (batch) => runBatch(batch),
    commitPage: (pageNo) => acts.main.commitPage({ collection, runKey, pageNo, replay }),
    committed: () => status.committed(),
  });
  const runBatch = batchRunner({ collection, runKey, acts, fused: s.pipeline === 'fused', tally, window, circuit, status });
  setHandler(progressQuery, () => status.progress());

  if (!input.state) {
    const { state: _state, full: _full, ...ingestConfig } = input;
    const prep = await acts.main.prepareCollection({ collection, runKey, full: s.full, ingestConfig, ...(input.sink && { sink: input.sink }) });
    if (!prep.semantic) log.warn('embedder is the offline hash embedder: vectors are NOT semantic', { model: prep.model });
    carry.searchAttributes = prep.searchAttributes === true;
    status.useSearchAttributes(carry.searchAttributes);
  }
  status.enter('ingesting');

  // A page that planned nothing (every document unchanged, or failed before it was planned)
  // has nothing to commit: it skips the commitPage activity (runs recorded before replay without this).
  const skipIdleCommits = patched('skip-idle-commits');
  const planner = new PagePlanner(patched('plan-ahead'), (pageNo, cursor) =>
    acts.planPage({ collection, runKey, pageNo, source: s.source, cursor, pageSize: s.pageSize, chunking: s.chunking, batching: s.batching, full: s.full, passOver: PASS_OVER_DOCUMENTS }),
  );
  let pagesThisRun = 0;
  let done = false;
  while (!done) {
    window.throwIfFailed();
    const pageNo = tally.counters.pages;
    const plan = await planner.next(pageNo, carry.cursor);
    if (plan.sourceVersion !== undefined) carry.sourceVersion ??= plan.sourceVersion;
    tally.plan(plan);
    status.planned(plan);
    pagesThisRun++;
    const wantsNewRun = () => pagesThisRun >= s.maxPagesPerRun || workflowInfo().continueAsNewSuggested;
    if (plan.nextCursor !== null && !wantsNewRun()) planner.planAhead(pageNo + 1, plan.nextCursor);

    // A page that planned nothing is done; an empty page commits at once; the batches of others go through the window.
    if (skipIdleCommits && plan.changed === 0 && plan.batches === 0) status.committed();
    else if (window.addPage(pageNo, plan.batches) > 0) await window.dispatch();
    // The cursor moves once the page's batches are dispatched; a continue-as-new below drains
    // them first, so the next run never skips or repeats a page.
    carry.cursor = plan.nextCursor;
    done = plan.nextCursor === null;
    if (!done && !planner.hasAhead && wantsNewRun()) {
      await window.drain();
      carry.continuedAsNew++;
      // The next run keeps this run's pipeline, named, whatever the default is by then.
      await continueAsNew<typeof ingestCollection>({ ...input, pipeline: s.pipeline, state: carry });
    }
  }
  await window.drain();

  status.enter('finishing');
  tally.finish(await acts.main.finishRun({ collection, runKey }));
  status.enter('done');
  return {
    collection,
    runKey,
    counters: { ...tally.counters },
    continuedAsNew: carry.continuedAsNew,
    startedAt: carry.startedAt,
    finishedAt: new Date().toISOString(),
    ...(carry.sourceVersion !== undefined && { sourceVersion: carry.sourceVersion }),
  };
}
