import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { temporal } from '@temporalio/proto';
import pg from 'pg';
import type { DevServer } from '../../src/embedded/temporal';
import { ingestCollection } from '../../src/workflows';
import { TASK_QUEUE, type IngestInput, type IngestResult } from '../../src/contracts/ingest';
import { buildCorpus } from '../support/corpus';
import { startTemporal, startTestWorker, teardown, tempDir, testClient, testConfig, TEST_DATABASE_URL, uniqueCollection, withPg, type TestWorker } from '../support/env';

// Issue 11 item 5: prepareCollection ran under a heartbeat timeout but never heartbeat, so a
// `--full` rebuild whose DROP of a large collection outlasts the heartbeat timeout timed out and
// was retried forever. A large table's drop is stood in for by a lock that keeps the DROP
// waiting for 6 s, three times the run's 2 s heartbeat timeout.
describe('prepareCollection heartbeats through a slow rebuild', () => {
  let server: DevServer;
  let worker: TestWorker;
  let tc: Awaited<ReturnType<typeof testClient>>;
  const collection = uniqueCollection('it_prep_hb');

  before(async () => {
    server = await startTemporal();
    worker = await startTestWorker(server, testConfig({ embeddingDimensions: 16 }));
    tc = await testClient(server);
  });
  after(() => teardown({ tc, worker, server, collection }));

  it('a --full rebuild into a new model whose drop waits 6 s completes in one prepare attempt', async () => {
    // The collection as an earlier model left it.
    await withPg(async (c) => {
      await c.query(`CREATE TABLE public.${collection} (id uuid PRIMARY KEY)`);
      await c.query(`INSERT INTO vector_ingest.collections (name, sink, model, dimensions) VALUES ($1, 'pgvector', 'an-older-model', 8)`, [collection]);
    });
    const holder = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query(`LOCK TABLE public.${collection} IN ACCESS SHARE MODE`);
    const release = setTimeout(() => void holder.query('COMMIT').finally(() => holder.end()), 6_000);
    try {
      const dir = tempDir('vi-prep-hb-');
      buildCorpus(dir, { files: 5, largeFiles: 0 });
      const input: IngestInput = { collection, source: { kind: 'directory', path: dir }, full: true, timeouts: { heartbeatSeconds: 2 } };
      const workflowId = `${collection}-full`;
      const h = await tc.client.workflow.start(ingestCollection, { taskQueue: TASK_QUEUE, workflowId, args: [input] });
      const result = (await h.result()) as IngestResult;
      assert.equal(result.counters.documentsListed, 5);
      const history: temporal.api.history.v1.IHistory = await h.fetchHistory();
      const events: temporal.api.history.v1.IHistoryEvent[] = history.events ?? [];
      const prepId = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'prepareCollection')?.eventId;
      const started = events.filter((e) => String(e.activityTaskStartedEventAttributes?.scheduledEventId) === String(prepId));
      assert.equal(started.length, 1);
      assert.equal(started[0]!.activityTaskStartedEventAttributes?.attempt, 1, 'prepareCollection timed out and was retried');
      const model = await withPg(async (c) => (await c.query('SELECT model FROM vector_ingest.collections WHERE name = $1', [collection])).rows[0].model);
      assert.notEqual(model, 'an-older-model');
    } finally {
      clearTimeout(release);
      await holder.query('COMMIT').catch(() => undefined);
      await holder.end().catch(() => undefined);
    }
  });
});
