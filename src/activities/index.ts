import { metrics } from '../metrics/registry';
import type { BatchKey } from '../state/store';
import type { ReplaySpec } from '../contracts/replay';
import { loadIngestConfig } from './collection-config';
import { commitPage, type PageKey } from './commit';
import { activityInfo, attemptTimeoutMs, whileHeartbeating } from './context';
import type { ActivityDeps } from './deps';
import { embedBatch } from './embed';
import { embedAndWriteBatch } from './fused';
import { batchSlots, type BatchSlots } from './semaphore';
import { toFailure } from './failures';
import { finishRun, type FinishInput } from './finish';
import { planPage, type PlanInput } from './plan';
import { prepareCollection, type PrepareInput } from './prepare';
import { probeEmbedder } from './probe';
import { reprocessDocuments, type ReprocessInput } from './reprocess';
import { upsertBatch } from './upsert';
import { TracedEmbedder, TracedVectorStore } from '../tracing/traced';

export type CommitInput = PageKey & { replay?: ReplaySpec };

/**
 * Builds the activities over clients the worker created once. Each activity is a thin function
 * over those clients. This boundary adds what every activity needs: a logger carrying the
 * workflow, run, activity and collection; heartbeats while it works; metrics; and the mapping of
 * errors to typed Temporal failures; and a span around each embedder and sink call.
 *
 * `slots` are the worker's in-process budgets (src/worker.ts sizes them from embedConcurrency and
 * upsertConcurrency): embedBatch holds an embedding slot, upsertBatch a write slot, and the fused
 * embedAndWriteBatch one of each in turn, so the split and the fused pipeline on one worker
 * share the same bounds. Unbounded when not given (tests that call activities directly).
 */
export function createActivities(untraced: ActivityDeps, slots: BatchSlots = batchSlots(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)) {
  // Every embedder and sink call is a span, a child of its activity's (no-ops without tracing).
  const deps: ActivityDeps = {
    ...untraced,
    embedder: new TracedEmbedder(untraced.embedder),
    sinks: Object.fromEntries(Object.entries(untraced.sinks).map(([k, s]) => [k, new TracedVectorStore(s)])),
  };
  const wrap =
    <I, R>(name: string, fn: (d: ActivityDeps, input: I) => Promise<R>, opts: { heartbeat?: boolean } = { heartbeat: true }) =>
    async (input: I): Promise<R> => {
      const info = activityInfo();
      const collection = (input as { collection?: unknown } | undefined)?.collection;
      const log = deps.log.child({
        activity: name,
        ...(info && { workflowId: info.workflowId, runId: info.runId, activityId: info.activityId, attempt: info.attempt }),
        ...(typeof collection === 'string' && { collection }),
      });
      const d = { ...deps, log };
      metrics.inFlight.inc({ activity: name });
      const started = Date.now();
      try {
        const out = await (opts.heartbeat ? whileHeartbeating(() => fn(d, input)) : fn(d, input));
        log.debug({ ms: Date.now() - started, result: out }, `${name} done`);
        return out;
      } catch (err) {
        const failure = toFailure(err);
        metrics.activityErrors.inc({ activity: name, type: (failure as { type?: string }).type ?? (err as Error)?.name ?? 'Error' });
        log.warn({ err }, `${name} failed`);
        throw failure;
      } finally {
        metrics.inFlight.dec({ activity: name });
      }
    };
  return {
    prepareCollection: wrap('prepareCollection', (d, i: PrepareInput) => prepareCollection(d, i)),
    loadIngestConfig: wrap('loadIngestConfig', (d, i: { collection: string }) => loadIngestConfig(d, i), { heartbeat: false }),
    planPage: wrap('planPage', (d, i: PlanInput) => planPage(d, i)),
    // Sink writes of an ingest run are fenced by the collection's lease (src/state/leases.ts).
    commitPage: wrap('commitPage', (d, { replay, ...key }: CommitInput) =>
      d.store.leases.fenced(key.collection, key.runKey, attemptTimeoutMs(), () => commitPage(d, key, { report: true, replay })),
    ),
    finishRun: wrap('finishRun', (d, i: FinishInput) => finishRun(d, i)),
    embedBatch: wrap('embedBatch', (d, i: BatchKey) => slots.embed.run(() => embedBatch(d, i))),
    // Fenced inside: in the write's own statement for pgvector, by a write intent for the others.
    upsertBatch: wrap('upsertBatch', (d, i: BatchKey) => slots.write.run(() => upsertBatch(d, i))),
    // Both in one activity (the run's pipeline "fused"), on the embedding queue: one activity is one provider request.
    embedAndWriteBatch: wrap('embedAndWriteBatch', (d, i: BatchKey) => embedAndWriteBatch(d, i, slots)),
    probeEmbedder: wrap('probeEmbedder', (d, _i: void) => probeEmbedder(d), { heartbeat: false }),
    reprocessDocuments: wrap('reprocessDocuments', (d, i: ReprocessInput) => slots.embed.run(() => reprocessDocuments(d, i))),
  };
}

export type Activities = ReturnType<typeof createActivities>;

/** Which activities run on which task queue (each queue has its own worker slots). */
export const MAIN_ACTIVITIES = ['prepareCollection', 'loadIngestConfig', 'planPage', 'commitPage', 'finishRun'] as const;
export const EMBED_ACTIVITIES = ['embedBatch', 'embedAndWriteBatch', 'probeEmbedder', 'reprocessDocuments'] as const;
export const UPSERT_ACTIVITIES = ['upsertBatch'] as const;

/** What each queue's worker registers: a workflow's proxy for a queue is typed with only these, so an activity called on the wrong queue fails to compile. */
export type MainQueueActivities = Pick<Activities, (typeof MAIN_ACTIVITIES)[number]>;
export type EmbedQueueActivities = Pick<Activities, (typeof EMBED_ACTIVITIES)[number]>;
export type UpsertQueueActivities = Pick<Activities, (typeof UPSERT_ACTIVITIES)[number]>;

export type { ActivityDeps } from './deps';
export type { PlanInput, PlanResult } from './plan';
export type { EmbedResult } from './embed';
export type { UpsertResult } from './upsert';
export type { FusedResult } from './fused';
