/**
 * Where the orchestration tax goes: one bare run and one durable run of the tax benchmark's work
 * (same corpus, batches, slots, provider latency), each measured for CPU seconds per process
 * (this process: client + worker / bare pool; the Temporal dev server; this database's Postgres
 * backends), Postgres commits and blocks (pg_stat_database of this database), and, for the
 * durable run, an activity timeline read from its history plus the provider's request log
 * (start to first embedding request, idle gaps with no request in flight, the tail after the
 * last one). `npm run bench -- taxprofile [--smoke]`; not part of `all`.
 */
import { readFileSync, readdirSync } from 'node:fs';
import pg from 'pg';
import type { temporal } from '@temporalio/proto';
import { OpenAIEmbedder } from '../src/embedders/openai';
import { PgVectorStore } from '../src/sinks/pgvector';
import { TEST_DATABASE_URL, withPg } from '../test/support/env';
import { barePipeline } from './bare-pipeline';
import { ChunkThreads } from '../src/text/chunk-threads';
import { defaultPlanThreads } from '../src/deps';
import { clearEmbeddingCache, dropCollection, report, startProviderStack, type ProviderStack } from './lib';
import { taxScenario } from './tax-scenario';
import { ingestCollection } from '../src/workflows';
import { TASK_QUEUE } from '../src/contracts/ingest';

const TICK = 100; // clock ticks per second (getconf CLK_TCK on Linux)

function cpuOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / TICK; // utime + stime
  } catch {
    return 0;
  }
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(d), ...childrenOf(Number(d)));
    } catch {
      // gone
    }
  }
  return out;
}

interface Sample {
  indexes: Map<string, number>;
  self: number;
  temporal: number;
  provider: number;
  postgres: Map<number, number>;
  db: Record<string, number>;
}

async function sample(stack: ProviderStack): Promise<Sample> {
  const serverPids = stack.server.pid ? [stack.server.pid, ...childrenOf(stack.server.pid)] : [];
  const postgres = new Map<number, number>();
  const db: Record<string, number> = {};
  const indexes = new Map<string, number>();
  await withPg(async (c) => {
    const r = await c.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database()');
    for (const { pid } of r.rows) postgres.set(pid, cpuOf(pid));
    const s = await c.query('SELECT xact_commit, xact_rollback, tup_fetched, tup_inserted, tup_updated, tup_deleted, blks_hit + blks_read AS blocks FROM pg_stat_database WHERE datname = current_database()');
    for (const [k, v] of Object.entries(s.rows[0] as Record<string, string>)) db[k] = Number(v);
    const ix = await c.query<{ name: string; n: string }>(
      `SELECT relname || '.' || indexrelname AS name, idx_tup_read AS n FROM pg_stat_user_indexes
       UNION ALL SELECT relname || ' (seq)', seq_tup_read FROM pg_stat_user_tables`,
    );
    for (const r of ix.rows) indexes.set(r.name, Number(r.n));
  });
  return { indexes, self: cpuOf(process.pid), temporal: serverPids.reduce((s, p) => s + cpuOf(p), 0), provider: cpuOf(stack.provider.pid), postgres, db };
}

async function measure<T>(stack: ProviderStack, run: () => Promise<T>): Promise<{ out: T; seconds: number; reads: ReadonlyArray<readonly [string, number]>; cpu: Record<string, number>; db: Record<string, number> }> {
  // pg_stat_database is updated when a backend's transaction ends (and at most every 500 ms): wait it out.
  await new Promise((r) => setTimeout(r, 1200));
  const a = await sample(stack);
  const t0 = process.hrtime.bigint();
  const out = await run();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await new Promise((r) => setTimeout(r, 1200));
  const b = await sample(stack);
  let pgCpu = 0;
  for (const [pid, v] of b.postgres) pgCpu += v - (a.postgres.get(pid) ?? 0);
  const db: Record<string, number> = {};
  for (const k of Object.keys(b.db)) db[k] = b.db[k]! - (a.db[k] ?? 0);
  db.xact_commit = (db.xact_commit ?? 0) - 2; // the two samples' own
  const reads = [...b.indexes].map(([k, v]) => [k, v - (a.indexes.get(k) ?? 0)] as const).filter(([, v]) => v > 0).sort((x, y) => y[1] - x[1]).slice(0, 6);
  return { out, seconds, reads, cpu: { self: b.self - a.self, temporal: b.temporal - a.temporal, provider: b.provider - a.provider, postgres: pgCpu }, db };
}

type Ev = temporal.api.history.v1.IHistoryEvent;
const ms = (e: Ev) => Number(e.eventTime!.seconds) * 1000 + Math.floor((e.eventTime!.nanos ?? 0) / 1e6);

async function historyOf(stack: ProviderStack, workflowId: string, firstRunId: string): Promise<Ev[]> {
  const all: Ev[] = [];
  let runId: string | undefined = firstRunId;
  while (runId) {
    const h: temporal.api.history.v1.IHistory = await stack.client.workflow.getHandle(workflowId, runId).fetchHistory();
    const evs: Ev[] = h.events ?? [];
    all.push(...evs);
    runId = evs[evs.length - 1]?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return all;
}

/** When the provider was asked: before the first request, idle gaps inside, after the last one. */
function requestShape(log: Array<{ arrivedAt: number; at: number }>, t0: number, t1: number): string {
  const reqs: Array<[number, number]> = log.map((l) => [l.arrivedAt, l.at]);
  const first = Math.min(...reqs.map((r) => r[0]));
  const last = Math.max(...reqs.map((r) => r[1]));
  const idle = last - first - covered(reqs);
  const s = (x: number) => (x / 1000).toFixed(2);
  return `${s(first - t0)} s to the first embedding request; ${s(idle)} s with none in flight inside ${s(last - first)} s of requests; ${s(t1 - last)} s after the last one`;
}

/** Total length of the union of intervals. */
function covered(iv: Array<[number, number]>): number {
  const s = [...iv].sort((x, y) => x[0] - y[0]);
  let total = 0;
  let end = -Infinity;
  for (const [a, b] of s) {
    if (b <= end) continue;
    total += b - Math.max(a, end);
    end = b;
  }
  return total;
}

function timeline(events: Ev[], t0: number, t1: number): Array<Record<string, unknown>> {
  const sched = new Map<string, { type: string; at: number }>();
  const started = new Map<string, number>();
  const byType = new Map<string, { run: number[]; wait: number[]; iv: Array<[number, number]> }>();
  const get = (t: string) => byType.get(t) ?? (byType.set(t, { run: [], wait: [], iv: [] }), byType.get(t)!);
  let wfScheduled = 0;
  let wfStarted = 0;
  for (const e of events) {
    const id = String(e.eventId);
    if (e.activityTaskScheduledEventAttributes) sched.set(id, { type: e.activityTaskScheduledEventAttributes.activityType!.name!, at: ms(e) });
    else if (e.activityTaskStartedEventAttributes) started.set(String(e.activityTaskStartedEventAttributes.scheduledEventId), ms(e));
    else if (e.activityTaskCompletedEventAttributes) {
      const sid = String(e.activityTaskCompletedEventAttributes.scheduledEventId);
      const s = sched.get(sid)!;
      const st = started.get(sid)!;
      const x = get(s.type);
      x.run.push(ms(e) - st);
      x.wait.push(st - s.at);
      x.iv.push([st, ms(e)]);
    } else if (e.workflowTaskScheduledEventAttributes) wfScheduled = ms(e);
    else if (e.workflowTaskStartedEventAttributes) wfStarted = ms(e);
    else if (e.workflowTaskCompletedEventAttributes) {
      const x = get('workflow task');
      x.run.push(ms(e) - wfStarted);
      x.wait.push(wfStarted - wfScheduled);
      x.iv.push([wfStarted, ms(e)]);
    }
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  return [...byType.entries()].map(([type, x]) => ({
    activity: type,
    count: x.run.length,
    'run s': sum(x.run) / 1000,
    'run median ms': med(x.run),
    'run max ms': Math.max(...x.run),
    'wait s': sum(x.wait) / 1000,
    'wait median ms': med(x.wait),
    'wall covered s': covered(x.iv) / 1000,
    'first start s': (Math.min(...x.iv.map((i) => i[0])) - t0) / 1000,
    'last end s': (Math.max(...x.iv.map((i) => i[1])) - t0) / 1000,
    'share of wall': `${((100 * covered(x.iv)) / (t1 - t0)).toFixed(1)} %`,
  }));
}

export async function taxProfile(smoke: boolean): Promise<void> {
  const { latencyMs, chunking, batching, concurrency, source, workerConfig } = taxScenario(smoke);
  const model = `bench-taxprofile-${Date.now()}`;
  // The provider runs in a process of its own, as a real one does (bench/provider-process.ts).
  const stack = await startProviderStack({ model, emb: { latencyMs }, config: workerConfig });
  // The bare side chunks on as many threads as the durable worker (like for like);
  // BENCH_BARE_INLINE=1 profiles it chunking inline instead.
  const chunker = process.env.BENCH_BARE_INLINE === '1' ? undefined : new ChunkThreads(defaultPlanThreads()).warm(); // warm, as the worker's are
  const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: concurrency + 2 });
  try {
    const embedder = new OpenAIEmbedder({ apiKey: 'k', baseURL: stack.provider.url, model, dimensions: 64, sendDimensions: true, timeoutMs: 60_000 });
    const cold = async () => {
      await dropCollection('bench_taxp_bare');
      await dropCollection('bench_taxp_temporal');
      await clearEmbeddingCache(model);
      await stack.provider.reset();
    };
    await cold();
    // the bare side's finalize (the same index builds as finishRun's), timed
    const bareSink = new PgVectorStore(pool);
    const finalize = bareSink.finalize.bind(bareSink);
    let finalizeSeconds = 0;
    bareSink.finalize = async (name) => {
      const t = process.hrtime.bigint();
      await finalize(name);
      finalizeSeconds = Number(process.hrtime.bigint() - t) / 1e9;
    };
    let bareStartedAt = 0;
    const bare = await measure(stack, () => {
      bareStartedAt = Date.now();
      return barePipeline({ collection: 'bench_taxp_bare', source, chunking, batching, pageSize: 200, embedConcurrency: concurrency, upsertConcurrency: concurrency, window: concurrency * 2, embedder, sink: bareSink, ...(chunker && { chunker }) });
    });
    const bareShape = requestShape((await stack.provider.stats()).log, bareStartedAt, bareStartedAt + bare.seconds * 1000);
    await cold();
    const workflowId = `bench-taxprofile-${Date.now()}`;
    let startedAt = 0;
    const durable = await measure(stack, async () => {
      startedAt = Date.now();
      const h = await stack.client.workflow.start(ingestCollection, { taskQueue: TASK_QUEUE, workflowId, args: [{ collection: 'bench_taxp_temporal', source, chunking, batching, pageSize: 200, maxInFlightBatches: concurrency * 2 }] });
      const result = await h.result();
      return { result, runId: h.firstExecutionRunId };
    });
    const endedAt = startedAt + durable.seconds * 1000;
    const log = (await stack.provider.stats()).log;
    const events = await historyOf(stack, workflowId, durable.out.runId);
    const rows = [
      { side: 'bare pool', chunks: bare.out.chunks, 'wall s': bare.seconds, 'CPU s this process': bare.cpu.self, 'CPU s temporal': bare.cpu.temporal, 'CPU s provider': bare.cpu.provider, 'CPU s postgres': bare.cpu.postgres, ...bare.db },
      { side: 'durable', chunks: durable.out.result.counters.chunksUpserted, 'wall s': durable.seconds, 'CPU s this process': durable.cpu.self, 'CPU s temporal': durable.cpu.temporal, 'CPU s provider': durable.cpu.provider, 'CPU s postgres': durable.cpu.postgres, ...durable.db },
    ];
    const tl = timeline(events, startedAt, endedAt);
    report('taxprofile-timeline', tl);
    report('taxprofile', rows, [
      `ratio ${((rows[1]!.chunks / durable.seconds) / (rows[0]!.chunks / bare.seconds)).toFixed(3)}; history ${events.length} events`,
      `tuples read, bare: ${bare.reads.map(([k, v]) => `${k} ${v}`).join(', ')}`,
      `tuples read, durable: ${durable.reads.map(([k, v]) => `${k} ${v}`).join(', ')}`,
      `bare: ${bareShape}; its finalize (index builds) ${finalizeSeconds.toFixed(2)} s`,
      `durable: ${requestShape(log, startedAt, endedAt)}`,
    ]);
  } finally {
    await pool.end();
    await chunker?.close();
    await stack.stop();
    await dropCollection('bench_taxp_bare').catch(() => undefined);
    await dropCollection('bench_taxp_temporal').catch(() => undefined);
    await clearEmbeddingCache(model).catch(() => undefined); // a run leaves no cached vectors behind
  }
}
