import { patched } from '@temporalio/workflow';
import type { BatchRef, BatchWindow } from './batch-window';
import type { CircuitBreaker } from './circuit-breaker';
import type { IngestActivities } from './ingest-activities';
import type { IngestTally } from './ingest-counters';
import type { IngestStatus } from './ingest-status';
import { errorText, isOutage, isRateLimited } from './outage';

export interface BatchRunnerDeps {
  collection: string;
  runKey: string;
  acts: Pick<IngestActivities, 'embedBatch' | 'upsertBatch' | 'embedAndWriteBatch'>;
  /** The run's input asks for one activity per batch (IngestSettings.pipeline). */
  fused: boolean;
  tally: IngestTally;
  window: BatchWindow;
  circuit: CircuitBreaker;
  status: IngestStatus;
}

/**
 * One batch through embed → upsert: two activities (split), or one that does both (fused; runs
 * recorded before it existed replay split, see the patch below). Never rejects: a fatal error goes to the window (the main
 * loop rethrows it), and an outage sends the batch back to the window's queue. A batch whose
 * upsert hit an outage is dispatched again, embed included; the tally counts its embedding once.
 */
export function batchRunner(d: BatchRunnerDeps): (batch: BatchRef) => Promise<void> {
  const { acts, tally, window, circuit, status } = d;
  return async (batch) => {
    const key = { collection: d.collection, runKey: d.runKey, pageNo: batch.pageNo, batchNo: batch.batchNo };
    try {
      if (d.fused && patched('fused-pipeline')) {
        const r = await acts.embedAndWriteBatch(key);
        tally.embed(batch, r.embed);
        tally.upsert(r.upsert);
      } else {
        const e = await acts.embedBatch(key);
        tally.embed(batch, e);
        const u = await acts.upsertBatch(key);
        tally.upsert(u);
      }
      window.landed(batch.pageNo);
      status.show();
    } catch (err) {
      if (isOutage(err)) {
        status.lastError = errorText(err);
        // A provider that rate-limits is up: the batch waits its turn at the back of the queue
        // (its retries already honoured Retry-After) instead of opening the circuit for all.
        if (isRateLimited(err) && patched('rate-limits-not-outage')) {
          window.requeue(batch, 'back');
          status.show();
        } else {
          window.requeue(batch, 'front');
          void circuit.open(status.lastError);
        }
      } else {
        window.fail(err);
      }
    } finally {
      window.batchEnded();
    }
  };
}
