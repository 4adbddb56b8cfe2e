import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { DevServer } from '../../src/embedded/temporal';
import { TASK_QUEUE } from '../../src/contracts/ingest';
import { SEARCH_ATTRIBUTES } from '../../src/workflows/search-attributes';
import { runCli } from '../support/cli-run';
import { buildCorpus } from '../support/corpus';
import { startTemporal, startTestWorker, teardown, tempDir, testClient, testConfig, TEST_DATABASE_URL, uniqueCollection, type TestWorker } from '../support/env';

const run = promisify(execFile);

const cli = (args: string[], env: NodeJS.ProcessEnv) => runCli(args, { env });

// Issue 11 item 4: `status` found a collection's runs only under the id `ingest-<collection>`, so
// a run started from the Temporal CLI under another id (or by a schedule) was invisible to it;
// and operators had no command to register the search attributes that make runs findable.
describe('finding a collection\'s runs, and registering the search attributes', () => {
  let server: DevServer;
  let worker: TestWorker;
  let tc: Awaited<ReturnType<typeof testClient>>;
  const collection = uniqueCollection('it_find');
  const temporalCli = process.env.TEMPORAL_CLI_PATH ?? 'temporal';

  before(async () => {
    server = await startTemporal();
    worker = await startTestWorker(server, testConfig({ embeddingDimensions: 16 }));
    tc = await testClient(server);
  });
  after(() => teardown({ tc, worker, server, collection }));

  it('`status` finds a run started by the Temporal CLI under any workflow id', async () => {
    const dir = tempDir('vi-find-');
    buildCorpus(dir, { files: 6, largeFiles: 0 });
    const workflowId = `nightly-${collection}`;
    await run(temporalCli, [
      'workflow', 'start', '--address', server.address, '--namespace', server.namespace, '--type', 'ingestCollection',
      '--task-queue', TASK_QUEUE, '--workflow-id', workflowId, '--input', JSON.stringify({ collection, source: { kind: 'directory', path: dir } }),
    ]);
    await tc.client.workflow.getHandle(workflowId).result();
    for (let i = 0; i < 50; i++) {
      const seen = [];
      for await (const e of tc.client.workflow.list({ query: `Collection = '${collection}' AND ExecutionStatus = 'Completed'` })) seen.push(e);
      if (seen.length > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const env = { TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: server.namespace, DATABASE_URL: TEST_DATABASE_URL };
    const res = await cli(['status', collection, '--json'], env);
    assert.equal(res.code, 0, res.stderr);
    const out = JSON.parse(res.stdout.trim());
    assert.equal(out.workflowId, workflowId);
    assert.equal(out.status, 'COMPLETED');
    assert.equal(out.foundBy, 'search-attribute');
    assert.equal(out.result.counters.documentsListed, 6);
  });

  it('`setup` registers the search attributes on a namespace that lacks them, and is idempotent', async () => {
    const namespace = `ns_${collection}`;
    await run(temporalCli, ['operator', 'namespace', 'create', '--address', server.address, '--namespace', namespace]);
    const env = { TEMPORAL_ADDRESS: server.address };
    const listed = async () =>
      Object.keys((await tc.client.connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {});
    for (const name of Object.keys(SEARCH_ATTRIBUTES)) assert.ok(!(await listed()).includes(name), `${name} is already there`);
    const first = await cli(['setup', '--namespace', namespace, '--json'], env);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(JSON.parse(first.stdout).registered.sort(), Object.keys(SEARCH_ATTRIBUTES).sort());
    for (const name of Object.keys(SEARCH_ATTRIBUTES)) assert.ok((await listed()).includes(name), `${name} was not registered`);
    const again = await cli(['setup', '--namespace', namespace, '--json'], env);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(JSON.parse(again.stdout).registered, []);
  });
});
