import type { ActivityDeps } from './deps';

export interface PageKey {
  collection: string;
  runKey: string;
  pageNo: number;
}

export interface CommitResult {
  documents: number;
  failedChunks: number;
}

/**
 * Closes a page once all its batches are done: documents whose every chunk landed get their
 * new content hash, chunks beyond a shrunken document's new length are deleted from the sink,
 * and the page's staging rows go. A document with a failed chunk keeps its old hash, so the
 * next run tries it again.
 */
export async function commitPage(deps: ActivityDeps, key: PageKey): Promise<CommitResult> {
  const { store, sink } = deps;
  const committed = await store.committablePage(key.collection, key.runKey, key.pageNo);
  await sink.trimDocuments(
    key.collection,
    committed.map((d) => ({ documentId: d.documentId, keep: d.chunkCount })),
  );
  const failures = await store.pageChunkFailures(key.collection, key.runKey, key.pageNo);
  await store.commitPage(key.collection, key.runKey, key.pageNo, committed);
  return { documents: committed.length, failedChunks: failures.length };
}
