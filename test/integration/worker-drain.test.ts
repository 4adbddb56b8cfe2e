import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DevServer } from '../../src/embedded/temporal';
import { startEmbeddingServer, type EmbeddingServer } from '../../src/testing/embedding-server';
import { ingestCollection } from '../../src/workflows';
import { TASK_QUEUE, type IngestInput } from '../../src/contracts/ingest';
import { startTemporal, startTestWorker, teardown, testClient, testConfig, uniqueCollection, type TestWorker } from '../support/env';

const GRACE_MS = 5_000; // startTestWorker's shutdownGraceTime
const SLOW_MS = 20_000;

// A worker's drain ends at its shutdown grace time: an activity attempt still running then (an
// embedding request the provider sits on) fails as WorkerShutdown and is retried on another
// worker, instead of holding the stopping worker (and its clients) until the request ends.
describe('worker drain honours shutdownGraceTime', () => {
  let server: DevServer;
  let emb: EmbeddingServer;
  let tc: Awaited<ReturnType<typeof testClient>>;
  let second: TestWorker | undefined;
  const collection = uniqueCollection('it_grace');
  let slow = true;
  let slowArrived = false;

  before(async () => {
    [server, emb] = await Promise.all([
      startTemporal(),
      startEmbeddingServer({
        dimensions: 8,
        // The workflow's health probe is answered at once; batches wait while `slow`.
        fault: (r) => {
          if (!slow || r.inputs.some((t) => t.includes('health probe'))) return undefined;
          slowArrived = true;
          return { delayMs: SLOW_MS };
        },
      }),
    ]);
    tc = await testClient(server);
  });
  after(() => teardown({ tc, worker: second, server, emb, collection }));

  it('stops within the grace time with an embedding request still unanswered; the attempt is retried and the run completes', async () => {
    const config = testConfig({}, { OPENAI_BASE_URL: emb.url, EMBEDDING_MODEL: `grace-${collection}`, EMBEDDING_DIMENSIONS: '8' });
    const first = await startTestWorker(server, config);
    const input: IngestInput = { collection, source: { kind: 'synthetic', documents: 4 } };
    const h = await tc.client.workflow.start(ingestCollection, { taskQueue: TASK_QUEUE, workflowId: `${collection}-run`, args: [input] });
    for (const deadline = Date.now() + 60_000; !slowArrived; ) {
      assert.ok(Date.now() < deadline, 'no embedding request reached the provider');
      await new Promise((r) => setTimeout(r, 50));
    }
    const t0 = Date.now();
    await first.stop();
    const drainMs = Date.now() - t0;
    console.log(`worker-drain: stopped ${drainMs} ms after shutdown with an embedding request of ${SLOW_MS} ms in flight (grace ${GRACE_MS} ms)`);
    assert.ok(drainMs < GRACE_MS + 4_000, `the drain took ${drainMs} ms: it waited for the request instead of ending at the ${GRACE_MS} ms grace time`);

    slow = false;
    second = await startTestWorker(server, config);
    const r = await h.result();
    assert.equal(r.counters.documentsFailed, 0);
    assert.equal(r.counters.chunksFailed, 0);
  });
});
