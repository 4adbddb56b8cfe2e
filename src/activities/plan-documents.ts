import { DocumentError } from '../errors';
import { pointId, sha256 } from '../ids';
import type { Source, SourceItem } from '../sources';
import type { DocumentPlan, StagedChunk } from '../state/store';
import { assignBatches } from '../text/batcher';
import { chunkDocument, EXTRACTION_VERSION } from '../text/document';
import { embeddingText } from '../text/sections';
import type { BatchingOptions, ChunkingOptions } from '../contracts/ingest';
import { heartbeat } from './context';
import type { ActivityDeps } from './deps';

export interface DocumentFailure {
  documentId: string;
  type: string;
  message: string;
}

export interface PlannedDocuments {
  planned: DocumentPlan[];
  failed: DocumentFailure[];
  chunks: StagedChunk[];
  unchanged: number;
  batches: number;
}

const MAX_MESSAGE = 300;
/**
 * Documents read ahead of the one being processed: reads wait on the disk or the network, so a
 * few in flight keep the page from being a chain of round trips (an unchanged page of 200 files
 * is mostly reads). At most this many documents are held at once.
 */
const READ_AHEAD = 8;

/**
 * Reads, hashes, extracts and chunks documents, skipping those whose hash matches `known`
 * (unless `full`), and packs their chunks into batches. A DocumentError is recorded against its
 * document; anything else (a database or source outage) propagates so the activity is retried.
 */
export async function planDocuments(
  deps: ActivityDeps,
  args: {
    collection: string;
    source: Source;
    items: SourceItem[];
    known: Map<string, string | null>;
    chunking: ChunkingOptions;
    batching: BatchingOptions;
    full: boolean;
  },
): Promise<PlannedDocuments> {
  // The hash covers the chunking parameters and the extraction rules too: changing them re-chunks
  // every document.
  const params = `c${args.chunking.chunkTokens}o${args.chunking.overlapTokens}x${EXTRACTION_VERSION}:`;
  const planned: DocumentPlan[] = [];
  const failed: DocumentFailure[] = [];
  const chunks: StagedChunk[] = [];
  let unchanged = 0;
  let lastBeat = Date.now();
  const reads: Array<Promise<Uint8Array> | undefined> = [];
  const startRead = (i: number) => {
    const item = args.items[i];
    if (!item) return;
    const p = args.source.read(item, deps.limits.maxDocumentBytes);
    p.catch(() => undefined); // awaited in order below; a failure waiting its turn is not unhandled
    reads[i] = p;
  };
  for (let i = 0; i < READ_AHEAD; i++) startRead(i);
  let currentId = '';
  // Long extractions (a PDF's pages) call this too, so a big document does not look like a dead worker.
  const beat = () => {
    if (Date.now() - lastBeat > 5_000) {
      heartbeat({ documentId: currentId });
      lastBeat = Date.now();
    }
  };
  for (const [i, item] of args.items.entries()) {
    currentId = item.id;
    beat();
    const read = reads[i]!;
    reads[i] = undefined;
    startRead(i + READ_AHEAD);
    try {
      const bytes = await read;
      const hash = sha256(Buffer.concat([Buffer.from(params), bytes]));
      if (!args.full && args.known.get(item.id) === hash) {
        unchanged++;
        continue;
      }
      const docChunks = await chunkDocument({
        documentId: item.id,
        bytes,
        format: item.format,
        modifiedAt: item.modifiedAt,
        chunking: args.chunking,
        limits: deps.limits,
        progress: beat,
      });
      planned.push({ documentId: item.id, hash, chunkCount: docChunks.length });
      for (const c of docChunks) {
        chunks.push({
          documentId: item.id,
          chunkIndex: c.index,
          pointId: pointId(args.collection, item.id, c.index),
          // The embedding cache keys on what is embedded: the heading path and the text.
          textHash: sha256(embeddingText(c.embedPrefix, c.content)),
          content: c.content,
          embedPrefix: c.embedPrefix,
          metadata: c.metadata as unknown as Record<string, unknown>,
          tokens: c.tokens,
          batchNo: 0,
        });
      }
    } catch (err) {
      if (!(err instanceof DocumentError)) throw err;
      failed.push({ documentId: item.id, type: err.type, message: err.message.slice(0, MAX_MESSAGE) });
      deps.log.warn({ collection: args.collection, documentId: item.id, errorType: err.type }, err.message);
    }
  }
  const batchNos = assignBatches(chunks, args.batching);
  chunks.forEach((c, i) => (c.batchNo = batchNos[i]!));
  return { planned, failed, chunks, unchanged, batches: chunks.length === 0 ? 0 : batchNos[batchNos.length - 1]! + 1 };
}
