import { executeChild, proxyActivities } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { MainQueueActivities } from '../activities';
import { collectionOrFail } from './validate';
import { ingestCollection } from './ingest';
import { NON_RETRYABLE_TYPES } from '../contracts/error-types';
import { ingestWorkflowId, TASK_QUEUE, type IngestResult } from '../contracts/ingest';

export interface ReindexInput {
  collection: string;
  /** Rebuild everything instead of the incremental default. */
  full?: boolean;
  /** Retired generations to keep after the run (see IngestInput.keepRetired); unset: the collection's saved setting. */
  keepRetired?: number;
}

export type ReindexResult = ({ skipped: false } & IngestResult) | { skipped: true; collection: string; reason: string };

const { loadIngestConfig } = proxyActivities<MainQueueActivities>({
  taskQueue: TASK_QUEUE,
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE_TYPES },
});

export function reindexWorkflowId(collection: string): string {
  return `reindex-${collection}`;
}

/**
 * What a Temporal Schedule starts: the incremental ingest of a collection with its saved
 * configuration (the source and options of its last ingest), as a child workflow with the
 * ingest's usual id, so a scheduled run and a manual one can never overlap.
 */
export async function reindexCollection(input: ReindexInput): Promise<ReindexResult> {
  const collection = collectionOrFail(input?.collection);
  const config = await loadIngestConfig({ collection });
  try {
    const result = await executeChild(ingestCollection, {
      workflowId: ingestWorkflowId(collection),
      taskQueue: TASK_QUEUE,
      args: [{ ...config, collection, ...(input.full ? { full: true } : {}), ...(input.keepRetired !== undefined && { keepRetired: input.keepRetired }) }],
    });
    return { skipped: false, ...result };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      return { skipped: true, collection, reason: `an ingest of ${collection} is already running` };
    }
    throw err;
  }
}
