import { bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import pg from 'pg';
import { temporal } from '@temporalio/proto';
import { loadConfig, type Config, type RawConfig } from '../../src/config';
import type { Deps } from '../../src/deps';
import { startDevServer, type DevServer } from '../../src/embedded/temporal';
import { createLogger, type Logger } from '../../src/log';
import type { WorkerSet } from '../../src/worker';
import { startWorker, type Services } from '../../src/stack';

/** The real local Postgres 15 with pgvector (scripts/infra/install-pgvector.sh). */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/vector_ingest_test';

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/** A real Temporal dev server (the `temporal` CLI), in memory, no UI. */
export async function startTemporal(): Promise<DevServer> {
  return startDevServer({ dataDir: tempDir('vi-temporal-'), headless: true, inMemory: true, cliPath: process.env.TEMPORAL_CLI_PATH });
}

let bundle: Promise<WorkflowBundle> | undefined;
/** Bundles the workflows once per test process (a few seconds each time otherwise). */
export function workflowBundle(): Promise<WorkflowBundle> {
  bundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('../../src/workflows'), logger: quietLogger() });
  return bundle;
}

function quietLogger() {
  const noop = () => undefined;
  return { trace: noop, debug: noop, info: noop, warn: noop, error: noop, log: noop };
}

/**
 * Tests are deterministic: unless a test names an embedder (a provider, a key or a base URL), its
 * config gets the offline hash embedder, not the local model that is the product's default.
 */
export function testConfig(overrides: Partial<RawConfig> = {}, env: NodeJS.ProcessEnv = {}): Config {
  const named = env.EMBEDDING_PROVIDER || env.OPENAI_BASE_URL || env.OPENAI_API_KEY || overrides.embeddingProvider || overrides.openaiBaseUrl || overrides.openaiApiKey;
  return loadConfig(env, { logLevel: 'warn', ...(named ? {} : { embeddingProvider: 'offline' as const }), ...overrides });
}

export interface TestWorker {
  set: WorkerSet;
  deps: Deps;
  stop(): Promise<void>;
}

/** Real workers over real clients, built by src/stack.ts's startWorker, on a test server. */
export async function startTestWorker(server: DevServer, config: Config, databaseUrl = TEST_DATABASE_URL, logger?: Logger): Promise<TestWorker> {
  const log = logger ?? createLogger(config.logLevel, { pretty: false });
  const services: Services = {
    temporalAddress: server.address,
    connection: { address: server.address },
    namespace: server.namespace,
    databaseUrl,
    fromDev: false,
    stop: async () => undefined, // the test owns the server
  };
  const w = await startWorker(config, log, services, { metricsPort: 0, workflowBundle: await workflowBundle(), shutdownGraceTime: '5s' });
  return {
    set: w.set,
    deps: w.deps,
    stop: async () => {
      w.set.shutdown();
      await w.done;
    },
  };
}

export async function testClient(server: DevServer): Promise<{ client: Client; close(): Promise<void> }> {
  const connection = await Connection.connect({ address: server.address });
  return { client: new Client({ connection, namespace: server.namespace }), close: () => connection.close() };
}

export async function withPg<T>(fn: (c: pg.Client) => Promise<T>, url = TEST_DATABASE_URL): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** A collection name unique to this test run, so reruns never see each other's tables. */
export function uniqueCollection(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/**
 * Bytes and events of a workflow's whole history as the server stores it (protobuf), following
 * the continue-as-new chain from the first run.
 */
export async function historySize(client: Client, workflowId: string, firstRunId: string): Promise<{ bytes: number; events: number; runs: number }> {
  let bytes = 0;
  let events = 0;
  let runs = 0;
  let runId: string | undefined = firstRunId;
  while (runId && runs < 10_000) {
    runs++;
    const h: temporal.api.history.v1.IHistory = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const evs: temporal.api.history.v1.IHistoryEvent[] = h.events ?? [];
    events += evs.length;
    bytes += temporal.api.history.v1.History.encode(temporal.api.history.v1.History.create(h)).finish().length;
    const last: temporal.api.history.v1.IHistoryEvent | undefined = evs[evs.length - 1];
    runId = last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return { bytes, events, runs };
}

/** Every payload of a workflow's history (all runs), decoded as UTF-8 and joined. */
export async function historyPayloadText(client: Client, workflowId: string): Promise<string> {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (v === null || typeof v !== 'object') return;
    if (v instanceof Uint8Array) return;
    const o = v as Record<string, unknown>;
    if (o.data instanceof Uint8Array && o.metadata) out.push(Buffer.from(o.data).toString('utf8'));
    for (const x of Object.values(o)) walk(x);
  };
  for await (const exec of client.workflow.list({ query: `WorkflowId = "${workflowId}"` })) {
    walk(await client.workflow.getHandle(workflowId, exec.runId).fetchHistory());
  }
  return out.join('\n');
}

/** Drops a collection's pgvector table or view and every generation's table (`<name>__g<n>`). */
export async function dropCollectionTables(collection: string): Promise<void> {
  await withPg(async (c) => {
    const r = await c.query<{ name: string; kind: string }>(
      `SELECT c.relname AS name, c.relkind AS kind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v') AND (c.relname = $1 OR c.relname ~ ('^' || $1 || '__g[0-9]+$'))
       ORDER BY c.relkind DESC`,
      [collection],
    );
    for (const t of r.rows) await c.query(`DROP ${t.kind === 'v' ? 'VIEW' : 'TABLE'} IF EXISTS public.${t.name}`);
  });
}

/** Stops what an integration test started, in dependency order, and drops its table. */
export async function teardown(parts: {
  tc?: { close(): Promise<void> };
  worker?: { stop(): Promise<void> };
  server?: { stop(): Promise<void> };
  emb?: { close(): Promise<void> };
  collection?: string;
}): Promise<void> {
  await parts.tc?.close();
  await parts.worker?.stop();
  if (parts.collection) await dropCollectionTables(parts.collection).catch(() => undefined);
  await Promise.all([parts.server?.stop(), parts.emb?.close()]);
}
