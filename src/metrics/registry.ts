import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The project's own Prometheus metrics (the Temporal SDK's runtime metrics are served beside
 * them by src/metrics/server.ts). One registry per process; names are documented in README.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'vector_ingest_process_' });

export const metrics = {
  embeddingSeconds: new Histogram({
    name: 'vector_ingest_embedding_request_seconds',
    help: 'Latency of embedding requests to the provider, by outcome (ok, rate_limited, error)',
    labelNames: ['model', 'outcome'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1, 1.5, 2.5, 5, 10, 30, 60],
    registers: [registry],
  }),
  embeddingTokens: new Counter({
    name: 'vector_ingest_embedding_tokens_total',
    help: 'Tokens embedded (as the provider counted them); rate() gives tokens/s',
    labelNames: ['model'],
    registers: [registry],
  }),
  collectionTokens: new Counter({
    name: 'vector_ingest_collection_tokens_total',
    help: 'Tokens embedded for a collection (cache misses sent to the provider, counted by the embedder\'s tokenizer)',
    labelNames: ['collection', 'model'],
    registers: [registry],
  }),
  collectionCost: new Counter({
    name: 'vector_ingest_collection_cost_usd_total',
    help: 'What those tokens cost in US dollars, by the worker\'s price table (VECTOR_INGEST_PRICE_PER_MTOK / VECTOR_INGEST_PRICES)',
    labelNames: ['collection', 'model'],
    registers: [registry],
  }),
  embeddingInFlight: new Gauge({
    name: 'vector_ingest_embedding_requests_in_flight',
    help: 'Embedding requests to the provider waiting for an answer on this worker now',
    labelNames: ['model'],
    registers: [registry],
  }),
  embeddingInputs: new Counter({
    name: 'vector_ingest_embedding_inputs_total',
    help: 'Texts sent to the provider (embedding cache misses)',
    labelNames: ['model'],
    registers: [registry],
  }),
  rateLimited: new Counter({
    name: 'vector_ingest_embedding_rate_limited_total',
    help: 'Embedding requests answered 429 (rate limited)',
    labelNames: ['model'],
    registers: [registry],
  }),
  upsertRows: new Counter({
    name: 'vector_ingest_upsert_rows_total',
    help: 'Chunks written to the vector store; rate() gives rows/s',
    labelNames: ['sink'],
    registers: [registry],
  }),
  upsertSeconds: new Histogram({
    name: 'vector_ingest_upsert_seconds',
    help: 'Latency of one batch write to the vector store',
    labelNames: ['sink'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  }),
  inFlight: new Gauge({
    name: 'vector_ingest_activities_in_flight',
    help: 'Activities running on this worker now, by activity (batches in flight: embedAndWriteBatch, or embedBatch + upsertBatch with the split pipeline)',
    labelNames: ['activity'],
    registers: [registry],
  }),
  activityErrors: new Counter({
    name: 'vector_ingest_activity_errors_total',
    help: 'Activity attempts that failed, by activity and error type',
    labelNames: ['activity', 'type'],
    registers: [registry],
  }),
  itemsFailed: new Counter({
    name: 'vector_ingest_items_failed_total',
    help: 'Documents or chunks sent to the replay workflow, by kind and error type',
    labelNames: ['kind', 'type'],
    registers: [registry],
  }),
  documentsRead: new Counter({
    name: 'vector_ingest_documents_read_total',
    help: 'Documents whose bytes were read from their source, by source kind (unchanged fingerprints skip the read)',
    labelNames: ['source'],
    registers: [registry],
  }),
  backlog: new Gauge({
    name: 'vector_ingest_chunks_backlog',
    help: 'Chunks planned but not yet written (staged in the state store), all collections',
    registers: [registry],
  }),
};
