import { DocumentError } from '../errors';
import { pointId, sha256 } from '../ids';
import { openSource } from '../sources';
import { assignBatches, validateBatching } from '../text/batcher';
import { chunkText, validateChunking } from '../text/chunker';
import { decodeUtf8, extractText } from '../text/extract';
import type { BatchingOptions, ChunkingOptions, SourceSpec } from '../workflows/types';
import type { DocumentPlan, StagedChunk } from '../state/store';
import { heartbeat } from './context';
import type { ActivityDeps } from './deps';

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

export interface DocumentFailure {
  documentId: string;
  type: string;
  message: string;
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
  /** The first few failures of the page, for the run's visible progress (bounded). */
  failures: DocumentFailure[];
}

const MAX_REPORTED_FAILURES = 10;
const MAX_MESSAGE = 300;

/**
 * Plans one page of the source: lists it, reads and hashes each document, skips unchanged
 * ones, extracts and chunks the rest, packs the chunks into batches, and stages everything in
 * the state store in one transaction. Only counts and a cursor go back to the workflow.
 * A bad document is recorded against itself; it never fails the page.
 */
export async function planPage(deps: ActivityDeps, input: PlanInput): Promise<PlanResult> {
  validateChunking(input.chunking);
  validateBatching(input.batching);
  const source = openSource(input.source);
  const page = await source.listPage(input.cursor, input.pageSize);
  const ids = page.items.map((i) => i.id);
  const known = await deps.store.documentHashes(input.collection, ids);
  // The hash covers the chunking parameters too: changing them re-chunks every document.
  const params = `c${input.chunking.chunkTokens}o${input.chunking.overlapTokens}:`;

  const planned: DocumentPlan[] = [];
  const failed: DocumentFailure[] = [];
  const chunks: StagedChunk[] = [];
  let unchanged = 0;
  let lastBeat = Date.now();
  for (const item of page.items) {
    if (Date.now() - lastBeat > 5_000) {
      heartbeat({ documentId: item.id });
      lastBeat = Date.now();
    }
    try {
      const bytes = await source.read(item, deps.limits.maxDocumentBytes);
      const hash = sha256(Buffer.concat([Buffer.from(params), bytes]));
      if (!input.full && known.get(item.id) === hash) {
        unchanged++;
        continue;
      }
      const text = extractText(item.id, decodeUtf8(item.id, bytes), item.format);
      if (text.length === 0) throw new DocumentError('EmptyDocument', `${item.id}: has no text to index`);
      const docChunks = chunkText(text, input.chunking);
      planned.push({ documentId: item.id, hash, chunkCount: docChunks.length });
      for (const c of docChunks) {
        chunks.push({
          documentId: item.id,
          chunkIndex: c.index,
          pointId: pointId(input.collection, item.id, c.index),
          textHash: sha256(c.text),
          content: c.text,
          tokens: c.tokens,
          batchNo: 0,
        });
      }
    } catch (err) {
      if (!(err instanceof DocumentError)) throw err;
      failed.push({ documentId: item.id, type: err.type, message: err.message.slice(0, MAX_MESSAGE) });
      deps.log.warn({ collection: input.collection, documentId: item.id, errorType: err.type }, err.message);
    }
  }

  const batchNos = assignBatches(chunks, input.batching);
  chunks.forEach((c, i) => (c.batchNo = batchNos[i]!));
  await deps.store.stagePage({
    collection: input.collection,
    runKey: input.runKey,
    pageNo: input.pageNo,
    seen: ids,
    planned,
    failed,
    chunks,
  });
  return {
    listed: page.items.length,
    changed: planned.length,
    unchanged,
    failed: failed.length,
    chunks: chunks.length,
    tokens: chunks.reduce((s, c) => s + c.tokens, 0),
    batches: chunks.length === 0 ? 0 : batchNos[batchNos.length - 1]! + 1,
    nextCursor: page.nextCursor,
    failures: failed.slice(0, MAX_REPORTED_FAILURES),
  };
}
