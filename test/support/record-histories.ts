/**
 * Records the histories of representative runs into test/histories/, for the determinism test
 * (test/workflow/replay-histories.test.ts) that replays them against the current workflow code.
 *
 *   eval "$(bash scripts/infra/install-temporal.sh)"; export TEMPORAL_CLI_PATH
 *   HISTORY_TAG=plan-ahead node --import tsx test/support/record-histories.ts
 *
 * Record new ones when you add behaviour, under a new tag (files are named <name>.<tag>.json);
 * keep the old ones: they are what running workflows look like, and a change that cannot replay
 * them needs `patched()`.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { execFile } from 'node:child_process';
import type { temporal } from '@temporalio/proto';
import { promisify } from 'node:util';
import { startEmbeddingServer } from '../../src/testing/embedding-server';
import { failuresQuery, ingestCollection, replayUpdate } from '../../src/workflows';
import { replayWorkflowId } from '../../src/contracts/replay';
import { TASK_QUEUE } from '../../src/contracts/ingest';
import { buildCorpus } from './corpus';
import { startTemporal, startTestWorker, tempDir, testClient, testConfig, withPg } from './env';

const exec = promisify(execFile);

async function main(): Promise<void> {
  const out = path.resolve(__dirname, '../histories');
  mkdirSync(out, { recursive: true });
  const server = await startTemporal();
  const emb = await startEmbeddingServer({
    dimensions: 8,
    fault: (r) => (r.inputs.some((t) => t.includes('POISON')) ? { status: 400, body: { error: { message: 'rejected', type: 'invalid_request_error' } } } : undefined),
  });
  const worker = await startTestWorker(server, testConfig({}, { OPENAI_BASE_URL: emb.url, EMBEDDING_MODEL: 'history-recorder', EMBEDDING_DIMENSIONS: '8' }));
  const { client, close } = await testClient(server);
  const collection = 'histories';
  try {
    await withPg(async (c) => {
      await c.query(`DROP TABLE IF EXISTS public.${collection}`);
      await c.query('DELETE FROM vector_ingest.documents WHERE collection = $1', [collection]);
      await c.query('DELETE FROM vector_ingest.collections WHERE name = $1', [collection]);
    });
    const dir = tempDir('vi-hist-');
    buildCorpus(dir, { files: 14, largeFiles: 1 });
    writeFileSync(path.join(dir, 'binary.txt'), Buffer.from([0, 1, 2, 3]));
    writeFileSync(path.join(dir, 'poison.md'), `# P\n\nPOISON ${'text '.repeat(50)}`);
    const h = await client.workflow.start(ingestCollection, {
      taskQueue: TASK_QUEUE,
      workflowId: 'ingest-histories',
      args: [{ collection, source: { kind: 'directory', path: dir }, pageSize: 4, maxPagesPerRun: 2, chunking: { chunkTokens: 100, overlapTokens: 10 }, batching: { maxChunks: 8, maxTokens: 4000 } }],
    });
    await h.result();
    // the chain of runs: first, a middle one (started by continue-as-new), and the last
    let runId: string | undefined = h.firstExecutionRunId;
    const runs: string[] = [];
    while (runId) {
      runs.push(runId);
      const hist: temporal.api.history.v1.IHistory = await client.workflow.getHandle('ingest-histories', runId).fetchHistory();
      const last: temporal.api.history.v1.IHistoryEvent | undefined = hist.events?.[hist.events.length - 1];
      runId = last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
    }
    // The Temporal CLI's JSON is the format operators export and historyFromJSON reads.
    const save = async (name: string, workflowId: string, run?: string) => {
      const args = ['workflow', 'show', '--address', server.address, '--workflow-id', workflowId, '--output', 'json'];
      if (run) args.push('--run-id', run);
      const { stdout } = await exec(process.env.TEMPORAL_CLI_PATH ?? 'temporal', args, { maxBuffer: 64 << 20 });
      const file = process.env.HISTORY_TAG ? `${name}.${process.env.HISTORY_TAG}.json` : `${name}.json`;
      writeFileSync(path.join(out, file), stdout);
      console.log(`${file}: ${(JSON.parse(stdout).events ?? []).length} events`);
    };
    await save('ingest-first-run', 'ingest-histories', runs[0]);
    await save('ingest-last-run', 'ingest-histories', runs[runs.length - 1]);

    const replay = client.workflow.getHandle(replayWorkflowId(collection));
    await replay.query(failuresQuery, {});
    writeFileSync(path.join(dir, 'binary.txt'), 'fixed now');
    await replay.executeUpdate(replayUpdate, { args: [{ ids: ['binary.txt'] }] });
    await replay.executeUpdate(replayUpdate, { args: [{ all: true }] });
    await replay.terminate('recorded');
    await save('replay-failures', replayWorkflowId(collection));
  } finally {
    await close();
    await worker.stop();
    await withPg((c) => c.query(`DROP TABLE IF EXISTS public.${collection}`)).catch(() => undefined);
    await server.stop();
    await emb.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
