import { ApplicationFailure } from '@temporalio/common';
import { openSource } from '../sources';
import { isReplayRunKey, REPLAY_RUN_PREFIX } from '../state/leases';
import { activityInfo, attemptTimeoutMs } from './context';
import { formatOf } from '../text/extract';
import type { ReplaySpec } from '../contracts/replay';
import { chunkRanges } from './chunk-ranges';
import { commitPage } from './commit';
import { targetFor, type ActivityDeps } from './deps';
import { embedBatch } from './embed';
import { planDocuments } from './plan-documents';
import { upsertBatch } from './upsert';

export interface ReprocessInput {
  collection: string;
  replay: ReplaySpec;
  documentIds: string[];
  /** Unique per replay call; staging rows are keyed by it. */
  replayKey: string;
}

export interface ReprocessedDocument {
  documentId: string;
  outcome: 'ok' | 'failed' | 'vanished';
  type?: string;
  message?: string;
  chunkRanges?: Array<[number, number]>;
}

/**
 * Replays failed documents: the same plan → embed → upsert → commit path an ingest run takes,
 * for a handful of documents, inside one activity (the list is short, and a replay should not
 * need a workflow of its own). Documents are always reprocessed (no hash skip); vectors already
 * in the cache are not embedded again, so only the chunks that failed cost a provider call.
 * The documents are not marked as seen, so a replay never changes what an ingest run deletes.
 *
 * A replay writes the sink, so it takes the collection's lease like a run (one writer at a
 * time): while an ingest run holds it, the replay fails at once with CollectionBusy (the run
 * reads those documents again anyway); a run that starts during a replay waits for it, since a
 * replay holder counts as closed and its writes are one fenced intent that ends with it (or,
 * if its worker dies, with its attempt timeout). The lease row keeps the workflow id of the
 * collection's latest run, so `status` still finds that run.
 */
export async function reprocessDocuments(deps: ActivityDeps, input: ReprocessInput): Promise<{ documents: ReprocessedDocument[] }> {
  const runKey = `${REPLAY_RUN_PREFIX}${input.replayKey}`;
  const { leases } = deps.store;
  const held = await leases.get(input.collection);
  const out = await leases.acquire(input.collection, runKey, held?.workflowId ?? activityInfo()?.workflowId ?? 'replay', (h) =>
    isReplayRunKey(h.runKey) ? Promise.resolve(true) : deps.runs.isClosed(h),
  );
  if (!out.acquired) {
    const h = out.holder;
    if (out.drainingUntil) throw new Error(`collection ${input.collection}: writes of the closed run ${h.workflowId} are still landing; retrying`);
    throw ApplicationFailure.create({
      type: 'CollectionBusy',
      nonRetryable: true,
      message: `collection ${input.collection} is being written by run ${h.workflowId} (since ${new Date(h.acquiredAt).toISOString()}); replay after it finishes (it retries the failed documents it reads anyway)`,
    });
  }
  try {
    return await leases.fenced(input.collection, runKey, attemptTimeoutMs(), () => reprocess(deps, input, runKey));
  } finally {
    await leases.release(input.collection, runKey).catch(() => undefined);
  }
}

async function reprocess(deps: ActivityDeps, input: ReprocessInput, runKey: string): Promise<{ documents: ReprocessedDocument[] }> {
  const source = openSource(input.replay.source, deps.sources);
  const items = input.documentIds.map((id) => ({ id, format: source.formatOf?.(id) ?? formatOf(id) ?? ('text' as const) }));
  const p = await planDocuments(deps, {
    collection: input.collection,
    source,
    items,
    known: new Map(),
    sourceKind: input.replay.source.kind,
    chunking: input.replay.chunking,
    batching: input.replay.batching,
    full: true,
  });
  await deps.store.staging.stagePage({ collection: input.collection, runKey, pageNo: 0, seen: [], planned: p.planned, failed: p.failed, chunks: p.chunks });
  for (let b = 0; b < p.batches; b++) {
    const key = { collection: input.collection, runKey, pageNo: 0, batchNo: b };
    await embedBatch(deps, key);
    await upsertBatch(deps, key);
  }
  const chunkFailures = await deps.store.staging.pageChunkFailures(input.collection, runKey, 0);
  await commitPage(deps, { collection: input.collection, runKey, pageNo: 0 }, { report: false });

  const out: ReprocessedDocument[] = [];
  const failedDocs = new Map(p.failed.map((f) => [f.documentId, f]));
  for (const id of input.documentIds) {
    const f = failedDocs.get(id);
    const cf = chunkFailures.filter((c) => c.documentId === id);
    if (f?.type === 'DocumentVanished') {
      const { sink, storage } = await targetFor(deps, input.collection);
      await sink.deleteDocuments(storage, [id]);
      await deps.store.documents.delete(input.collection, [id]);
      out.push({ documentId: id, outcome: 'vanished' });
    } else if (f) {
      out.push({ documentId: id, outcome: 'failed', type: f.type, message: f.message });
    } else if (cf.length > 0) {
      out.push({ documentId: id, outcome: 'failed', type: cf[0]!.type, message: cf[0]!.message, chunkRanges: chunkRanges(cf.map((c) => c.chunkIndex)) });
    } else {
      out.push({ documentId: id, outcome: 'ok' });
    }
  }
  return { documents: out };
}

