import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import type { DevServer } from '../../src/embedded/temporal';
import { startEmbeddingServer, type EmbeddingServer } from '../../src/testing/embedding-server';
import { ingestCollection } from '../../src/workflows';
import { LeaseLostError } from '../../src/state/leases';
import { DEFAULT_CHUNKING, TASK_QUEUE, type IngestInput, type IngestResult } from '../../src/contracts/ingest';
import { buildCorpus } from '../support/corpus';
import { expectedRows, sinkRows } from '../support/expected';
import { startTemporal, startTestWorker, teardown, tempDir, testClient, testConfig, uniqueCollection, withPg, type TestWorker } from '../support/env';

const run = promisify(execFile);

function failureType(err: unknown): string | undefined {
  for (let e: unknown = err, i = 0; e instanceof Error && i < 10; e = e.cause, i++) {
    if (e instanceof ApplicationFailure && e.type) return e.type;
  }
  return undefined;
}

function innermostMessage(err: unknown): string {
  let e = err as Error;
  for (let i = 0; i < 10 && e.cause instanceof Error; i++) e = e.cause;
  return e.message;
}

// Issue 11 item 1: two runs of one collection at once deleted each other's documents (each
// run's finish deletes what it did not see). One run per collection is enforced by a lease in
// Postgres; these runs are started the way operators start them, through the Temporal CLI.
describe('one active run per collection', () => {
  let server: DevServer;
  let emb: EmbeddingServer;
  let worker: TestWorker;
  let tc: Awaited<ReturnType<typeof testClient>>;
  const cli = process.env.TEMPORAL_CLI_PATH ?? 'temporal';
  const collections: string[] = [];

  before(async () => {
    [server, emb] = await Promise.all([startTemporal(), startEmbeddingServer({ dimensions: 16, latencyMs: 20 })]);
    worker = await startTestWorker(server, testConfig({}, { OPENAI_BASE_URL: emb.url, EMBEDDING_MODEL: 'lease-test', EMBEDDING_DIMENSIONS: '16' }));
    tc = await testClient(server);
  });
  after(async () => {
    for (const c of collections) await withPg((p) => p.query(`DROP TABLE IF EXISTS public.${c}`)).catch(() => undefined);
    await teardown({ tc, worker, server, emb });
  });

  const startFromCli = (workflowId: string, input: IngestInput) =>
    run(cli, [
      'workflow', 'start', '--address', server.address, '--namespace', server.namespace,
      '--type', 'ingestCollection', '--task-queue', TASK_QUEUE, '--workflow-id', workflowId,
      '--input', JSON.stringify(input), '--output', 'json',
    ]);

  it('two runs started together under different workflow ids: one completes, the other fails with CollectionBusy, the collection is whole', async () => {
    const collection = uniqueCollection('it_lease');
    collections.push(collection);
    const dir = tempDir('vi-lease-');
    buildCorpus(dir, { files: 60, largeFiles: 2 });
    const input: IngestInput = { collection, source: { kind: 'directory', path: dir }, pageSize: 10 };
    const ids = [`${collection}-a`, `${collection}-b`];
    await Promise.all(ids.map((id) => startFromCli(id, input)));
    const outcomes = await Promise.allSettled(ids.map((id) => tc.client.workflow.getHandle(id).result() as Promise<IngestResult>));

    const done = outcomes.filter((o): o is PromiseFulfilledResult<IngestResult> => o.status === 'fulfilled');
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    assert.equal(done.length, 1, `exactly one run completes: ${JSON.stringify(outcomes.map((o) => o.status))}`);
    assert.equal(refused.length, 1);
    assert.ok(refused[0]!.reason instanceof WorkflowFailedError);
    assert.equal(failureType(refused[0]!.reason), 'CollectionBusy');
    const winner = ids[outcomes.findIndex((o) => o.status === 'fulfilled')]!;
    assert.match(innermostMessage(refused[0]!.reason), new RegExp(`workflow ${winner}`), 'the message names the holder');

    const expected = await expectedRows(collection, dir, DEFAULT_CHUNKING);
    assert.deepEqual(await sinkRows(collection), expected, 'the sink holds exactly the source chunks');
    assert.equal(done[0]!.value.counters.documentsDeleted, 0);
    const lease = await worker.deps.store.leases.get(collection);
    assert.equal(lease?.workflowId, winner);
    assert.ok(lease?.releasedAt, 'the finished run released the lease');
  });

  it('a terminated holder is taken over, and it can no longer write', async () => {
    const collection = uniqueCollection('it_lease_to');
    collections.push(collection);
    const dir = tempDir('vi-lease-to-');
    buildCorpus(dir, { files: 20, largeFiles: 0 });
    const input: IngestInput = { collection, source: { kind: 'directory', path: dir }, pageSize: 5, timeouts: { probeSeconds: 1 } };
    emb.setOutage('503'); // the first run holds the lease and waits on its circuit breaker
    try {
      await startFromCli(`${collection}-stuck`, input);
      const stuck = tc.client.workflow.getHandle(`${collection}-stuck`);
      const stuckRun = (await stuck.describe()).runId;
      for (let i = 0; i < 100 && (await worker.deps.store.leases.get(collection))?.runKey !== stuckRun; i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal((await worker.deps.store.leases.get(collection))?.runKey, stuckRun, 'the first run holds the lease');

      // While it runs, a second run is refused.
      await startFromCli(`${collection}-second`, input);
      await assert.rejects(tc.client.workflow.getHandle(`${collection}-second`).result(), (err) => failureType(err) === 'CollectionBusy');

      await stuck.terminate('test: the holder dies');
      emb.setOutage('off');
      await startFromCli(`${collection}-third`, input);
      const third = tc.client.workflow.getHandle(`${collection}-third`);
      const result = (await third.result()) as IngestResult;
      assert.equal(result.counters.documentsListed, 20);
      assert.deepEqual(await sinkRows(collection), await expectedRows(collection, dir, DEFAULT_CHUNKING));
      const lease = await worker.deps.store.leases.get(collection);
      assert.equal(lease?.runKey, result.runKey, 'the third run took the lease over');

      // The terminated run is fenced off: none of its writes may start any more.
      await assert.rejects(worker.deps.store.leases.fenced(collection, stuckRun, 1000, async () => 'wrote'), LeaseLostError);
    } finally {
      emb.setOutage('off');
    }
  });
});
