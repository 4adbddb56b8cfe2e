import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import type { Client } from '@temporalio/client';
import { unit, xorshift32 } from '../../src/prng';
import { ingestCollection } from '../../src/workflows';
import { TASK_QUEUE, type IngestInput, type IngestResult } from '../../src/contracts/ingest';
import { buildCorpus } from './corpus';
import { TEST_DATABASE_URL, tempDir, withPg } from './env';
import { expectedRows, sinkRows } from './expected';

/** Small chunks and short timeouts: many batches to interrupt, and a dead worker is noticed in seconds. */
export const DRILL_CHUNKING = { chunkTokens: 100, overlapTokens: 10 };
export const DRILL_TIMEOUTS = { heartbeatSeconds: 3, embedSeconds: 20, upsertSeconds: 20, planSeconds: 60, probeSeconds: 1 };

export function drillCorpus(files: number): string {
  const dir = tempDir('vi-drill-');
  buildCorpus(dir, { files, largeFiles: 2, seed: files });
  return dir;
}

export function drillInput(collection: string, dir: string, extra: Partial<IngestInput> = {}): IngestInput {
  return {
    collection,
    source: { kind: 'directory', path: dir },
    chunking: DRILL_CHUNKING,
    batching: { maxChunks: 12, maxTokens: 4000 },
    pageSize: 20,
    maxInFlightBatches: 3,
    timeouts: DRILL_TIMEOUTS,
    ...extra,
  };
}

export async function startIngest(client: Client, workflowId: string, input: IngestInput) {
  return client.workflow.start(ingestCollection, { taskQueue: TASK_QUEUE, workflowId, args: [input] });
}

/**
 * The drill's verdict: the sink holds exactly the chunks the source says, computed offline
 * (0 lost, 0 extra, 0 duplicate ids, content equal), and no staging rows are left behind.
 */
export async function assertExactSink(collection: string, dir: string, result: IngestResult): Promise<void> {
  const expected = await expectedRows(collection, dir, DRILL_CHUNKING);
  const actual = await sinkRows(collection);
  const ids = new Set(actual.map((r) => r.id));
  assert.equal(ids.size, actual.length, 'duplicate ids in the sink');
  const expectedIds = new Set(expected.map((r) => r.id));
  const lost = expected.filter((r) => !ids.has(r.id)).length;
  const extra = actual.filter((r) => !expectedIds.has(r.id)).length;
  assert.equal(lost, 0, `${lost} chunks lost`);
  assert.equal(extra, 0, `${extra} unexpected chunks`);
  assert.deepEqual(actual, expected, 'chunk content differs from the source');
  assert.equal(result.counters.chunksFailed, 0);
  assert.equal(result.counters.documentsFailed, 0);
  const staged = await withPg(async (c) => (await c.query('SELECT count(*)::int AS n FROM vector_ingest.staged_chunks WHERE collection = $1', [collection])).rows[0].n);
  assert.equal(staged, 0, 'staging rows left behind');
  console.log(`drill ${collection}: ${expected.length} chunks expected, ${actual.length} found, 0 lost, 0 extra, 0 duplicates`);
}

/** `vector-ingest worker` as a separate process, so it can be killed with SIGKILL. */
export function spawnWorker(env: Record<string, string>): { child: ChildProcess; ready: Promise<void>; output: () => string } {
  let out = '';
  const child = spawn(process.execPath, [path.resolve(__dirname, '../../bin/vector-ingest.js'), 'worker', '--metrics-port', '0'], {
    env: { ...process.env, DATABASE_URL: TEST_DATABASE_URL, LOG_LEVEL: 'info', LOG_FORMAT: 'json', ...env },
  });
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const ready = new Promise<void>((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`worker did not start:\n${out}`)), 60_000);
    const check = setInterval(() => {
      if (out.includes('worker running')) {
        clearTimeout(deadline);
        clearInterval(check);
        resolve();
      }
      if (child.exitCode !== null) {
        clearTimeout(deadline);
        clearInterval(check);
        reject(new Error(`worker exited early:\n${out}`));
      }
    }, 50);
  });
  return { child, ready, output: () => out };
}

/** A seeded PRNG for drill timings: a failing drill can be replayed with the same seed. */
export function prng(seed: number): () => number {
  return unit(xorshift32(seed));
}
