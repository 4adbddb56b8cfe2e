import { attemptTimeoutMs, heartbeat } from './context';
import { sinkFor, type ActivityDeps } from './deps';

export interface FinishInput {
  collection: string;
  runKey: string;
}

export interface FinishResult {
  documentsDeleted: number;
}

const DELETE_PAGE = 500;

/**
 * Ends a complete pass over the source: documents the pass did not see have vanished, so their
 * chunks leave the sink and their records leave the state store. Then the sink gets its
 * post-load work (the ANN index) and leftover staging rows of this run are dropped.
 */
export async function finishRun(deps: ActivityDeps, input: FinishInput): Promise<FinishResult> {
  const { store } = deps;
  const { leases } = store;
  const lease = await leases.get(input.collection);
  if (lease && lease.runKey === input.runKey && lease.releasedAt !== null) return { documentsDeleted: 0 }; // a retry of a finished finish
  const sink = await sinkFor(deps, input.collection);
  const windowMs = attemptTimeoutMs();
  let deleted = 0;
  for (let round = 0; round < 1_000_000; round++) {
    // Fenced: only while this run holds the collection, and a takeover waits for the round, so
    // a run that lost the collection never deletes documents the new holder saw.
    const n = await leases.fenced(input.collection, input.runKey, windowMs, async () => {
      const docs = await store.documents.unseen(input.collection, input.runKey, DELETE_PAGE);
      if (docs.length === 0) return 0;
      const ids = docs.map((d) => d.documentId);
      await sink.deleteDocuments(input.collection, ids);
      const hadErrors = docs.filter((d) => d.hadError).map((d) => d.documentId);
      if (hadErrors.length > 0) await deps.failures.resolve({ collection: input.collection, documentIds: hadErrors });
      await store.documents.delete(input.collection, ids);
      return ids.length;
    });
    if (n === 0) break;
    deleted += n;
    heartbeat({ deleted });
  }
  await leases.fenced(input.collection, input.runKey, windowMs, () => sink.finalize(input.collection));
  await store.staging.dropRun(input.collection, input.runKey);
  await leases.release(input.collection, input.runKey);
  return { documentsDeleted: deleted };
}
