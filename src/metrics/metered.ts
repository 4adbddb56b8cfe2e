import { ProviderError } from '../errors';
import { EmbedderDecorator } from '../embedders/decorator';
import type { EmbeddingResult } from '../embedders/types';
import type { ChunkTrim, KeywordQuery, Point, StorageOptions, VectorQuery, VectorStore } from '../sinks/types';
import { metrics } from './registry';

/** Measures an embedder without it knowing: latency by outcome, tokens, inputs, 429s. */
export class MeteredEmbedder extends EmbedderDecorator {
  async embed(texts: string[]): Promise<EmbeddingResult> {
    const end = metrics.embeddingSeconds.startTimer({ model: this.model });
    const inFlight = metrics.embeddingInFlight.labels({ model: this.model });
    inFlight.inc();
    try {
      const res = await this.inner.embed(texts);
      end({ outcome: 'ok' });
      metrics.embeddingTokens.inc({ model: this.model }, res.tokens);
      metrics.embeddingInputs.inc({ model: this.model }, texts.length);
      return res;
    } catch (err) {
      const limited = err instanceof ProviderError && err.type === 'RateLimited';
      end({ outcome: limited ? 'rate_limited' : 'error' });
      if (limited) metrics.rateLimited.inc({ model: this.model });
      throw err;
    } finally {
      inFlight.dec();
    }
  }
}

/** Measures a vector store's writes: rows and batch latency. */
export class MeteredVectorStore implements VectorStore {
  /** Present exactly when the inner store has it (the activity checks for it). */
  readonly upsertFromSelect?: VectorStore['upsertFromSelect'];

  constructor(private readonly inner: VectorStore) {
    const query = inner.upsertFromSelect?.bind(inner);
    if (query) {
      this.upsertFromSelect = async (name, points) => {
        const end = metrics.upsertSeconds.startTimer({ sink: this.kind });
        const r = await query(name, points);
        end();
        metrics.upsertRows.inc({ sink: this.kind }, r.offered);
        return r;
      };
    }
  }
  get kind() {
    return this.inner.kind;
  }
  ensureCollection(name: string, dimensions: number, options?: StorageOptions) {
    return this.inner.ensureCollection(name, dimensions, options);
  }
  get keepsReplacedStorage() {
    return this.inner.keepsReplacedStorage;
  }
  firstStorage(collection: string) {
    return this.inner.firstStorage(collection);
  }
  makeLive(collection: string, storage: string, retireAs: string, record?: Parameters<VectorStore['makeLive']>[3]) {
    return this.inner.makeLive(collection, storage, retireAs, record);
  }
  async upsert(name: string, points: Point[]): Promise<number> {
    const end = metrics.upsertSeconds.startTimer({ sink: this.kind });
    const n = await this.inner.upsert(name, points);
    end();
    metrics.upsertRows.inc({ sink: this.kind }, points.length);
    return n;
  }
  deleteDocuments(name: string, ids: string[]) {
    return this.inner.deleteDocuments(name, ids);
  }
  trimDocuments(name: string, trims: ChunkTrim[]) {
    return this.inner.trimDocuments(name, trims);
  }
  finalize(name: string) {
    return this.inner.finalize(name);
  }
  count(name: string) {
    return this.inner.count(name);
  }
  search(name: string, query: VectorQuery) {
    return this.inner.search(name, query);
  }
  keywordSearch(name: string, query: KeywordQuery) {
    return this.inner.keywordSearch(name, query);
  }
  drop(name: string) {
    return this.inner.drop(name);
  }
  close() {
    return this.inner.close();
  }
}
