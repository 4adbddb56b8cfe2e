import type { BatchKey } from '../state/store';
import type { ReplaySpec } from '../workflows/replay-types';
import { loadIngestConfig } from './collection-config';
import { commitPage, type PageKey } from './commit';
import type { ActivityDeps } from './deps';
import { embedBatch } from './embed';
import { whileHeartbeating } from './context';
import { mapFailures } from './failures';
import { finishRun, type FinishInput } from './finish';
import { planPage, type PlanInput } from './plan';
import { prepareCollection, type PrepareInput } from './prepare';
import { probeEmbedder } from './probe';
import { reprocessDocuments, type ReprocessInput } from './reprocess';
import { upsertBatch } from './upsert';

export type CommitInput = PageKey & { replay?: ReplaySpec };

/**
 * Builds the activities over clients the worker created once. Each activity is a thin function
 * over those clients; errors are mapped to typed Temporal failures at this boundary.
 */
export function createActivities(deps: ActivityDeps) {
  return {
    prepareCollection: mapFailures((input: PrepareInput) => prepareCollection(deps, input)),
    loadIngestConfig: mapFailures((input: { collection: string }) => loadIngestConfig(deps, input)),
    planPage: mapFailures((input: PlanInput) => whileHeartbeating(() => planPage(deps, input))),
    commitPage: mapFailures(({ replay, ...key }: CommitInput) => whileHeartbeating(() => commitPage(deps, key, { report: true, replay }))),
    finishRun: mapFailures((input: FinishInput) => whileHeartbeating(() => finishRun(deps, input))),
    embedBatch: mapFailures((input: BatchKey) => whileHeartbeating(() => embedBatch(deps, input))),
    upsertBatch: mapFailures((input: BatchKey) => whileHeartbeating(() => upsertBatch(deps, input))),
    probeEmbedder: mapFailures(() => probeEmbedder(deps)),
    reprocessDocuments: mapFailures((input: ReprocessInput) => whileHeartbeating(() => reprocessDocuments(deps, input))),
  };
}

export type Activities = ReturnType<typeof createActivities>;

/** Which activities run on which task queue (each queue has its own worker slots). */
export const MAIN_ACTIVITIES = ['prepareCollection', 'loadIngestConfig', 'planPage', 'commitPage', 'finishRun'] as const;
export const EMBED_ACTIVITIES = ['embedBatch', 'probeEmbedder', 'reprocessDocuments'] as const;
export const UPSERT_ACTIVITIES = ['upsertBatch'] as const;

export type { ActivityDeps } from './deps';
export type { PlanInput, PlanResult } from './plan';
export type { EmbedResult } from './embed';
export type { UpsertResult } from './upsert';
