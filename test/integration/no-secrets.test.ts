import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { DevServer } from '../../src/embedded/temporal';
import { startEmbeddingServer, type EmbeddingServer } from '../../src/testing/embedding-server';
import { ingestCollection } from '../../src/workflows';
import { replayWorkflowId } from '../../src/contracts/replay';
import { TASK_QUEUE } from '../../src/contracts/ingest';
import { buildCorpus } from '../support/corpus';
import { startTemporal, tempDir, testClient, uniqueCollection, withPg } from '../support/env';

const exec = promisify(execFile);
const API_KEY = 'sk-proj-NEVER-IN-HISTORY-7f3a9c';
const DB_PASSWORD = 'pw-NEVER-IN-LOGS-41d2';

// Secrets live in the worker's environment only. This runs a real worker process with an API
// key and a database password, drives an ingest that also creates the replay workflow, then
// reads both workflows' whole histories through the Temporal CLI and the worker's whole log.
describe('no secrets in history or logs', () => {
  let server: DevServer;
  let emb: EmbeddingServer;
  let worker: ChildProcess;
  let log = '';
  let tc: Awaited<ReturnType<typeof testClient>>;
  const collection = uniqueCollection('it_secret');
  const cli = process.env.TEMPORAL_CLI_PATH ?? 'temporal';

  before(async () => {
    [server, emb] = await Promise.all([startTemporal(), startEmbeddingServer({ dimensions: 8 })]);
    tc = await testClient(server);
    worker = spawn(process.execPath, [path.resolve(__dirname, '../../bin/vector-ingest.js'), 'worker'], {
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: server.address,
        DATABASE_URL: `postgres://postgres:${DB_PASSWORD}@127.0.0.1:5432/vector_ingest_test`,
        OPENAI_API_KEY: API_KEY,
        OPENAI_BASE_URL: emb.url,
        EMBEDDING_MODEL: `secret-test-${collection}`, // unique, so the shared embedding cache cannot answer for the provider
        EMBEDDING_DIMENSIONS: '8',
        LOG_LEVEL: 'debug',
        LOG_FORMAT: 'json',
      },
    });
    worker.stdout!.on('data', (d) => (log += d));
    worker.stderr!.on('data', (d) => (log += d));
  });

  after(async () => {
    worker?.kill('SIGTERM');
    await new Promise((r) => worker?.once('exit', r));
    await tc?.close();
    await withPg((c) => c.query(`DROP TABLE IF EXISTS public.${collection}`)).catch(() => undefined);
    await Promise.all([server?.stop(), emb?.close()]);
  });

  it('appears nowhere in either workflow history or in the worker log', async () => {
    const dir = tempDir('vi-secret-');
    buildCorpus(dir, { files: 8, largeFiles: 0 });
    writeFileSync(path.join(dir, 'broken.txt'), Buffer.from([0xff, 0xfe, 0x00, 0x41]));
    const h = await tc.client.workflow.start(ingestCollection, {
      taskQueue: TASK_QUEUE,
      workflowId: `${collection}-run`,
      args: [{ collection, source: { kind: 'directory', path: dir } }],
    });
    const result = await h.result();
    assert.equal(result.counters.documentsFailed, 1);
    assert.ok(emb.stats.requests > 0, 'positive control: the worker used the keyed OpenAI-compatible embedder');

    const histories: string[] = [];
    for (const id of [`${collection}-run`, replayWorkflowId(collection)]) {
      const { stdout } = await exec(cli, ['workflow', 'show', '--address', server.address, '--workflow-id', id, '--output', 'json'], { maxBuffer: 64 << 20 });
      assert.ok(stdout.length > 1000, `history of ${id} looks empty`);
      // payloads in `workflow show --output json` are base64: decode every one of them
      const decoded = [...stdout.matchAll(/"data":\s*"([A-Za-z0-9+/=]+)"/g)].map((m) => Buffer.from(m[1]!, 'base64').toString('utf8'));
      assert.ok(decoded.some((d) => d.includes(collection)), `positive control: decoded payloads of ${id} name the collection`);
      histories.push(`${stdout}\n${decoded.join('\n')}`);
    }
    // give the worker a moment to flush, then check its log too
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(log.length > 0, 'positive control: the worker logged something');
    assert.match(log, /starting worker/);
    for (const [name, text] of [['ingest history', histories[0]!], ['replay history', histories[1]!], ['worker log', log]] as const) {
      for (const secret of [API_KEY, DB_PASSWORD]) {
        assert.ok(!text.includes(secret), `${name} contains a secret`);
      }
    }
  });
});
