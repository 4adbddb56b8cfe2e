import * as path from 'node:path';
import { z } from 'zod';
import { ConfigError } from './errors';
import { defaultModelDir, LOCAL_DIMENSIONS, LOCAL_MODEL } from './embedders/local-model';
import { SINK_KINDS } from './contracts/ingest';
import { OFFLINE_MODEL } from './embedders/offline';
import { parsePrices, priceOf, type Price } from './embedders/pricing';

/**
 * Runtime configuration: environment variables, overridden by command-line flags. Secrets
 * (API keys, passwords in URLs) live here, in the worker's process, and never in workflow input.
 */

const KNOWN_MODEL_DIMENSIONS: Record<string, number> = {
  'text-embedding-3-small': 1536,
  'text-embedding-3-large': 3072,
  'text-embedding-ada-002': 1536,
};

const intFrom = (name: string, min: number, max: number) =>
  z.coerce
    .number({ error: `${name} must be a number` })
    .int({ error: `${name} must be an integer` })
    .min(min, { error: `${name} must be at least ${min}` })
    .max(max, { error: `${name} must be at most ${max}` });

const MEMORY_UNITS_KB: Record<string, number> = { kB: 1, MB: 1024, GB: 1024 ** 2, TB: 1024 ** 3 };

/** A Postgres memory size (512MB, 1GB, 65536kB) as kilobytes, within what maintenance_work_mem accepts. */
const memoryKbFrom = (name: string) =>
  z
    .string()
    .regex(/^\d+\s*(kB|MB|GB|TB)$/, { error: `${name} must be a size like 512MB, 1GB or 65536kB` })
    .transform((s) => {
      const [, n, unit] = /^(\d+)\s*(kB|MB|GB|TB)$/.exec(s)!;
      return Number(n) * MEMORY_UNITS_KB[unit!]!;
    })
    .pipe(
      z
        .number()
        .min(1024, { error: `${name} must be at least 1MB` })
        .max(2147483647, { error: `${name} must be at most 2147483647kB (Postgres' limit)` }),
    );

const Schema = z.object({
  temporalAddress: z.string().min(1).optional(),
  temporalNamespace: z.string().min(1).default('default'),
  temporalApiKey: z.string().min(1).optional(),
  temporalTlsCert: z.string().min(1).optional(),
  temporalTlsKey: z.string().min(1).optional(),
  temporalTls: z.enum(['true', 'false']).optional(),
  temporalUiUrl: z.url({ error: 'TEMPORAL_UI_URL must be a URL' }).optional(),
  metricsPort: intFrom('VECTOR_INGEST_METRICS_PORT', 0, 65535).optional(),
  metricsHost: z.string().min(1).default('127.0.0.1'),
  databaseUrl: z.string().min(1).optional(),
  qdrantUrl: z.url({ error: 'QDRANT_URL must be a URL' }).optional(),
  qdrantApiKey: z.string().min(1).optional(),
  sink: z.enum(SINK_KINDS, { error: `VECTOR_INGEST_SINK must be one of ${SINK_KINDS.join(', ')}` }).default('pgvector'),
  embeddingProvider: z.enum(['local', 'openai', 'offline'], { error: 'EMBEDDING_PROVIDER must be local, openai or offline' }).optional(),
  embeddingSendDimensions: z.enum(['true', 'false'], { error: 'EMBEDDING_SEND_DIMENSIONS must be true or false' }).optional(),
  modelDir: z.string().min(1).optional(),
  localThreads: intFrom('VECTOR_INGEST_LOCAL_THREADS', 1, 256).optional(),
  openaiApiKey: z.string().min(1).optional(),
  openaiBaseUrl: z.url({ error: 'OPENAI_BASE_URL must be a URL' }).optional(),
  embeddingModel: z.string().min(1).optional(),
  embeddingDimensions: intFrom('EMBEDDING_DIMENSIONS', 2, 16000).optional(),
  dataDir: z.string().min(1).default('.vector-ingest'),
  embedConcurrency: intFrom('VECTOR_INGEST_EMBED_CONCURRENCY', 1, 1000).optional(),
  upsertConcurrency: intFrom('VECTOR_INGEST_UPSERT_CONCURRENCY', 1, 1000).default(4),
  planConcurrency: intFrom('VECTOR_INGEST_PLAN_CONCURRENCY', 1, 100).default(2),
  planThreads: intFrom('VECTOR_INGEST_PLAN_THREADS', 0, 64).optional(),
  embedRatePerSecond: z.coerce.number().positive({ error: 'VECTOR_INGEST_EMBED_RATE must be positive' }).optional(),
  adaptiveEmbed: z.enum(['auto', 'off'], { error: 'VECTOR_INGEST_ADAPTIVE_EMBED must be auto or off' }).default('auto'),
  embedRequestsPerMinute: intFrom('VECTOR_INGEST_EMBED_RPM', 1, 1e9).optional(),
  embedTokensPerMinute: intFrom('VECTOR_INGEST_EMBED_TPM', 1, 1e12).optional(),
  pricePerMTok: z.coerce.number({ error: 'VECTOR_INGEST_PRICE_PER_MTOK must be a number' }).min(0, { error: 'VECTOR_INGEST_PRICE_PER_MTOK must be >= 0' }).optional(),
  prices: z.string().min(1).optional(),
  maxDocumentBytes: intFrom('VECTOR_INGEST_MAX_DOCUMENT_BYTES', 1, 2 ** 31).default(20 * 1024 * 1024),
  maxPdfPages: intFrom('VECTOR_INGEST_MAX_PDF_PAGES', 1, 1_000_000).default(2_000),
  maxUnzippedBytes: intFrom('VECTOR_INGEST_MAX_UNZIPPED_BYTES', 1, 2 ** 40).default(100 * 1024 * 1024),
  maxCodeLineBytes: intFrom('VECTOR_INGEST_MAX_CODE_LINE_BYTES', 80, 2 ** 31).default(20_000),
  pgSchema: z.string().regex(/^[a-z_][a-z0-9_]*$/, { error: 'VECTOR_INGEST_PG_SCHEMA must be a lowercase identifier' }).default('public'),
  indexBuildMemoryKb: memoryKbFrom('VECTOR_INGEST_INDEX_BUILD_MEMORY').default(1024 * 1024),
  replayEvery: z.string().regex(/^\d+(\.\d+)?(ms|s|m|h|d)?$/, { error: 'VECTOR_INGEST_REPLAY_EVERY must look like 30s, 15m, 1h or 0' }).optional(),
  temporalCliPath: z.string().min(1).optional(),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
});

export type RawConfig = z.input<typeof Schema>;

export interface EmbeddingConfig {
  provider: 'local' | 'openai' | 'offline';
  /** For local: the base name; the embedder records it with a hash of the weights. */
  model: string;
  dimensions: number;
  /**
   * Send `dimensions` in each request. Declaring the collection's vector size is separate: servers
   * of models that cannot shorten vectors reject the parameter with 400.
   */
  sendDimensions: boolean;
  /** Local: the folder holding all-MiniLM-L6-v2/. */
  modelDir: string;
  /** Local: onnxruntime threads (undefined: all cores). */
  threads?: number;
}

export type Config = Omit<z.output<typeof Schema>, 'embedConcurrency'> & {
  embedConcurrency: number;
  embedding: EmbeddingConfig;
};

/**
 * Every variable loadConfig reads, by config key, with its help text: one table both reads the
 * environment and documents it (CLI help, README), so no variable is read and not documented or
 * documented and not read. `satisfies` makes a config key without a variable a compile error.
 */
const ENV = {
  temporalAddress: ['TEMPORAL_ADDRESS', 'Temporal frontend host:port. Unset: start a local dev server (temporal CLI) under the data dir'],
  temporalNamespace: ['TEMPORAL_NAMESPACE', 'Temporal namespace (default: default)'],
  temporalApiKey: ['TEMPORAL_API_KEY', 'API key for Temporal Cloud (sent over TLS)'],
  temporalTlsCert: ['TEMPORAL_TLS_CERT', 'Client certificate (PEM file) for mTLS to Temporal'],
  temporalTlsKey: ['TEMPORAL_TLS_KEY', 'Client key (PEM file) for mTLS to Temporal'],
  temporalTls: ['TEMPORAL_TLS', 'true: use TLS without a client certificate (implied by the three above)'],
  temporalUiUrl: ['TEMPORAL_UI_URL', 'Web UI base URL for links to runs, e.g. https://cloud.temporal.io (embedded: the dev server\'s)'],
  databaseUrl: ['DATABASE_URL', 'Postgres with pgvector for state and vectors. Unset: embedded PGlite under the data dir'],
  qdrantUrl: ['QDRANT_URL', 'Qdrant REST endpoint (e.g. http://127.0.0.1:6333); enables the qdrant sink'],
  qdrantApiKey: ['QDRANT_API_KEY', 'Qdrant API key, if the server needs one'],
  sink: ['VECTOR_INGEST_SINK', 'Sink of new collections: pgvector or qdrant (default: pgvector; --sink overrides)'],
  embeddingProvider: ['EMBEDDING_PROVIDER', 'local, openai or offline (default: openai when OPENAI_API_KEY or OPENAI_BASE_URL is set, else local)'],
  openaiApiKey: ['OPENAI_API_KEY', 'Key for the embeddings API (selects the openai provider)'],
  openaiBaseUrl: ['OPENAI_BASE_URL', 'Any OpenAI-compatible embeddings server, e.g. http://127.0.0.1:8000/v1 (selects the openai provider)'],
  embeddingModel: ['EMBEDDING_MODEL', `Embedding model (default: text-embedding-3-small for openai; local: ${LOCAL_MODEL}; offline: ${OFFLINE_MODEL})`],
  embeddingDimensions: ['EMBEDDING_DIMENSIONS', 'Vector size the collection gets (default: the model\'s own; 384 local and offline)'],
  embeddingSendDimensions: ['EMBEDDING_SEND_DIMENSIONS', 'true/false: send EMBEDDING_DIMENSIONS to the API as `dimensions` (default: only for text-embedding-3-*)'],
  modelDir: ['VECTOR_INGEST_MODEL_DIR', 'Folder of the local model (default: ~/.cache/vector-ingest/models; scripts/infra/install-model.sh fills it)'],
  localThreads: ['VECTOR_INGEST_LOCAL_THREADS', 'CPU threads of the local model\'s inference (default: all cores)'],
  dataDir: ['VECTOR_INGEST_DATA_DIR', 'Where embedded Temporal and PGlite keep their files (default: ./.vector-ingest)'],
  embedConcurrency: ['VECTOR_INGEST_EMBED_CONCURRENCY', 'Embedding activities at once per worker (default: 16 for an OpenAI-compatible provider under adaptive concurrency, else 4; 2 with the local model)'],
  upsertConcurrency: ['VECTOR_INGEST_UPSERT_CONCURRENCY', 'Upsert activities at once per worker (default: 4)'],
  planConcurrency: ['VECTOR_INGEST_PLAN_CONCURRENCY', 'Planning activities at once per worker (default: 2)'],
  planThreads: ['VECTOR_INGEST_PLAN_THREADS', 'Threads that chunk documents off the main thread (default: the cores less one, at most 2; 0: chunk on the main thread)'],
  embedRatePerSecond: ['VECTOR_INGEST_EMBED_RATE', 'Embedding activities per second across all workers, enforced by the server (default: unlimited)'],
  adaptiveEmbed: ['VECTOR_INGEST_ADAPTIVE_EMBED', 'off: one provider request per batch at fixed concurrency; auto: adaptive in-flight requests and batch splitting for openai without VECTOR_INGEST_EMBED_RATE (default: auto)'],
  embedRequestsPerMinute: ['VECTOR_INGEST_EMBED_RPM', 'Embedding requests per minute to the openai provider, all workers together (default: the provider\'s x-ratelimit-limit-requests; the lower wins)'],
  embedTokensPerMinute: ['VECTOR_INGEST_EMBED_TPM', 'Embedding tokens per minute to the openai provider, all workers together (default: the provider\'s x-ratelimit-limit-tokens; the lower wins)'],
  pricePerMTok: ['VECTOR_INGEST_PRICE_PER_MTOK', 'US dollars per million tokens of the configured embedding model (default: src/embedders/pricing.ts; local and offline cost 0)'],
  prices: ['VECTOR_INGEST_PRICES', 'JSON object of model name to US dollars per million tokens, e.g. {"text-embedding-3-small":0.02}'],
  maxDocumentBytes: ['VECTOR_INGEST_MAX_DOCUMENT_BYTES', 'Larger documents are refused with DocumentTooLarge (default: 20971520)'],
  maxPdfPages: ['VECTOR_INGEST_MAX_PDF_PAGES', 'PDFs with more pages are refused with TooManyPages (default: 2000)'],
  maxUnzippedBytes: ['VECTOR_INGEST_MAX_UNZIPPED_BYTES', 'DOCX files that would inflate past this are refused with ZipBomb (default: 104857600)'],
  maxCodeLineBytes: ['VECTOR_INGEST_MAX_CODE_LINE_BYTES', 'Source files with a longer line (minified) are refused with LineTooLong (default: 20000)'],
  pgSchema: ['VECTOR_INGEST_PG_SCHEMA', 'Postgres schema of the collection tables (default: public)'],
  indexBuildMemoryKb: ['VECTOR_INGEST_INDEX_BUILD_MEMORY', 'the most maintenance_work_mem the pgvector sink\'s index builds at a run\'s finish get (each gets what its graph needs, at least 64MB), e.g. 256MB, 4GB (default: 1GB)'],
  replayEvery: ['VECTOR_INGEST_REPLAY_EVERY', 'How often a collection\'s failed items are retried by themselves, e.g. 30m, 1h; 0 = never (default: 1h)'],
  temporalCliPath: ['TEMPORAL_CLI_PATH', 'The temporal CLI binary used for the embedded dev server (default: temporal on PATH)'],
  metricsPort: ['VECTOR_INGEST_METRICS_PORT', 'Prometheus /metrics port of `worker` and `dev` (default 9464; 0 = off)'],
  metricsHost: ['VECTOR_INGEST_METRICS_HOST', 'Address the metrics endpoint binds (default 127.0.0.1; 0.0.0.0 in containers)'],
  logLevel: ['LOG_LEVEL', 'trace, debug, info, warn, error (default: info)'],
} as const satisfies Record<keyof RawConfig, readonly [string, string]>;

/** Variables read outside loadConfig, where they are read. */
const ENV_READ_ELSEWHERE: ReadonlyArray<readonly [string, string]> = [
  ['LOG_FORMAT', 'json: JSON logs even on a terminal (default: pretty on a terminal, JSON otherwise)'], // src/log.ts
  ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OpenTelemetry collector (OTLP/HTTP, e.g. http://127.0.0.1:4318): the worker exports traces there (default: no tracing)'], // src/tracing/setup.ts
  ['OTEL_SERVICE_NAME', 'service.name of exported traces (default: vector-ingest)'], // src/tracing/setup.ts
];

const ENV_KEYS = Object.fromEntries(Object.entries(ENV).map(([key, [name]]) => [key, name])) as Record<keyof RawConfig, string>;

/** Name and help text of every environment variable the program reads. */
export const ENV_DOC: ReadonlyArray<readonly [string, string]> = [...Object.values(ENV), ...ENV_READ_ELSEWHERE];

/** Reads the environment, applies flag overrides, validates, and fills in derived defaults. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<RawConfig> = {}): Config {
  const raw: Record<string, unknown> = {};
  for (const [key, envName] of Object.entries(ENV_KEYS)) {
    const v = env[envName];
    if (v !== undefined && v !== '') raw[key] = v;
  }
  for (const [key, v] of Object.entries(overrides)) if (v !== undefined) raw[key] = v;
  const parsed = Schema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const key = i.path[0] as keyof RawConfig | undefined;
      const name = key ? ENV_KEYS[key] ?? String(key) : 'config';
      return `  ${name}: ${i.message}`;
    });
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const c = parsed.data;
  if (c.sink === 'qdrant' && !c.qdrantUrl) throw new ConfigError('invalid configuration:\n  VECTOR_INGEST_SINK=qdrant needs QDRANT_URL');
  if (!c.temporalTlsCert !== !c.temporalTlsKey) throw new ConfigError('invalid configuration:\n  TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together');
  if (c.prices !== undefined) parsePrices(c.prices); // a bad table is refused now, not at the first batch
  const embedding = embeddingConfig(c, env);
  const embedConcurrency = c.embedConcurrency ?? defaultEmbedConcurrency({ ...c, embedding });
  return { ...c, embedConcurrency, dataDir: path.resolve(c.dataDir), embedding };
}

/**
 * Which embedder: EMBEDDING_PROVIDER when set; else openai when a key or base URL is set; else
 * the local model (semantic, in-process). The offline hash embedder only when asked for.
 */
function embeddingConfig(c: z.output<typeof Schema>, env: NodeJS.ProcessEnv): EmbeddingConfig {
  const provider = c.embeddingProvider ?? (c.openaiApiKey || c.openaiBaseUrl ? 'openai' : 'local');
  const modelDir = path.resolve(c.modelDir ?? defaultModelDir(env));
  const base = { modelDir, ...(c.localThreads !== undefined && { threads: c.localThreads }) };
  if (provider === 'offline') {
    if (c.embeddingModel !== undefined && c.embeddingModel !== OFFLINE_MODEL) {
      throw new ConfigError(`EMBEDDING_MODEL=${c.embeddingModel} is not the offline embedder's (${OFFLINE_MODEL}); unset it or choose EMBEDDING_PROVIDER=openai`);
    }
    return { ...base, provider, model: OFFLINE_MODEL, dimensions: c.embeddingDimensions ?? 384, sendDimensions: false };
  }
  if (provider === 'local') {
    if (c.embeddingModel !== undefined && c.embeddingModel !== LOCAL_MODEL) {
      throw new ConfigError(
        `EMBEDDING_MODEL=${c.embeddingModel}: the local embedder runs ${LOCAL_MODEL} only; ` +
          'for another model set OPENAI_BASE_URL (any OpenAI-compatible server) or OPENAI_API_KEY',
      );
    }
    if (c.embeddingDimensions !== undefined && c.embeddingDimensions !== LOCAL_DIMENSIONS) {
      throw new ConfigError(`EMBEDDING_DIMENSIONS=${c.embeddingDimensions}: ${LOCAL_MODEL} makes ${LOCAL_DIMENSIONS}-dimensional vectors`);
    }
    return { ...base, provider, model: LOCAL_MODEL, dimensions: LOCAL_DIMENSIONS, sendDimensions: false };
  }
  const model = c.embeddingModel ?? 'text-embedding-3-small';
  const dimensions = c.embeddingDimensions ?? KNOWN_MODEL_DIMENSIONS[model];
  if (dimensions === undefined) {
    throw new ConfigError(
      `EMBEDDING_DIMENSIONS is required for model ${JSON.stringify(model)} (known defaults: ${Object.keys(KNOWN_MODEL_DIMENSIONS).join(', ')})`,
    );
  }
  // Only text-embedding-3-* can shorten vectors; other servers reject `dimensions` with 400.
  const canShorten = /^text-embedding-3-/.test(model);
  const sendDimensions =
    c.embeddingSendDimensions !== undefined ? c.embeddingSendDimensions === 'true' : canShorten && c.embeddingDimensions !== undefined;
  return { ...base, provider, model, dimensions, sendDimensions };
}

/** The price per million tokens of the configured embedding model (settings, else the default table). */
export function embeddingPrice(c: Config, model: string = c.embedding.model): Price {
  return priceOf(model, c.embedding.provider, { ...(c.pricePerMTok !== undefined && { pricePerMTok: c.pricePerMTok }), ...(c.prices !== undefined && { prices: parsePrices(c.prices) }) }, c.embedding.model);
}

/** The configuration as safe to print: secrets masked. */
export function describeConfig(c: Config): Record<string, unknown> {
  return {
    temporal: c.temporalAddress ?? '(embedded dev server)',
    namespace: c.temporalNamespace,
    database: c.databaseUrl ? redactUrl(c.databaseUrl) : '(embedded PGlite)',
    qdrant: c.qdrantUrl ? redactUrl(c.qdrantUrl) : '(not configured)',
    sink: c.sink,
    embedding: `${c.embedding.provider}: ${c.embedding.model} (${c.embedding.dimensions} dimensions)`,
    openaiApiKey: c.openaiApiKey ? '(set)' : '(not set)',
    temporalAuth: c.temporalApiKey ? 'API key' : c.temporalTlsCert ? 'mTLS' : c.temporalTls === 'true' ? 'TLS' : 'none',
    dataDir: c.dataDir,
  };
}

export function redactUrl(u: string): string {
  try {
    const url = new URL(u);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '(unparseable URL)';
  }
}

/**
 * Embedding activities at once per worker when VECTOR_INGEST_EMBED_CONCURRENCY is not set.
 * The local model runs one request at a time on all cores: two activities keep it busy while
 * the other one reads or writes the database; more would only wait in its queue. Under adaptive
 * concurrency the embedder's own limit bounds the requests in flight (up to 32 per process), so
 * the slots only have to let enough batches reach it: 16, so a workflow's whole window of 8
 * batches embeds at once (a page's batches go out in one round trip instead of two or three
 * waiting for one of 4 slots, the peer benchmark's profile) and a second collection beside it
 * still gets slots. A fixed provider request per batch (adaptive off) keeps 4.
 */
export const ADAPTIVE_EMBED_SLOTS = 16;

function defaultEmbedConcurrency(c: Pick<Config, 'embedding' | 'embedRatePerSecond' | 'adaptiveEmbed'>): number {
  if (c.embedding.provider === 'local') return 2;
  return adaptiveEmbedding(c) ? ADAPTIVE_EMBED_SLOTS : 4;
}

/**
 * Whether the worker wraps its embedder in the adaptive splitter (src/embedders/adaptive.ts):
 * for OpenAI-compatible providers, unless an embedding rate is configured (it paces activities
 * and must bound requests too) or VECTOR_INGEST_ADAPTIVE_EMBED=off (one provider request per
 * batch at the fixed embed concurrency, e.g. to compare pipelines that send the same requests).
 */
export function adaptiveEmbedding(config: Pick<Config, 'embedding' | 'embedRatePerSecond' | 'adaptiveEmbed'>): boolean {
  return config.embedding.provider === 'openai' && !config.embedRatePerSecond && config.adaptiveEmbed !== 'off';
}
