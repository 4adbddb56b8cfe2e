import { openSource } from '../sources';
import { validateBatching } from '../text/batcher';
import { validateChunking } from '../text/chunker';
import type { BatchingOptions, ChunkingOptions, SourceSpec } from '../contracts/ingest';
import type { ActivityDeps } from './deps';
import { attemptTimeoutMs } from './context';
import { metrics } from '../metrics/registry';
import { planDocuments, type DocumentFailure } from './plan-documents';

export interface PlanInput {
  collection: string;
  runKey: string;
  pageNo: number;
  source: SourceSpec;
  cursor: string | null;
  pageSize: number;
  chunking: ChunkingOptions;
  batching: BatchingOptions;
  full?: boolean;
}

export interface PlanResult {
  listed: number;
  changed: number;
  unchanged: number;
  failed: number;
  chunks: number;
  tokens: number;
  batches: number;
  nextCursor: string | null;
  /** What the source's listing reflects, when it has versions (the git commit indexed). */
  sourceVersion?: string;
  /** The first few failures of the page, for the run's visible progress (bounded). */
  failures: DocumentFailure[];
  /** What the listing passed over in this page's range (directory sources; 0 for the others). */
  filesExcluded: number;
  directoriesExcluded: number;
  filesUnsupported: number;
}

const MAX_REPORTED_FAILURES = 5;

/**
 * Plans one page of the source: lists it, reads and hashes each document, skips unchanged
 * ones, extracts and chunks the rest, packs the chunks into batches, and stages everything in
 * the state store in one transaction. Only counts and a cursor go back to the workflow; every
 * failed document goes to the collection's replay workflow.
 */
export async function planPage(deps: ActivityDeps, input: PlanInput): Promise<PlanResult> {
  validateChunking(input.chunking);
  validateBatching(input.batching);
  const source = openSource(input.source, deps.sources);
  const page = await source.listPage(input.cursor, input.pageSize);
  const ids = page.items.map((i) => i.id);
  const known = await deps.store.documents.known(input.collection, ids);
  // While a rebuild is under way (or after one was abandoned), every document is planned again:
  // the new generation needs them all, and the embedding cache makes unchanged texts free.
  const replanAll = (await deps.store.collections.get(input.collection))?.replanAll === true;
  const p = await planDocuments(deps, {
    collection: input.collection,
    source,
    items: page.items,
    known,
    sourceKind: input.source.kind,
    chunking: input.chunking,
    batching: input.batching,
    full: input.full === true || replanAll,
  });
  // Fenced: staging marks documents seen by this run, which decides what finishRun deletes.
  await deps.store.leases.fenced(input.collection, input.runKey, attemptTimeoutMs(), () => deps.store.staging.stagePage({
    collection: input.collection,
    runKey: input.runKey,
    pageNo: input.pageNo,
    seen: ids,
    planned: p.planned,
    failed: p.failed,
    chunks: p.chunks,
    refreshed: p.refreshed,
  }));
  for (const f of p.failed) metrics.itemsFailed.inc({ kind: 'document', type: f.type });
  if (p.failed.length > 0) {
    await deps.failures.report({
      collection: input.collection,
      runKey: input.runKey,
      replay: { source: input.source, chunking: input.chunking, batching: input.batching },
      items: p.failed.map((f) => ({ documentId: f.documentId, type: f.type, message: f.message })),
    });
  }
  return {
    listed: page.items.length,
    changed: p.planned.length,
    unchanged: p.unchanged,
    failed: p.failed.length,
    chunks: p.chunks.length,
    tokens: p.chunks.reduce((s, c) => s + c.tokens, 0),
    batches: p.batches,
    nextCursor: page.nextCursor,
    ...(page.version !== undefined && { sourceVersion: page.version }),
    filesExcluded: page.skipped?.filesExcluded ?? 0,
    directoriesExcluded: page.skipped?.directoriesExcluded ?? 0,
    filesUnsupported: page.skipped?.filesUnsupported ?? 0,
    failures: p.failed.slice(0, MAX_REPORTED_FAILURES),
  };
}
