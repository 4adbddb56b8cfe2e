import { heartbeat } from './context';
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
  const sink = await sinkFor(deps, input.collection);
  let deleted = 0;
  for (let round = 0; round < 1_000_000; round++) {
    const docs = await store.documents.unseen(input.collection, input.runKey, DELETE_PAGE);
    if (docs.length === 0) break;
    const ids = docs.map((d) => d.documentId);
    await sink.deleteDocuments(input.collection, ids);
    const hadErrors = docs.filter((d) => d.hadError).map((d) => d.documentId);
    if (hadErrors.length > 0) await deps.failures.resolve({ collection: input.collection, documentIds: hadErrors });
    await store.documents.delete(input.collection, ids);
    deleted += ids.length;
    heartbeat({ deleted });
  }
  await sink.finalize(input.collection);
  await store.staging.dropRun(input.collection, input.runKey);
  return { documentsDeleted: deleted };
}
