import { DocumentError } from '../errors';
import { sha256 } from '../ids';
import type { Source, SourceItem } from '../sources';
import type { DocumentMetadata } from '../sources/types';
import type { DocumentPlan, KnownDocument, RefreshedFingerprint, StagedChunk } from '../state/store';
import { metrics } from '../metrics/registry';
import { assignBatches } from '../text/batcher';
import { EXTRACTION_VERSION } from '../text/document';
import { plannedChunks, type ChunkJob, type PlannedChunk } from '../text/chunk-job';
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
  /** Documents whose bytes were read (the rest were skipped on their fingerprint). */
  read: number;
  /** Unchanged documents listed with a new fingerprint (a touched file, a rewritten row). */
  refreshed: RefreshedFingerprint[];
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
 * Documents per chunking thread being chunked at once (each thread works through its share in
 * order): enough that a thread never waits for this thread to hand it the next document, while
 * the batch activities keep this thread busy. Fewer while they hold more than MAX_AHEAD_BYTES.
 */
const CHUNK_AHEAD = 256;
const MAX_AHEAD_BYTES = 64 * 1024 * 1024;

/**
 * Reads, hashes, extracts and chunks documents, skipping those whose hash matches `known`
 * (unless `full`), and packs their chunks into batches. A document listed with the fingerprint
 * recorded when it last landed is skipped before it is read (design invariant 12). A DocumentError is recorded against its
 * document; anything else (a database or source outage) propagates so the activity is retried.
 */
export async function planDocuments(
  deps: Pick<ActivityDeps, 'embedder' | 'limits' | 'log' | 'chunker'>,
  args: {
    collection: string;
    source: Source;
    items: SourceItem[];
    known: Map<string, KnownDocument>;
    /** Label of the source for metrics (its kind). */
    sourceKind?: string;
    chunking: ChunkingOptions;
    batching: BatchingOptions;
    full: boolean;
  },
): Promise<PlannedDocuments> {
  // Chunks fit the embedder: sizes lowered to its input limit, counted by its own tokenizer.
  const chunking = fitChunking(args.chunking, deps.embedder, deps.log);
  const tokenizer = deps.embedder.tokenizer;
  // The hash covers the chunking parameters and the extraction rules too: changing them re-chunks
  // every document. (A tokenizer other than cl100k_base is named in it.)
  const tk = tokenizer.name === 'cl100k_base' ? '' : `t${tokenizer.name}`;
  const params = `c${chunking.chunkTokens}o${chunking.overlapTokens}${tk}x${EXTRACTION_VERSION}:`;
  const planned: DocumentPlan[] = [];
  const failed: DocumentFailure[] = [];
  const chunks: StagedChunk[] = [];
  const refreshed: RefreshedFingerprint[] = [];
  let unchanged = 0;
  let lastBeat = Date.now();
  // Fingerprint first: a document whose fingerprint (under these chunking parameters) is the one
  // recorded when it last landed is unchanged, and is never read.
  const fingerprints = args.items.map((item) => (item.fingerprint ? `${params}${item.fingerprint}` : null));
  const skip = args.items.map((item, i) => {
    if (args.full || fingerprints[i] === null) return false;
    const k = args.known.get(item.id);
    return k !== undefined && k.hash !== null && k.fingerprint === fingerprints[i];
  });
  const toRead = args.items.map((_, i) => i).filter((i) => !skip[i]);
  unchanged += args.items.length - toRead.length;
  const readCounter = metrics.documentsRead.labels({ source: args.sourceKind ?? 'unknown' });
  const reads: Array<Promise<{ bytes: Uint8Array; metadata?: DocumentMetadata; format?: string }> | undefined> = [];
  const source = args.source;
  const startRead = (n: number) => {
    const i = toRead[n];
    if (i === undefined) return;
    const item = args.items[i]!;
    readCounter.inc();
    const max = deps.limits.maxDocumentBytes;
    const p = source.readWithMetadata ? source.readWithMetadata(item, max) : source.read(item, max).then((bytes) => ({ bytes }));
    p.catch(() => undefined); // awaited in order below; a failure waiting its turn is not unhandled
    reads[n] = p;
  };
  for (let n = 0; n < READ_AHEAD; n++) startRead(n);
  let currentId = '';
  // Long extractions (a PDF's pages) call this too, so a big document does not look like a dead worker.
  const beat = () => {
    if (Date.now() - lastBeat > 5_000) {
      heartbeat({ documentId: currentId });
      lastBeat = Date.now();
    }
  };
  // Each document read, hashed and (when changed) chunked, in order; with chunking threads up to
  // `ahead` documents are being chunked at once while this thread reads the next ones.
  const chunker = deps.chunker;
  const ahead = chunker && chunker.size > 0 && tokenizer.spec ? chunker.size * CHUNK_AHEAD : 1;
  type Outcome = { unchanged: true } | { unchanged: false; hash: string; chunks: PlannedChunk[] };
  const queue: Array<{ item: SourceItem; fingerprint: string | null; outcome: Promise<Outcome>; bytes: number }> = [];
  let heldBytes = 0;
  const settle = async () => {
    const entry = queue[0]!;
    const { item, fingerprint, outcome } = entry;
    try {
      const o = await outcome.finally(() => {
        queue.shift();
        heldBytes -= entry.bytes;
      });
      if (o.unchanged) return;
      planned.push({ documentId: item.id, hash: o.hash, chunkCount: o.chunks.length, fingerprint });
      for (const c of o.chunks) chunks.push({ ...c, batchNo: 0 });
    } catch (err) {
      if (!(err instanceof DocumentError)) throw err;
      failed.push({ documentId: item.id, type: err.type, message: err.message.slice(0, MAX_MESSAGE) });
      deps.log.warn({ collection: args.collection, documentId: item.id, errorType: err.type }, err.message);
    }
  };
  // A document waiting on a thread gets no progress calls: heartbeat on a timer meanwhile.
  const ticker = ahead > 1 ? setInterval(beat, 5_000) : undefined;
  try {
    for (const [n, i] of toRead.entries()) {
      const item = args.items[i]!;
      const fingerprint = fingerprints[i]!;
      currentId = item.id;
      beat();
      const read = reads[n]!;
      reads[n] = undefined;
      startRead(n + READ_AHEAD);
      const entry = { item, fingerprint, outcome: undefined as unknown as Promise<Outcome>, bytes: 0 };
      entry.outcome = (async (): Promise<Outcome> => {
        const { bytes, metadata, format } = await read;
        entry.bytes = bytes.length;
        heldBytes += bytes.length;
        // The source's own metadata (a row's columns) is part of what lands, so part of the hash:
        // a row whose metadata changed under the same text is rewritten (its vectors come from the cache).
        const hash = sha256(Buffer.concat([Buffer.from(params), bytes, ...(metadata && Object.keys(metadata).length > 0 ? [Buffer.from(`\0metadata:${stableJson(metadata)}`)] : [])]));
        if (!args.full && args.known.get(item.id)?.hash === hash) {
          unchanged++;
          if (fingerprint !== null) refreshed.push({ documentId: item.id, hash, fingerprint });
          return { unchanged: true };
        }
        const job: ChunkJob = { collection: args.collection, documentId: item.id, bytes, format: format ?? item.format, chunking, limits: deps.limits };
        if (item.modifiedAt) job.modifiedAt = item.modifiedAt;
        if (metadata) job.metadata = metadata;
        // The embedding cache keys on what is embedded (textHash: the heading path and the text).
        const planned = chunker ? await chunker.chunk(job, tokenizer, beat) : await plannedChunks(job, tokenizer, beat);
        return { unchanged: false, hash, chunks: planned };
      })();
      entry.outcome.catch(() => undefined); // settled in order below
      queue.push(entry);
      while (queue.length >= ahead || (queue.length > 1 && heldBytes > MAX_AHEAD_BYTES)) await settle();
    }
    while (queue.length > 0) await settle();
  } finally {
    if (ticker) clearInterval(ticker);
  }
  const batchNos = assignBatches(chunks, args.batching);
  chunks.forEach((c, i) => (c.batchNo = batchNos[i]!));
  return { planned, failed, chunks, unchanged, read: toRead.length, refreshed, batches: chunks.length === 0 ? 0 : batchNos[batchNos.length - 1]! + 1 };
}

/** JSON with the top level's keys sorted: the same metadata always hashes the same. */
function stableJson(m: DocumentMetadata): string {
  return JSON.stringify(Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
}
