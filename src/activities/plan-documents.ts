import { DocumentError } from '../errors';
import { pointId, sha256 } from '../ids';
import type { Source, SourceItem } from '../sources';
import type { DocumentPlan, StagedChunk } from '../state/store';
import { assignBatches } from '../text/batcher';
import { chunkText } from '../text/chunker';
import { decodeUtf8, extractText } from '../text/extract';
import type { BatchingOptions, ChunkingOptions } from '../contracts/ingest';
import { fitChunking } from './chunk-limit';
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
  // Chunks fit the embedder: sizes lowered to its input limit, counted by its own tokenizer.
  const chunking = fitChunking(args.chunking, deps.embedder, deps.log);
  const tokenizer = deps.embedder.tokenizer;
  // The hash covers the chunking parameters too: changing them re-chunks every document. (A
  // tokenizer other than cl100k_base is named in it; cl100k_base hashes stay as they were.)
  const tk = tokenizer.name === 'cl100k_base' ? '' : `t${tokenizer.name}`;
  const params = `c${chunking.chunkTokens}o${chunking.overlapTokens}${tk}:`;
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
  for (const [i, item] of args.items.entries()) {
    if (Date.now() - lastBeat > 5_000) {
      heartbeat({ documentId: item.id });
      lastBeat = Date.now();
    }
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
      if (bytes.length === 0) throw new DocumentError('EmptyDocument', `${item.id}: is empty`);
      const text = extractText(item.id, decodeUtf8(item.id, bytes), item.format);
      if (text.length === 0) throw new DocumentError('EmptyDocument', `${item.id}: has no text to index`);
      const docChunks = chunkText(text, chunking, tokenizer);
      planned.push({ documentId: item.id, hash, chunkCount: docChunks.length });
      for (const c of docChunks) {
        chunks.push({
          documentId: item.id,
          chunkIndex: c.index,
          pointId: pointId(args.collection, item.id, c.index),
          textHash: sha256(c.text),
          content: c.text,
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
