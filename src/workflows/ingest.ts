import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  sleep,
  TimeoutFailure,
  continueAsNew,
  defineQuery,
  log,
  patched,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { collectionOrFail } from './validate';
import { ingestActivities } from './ingest-activities';
import { IngestVisibility } from './ingest-visibility';
import {
  DEFAULT_BATCHING,
  DEFAULT_TIMEOUTS,
  DEFAULT_CHUNKING,
  DEFAULT_MAX_IN_FLIGHT,
  DEFAULT_MAX_PAGES_PER_RUN,
  DEFAULT_PAGE_SIZE,
  emptyCounters,
  type IngestCarry,
  type IngestInput,
  type IngestPhase,
  type IngestProgress,
  type IngestResult,
} from '../contracts/ingest';

export const progressQuery = defineQuery<IngestProgress>('progress');

/** Failure types that mean "the provider is unwell", not "this batch is bad". */
const OUTAGE_TYPES = new Set(['ProviderUnavailable', 'RateLimited', 'StoreUnavailable']);

function isOutage(err: unknown): boolean {
  if (!(err instanceof ActivityFailure)) return false;
  const cause = err.cause;
  if (cause instanceof TimeoutFailure) return true;
  return cause instanceof ApplicationFailure && !cause.nonRetryable && OUTAGE_TYPES.has(cause.type ?? '');
}

function isRateLimited(err: unknown): boolean {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === 'RateLimited';
}

function errorText(err: unknown): string {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof Error ? `${(cause as ApplicationFailure).type ?? cause.name}: ${cause.message}` : String(cause);
}

function positiveInt(name: string, value: unknown, fallback: number, max: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw ApplicationFailure.nonRetryable(`${name} must be an integer from 1 to ${max}, got ${JSON.stringify(value)}`, 'ConfigError');
  }
  return value;
}

/**
 * Ingests a collection from its source: plan a page → embed and upsert its batches through a
 * sliding window → commit the page; continue-as-new every few pages carrying only a cursor and
 * counters; at the end delete what vanished from the source. History holds ids and counts only.
 */
export async function ingestCollection(input: IngestInput): Promise<IngestResult> {
  const collection = collectionOrFail(input?.collection);
  if (!input.source || typeof input.source !== 'object') {
    throw ApplicationFailure.nonRetryable('source is required, e.g. {"kind":"directory","path":"/data/docs"}', 'ConfigError');
  }
  const pageSize = positiveInt('pageSize', input.pageSize, DEFAULT_PAGE_SIZE, 10_000);
  const window = positiveInt('maxInFlightBatches', input.maxInFlightBatches, DEFAULT_MAX_IN_FLIGHT, 500);
  const maxPages = positiveInt('maxPagesPerRun', input.maxPagesPerRun, DEFAULT_MAX_PAGES_PER_RUN, 10_000);
  const timeouts = { ...DEFAULT_TIMEOUTS, ...input.timeouts };
  for (const [k, v] of Object.entries(timeouts)) positiveInt(`timeouts.${k}`, v, 1, 86_400);
  const acts = ingestActivities(timeouts);
  const { main, probe } = acts;
  const chunking = { ...DEFAULT_CHUNKING, ...input.chunking };
  const batching = { ...DEFAULT_BATCHING, ...input.batching };
  const full = input.full === true;

  const carry: IngestCarry = input.state ?? {
    runKey: workflowInfo().firstExecutionRunId,
    cursor: null,
    counters: emptyCounters(),
    continuedAsNew: 0,
    startedAt: new Date().toISOString(),
  };
  const c = carry.counters;
  const runKey = carry.runKey;
  let phase: IngestPhase = input.state ? 'ingesting' : 'preparing';
  const replaySpec = { source: input.source, chunking, batching };

  // Batches wait in `queue` until a window slot is free and the circuit is closed.
  const queue: Array<{ pageNo: number; batchNo: number }> = [];
  const pageRemaining = new Map<number, number>();
  let inFlight = 0;
  let pendingCommits = 0;
  let failure: unknown;
  let circuitOpen = false;
  let lastError: string | null = null;

  setHandler(progressQuery, () => ({
    collection,
    phase,
    runKey,
    cursor: carry.cursor,
    inFlightBatches: inFlight,
    queuedBatches: queue.length,
    continuedAsNew: carry.continuedAsNew,
    startedAt: carry.startedAt,
    circuitOpen,
    lastError,
    counters: { ...c },
  }));

  const sourceLabel = input.source.kind === 'directory' ? input.source.path : `${input.source.kind} source`;
  let visibility = new IngestVisibility(collection, sourceLabel, carry.searchAttributes === true);
  const showDetails = () =>
    visibility.details({ phase, c, startedAt: carry.startedAt, inFlight, queued: queue.length, circuitOpen, lastError });

  const throwIfFailed = () => {
    if (failure !== undefined) throw failure;
  };

  const commit = async (pageNo: number): Promise<void> => {
    pendingCommits++;
    try {
      await main.commitPage({ collection, runKey, pageNo, replay: replaySpec });
      visibility.counters(c);
    } catch (err) {
      failure ??= err;
    } finally {
      pendingCommits--;
    }
  };

  const batchDone = (pageNo: number) => {
    const left = (pageRemaining.get(pageNo) ?? 1) - 1;
    pageRemaining.set(pageNo, left);
    if (left === 0) {
      pageRemaining.delete(pageNo);
      void commit(pageNo);
    }
  };

  // Circuit breaker: while open, nothing is dispatched; a probe asks the provider, backing off
  // from 15 s to 5 min, and the first success closes it. Batches that hit the outage wait in
  // the queue, so nothing is lost and no item's retry budget is spent on a dead provider.
  const openCircuit = async (why: string) => {
    if (circuitOpen) return;
    circuitOpen = true;
    showDetails();
    log.warn('embedding provider unavailable: pausing dispatch and probing', { error: why });
    let delay = timeouts.probeSeconds * 1000;
    for (;;) {
      await sleep(delay);
      try {
        await probe.probeEmbedder();
        break;
      } catch (err) {
        lastError = errorText(err);
        delay = Math.min(delay * 2, 300_000);
      }
    }
    circuitOpen = false;
    showDetails();
    log.info('embedding provider is back: resuming dispatch');
  };

  // Never rejects: a fatal error is kept and rethrown by the main loop, so no promise in the
  // window is left rejected and unhandled. An outage sends the batch back to the queue.
  // A batch whose upsert hit an outage is dispatched again, embed included; its embedding
  // counters (failed chunks above all) count once, from its first embed that came back.
  const embedCounted = new Set<string>();
  const runBatch = async (pageNo: number, batchNo: number): Promise<void> => {
    const key = { collection, runKey, pageNo, batchNo };
    try {
      const e = await acts.embedBatch(key);
      c.embeddingRequests += e.requests;
      if (!embedCounted.has(`${pageNo}:${batchNo}`)) {
        embedCounted.add(`${pageNo}:${batchNo}`);
        c.chunksEmbedded += e.embedded;
        c.chunksCached += e.cached;
        c.chunksFailed += e.failed;
      }
      const u = await acts.upsertBatch(key);
      c.chunksUpserted += u.upserted;
      c.batches++;
      batchDone(pageNo);
      showDetails();
    } catch (err) {
      if (isOutage(err)) {
        lastError = errorText(err);
        // A provider that rate-limits is up: the batch waits its turn at the back of the queue
        // (its retries already honoured Retry-After) instead of opening the circuit for all.
        if (isRateLimited(err) && patched('rate-limits-not-outage')) {
          queue.push({ pageNo, batchNo });
          showDetails();
        } else {
          queue.unshift({ pageNo, batchNo });
          void openCircuit(lastError);
        }
      } else {
        failure ??= err;
      }
    } finally {
      inFlight--;
    }
  };

  /** Dispatches queued batches until at most `leave` wait in the queue. */
  const dispatch = async (leave: number): Promise<void> => {
    while (queue.length > leave) {
      await condition(() => (inFlight < window && !circuitOpen) || failure !== undefined);
      throwIfFailed();
      const next = queue.shift();
      if (!next) continue;
      inFlight++;
      void runBatch(next.pageNo, next.batchNo);
    }
  };

  /** Everything dispatched, landed and committed (requeued batches included). */
  const drain = async (): Promise<void> => {
    for (;;) {
      await dispatch(0);
      await condition(() => queue.length > 0 || (inFlight === 0 && pendingCommits === 0) || failure !== undefined);
      throwIfFailed();
      if (queue.length === 0 && inFlight === 0 && pendingCommits === 0) return;
    }
  };

  if (!input.state) {
    const { state: _state, full: _full, ...ingestConfig } = input;
    const prep = await main.prepareCollection({ collection, runKey, full, ingestConfig, ...(input.sink && { sink: input.sink }) });
    if (!prep.semantic) log.warn('embedder is the offline hash embedder: vectors are NOT semantic', { model: prep.model });
    carry.searchAttributes = prep.searchAttributes === true;
    visibility = new IngestVisibility(collection, sourceLabel, carry.searchAttributes);
  }
  phase = 'ingesting';
  visibility.phase(phase, c);
  showDetails();

  // Plan ahead: the next page is planned while this page's batches are embedded and written,
  // so the embedding queue does not run dry at page boundaries. Never across a continue-as-new:
  // a run continues as new only with no plan in flight. (Runs recorded before this had no
  // plan-ahead; `patched` keeps replaying them the old way.)
  const planAhead = patched('plan-ahead');
  type PagePlan = Awaited<ReturnType<typeof acts.planPage>>;
  const planPage = (pageNo: number, cursor: string | null): Promise<PagePlan> => {
    const p = acts.planPage({ collection, runKey, pageNo, source: input.source, cursor, pageSize, chunking, batching, full });
    p.catch(() => undefined); // awaited below; this only keeps a failure while waiting from counting as unhandled
    return p;
  };
  let ahead: Promise<PagePlan> | undefined;
  let pagesThisRun = 0;
  let done = false;
  while (!done) {
    throwIfFailed();
    const pageNo = c.pages;
    const plan = await (ahead ?? planPage(pageNo, carry.cursor));
    ahead = undefined;
    if (plan.sourceVersion !== undefined) carry.sourceVersion ??= plan.sourceVersion;
    c.pages++;
    c.documentsListed += plan.listed;
    c.documentsChanged += plan.changed;
    c.documentsUnchanged += plan.unchanged;
    c.documentsFailed += plan.failed;
    c.chunksPlanned += plan.chunks;
    c.tokens += plan.tokens;
    for (const f of plan.failures) log.warn('document failed', { documentId: f.documentId, type: f.type, message: f.message });
    if (plan.failed > 0) lastError = `${plan.failures[0]?.type}: ${plan.failures[0]?.message}`;
    showDetails();
    pagesThisRun++;
    const wantsNewRun = () => pagesThisRun >= maxPages || workflowInfo().continueAsNewSuggested;
    if (planAhead && plan.nextCursor !== null && !wantsNewRun()) ahead = planPage(pageNo + 1, plan.nextCursor);

    if (plan.batches === 0) {
      void commit(pageNo);
    } else {
      pageRemaining.set(pageNo, plan.batches);
      for (let b = 0; b < plan.batches; b++) queue.push({ pageNo, batchNo: b });
      await dispatch(0);
    }
    // The cursor moves once the page's batches are dispatched; a continue-as-new below drains
    // them first, so the next run never skips or repeats a page.
    carry.cursor = plan.nextCursor;
    done = plan.nextCursor === null;

    if (!done && !ahead && wantsNewRun()) {
      await drain();
      carry.continuedAsNew++;
      await continueAsNew<typeof ingestCollection>({ ...input, state: carry });
    }
  }
  await drain();

  phase = 'finishing';
  visibility.phase(phase, c);
  showDetails();
  const fin = await main.finishRun({ collection, runKey });
  c.documentsDeleted += fin.documentsDeleted;
  phase = 'done';
  visibility.phase(phase, c);
  showDetails();
  return {
    collection,
    runKey,
    counters: { ...c },
    continuedAsNew: carry.continuedAsNew,
    startedAt: carry.startedAt,
    finishedAt: new Date().toISOString(),
    ...(carry.sourceVersion !== undefined && { sourceVersion: carry.sourceVersion }),
  };
}
