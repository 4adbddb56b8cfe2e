/**
 * Shared parts of the benchmarks: the real stack (Temporal dev server, Postgres + pgvector, the
 * project's OpenAI-compatible server with a latency model), a timed Temporal ingest, and result
 * reporting. Numbers from a shared 2-core machine are noisy: every benchmark reports ratios
 * measured side by side in one run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { DevServer } from '../src/embedded/temporal';
import { startEmbeddingServer, type EmbeddingServer, type EmbeddingServerOptions } from '../src/testing/embedding-server';
import { ingestCollection } from '../src/workflows';
import { TASK_QUEUE, type IngestInput, type IngestResult } from '../src/contracts/ingest';
import { dropCollectionTables, historySize, startTemporal, startTestWorker, testClient, testConfig, withPg, type TestWorker } from '../test/support/env';
import type { RawConfig } from '../src/config';
import { startProviderProcess, type ProviderOptions, type ProviderProcess } from './provider-process';

/** A Temporal dev server, a worker and a client, with an embedding provider at some URL. */
export interface BaseStack {
  server: DevServer;
  worker: TestWorker;
  client: Awaited<ReturnType<typeof testClient>>['client'];
  stop(): Promise<void>;
}

/** The stack with the provider in this process (its stats read directly). */
export interface Stack extends BaseStack {
  emb: EmbeddingServer;
}

/** The stack with the provider in a process of its own (bench/provider-process.ts). */
export interface ProviderStack extends BaseStack {
  provider: ProviderProcess;
}

type StackOptions<E> = { model: string; dims?: number; emb?: Partial<E>; config?: Partial<RawConfig> };

export async function startStack(o: StackOptions<EmbeddingServerOptions>): Promise<Stack> {
  const dims = o.dims ?? 64;
  const emb = await startEmbeddingServer({ dimensions: dims, ...o.emb });
  return { ...(await startBase(o, dims, emb.url, () => emb.close())), emb };
}

export async function startProviderStack(o: StackOptions<ProviderOptions>): Promise<ProviderStack> {
  const dims = o.dims ?? 64;
  const provider = await startProviderProcess({ dimensions: dims, ...o.emb });
  return { ...(await startBase(o, dims, provider.url, () => provider.close())), provider };
}

async function startBase(o: StackOptions<unknown>, dims: number, providerUrl: string, closeProvider: () => Promise<void>): Promise<BaseStack> {
  const server = await startTemporal();
  const worker = await startTestWorker(
    server,
    testConfig({ logLevel: 'error', ...o.config }, { OPENAI_BASE_URL: providerUrl, EMBEDDING_MODEL: o.model, EMBEDDING_DIMENSIONS: String(dims) }),
  );
  const tc = await testClient(server);
  return {
    server,
    worker,
    client: tc.client,
    stop: async () => {
      await tc.close();
      await worker.stop();
      await server.stop();
      await closeProvider();
    },
  };
}

export async function timedIngest(stack: BaseStack, workflowId: string, input: IngestInput): Promise<{ result: IngestResult; seconds: number; history: { bytes: number; events: number; runs: number } }> {
  const t0 = process.hrtime.bigint();
  const h = await stack.client.workflow.start(ingestCollection, { taskQueue: TASK_QUEUE, workflowId, args: [input] });
  const result = await h.result();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const history = await historySize(stack.client, workflowId, h.firstExecutionRunId);
  return { result, seconds, history };
}

/**
 * Forgets a collection entirely (its table or view, every generation's table, its state rows), so
 * a benchmark re-run on the same database starts as the first one did whatever model it records.
 */
export async function dropCollection(collection: string): Promise<void> {
  await dropCollectionTables(collection);
  await withPg(async (c) => {
    await c.query('DELETE FROM vector_ingest.generations WHERE collection = $1', [collection]);
    await c.query('DELETE FROM vector_ingest.documents WHERE collection = $1', [collection]);
    await c.query('DELETE FROM vector_ingest.collections WHERE name = $1', [collection]);
    await c.query('DELETE FROM vector_ingest.staged_chunks WHERE collection = $1', [collection]);
    await c.query('DELETE FROM vector_ingest.landed_batches WHERE collection = $1', [collection]);
  });
}

export function report(name: string, rows: Array<Record<string, unknown>>, notes: string[] = []): void {
  const dir = path.resolve(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${name}.json`), JSON.stringify({ name, at: new Date().toISOString(), rows, notes }, null, 2));
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  console.log(`\n## ${name}\n`);
  console.log(`| ${keys.join(' | ')} |`);
  console.log(`|${keys.map(() => '---').join('|')}|`);
  for (const r of rows) console.log(`| ${keys.map((k) => fmt(r[k])).join(' | ')} |`);
  for (const n of notes) console.log(`\n${n}`);
}

function fmt(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(v < 10 ? 3 : 1);
  return String(v ?? '');
}

export function rssMb(): number {
  return Math.round(process.memoryUsage().rss / 1024 / 1024);
}

/** Forgets a model's cached embeddings, so the next run starts cold. */
export async function clearEmbeddingCache(model: string): Promise<void> {
  await withPg((c) => c.query('DELETE FROM vector_ingest.embedding_cache WHERE model = $1', [model]));
}

/** Runs both, `a` first in odd rounds and `b` first in even ones (a noisy machine favours neither). */
export async function alternating<A, B>(round: number, a: () => Promise<A>, b: () => Promise<B>): Promise<[A, B]> {
  if (round % 2 === 1) {
    const ra = await a();
    return [ra, await b()];
  }
  const rb = await b();
  return [await a(), rb];
}

export function median(xs: number[]): number {
  return [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
}
