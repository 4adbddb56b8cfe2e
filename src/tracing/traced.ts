import { SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';
import { EmbedderDecorator } from '../embedders/decorator';
import type { EmbeddingResult } from '../embedders/types';
import type { ChunkTrim, KeywordQuery, Point, StorageOptions, VectorQuery, VectorStore } from '../sinks/types';

const tracer = () => trace.getTracer('vector-ingest');

/** Runs `fn` in a span named `name` (a child of the active one: the activity's), recording a failure on it. */
export async function inSpan<T>(name: string, attributes: Attributes, fn: () => Promise<T>, after?: (r: T) => Attributes): Promise<T> {
  return tracer().startActiveSpan(name, { attributes }, async (span) => {
    try {
      const r = await fn();
      if (after) span.setAttributes(after(r));
      return r;
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.message });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** An embedder whose every call is a span `embed` (model, inputs, tokens): the provider's time inside an activity. */
export class TracedEmbedder extends EmbedderDecorator {
  embed(texts: string[]): Promise<EmbeddingResult> {
    return inSpan('embed', { 'embedding.model': this.model, 'embedding.inputs': texts.length }, () => this.inner.embed(texts), (r) => ({ 'embedding.provider_tokens': r.tokens }));
  }
}

/** A vector store whose every call is a span `sink.<operation>` (sink kind, collection, points). */
export class TracedVectorStore implements VectorStore {
  readonly upsertFromSelect?: VectorStore['upsertFromSelect'];

  constructor(private readonly inner: VectorStore) {
    const query = inner.upsertFromSelect?.bind(inner);
    if (query) {
      this.upsertFromSelect = (name, points) =>
        inSpan('sink.upsert', this.attrs(name, { 'sink.from_select': true }), () => query(name, points), (r) => ({ 'sink.points': r.offered, 'sink.written': r.written }));
    }
  }
  get kind() {
    return this.inner.kind;
  }
  private attrs(name: string, more: Attributes = {}): Attributes {
    return { 'sink.kind': this.inner.kind, 'sink.collection': name, ...more };
  }
  ensureCollection(name: string, dimensions: number, options?: StorageOptions) {
    return inSpan('sink.ensureCollection', this.attrs(name), () => this.inner.ensureCollection(name, dimensions, options));
  }
  get keepsReplacedStorage() {
    return this.inner.keepsReplacedStorage;
  }
  firstStorage(collection: string) {
    return this.inner.firstStorage(collection);
  }
  makeLive(collection: string, storage: string, retireAs: string, record?: Parameters<VectorStore['makeLive']>[3]) {
    return inSpan('sink.makeLive', this.attrs(collection, { 'sink.storage': storage }), () => this.inner.makeLive(collection, storage, retireAs, record));
  }
  upsert(name: string, points: Point[]) {
    return inSpan('sink.upsert', this.attrs(name, { 'sink.points': points.length }), () => this.inner.upsert(name, points));
  }
  deleteDocuments(name: string, ids: string[]) {
    return inSpan('sink.deleteDocuments', this.attrs(name, { 'sink.documents': ids.length }), () => this.inner.deleteDocuments(name, ids));
  }
  trimDocuments(name: string, trims: ChunkTrim[]) {
    return inSpan('sink.trimDocuments', this.attrs(name, { 'sink.documents': trims.length }), () => this.inner.trimDocuments(name, trims));
  }
  finalize(name: string) {
    return inSpan('sink.finalize', this.attrs(name), () => this.inner.finalize(name));
  }
  count(name: string) {
    return this.inner.count(name);
  }
  search(name: string, query: VectorQuery) {
    return inSpan('sink.search', this.attrs(name), () => this.inner.search(name, query));
  }
  keywordSearch(name: string, query: KeywordQuery) {
    return inSpan('sink.keywordSearch', this.attrs(name), () => this.inner.keywordSearch(name, query));
  }
  drop(name: string) {
    return inSpan('sink.drop', this.attrs(name), () => this.inner.drop(name));
  }
  close() {
    return this.inner.close();
  }
}
