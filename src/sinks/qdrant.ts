import {
  QdrantClient,
  QdrantClientResourceExhaustedError,
  QdrantClientTimeoutError,
  QdrantClientUnexpectedResponseError,
} from '@qdrant/js-client-rest';
import { classifyHttpStatus, ConfigError, ProviderError } from '../errors';
import { generationStorage, validateCollectionName, validateStorageName } from '../naming';
import { MIN_CHUNKS_FOR_COMMON } from './pgvector';
import { qdrantFilter, words } from './qdrant-where';
import type { ChunkHit, ChunkTrim, KeywordQuery, Point, StorageOptions, VectorQuery, VectorStore } from './types';

/** Candidates the keyword side of hybrid search reads to rank (full-text match is a filter in Qdrant). */
const KEYWORD_CANDIDATES = 1000;

const DELETE_CHUNK = 256;

/** Builds the one Qdrant client of a worker process (no per-call clients, nothing to close). */
export function createQdrantClient(url: string, apiKey?: string): QdrantClient {
  return new QdrantClient({ url, apiKey, checkCompatibility: false, timeout: 60_000 });
}

/**
 * Qdrant behind the VectorStore interface, over one injected client. Collections are named by
 * the collection (cosine distance, size from the embedder, keyword payload index on
 * document_id); points are upserted by their UUIDv5 id, so retries overwrite; deletes go by
 * document_id filter. Errors are classified like the embedder's: 429 and 5xx retryable, other
 * 4xx not.
 */
export class QdrantStore implements VectorStore {
  readonly kind = 'qdrant' as const;
  readonly keepsReplacedStorage = false;

  constructor(private readonly client: QdrantClient) {}

  /** New collections live in `<name>__g1` behind the alias `<name>`, so a rebuild can swap the alias. */
  firstStorage(collection: string): string {
    return generationStorage(collection, 1);
  }

  /**
   * The swap: the alias `collection` moves to `storage` in one alias request (Qdrant applies its
   * actions atomically). A collection made before generations holds the name itself; Qdrant
   * can neither rename it nor alias over it, so it is deleted first (the one swap that is not
   * seamless: searches between the delete and the alias find nothing).
   */
  async makeLive(collection: string, storage: string, _retireAs: string, record?: () => Promise<void>): Promise<void> {
    validateCollectionName(collection);
    validateStorageName(storage);
    if (storage === collection) return record?.();
    const { aliases } = await this.call('list aliases', () => this.client.getAliases());
    const current = aliases.find((a) => a.alias_name === collection);
    if (current?.collection_name === storage) return record?.();
    if (!current && (await this.sizeOf(collection)) !== undefined) {
      await this.call(`delete collection ${collection}`, () => this.client.deleteCollection(collection));
    }
    await this.call(`point alias ${collection} at ${storage}`, () =>
      this.client.updateCollectionAliases({
        actions: [
          ...(current ? [{ delete_alias: { alias_name: collection } }] : []),
          { create_alias: { alias_name: collection, collection_name: storage } },
        ],
      }),
    );
    await record?.();
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw classifyQdrantError(what, err);
    }
  }

  private async sizeOf(name: string): Promise<number | undefined> {
    try {
      const info = await this.client.getCollection(name);
      const vectors = info.config.params.vectors as { size?: number } | undefined;
      return vectors?.size;
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw classifyQdrantError(`get collection ${name}`, err);
    }
  }

  async ensureCollection(name: string, dimensions: number, options: StorageOptions = {}): Promise<void> {
    validateStorageName(name);
    if (options.vectorType === 'halfvec') {
      throw new ConfigError('--vector-type halfvec is for pgvector collections; Qdrant stores float32 (its own quantization is configured in Qdrant)');
    }
    const size = await this.sizeOf(name);
    if (size !== undefined && size !== dimensions) {
      throw new ConfigError(
        `Qdrant collection ${name} stores vectors of ${size} dimensions, but the embedder makes ${dimensions}; ` +
          'use another collection name or rebuild it into a new generation with --full',
      );
    }
    if (size === undefined) {
      await this.call(`create collection ${name}`, () => this.client.createCollection(name, { vectors: { size: dimensions, distance: 'Cosine' } }));
    }
    await this.call(`index document_id of ${name}`, () =>
      this.client.createPayloadIndex(name, { field_name: 'document_id', field_schema: 'keyword', wait: true }),
    );
    // Full-text index on the chunk text, for the keyword side of hybrid search; idempotent, so
    // collections made before it existed get it at their next run.
    await this.call(`index content of ${name}`, () =>
      this.client.createPayloadIndex(name, {
        field_name: 'content',
        field_schema: { type: 'text', tokenizer: 'word', lowercase: true, min_token_len: 1, max_token_len: 64 },
        wait: true,
      }),
    );
  }

  /** Cosine search with the query API (`hnsw_ef` from efSearch); score is the cosine similarity. */
  async search(name: string, q: VectorQuery): Promise<ChunkHit[]> {
    const r = await this.call(`search ${name}`, () =>
      this.client.query(name, {
        query: q.vector,
        limit: q.limit,
        filter: qdrantFilter(q.where),
        with_payload: true,
        params: q.efSearch === undefined ? undefined : { hnsw_ef: q.efSearch },
      }),
    );
    return r.points.map((p) => toHit(p.id, p.score, p.payload));
  }

  /**
   * Keyword ranking from the full-text index on `content`. Qdrant's text match is a filter, not
   * a score, so the ranking is made here as in pgvector: for each query word, the chunks that
   * have it (one full-text match per word, at most KEYWORD_CANDIDATES each; that count is the
   * word's document frequency; words in more than half of the chunks are dropped as stop words),
   * then each chunk scores the summed BM25 idf of the words it has,
   * so a rare identifier outweighs common words; ties go to more occurrences.
   */
  async keywordSearch(name: string, q: KeywordQuery): Promise<ChunkHit[]> {
    const terms = words(q.text);
    if (terms.length === 0) return [];
    const total = await this.count(name);
    const perTerm = await Promise.all(
      terms.map((term) =>
        this.call(`keyword search ${name}`, () =>
          this.client.scroll(name, {
            filter: qdrantFilter(q.where, [{ key: 'content', match: { text: term } }]),
            limit: KEYWORD_CANDIDATES,
            with_payload: true,
            with_vector: false,
          }),
        ),
      ),
    );
    const hits = new Map<string, ChunkHit & { tf: number; counts: Map<string, number> }>();
    perTerm.forEach((r, i) => {
      const df = r.points.length;
      // A word in more than half of the chunks is a stop word here, as in the pgvector sink.
      if (total >= MIN_CHUNKS_FOR_COMMON && df > total / 2) return;
      const idf = Math.log(1 + (Math.max(total, df) - df + 0.5) / (df + 0.5));
      for (const p of r.points) {
        const id = String(p.id);
        let hit = hits.get(id);
        if (!hit) {
          const counts = new Map<string, number>();
          for (const w of p.payload?.content && typeof p.payload.content === 'string' ? p.payload.content.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [] : []) {
            counts.set(w, (counts.get(w) ?? 0) + 1);
          }
          hit = { ...toHit(p.id, 0, p.payload), tf: 0, counts };
          hits.set(id, hit);
        }
        hit.score += idf;
        hit.tf += hit.counts.get(terms[i]!) ?? 0;
      }
    });
    return [...hits.values()]
      .sort((a, b) => b.score - a.score || b.tf - a.tf || (a.documentId < b.documentId ? -1 : a.documentId > b.documentId ? 1 : a.chunkIndex - b.chunkIndex))
      .slice(0, q.limit)
      .map(({ tf: _tf, counts: _counts, ...hit }) => hit);
  }

  async upsert(name: string, points: Point[]): Promise<number> {
    if (points.length === 0) return 0;
    await this.call(`upsert into ${name}`, () =>
      this.client.upsert(name, {
        wait: true,
        points: points.map((p) => ({
          id: p.id,
          vector: p.vector,
          payload: { ...p.metadata, document_id: p.documentId, chunk_index: p.chunkIndex, content: p.content, content_hash: p.contentHash },
        })),
      }),
    );
    return points.length;
  }

  async deleteDocuments(name: string, documentIds: string[]): Promise<void> {
    for (let i = 0; i < documentIds.length; i += DELETE_CHUNK) {
      const ids = documentIds.slice(i, i + DELETE_CHUNK);
      await this.call(`delete from ${name}`, () =>
        this.client.delete(name, { wait: true, filter: { must: [{ key: 'document_id', match: { any: ids } }] } }),
      );
    }
  }

  async trimDocuments(name: string, trims: ChunkTrim[]): Promise<void> {
    for (let i = 0; i < trims.length; i += DELETE_CHUNK) {
      const part = trims.slice(i, i + DELETE_CHUNK);
      await this.call(`trim documents in ${name}`, () =>
        this.client.delete(name, {
          wait: true,
          filter: {
            should: part.map((t) => ({
              must: [
                { key: 'document_id', match: { value: t.documentId } },
                { key: 'chunk_index', range: { gte: t.keep } },
              ],
            })),
          },
        }),
      );
    }
  }

  async finalize(): Promise<void> {
    // Qdrant builds its HNSW index itself as segments fill up.
  }

  async count(name: string): Promise<number> {
    if ((await this.sizeOf(name)) === undefined) return 0;
    const r = await this.call(`count ${name}`, () => this.client.count(name, { exact: true }));
    return r.count;
  }

  async drop(name: string): Promise<void> {
    await this.call(`delete collection ${name}`, () => this.client.deleteCollection(name));
  }

  async close(): Promise<void> {
    // The client belongs to the worker and holds no resources of its own to release; the
    // store only stops being used. Never close a shared client from here: the seed's async
    // vector-store client closed its connection after its event loop was gone, which crashed
    // every upsert.
  }
}

function toHit(id: string | number, score: number, payload: Record<string, unknown> | null | undefined): ChunkHit {
  const { document_id, chunk_index, content, content_hash: _hash, ...metadata } = payload ?? {};
  return {
    id: String(id),
    documentId: String(document_id),
    chunkIndex: Number(chunk_index),
    content: typeof content === 'string' ? content : '',
    metadata: { ...metadata, document_id, chunk_index },
    score,
  };
}

function statusOf(err: unknown): number | undefined {
  if (err instanceof QdrantClientResourceExhaustedError) return 429;
  const m = /Unexpected Response: (\d{3})/.exec((err as Error)?.message ?? '');
  if (m) return Number(m[1]);
  const s = (err as { status?: unknown })?.status;
  return typeof s === 'number' ? s : undefined;
}

export function classifyQdrantError(what: string, err: unknown): Error {
  if (err instanceof ProviderError || err instanceof ConfigError) return err;
  if (err instanceof QdrantClientResourceExhaustedError) {
    return new ProviderError('RateLimited', `Qdrant ${what}: rate limited`, true, Math.max(0, err.retry_after) * 1000, 429);
  }
  if (err instanceof QdrantClientTimeoutError) return new ProviderError('ProviderUnavailable', `Qdrant ${what}: timed out`, true);
  const status = statusOf(err);
  const message = ((err as Error)?.message ?? String(err)).split('\n').slice(0, 3).join(' ');
  if (status === undefined || !(err instanceof QdrantClientUnexpectedResponseError || typeof (err as { status?: unknown }).status === 'number')) {
    // fetch failed: refused, reset, DNS, TLS
    return new ProviderError('ProviderUnavailable', `Qdrant ${what}: ${message}`, true);
  }
  return classifyHttpStatus(status, `Qdrant ${what}: ${message}`);
}
