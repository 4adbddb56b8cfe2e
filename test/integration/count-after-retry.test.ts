/**
 * A batch write that committed while its attempt failed (the worker died, or the connection
 * broke before the answer came back) is retried, and the retry finds the batch's chunks landed
 * already. The run's counters must still say what the sink holds: the retry reports the chunks
 * the earlier attempt landed (`landed_before` in the landing statement), once. The split
 * pipeline's upsertBatch reported 0 for them, so chunksUpserted undercounted after a crash.
 *
 * Here the pgvector sink's landing statement runs and commits, then fails its attempt as a
 * broken connection would (StoreUnavailable, retried by Temporal), once per batch.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DevServer } from '../../src/embedded/temporal';
import { PgVectorStore } from '../../src/sinks/pgvector';
import type { PointsQuery } from '../../src/sinks/types';
import { ingestCollection } from '../../src/workflows';
import { TASK_QUEUE, type BatchPipeline } from '../../src/contracts/ingest';
import { buildCorpus } from '../support/corpus';
import { chainEvents } from '../support/history';
import { dropCollectionTables, startTemporal, startTestWorker, teardown, tempDir, testClient, testConfig, uniqueCollection, withPg, type TestWorker } from '../support/env';

describe('counters after a batch write that committed but failed its attempt', () => {
  let server: DevServer;
  let worker: TestWorker;
  let tc: Awaited<ReturnType<typeof testClient>>;
  const prefix = uniqueCollection('it_cnt');
  const collections: string[] = [];
  const failedOnce = new Set<string>();
  const real = PgVectorStore.prototype.upsertFromSelect;

  before(async () => {
    // Installed before the worker builds its sinks (the metering and tracing wrappers bind the method then).
    PgVectorStore.prototype.upsertFromSelect = async function (this: PgVectorStore, name: string, points: PointsQuery) {
      const r = await real.call(this, name, points);
      const [collection, runKey, pageNo, batchNo] = points.params as [string, string, number, number];
      const key = `${collection}/${runKey}/${pageNo}/${batchNo}`;
      if (collection.startsWith(prefix) && r.offered > 0 && !failedOnce.has(key)) {
        failedOnce.add(key);
        throw Object.assign(new Error('Connection terminated unexpectedly (after the commit)'), { code: 'ECONNRESET' });
      }
      return r;
    };
    server = await startTemporal();
    worker = await startTestWorker(server, testConfig({ logLevel: 'error' })); // quiet: every batch fails an attempt on purpose
    tc = await testClient(server);
  });
  after(async () => {
    PgVectorStore.prototype.upsertFromSelect = real;
    await teardown({ tc, worker, server });
    for (const c of collections) await dropCollectionTables(c).catch(() => undefined);
  });

  for (const pipeline of ['split', 'fused'] as BatchPipeline[]) {
    it(`counts every chunk in the sink once (${pipeline} pipeline)`, async () => {
      const collection = `${prefix}_${pipeline}`;
      collections.push(collection);
      const dir = tempDir('vi-cnt-');
      buildCorpus(dir, { files: 6, largeFiles: 0, seed: 4242 });
      const h = await tc.client.workflow.start(ingestCollection, {
        taskQueue: TASK_QUEUE,
        workflowId: `${collection}-run`,
        args: [{ collection, source: { kind: 'directory', path: dir }, chunking: { chunkTokens: 100, overlapTokens: 10 }, batching: { maxChunks: 8, maxTokens: 4000 }, pipeline }],
      });
      const result = await h.result();
      const writer = pipeline === 'split' ? 'upsertBatch' : 'embedAndWriteBatch';
      // Every batch's write committed in its first attempt and that attempt failed: the second reported.
      const events = await chainEvents(tc.client, `${collection}-run`, h.firstExecutionRunId);
      const scheduled = new Set(events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === writer).map((e) => String(e.eventId)));
      const retried = events.filter((e) => scheduled.has(String(e.activityTaskStartedEventAttributes?.scheduledEventId)) && (e.activityTaskStartedEventAttributes?.attempt ?? 0) > 1);
      assert.equal(scheduled.size, result.counters.batches, `${writer} once per batch`);
      assert.equal(retried.length, result.counters.batches, `each ${writer} retried once after its write committed`);
      const inSink = await withPg(async (c) => (await c.query(`SELECT count(*)::int AS n FROM public.${collection}`)).rows[0].n as number);
      assert.ok(inSink > 0);
      assert.equal(result.counters.chunksUpserted, inSink, 'chunks counted as upserted against chunks in the sink');
    });
  }
});
