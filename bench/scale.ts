/**
 * Scale: the same workflow code for small and large corpora. History bytes and events per chunk,
 * events per run (continue-as-new keeps each run's history bounded), the worker process's peak
 * RSS, and what Postgres holds at that size: the collection's table and HNSW index sizes, the
 * state store's size, the finish's index build time (from the run's history) and a timed
 * rebuild of the HNSW index alone. A synthetic source generates the documents on the fly; the
 * embeddings server answers with 0 ms latency to show pure overhead.
 *
 *   npm run bench -- scale [--million] [--sizes=100000,1000000] [--dims=32] [--worker-node-options='--max-semi-space-size=2']
 */
import { readFileSync } from 'node:fs';
import { loadConfig } from '../src/config';
import { startEmbeddingServer } from '../src/testing/embedding-server';
import { spawnWorker } from '../test/support/drill';
import { startTemporal, testClient, withPg } from '../test/support/env';
import { dropCollection, report, timedIngest, type Stack } from './lib';

/** Resident set size of another process, from /proc (the worker runs in its own process). */
function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

/** CPU seconds (user + system, all threads) another process has used so far, from /proc. */
function cpuOf(pid: number): number {
  // Fields after the parenthesised command name: state is the 1st, utime the 12th, stime the 13th.
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // USER_HZ is 100 on Linux
}

function arg(name: string): string | undefined {
  return process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

const MB = 1024 * 1024;

/** Sizes of the collection's tables (heap + TOAST) and indexes, matched by name prefix so a sink that keeps generations of a collection in several tables is summed. */
async function pgSizes(collection: string): Promise<Record<string, number>> {
  return withPg(async (c) => {
    const q = await c.query<{ kind: string; name: string; bytes: string }>(
      `SELECT c.relkind::text AS kind, c.relname AS name,
              CASE WHEN c.relkind = 'r' THEN pg_table_size(c.oid) ELSE pg_relation_size(c.oid) END AS bytes
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relname LIKE $1 AND c.relkind IN ('r', 'i')`,
      [`${collection.replace(/_/g, '\\_')}%`],
    );
    const sum = (f: (r: { kind: string; name: string }) => boolean): number => q.rows.filter(f).reduce((s, r) => s + Number(r.bytes), 0);
    const state = await c.query<{ bytes: string }>(
      `SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'vector_ingest' AND c.relkind = 'r'`,
    );
    return {
      'table MB': sum((r) => r.kind === 'r') / MB,
      'HNSW index MB': sum((r) => r.kind === 'i' && r.name.endsWith('_hnsw')) / MB,
      'other indexes MB': sum((r) => r.kind === 'i' && !r.name.endsWith('_hnsw')) / MB,
      'state store MB': Number(state.rows[0]!.bytes) / MB,
    };
  });
}

/** Seconds the last run's finishRun activity took (it builds the HNSW and full-text indexes). */
async function finishSeconds(client: Stack['client'], workflowId: string): Promise<number> {
  const h = await client.workflow.getHandle(workflowId).fetchHistory();
  const ts = (e: { eventTime?: { seconds?: unknown; nanos?: number | null } | null }): number =>
    Number(e.eventTime?.seconds ?? 0) + (e.eventTime?.nanos ?? 0) / 1e9;
  const events = h.events ?? [];
  const sched = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'finishRun');
  if (!sched) return NaN;
  const done = events.find((e) => e.activityTaskCompletedEventAttributes && Number(e.activityTaskCompletedEventAttributes.scheduledEventId) === Number(sched.eventId));
  return done ? ts(done) - ts(sched) : NaN;
}

/**
 * Rebuilds the HNSW index alone and times it (the finish also builds the full-text index), with
 * the maintenance_work_mem the sink's finish uses (VECTOR_INGEST_INDEX_BUILD_MEMORY, default 1GB).
 */
async function hnswRebuildSeconds(collection: string): Promise<number> {
  return withPg(async (c) => {
    await c.query(`SET maintenance_work_mem = '${loadConfig(process.env).indexBuildMemoryKb}kB'`);
    const r = await c.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relkind = 'i' AND c.relname LIKE $1 AND c.relname LIKE '%\\_hnsw'`,
      [`${collection.replace(/_/g, '\\_')}%`],
    );
    if (r.rows.length === 0) return NaN;
    const t0 = process.hrtime.bigint();
    for (const { name } of r.rows) await c.query(`REINDEX INDEX public."${name.replace(/"/g, '""')}"`);
    return Number(process.hrtime.bigint() - t0) / 1e9;
  });
}

export async function scale(smoke: boolean): Promise<void> {
  const listed = arg('sizes')?.split(',').map(Number);
  const sizes = smoke ? [2_000] : listed ?? (process.argv.includes('--million') ? [10_000, 100_000, 1_000_000] : [10_000, 100_000]);
  const dims = Number(arg('dims') ?? 32);
  const rows: Array<Record<string, unknown>> = [];
  // The worker is `vector-ingest worker` in a process of its own (compiled CLI), so its RSS is
  // the worker's alone, not the benchmark's.
  const server = await startTemporal();
  const emb = await startEmbeddingServer({ dimensions: dims });
  const tc = await testClient(server);
  const nodeOptions = arg('worker-node-options');
  const w = spawnWorker({ ...(nodeOptions !== undefined && { NODE_OPTIONS: nodeOptions }), TEMPORAL_ADDRESS: server.address, OPENAI_BASE_URL: emb.url, EMBEDDING_MODEL: `bench-scale-${Date.now()}`, EMBEDDING_DIMENSIONS: String(dims) });
  await w.ready;
  const stack = { server, emb, client: tc.client } as unknown as Stack;
  try {
    for (const chunks of sizes) {
      // The synthetic 700-token documents come out at ~4.4 chunks each at 256-token chunks.
      const documents = Math.ceil(chunks / 4.4);
      const collection = `bench_scale_${chunks}`;
      await dropCollection(collection);
      const pid = w.child.pid!;
      const before = rssOf(pid);
      let peak = before;
      const cpu0 = cpuOf(pid);
      const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 500);
      const workflowId = `bench-scale-${chunks}-${Date.now()}`;
      const t = await timedIngest(stack, workflowId, {
        collection,
        source: { kind: 'synthetic', documents, tokensPerDocument: 700, seed: 11 },
        chunking: { chunkTokens: 256, overlapTokens: 16 },
        pageSize: 500,
        maxInFlightBatches: 8,
      });
      clearInterval(sampler);
      const cpu = cpuOf(pid) - cpu0;
      const c = t.result.counters.chunksUpserted;
      const row: Record<string, unknown> = {
        chunks: c,
        dims,
        ...(nodeOptions !== undefined && { 'worker NODE_OPTIONS': nodeOptions }),
        seconds: t.seconds,
        'chunks/s': c / t.seconds,
        'history B/chunk': t.history.bytes / c,
        'events/chunk': t.history.events / c,
        'events (all runs)': t.history.events,
        runs: t.history.runs,
        'events per run': Math.round(t.history.events / t.history.runs),
        'worker RSS before MB': before,
        'worker peak RSS MB': peak,
        // Load-insensitive beside chunks/s: the worker's CPU for the run (all its threads).
        'worker CPU s': cpu,
        'worker CPU ms/chunk': (cpu * 1000) / c,
        ...(await pgSizes(collection)),
        'index build memory': `${loadConfig(process.env).indexBuildMemoryKb / 1024}MB`,
        'finishRun s (HNSW + FTS build)': await finishSeconds(stack.client, workflowId),
      };
      rows.push(row);
      console.log(`scale point: ${JSON.stringify(row)}`);
      row['HNSW rebuild s'] = await hnswRebuildSeconds(collection);
      console.log(`scale point (with rebuild): ${JSON.stringify(row)}`);
      await dropCollection(collection);
    }
  } finally {
    w.child.kill('SIGTERM');
    await new Promise((r) => w.child.once('exit', r));
    await tc.close();
    await server.stop();
    await emb.close();
  }
  report('scale', rows, ['targets: <= 100 B of history per chunk, <= 10k events per run, flat RSS <= 300 MB']);
}
