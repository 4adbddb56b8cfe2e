import { openSource } from '../sources';
import { validateBatching } from '../text/batcher';
import { validateChunking } from '../text/chunker';
import type { BatchingOptions, ChunkingOptions, SourceSpec } from '../contracts/ingest';
import type { ActivityDeps } from './deps';
import { attemptTimeoutMs } from './context';
import { metrics } from '../metrics/registry';
import { planDocuments, type DocumentFailure, type PlannedDocuments } from './plan-documents';
import type { RefreshedFingerprint } from '../state/store';
import type { SkipCounts } from '../sources/types';

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
  /**
   * Most documents one plan lists while its pages have nothing to do: a page whose every
   * document is unchanged is not returned, the plan lists the next one (up to this many
   * documents in all, for at most PASS_OVER_MS), so an unchanged re-index costs one activity
   * per this many documents instead of one per page. Default: one page.
   */
  passOver?: number;
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
/** A plan passing over unchanged pages returns after this long, so the run keeps showing progress. */
export const PASS_OVER_MS = 20_000;

/**
 * Plans one page of the source: lists it, reads and hashes each document, skips unchanged
 * ones, extracts and chunks the rest, packs the chunks into batches, and stages everything in
 * the state store in one transaction. A page with nothing to do is passed over (see
 * `passOver`): the plan returns the first page that has, or the last one it listed. Only counts
 * and a cursor go back to the workflow; every failed document goes to the collection's replay
 * workflow.
 */
export async function planPage(deps: ActivityDeps, input: PlanInput): Promise<PlanResult> {
  validateChunking(input.chunking);
  validateBatching(input.batching);
  const source = openSource(input.source, deps.sources);
  // While a rebuild is under way (or after one was abandoned), every document is planned again:
  // the new generation needs them all, and the embedding cache makes unchanged texts free.
  const replanAll = (await deps.store.collections.get(input.collection))?.replanAll === true;
  const most = Math.max(input.pageSize, input.passOver ?? 0);
  const started = Date.now();
  const seen: string[] = [];
  const refreshed: RefreshedFingerprint[] = [];
  const skipped: SkipCounts = { filesExcluded: 0, directoriesExcluded: 0, filesUnsupported: 0 };
  let unchanged = 0;
  let version: string | undefined;
  let cursor = input.cursor;
  let p: PlannedDocuments;
  for (;;) {
    const page = await source.listPage(cursor, input.pageSize);
    version ??= page.version;
    for (const k of Object.keys(skipped) as Array<keyof SkipCounts>) skipped[k] += page.skipped?.[k] ?? 0;
    const ids = page.items.map((i) => i.id);
    const known = await deps.store.documents.known(input.collection, ids);
    p = await planDocuments(deps, {
      collection: input.collection,
      source,
      items: page.items,
      known,
      sourceKind: input.source.kind,
      chunking: input.chunking,
      batching: input.batching,
      full: input.full === true || replanAll,
    });
    seen.push(...ids);
    refreshed.push(...p.refreshed);
    unchanged += p.unchanged;
    cursor = page.nextCursor;
    const idle = p.planned.length === 0 && p.failed.length === 0;
    if (!idle || cursor === null || seen.length + input.pageSize > most || Date.now() - started >= PASS_OVER_MS) break;
  }
  // Fenced: staging marks documents seen by this run, which decides what finishRun deletes.
  await deps.store.leases.fenced(input.collection, input.runKey, attemptTimeoutMs(), () => deps.store.staging.stagePage({
    collection: input.collection,
    runKey: input.runKey,
    pageNo: input.pageNo,
    seen,
    planned: p.planned,
    failed: p.failed,
    chunks: p.chunks,
    refreshed,
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
    listed: seen.length,
    changed: p.planned.length,
    unchanged,
    failed: p.failed.length,
    chunks: p.chunks.length,
    tokens: p.chunks.reduce((s, c) => s + c.tokens, 0),
    batches: p.batches,
    nextCursor: cursor,
    ...(version !== undefined && { sourceVersion: version }),
    ...skipped,
    failures: p.failed.slice(0, MAX_REPORTED_FAILURES),
  };
}
