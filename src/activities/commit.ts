import { chunkRanges } from './chunk-ranges';
import { targetFor, type ActivityDeps } from './deps';

export interface PageKey {
  collection: string;
  runKey: string;
  pageNo: number;
}

/** Where a page's chunk failures go: the replay workflow, with what it needs to replay them. */
export interface CommitReporting {
  report: boolean;
  replay?: import('../contracts/replay').ReplaySpec;
}

export interface CommitResult {
  documents: number;
  failedChunks: number;
}

/**
 * Closes a page once all its batches are done: documents whose every chunk landed get their
 * new content hash, chunks beyond a shrunken document's new length are deleted from the sink,
 * and the page's staging rows go. A document with a failed chunk keeps its old hash (so the
 * next run tries it again) and goes to the replay workflow; a document that failed before and
 * landed now leaves it.
 */
export async function commitPage(deps: ActivityDeps, key: PageKey, reporting: CommitReporting = { report: true }): Promise<CommitResult> {
  const { store } = deps;
  const { sink, storage } = await targetFor(deps, key.collection);
  const committed = await store.staging.committablePage(key.collection, key.runKey, key.pageNo);
  await sink.trimDocuments(
    storage,
    committed.map((d) => ({ documentId: d.documentId, keep: d.chunkCount })),
  );
  const failures = await store.staging.pageChunkFailures(key.collection, key.runKey, key.pageNo);
  if (reporting.report && reporting.replay && failures.length > 0) {
    const byDoc = new Map<string, typeof failures>();
    for (const f of failures) byDoc.set(f.documentId, [...(byDoc.get(f.documentId) ?? []), f]);
    await deps.failures.report({
      collection: key.collection,
      runKey: key.runKey,
      replay: reporting.replay,
      items: [...byDoc.entries()].map(([documentId, fs]) => ({
        documentId,
        chunkRanges: chunkRanges(fs.map((f) => f.chunkIndex)),
        type: fs[0]!.type,
        message: fs[0]!.message,
      })),
    });
  }
  const recovered = committed.filter((d) => d.hadError).map((d) => d.documentId);
  if (reporting.report && recovered.length > 0) await deps.failures.resolve({ collection: key.collection, documentIds: recovered });
  await store.staging.commitPage(key.collection, key.runKey, key.pageNo, committed);
  return { documents: committed.length, failedChunks: failures.length };
}
