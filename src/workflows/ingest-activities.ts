import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { Priority } from '@temporalio/common';
import type { EmbedQueueActivities, MainQueueActivities, UpsertQueueActivities } from '../activities';
import { NON_RETRYABLE_TYPES } from '../contracts/error-types';
import { EMBED_TASK_QUEUE, TASK_QUEUE, UPSERT_TASK_QUEUE, type ActivityTimeouts } from '../contracts/ingest';

/** Attempts of a batch activity (embedBatch, upsertBatch, embedAndWriteBatch) before its outage opens the circuit breaker. */
export const BATCH_ATTEMPTS = 5;

/**
 * Activity options of the ingest workflow. Every long activity heartbeats every 5 s, so a worker
 * that dies is noticed within the heartbeat timeout (default 30 s) and its work handed to another
 * worker; the start-to-close timeouts only bound a call that hangs while its worker is alive.
 */
export function ingestActivities(t: ActivityTimeouts, priority?: Priority) {
  const heartbeatTimeout = `${t.heartbeatSeconds}s`;
  const retry = { initialInterval: '1s', backoffCoefficient: 2, nonRetryableErrorTypes: NON_RETRYABLE_TYPES };
  // Preparing, planning, committing and finishing. Bounded: 30 attempts, about 25 minutes of
  // retrying at the 1-minute cap (a database down longer than that fails the run, which an
  // incremental re-run resumes cheaply); no attempt count would fix a bug that fails each time.
  const mainOptions: ActivityOptions = {
    taskQueue: TASK_QUEUE,
    ...(priority && { priority }),
    startToCloseTimeout: `${t.planSeconds}s`,
    heartbeatTimeout,
    retry: { ...retry, maximumInterval: '1 minute', maximumAttempts: 30 },
  };
  // A batch's activities share one retry policy in either pipeline: whatever is down (the
  // provider, the sink, the state store), after BATCH_ATTEMPTS attempts (1 s doubling: about
  // 15 s of backoff) the batch goes back to the queue and the workflow's circuit breaker opens,
  // instead of every batch burning its retries; a batch that stays rate-limited goes to the
  // back of the queue. Rate limits come back with the server's own delay (nextRetryDelay);
  // everything else backs off. The fused activity runs both parts under one policy, so the
  // split write's own 10 attempts (as before) made a sink outage open the circuit after 5
  // attempts in one pipeline and after 10 (about 4 minutes) in the other.
  const batchRetry = { ...retry, maximumInterval: '30s', maximumAttempts: BATCH_ATTEMPTS };
  // One embedding request per batch (more only while isolating bad inputs).
  const embedOptions: ActivityOptions = {
    taskQueue: EMBED_TASK_QUEUE,
    ...(priority && { priority }),
    startToCloseTimeout: `${t.embedSeconds}s`,
    heartbeatTimeout,
    retry: batchRetry,
  };
  // Writes (pipeline "split").
  const upsertOptions: ActivityOptions = {
    taskQueue: UPSERT_TASK_QUEUE,
    ...(priority && { priority }),
    startToCloseTimeout: `${t.upsertSeconds}s`,
    heartbeatTimeout,
    retry: batchRetry,
  };
  // One activity per batch (pipeline "fused"): on the embedding queue, so its server-enforced
  // rate still paces provider requests (one activity, one request), with time for both parts.
  const fusedOptions: ActivityOptions = { ...embedOptions, startToCloseTimeout: `${t.embedSeconds + t.upsertSeconds}s` };
  const main = proxyActivities<MainQueueActivities>(mainOptions);
  const embed = proxyActivities<EmbedQueueActivities>(embedOptions);
  const upsert = proxyActivities<UpsertQueueActivities>(upsertOptions);
  const probe = proxyActivities<EmbedQueueActivities>({ taskQueue: EMBED_TASK_QUEUE, startToCloseTimeout: '1 minute', retry: { maximumAttempts: 1 } });
  return {
    main,
    probe,
    /** Embeds a batch; the summary names the batch in the Web UI's event list. */
    embedBatch: (key: Parameters<EmbedQueueActivities['embedBatch']>[0]) =>
      embed.embedBatch.executeWithOptions({ ...embedOptions, summary: `embed page ${key.pageNo} batch ${key.batchNo}` }, [key]),
    upsertBatch: (key: Parameters<UpsertQueueActivities['upsertBatch']>[0]) =>
      upsert.upsertBatch.executeWithOptions({ ...upsertOptions, summary: `write page ${key.pageNo} batch ${key.batchNo}` }, [key]),
    /** Embeds a batch and writes it (pipeline "fused"). */
    embedAndWriteBatch: (key: Parameters<EmbedQueueActivities['embedAndWriteBatch']>[0]) =>
      embed.embedAndWriteBatch.executeWithOptions({ ...fusedOptions, summary: `embed+write page ${key.pageNo} batch ${key.batchNo}` }, [key]),
    planPage: (input: Parameters<MainQueueActivities['planPage']>[0]) =>
      main.planPage.executeWithOptions({ ...mainOptions, summary: `plan page ${input.pageNo}` }, [input]),
  };
}

export type IngestActivities = ReturnType<typeof ingestActivities>;
