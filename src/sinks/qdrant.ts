import {
  QdrantClient,
  QdrantClientResourceExhaustedError,
  QdrantClientTimeoutError,
  QdrantClientUnexpectedResponseError,
} from '@qdrant/js-client-rest';
import { classifyHttpStatus, ConfigError, ProviderError } from '../errors';
import { validateCollectionName } from '../naming';
import type { ChunkTrim, Point, VectorStore } from './types';

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

  constructor(private readonly client: QdrantClient) {}

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

  async ensureCollection(name: string, dimensions: number): Promise<void> {
    validateCollectionName(name);
    const size = await this.sizeOf(name);
    if (size !== undefined && size !== dimensions) {
      throw new ConfigError(
        `Qdrant collection ${name} stores vectors of ${size} dimensions, but the embedder makes ${dimensions}; ` +
          'use another collection name or rebuild it with --full',
      );
    }
    if (size === undefined) {
      await this.call(`create collection ${name}`, () => this.client.createCollection(name, { vectors: { size: dimensions, distance: 'Cosine' } }));
    }
    await this.call(`index document_id of ${name}`, () =>
      this.client.createPayloadIndex(name, { field_name: 'document_id', field_schema: 'keyword', wait: true }),
    );
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
