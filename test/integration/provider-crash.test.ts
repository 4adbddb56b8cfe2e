import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DevServer } from '../../src/embedded/temporal';
import { startEmbeddingServer, type EmbeddingServer } from '../../src/testing/embedding-server';
import { failuresQuery, ingestCollection } from '../../src/workflows';
import { replayWorkflowId } from '../../src/contracts/replay';
import { TASK_QUEUE, type IngestInput, type IngestResult } from '../../src/contracts/ingest';
import { buildCorpus } from '../support/corpus';
import { expectedRows, sinkRows } from '../support/expected';
import { startTemporal, startTestWorker, teardown, tempDir, testClient, testConfig, uniqueCollection, type TestWorker } from '../support/env';

const CRASH = 'MODEL-SERVER-CRASHES-ON-THIS-PASSAGE';
const CHUNKING = { chunkTokens: 120, overlapTokens: 0 };

// Issue 11 item 2: a model server that answers 500 every time on one input kept a run cycling
// forever (attempts fail, circuit opens, the tiny probe succeeds, the batch fails again). Now the
// batch is bisected while the provider answers a probe, the chunk that fails alone becomes a
// per-item failure (ProviderCrashOnInput) on the replay list, and the run completes.
describe('a provider that crashes on one passage', () => {
  let server: DevServer;
  let emb: EmbeddingServer;
  let worker: TestWorker;
  let tc: Awaited<ReturnType<typeof testClient>>;
  let dir: string;
  const collection = uniqueCollection('it_crash');

  before(async () => {
    dir = tempDir('vi-crash-');
    buildCorpus(dir, { files: 30, largeFiles: 1 });
    const paras = Array.from({ length: 6 }, (_, i) => `Paragraph ${i} of the crashing document is about ${'batches and retries '.repeat(20)}.`);
    paras[3] = `${CRASH} ${'the model server falls over on this text '.repeat(10)}`;
    writeFileSync(path.join(dir, 'crashing.md'), `# Crashing\n\n${paras.join('\n\n')}\n`);
    [server, emb] = await Promise.all([startTemporal(), startEmbeddingServer({ dimensions: 16, crashMarker: CRASH })]);
    worker = await startTestWorker(server, testConfig({}, { OPENAI_BASE_URL: emb.url, EMBEDDING_MODEL: `crash-${collection}`, EMBEDDING_DIMENSIONS: '16' }));
    tc = await testClient(server);
  });
  after(() => teardown({ tc, worker, server, emb, collection }));

  it('completes with exactly that chunk failed as ProviderCrashOnInput; everything else lands', async () => {
    const input: IngestInput = {
      collection,
      source: { kind: 'directory', path: dir },
      chunking: CHUNKING,
      batching: { maxChunks: 32, maxTokens: 32_000 },
      pageSize: 16,
      timeouts: { probeSeconds: 1 },
    };
    const h = await tc.client.workflow.start(ingestCollection, { taskQueue: TASK_QUEUE, workflowId: `${collection}-run`, args: [input] });
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const result = await Promise.race([
      h.result() as Promise<IngestResult>,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('the run did not complete within 45 s (cycling on the crashing batch?)')), 45_000);
      }),
    ]).finally(() => clearTimeout(timer));
    console.log(`provider-crash: completed in ${((Date.now() - started) / 1000).toFixed(1)} s, ${emb.stats.requests} requests, ${emb.stats.byStatus['500'] ?? 0} × 500`);

    assert.equal(result.counters.chunksFailed, 1);
    assert.equal(result.counters.documentsFailed, 0);
    const all = expectedRows(collection, dir, CHUNKING);
    const crashed = all.filter((r) => r.content.includes(CRASH));
    assert.equal(crashed.length, 1, 'the fixture puts the passage in exactly one chunk');
    assert.deepEqual(await sinkRows(collection), all.filter((r) => !r.content.includes(CRASH)), 'every other chunk landed, exactly');

    const page = await tc.client.workflow.getHandle(replayWorkflowId(collection)).query(failuresQuery, { limit: 10 });
    assert.equal(page.total, 1);
    const item = page.items[0]!;
    assert.equal(item.documentId, 'crashing.md');
    assert.equal(item.type, 'ProviderCrashOnInput');
    assert.deepEqual(item.chunkRanges, [[crashed[0]!.chunk_index, crashed[0]!.chunk_index]]);
  });
});
