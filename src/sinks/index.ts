import type pg from 'pg';
import type { Config } from '../config';
import type { SinkKindName } from '../contracts/ingest';
import { PgVectorStore } from './pgvector';
import { createQdrantClient, QdrantStore } from './qdrant';
import type { VectorStore } from './types';

export type Sinks = Partial<Record<SinkKindName, VectorStore>>;

/**
 * The sinks this process can write to, one client each, built once by the worker (src/deps.ts)
 * or by search (src/search/open.ts). A new sink is src/sinks/<kind>.ts, its name in SINK_KINDS
 * (src/contracts/ingest.ts) and one line here. pgvector shares the state store's pool.
 */
export function createSinks(config: Config, pool: pg.Pool, wrap: (s: VectorStore) => VectorStore = (s) => s): Sinks {
  const sinks: Sinks = { pgvector: wrap(new PgVectorStore(pool, config.pgSchema, { indexBuildMemoryKb: config.indexBuildMemoryKb })) };
  if (config.qdrantUrl) sinks.qdrant = wrap(new QdrantStore(createQdrantClient(config.qdrantUrl, config.qdrantApiKey)));
  return sinks;
}
