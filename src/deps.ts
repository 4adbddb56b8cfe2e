import { availableParallelism } from 'node:os';
import pg from 'pg';
import type { ActivityDeps } from './activities';
import { adaptiveEmbedding, embeddingPrice, redactUrl, type Config } from './config';
import { observePool } from './metrics/pool';
import type { FailureReporter } from './failure-reporter';
import { createEmbedder, OFFLINE_WARNING, type Embedder } from './embedders';
import { AdaptiveEmbedder } from './embedders/adaptive';
import { RateLimitedEmbedder } from './embedders/rate-limited';
import { ChunkThreads } from './text/chunk-threads';
import type { Logger } from './log';
import { createSinks } from './sinks';
import { MeteredEmbedder, MeteredVectorStore } from './metrics/metered';
import { StateStore } from './state/store';
import type { RunLiveness } from './run-liveness';
import { createSourceContext } from './sources/context';
import { BackgroundVacuum } from './activities/vacuum-state';

export interface Deps extends ActivityDeps {
  pool: pg.Pool;
  vacuum: BackgroundVacuum;
  /** Closes every client. Call only after the workers have drained. */
  close(): Promise<void>;
}

/**
 * Builds every client the activities use, once per worker process: one pg pool (state store and
 * pgvector sink), one embedder. Activities get them through createActivities(deps) and never open
 * their own, and nothing is closed until the workers have stopped.
 */
export async function buildDeps(
  config: Config,
  log: Logger,
  databaseUrl: string,
  temporal: { failures: FailureReporter; searchAttributes: boolean; runs: RunLiveness },
  poolSize?: number,
): Promise<Deps> {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: poolSize ?? Math.min(20, config.embedConcurrency + config.upsertConcurrency + config.planConcurrency + 2),
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 15_000,
    application_name: 'vector-ingest',
  });
  // An idle client losing its connection (a database restart) must not crash the worker; the
  // next query reconnects and a failing activity is retried by Temporal.
  pool.on('error', (err) => log.warn({ err: err.message }, 'idle database connection lost'));
  const unobservePool = observePool(pool);
  const store = new StateStore(pool);
  try {
    await store.migrate();
  } catch (err) {
    unobservePool();
    await pool.end().catch(() => undefined);
    throw new Error(`cannot prepare the state store in ${redactUrl(databaseUrl)}: ${(err as Error).message}`);
  }
  let embedder: Embedder;
  try {
    const base = await createEmbedder(config);
    const remote = config.embedding.provider === 'openai';
    // Metered innermost, so the request metrics count provider requests and their latency
    // leaves out the wait for the rate limit.
    const metered = new MeteredEmbedder(base);
    // A remote provider's requests and tokens per minute hold across every worker process: a
    // bucket in Postgres that each request pays into before it is sent (src/state/rate-buckets.ts).
    const limited = remote
      ? new RateLimitedEmbedder(metered, store.rateBuckets, {
          key: `${config.openaiBaseUrl ?? 'https://api.openai.com/v1'} ${config.embedding.model}`,
          requestsPerMinute: config.embedRequestsPerMinute,
          tokensPerMinute: config.embedTokensPerMinute,
        })
      : metered;
    // A remote provider gets adaptive concurrency (src/embedders/adaptive.ts) unless configured
    // off: not when an embedding activity rate is configured, which paces activities and must
    // bound requests too, nor with VECTOR_INGEST_ADAPTIVE_EMBED=off (see adaptiveEmbedding).
    const adaptive = adaptiveEmbedding(config);
    embedder = adaptive ? new AdaptiveEmbedder(limited) : limited;
  } catch (err) {
    unobservePool();
    await pool.end().catch(() => undefined);
    throw err;
  }
  if (!embedder.semantic) log.warn(OFFLINE_WARNING);
  const price = embeddingPrice(config, config.embedding.model);
  if (price.source === 'unknown') {
    log.warn({ model: embedder.model }, 'no price for this embedding model: costs are reported as $0; set VECTOR_INGEST_PRICE_PER_MTOK');
  }
  log.info(
    { model: embedder.model, dimensions: embedder.dimensions, maxInputTokens: embedder.maxInputTokens, tokenizer: embedder.tokenizer.name },
    'embedder ready',
  );
  // One client per sink per process, closed only after the workers drained.
  const sinks = createSinks(config, pool, (s) => new MeteredVectorStore(s));
  const sources = createSourceContext(config.dataDir);
  // Made here, outside any activity: its work runs in this context (see BackgroundVacuum).
  const vacuum = new BackgroundVacuum({ store, log });
  const chunker = new ChunkThreads(config.planThreads ?? defaultPlanThreads()).warm();
  let closed = false;
  return {
    store,
    runs: temporal.runs,
    sinks,
    defaultSink: config.sink,
    embedder,
    price,
    log,
    failures: temporal.failures,
    searchAttributes: temporal.searchAttributes,
    pool,
    sources,
    vacuum,
    chunker,
    limits: {
      maxDocumentBytes: config.maxDocumentBytes,
      maxPdfPages: config.maxPdfPages,
      maxUnzippedBytes: config.maxUnzippedBytes,
      maxCodeLineBytes: config.maxCodeLineBytes,
    },
    close: async () => {
      if (closed) return;
      closed = true;
      // Housekeeping still running stops first: it holds a connection of the pool.
      await vacuum.stop();
      await embedder.close();
      for (const s of Object.values(sinks)) await s.close();
      await sources.close();
      await chunker.close();
      unobservePool();
      await pool.end();
    },
  };
}

/**
 * Chunking threads by default: the cores less one (the main thread keeps one for the batch
 * activities, the database and the workflow's activations), at most 2 (planConcurrency's default).
 */
export function defaultPlanThreads(): number {
  return Math.max(0, Math.min(2, availableParallelism() - 1));
}
