import { openSource } from '../sources';
import { validateBatching } from '../text/batcher';
import { validateChunking } from '../text/chunker';
import { embeddingText } from '../text/sections';
import { inputTokens } from '../embedders/types';
import { costUsd, type Price } from '../embedders/pricing';
import { planDocuments } from '../activities/plan-documents';
import type { ActivityDeps } from '../activities/deps';
import { DEFAULT_BATCHING, DEFAULT_CHUNKING, DEFAULT_PAGE_SIZE, type IngestInput } from '../contracts/ingest';

/** What a run would do, found without embedding or writing anything. */
export interface RunEstimate {
  collection: string;
  model: string;
  /** The collection exists with another model or dimensions: a run without --full is refused. */
  modelChange?: { from: string; to: string };
  /** A rebuild into a new generation is under way or was interrupted: the next run re-chunks every document (unchanged texts come from the cache). */
  rebuildPending?: boolean;
  documentsListed: number;
  /** Documents a run would read and chunk (new or changed; every document with --full). */
  documentsChanged: number;
  documentsUnchanged: number;
  /** Documents a run would refuse (unreadable, too large, …), by the same rules. */
  documentsFailed: number;
  /** Chunks of the changed documents. */
  chunks: number;
  /** Of those, chunks whose vector is already in the embedding cache (or repeat a text embedded earlier in this run). */
  chunksCached: number;
  /** Distinct texts a run would send to the provider. */
  textsToEmbed: number;
  /** Their tokens, counted by the embedder's tokenizer: what the provider would bill. */
  tokensToEmbed: number;
  pricePerMTok: number;
  priceSource: Price['source'];
  costUsd: number;
  /** What the listing passed over, as a run's summary counts it. */
  filesExcluded: number;
  directoriesExcluded: number;
  filesUnsupported: number;
}

export type EstimateDeps = Pick<ActivityDeps, 'store' | 'embedder' | 'log' | 'sources' | 'limits'> & { price: Price };

/** Pages listed at most (bounded like every loop): 10,000 pages of the page size. */
const MAX_PAGES = 10_000;

/**
 * The dry run of an ingest: lists the whole source, skips unchanged documents, reads, extracts
 * and chunks the rest exactly as planPage does (the same planDocuments), and looks each chunk's
 * text up in the embedding cache. Reads the state store; writes nothing anywhere, embeds
 * nothing, needs no Temporal. A text repeated in the run counts once (a real run embeds a repeat
 * again only when two batches holding it run at the same moment).
 */
export async function estimateRun(deps: EstimateDeps, input: IngestInput): Promise<RunEstimate> {
  const chunking = { ...DEFAULT_CHUNKING, ...input.chunking };
  const batching = { ...DEFAULT_BATCHING, ...input.batching };
  validateChunking(chunking);
  validateBatching(batching);
  const full = input.full === true;
  const { embedder, store } = deps;
  // A database no worker has used yet: nothing is known, nothing cached (and nothing is created).
  const ready = await store.initialized();
  const saved = ready ? await store.collections.get(input.collection) : undefined;
  const modelChange =
    saved && (saved.model !== embedder.model || saved.dimensions !== embedder.dimensions)
      ? { from: `${saved.model} (${saved.dimensions})`, to: `${embedder.model} (${embedder.dimensions})` }
      : undefined;
  // planPage re-chunks everything while a generation is being built (replan_all); so does the estimate.
  const rebuildPending = saved?.replanAll === true;
  const source = openSource(input.source, deps.sources);
  const e: RunEstimate = {
    collection: input.collection,
    model: embedder.model,
    ...(modelChange && { modelChange }),
    ...(rebuildPending && { rebuildPending }),
    documentsListed: 0,
    documentsChanged: 0,
    documentsUnchanged: 0,
    documentsFailed: 0,
    chunks: 0,
    chunksCached: 0,
    textsToEmbed: 0,
    tokensToEmbed: 0,
    pricePerMTok: deps.price.perMTok,
    priceSource: deps.price.source,
    costUsd: 0,
    filesExcluded: 0,
    directoriesExcluded: 0,
    filesUnsupported: 0,
  };
  const seen = new Set<string>();
  let cursor: string | null = null;
  for (let pageNo = 0; pageNo < MAX_PAGES; pageNo++) {
    const page = await source.listPage(cursor, input.pageSize ?? DEFAULT_PAGE_SIZE);
    // A full rebuild (and a model change, which needs one) re-chunks every document.
    const replan = full || rebuildPending;
    const known = !ready || replan || modelChange ? new Map() : await store.documents.known(input.collection, page.items.map((i) => i.id));
    const p = await planDocuments(deps, { collection: input.collection, source, items: page.items, known, sourceKind: input.source.kind, chunking, batching, full: replan });
    e.documentsListed += page.items.length;
    e.filesExcluded += page.skipped?.filesExcluded ?? 0;
    e.directoriesExcluded += page.skipped?.directoriesExcluded ?? 0;
    e.filesUnsupported += page.skipped?.filesUnsupported ?? 0;
    e.documentsChanged += p.planned.length;
    e.documentsUnchanged += p.unchanged;
    e.documentsFailed += p.failed.length;
    e.chunks += p.chunks.length;
    const fresh = new Map<string, string>();
    for (const c of p.chunks) if (!seen.has(c.textHash)) fresh.set(c.textHash, embeddingText(c.embedPrefix, c.content));
    const cached = !ready ? new Set<string>() : await store.cache.cachedHashes(embedder.model, embedder.dimensions, [...fresh.keys()]);
    for (const [hash, text] of fresh) {
      seen.add(hash);
      if (cached.has(hash)) continue;
      e.textsToEmbed++;
      e.tokensToEmbed += inputTokens(embedder, text);
    }
    e.chunksCached = e.chunks - e.textsToEmbed;
    cursor = page.nextCursor;
    if (cursor === null) break;
  }
  e.costUsd = costUsd(e.tokensToEmbed, deps.price);
  return e;
}
