import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { DevServer } from '../../src/embedded/temporal';
import type { IngestResult } from '../../src/contracts/ingest';
import { buildCorpus } from '../support/corpus';
import { startTemporal, startTestWorker, tempDir, testClient, testConfig, uniqueCollection, withPg, type TestWorker } from '../support/env';

const run = promisify(execFile);

// The contract operators rely on: a run started by the real `temporal` binary with plain JSON
// input, on the documented workflow type and task queue, completes.
describe('started from the Temporal CLI', () => {
  let server: DevServer;
  let worker: TestWorker;
  let tc: Awaited<ReturnType<typeof testClient>>;
  const collection = uniqueCollection('it_cli');
  const cli = process.env.TEMPORAL_CLI_PATH ?? 'temporal';

  before(async () => {
    server = await startTemporal();
    worker = await startTestWorker(server, testConfig({ embeddingDimensions: 32 }));
    tc = await testClient(server);
  });
  after(async () => {
    await tc?.close();
    await worker?.stop();
    await withPg((c) => c.query(`DROP TABLE IF EXISTS public.${collection}`)).catch(() => undefined);
    await server?.stop();
  });

  it('`temporal workflow start --type ingestCollection --task-queue vector-ingest --input <json>` completes', async () => {
    const dir = tempDir('vi-cli-corpus-');
    buildCorpus(dir, { files: 12, largeFiles: 1 });
    const input = JSON.stringify({ collection, source: { kind: 'directory', path: dir } });
    const workflowId = `${collection}-from-cli`;
    const { stdout } = await run(cli, [
      'workflow', 'start',
      '--address', server.address,
      '--namespace', server.namespace,
      '--type', 'ingestCollection',
      '--task-queue', 'vector-ingest',
      '--workflow-id', workflowId,
      '--input', input,
      '--output', 'json',
    ]);
    assert.match(stdout, new RegExp(workflowId));
    const result = (await tc.client.workflow.getHandle(workflowId).result()) as IngestResult;
    assert.equal(result.counters.documentsListed, 12);
    assert.equal(result.counters.documentsFailed, 0);
    const rows = await withPg(async (c) => (await c.query(`SELECT count(*)::int AS n FROM public.${collection}`)).rows[0].n);
    assert.equal(rows, result.counters.chunksUpserted);
    assert.ok(rows >= 12);

    // and the result reads back through the CLI too
    const { stdout: desc } = await run(cli, ['workflow', 'describe', '--address', server.address, '--workflow-id', workflowId, '--output', 'json']);
    assert.match(desc, /WORKFLOW_EXECUTION_STATUS_COMPLETED|"status":\s*"?(2|COMPLETED)/);
  });
});
