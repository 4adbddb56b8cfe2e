import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { WorkflowFailedError } from '@temporalio/client';
import { after, before, describe, it } from 'node:test';
import type { DevServer } from '../../src/embedded/temporal';
import { startEmbeddingServer, type EmbeddingServer } from '../../src/testing/embedding-server';
import { ingestCollection } from '../../src/workflows';
import type { ReindexResult } from '../../src/workflows/reindex';
import { TASK_QUEUE, type IngestInput, type IngestResult } from '../../src/contracts/ingest';
import { buildCorpus } from '../support/corpus';
import { startTemporal, teardown, startTestWorker, tempDir, testClient, testConfig, uniqueCollection, withPg, type TestWorker } from '../support/env';
import { expectedRows, sinkRows, textHashes } from '../support/expected';
import { scheduledActivities } from '../support/history';
import { comparePaths } from '../../src/sources/directory';

const exec = promisify(execFile);
const CHUNKING = { chunkTokens: 120, overlapTokens: 16 };

// Incremental re-indexing with exact expectations: after adding, changing, shrinking and
// deleting documents, the sink holds exactly what the source now says, and the provider was
// asked to embed exactly the chunk texts it had never seen.
describe('incremental re-index (pgvector)', () => {
  let server: DevServer;
  let emb: EmbeddingServer;
  let worker: TestWorker;
  let tc: Awaited<ReturnType<typeof testClient>>;
  let dir: string;
  let files: string[];
  const collection = uniqueCollection('it_incr');
  const model = `incr-${collection}`; // unique: the shared embedding cache must not answer for the provider
  let runs = 0;

  // The fault server shortens vectors to `dimensions` when asked, so this test sends it.
  const env = (dims: number) => ({ OPENAI_BASE_URL: emb.url, EMBEDDING_MODEL: model, EMBEDDING_DIMENSIONS: String(dims), EMBEDDING_SEND_DIMENSIONS: 'true' });
  let lastRun = { workflowId: '', firstRunId: '' };
  const ingest = async (extra: Partial<IngestInput> = {}): Promise<IngestResult> => {
    const input: IngestInput = { collection, source: { kind: 'directory', path: dir }, chunking: CHUNKING, pageSize: 10, ...extra };
    const h = await tc.client.workflow.start(ingestCollection, { taskQueue: TASK_QUEUE, workflowId: `${collection}-${++runs}`, args: [input] });
    lastRun = { workflowId: h.workflowId, firstRunId: h.firstExecutionRunId };
    return h.result();
  };
  const scheduled = () => scheduledActivities(tc.client, lastRun.workflowId, lastRun.firstRunId);

  before(async () => {
    dir = tempDir('vi-incr-');
    files = buildCorpus(dir, { files: 40, largeFiles: 2 });
    [server, emb] = await Promise.all([startTemporal(), startEmbeddingServer({ dimensions: 16 })]);
    worker = await startTestWorker(server, testConfig({}, env(16)));
    tc = await testClient(server);
  });

  after(() => teardown({ tc, worker, server, emb, collection }));

  it('first run: the sink holds exactly the expected chunks', async () => {
    const r = await ingest();
    const expected = await expectedRows(collection, dir, CHUNKING);
    assert.equal(r.counters.chunksUpserted, expected.length);
    assert.deepEqual(await sinkRows(collection), expected);
    assert.equal(emb.stats.inputs, textHashes(expected).size);
  });

  it('after add, change, shrink and delete: exact contents, and only new texts embedded', async () => {
    const before = await expectedRows(collection, dir, CHUNKING);
    const seen = textHashes(before);
    const [changed, shrunk, deleted] = [files[0]!, files[3]!, files[7]!]; // files[0] is a large document
    // change one paragraph in the middle of a large document
    const text = readFileSync(path.join(dir, changed), 'utf8');
    const mid = text.indexOf('\n\n', Math.floor(text.length / 2));
    writeFileSync(path.join(dir, changed), `${text.slice(0, mid)}\n\nA brand new paragraph about schedules and replays.${text.slice(mid)}`);
    // shrink a document to its first quarter, delete one, add one
    const s = readFileSync(path.join(dir, shrunk), 'utf8');
    writeFileSync(path.join(dir, shrunk), s.slice(0, Math.max(200, Math.floor(s.length / 4))));
    rmSync(path.join(dir, deleted));
    writeFileSync(path.join(dir, 'added.md'), '# Added\n\nA document that did not exist in the first run, about incremental indexing.\n');

    emb.reset();
    const r = await ingest();
    const expected = await expectedRows(collection, dir, CHUNKING);
    const newTexts = [...textHashes(expected)].filter((h) => !seen.has(h));
    assert.equal(r.counters.documentsChanged, 3, 'changed + shrunk + added');
    assert.equal(r.counters.documentsUnchanged, files.length - 3);
    assert.equal(r.counters.documentsDeleted, 1);
    assert.deepEqual(await sinkRows(collection), expected, 'sink differs from the source');
    assert.equal(emb.stats.inputs, newTexts.length, 'embedded texts other than the new ones');
    assert.ok(newTexts.length < r.counters.chunksPlanned, 'unchanged chunks of changed documents came from the cache');
    const docs = await withPg(async (c) => (await c.query('SELECT count(*)::int AS n FROM vector_ingest.documents WHERE collection = $1', [collection])).rows[0].n);
    assert.equal(docs, files.length, 'state keeps one record per existing document');
  });

  it('an unchanged re-run after that embeds nothing, and schedules nothing but planning and the finish', async () => {
    emb.reset();
    const r = await ingest();
    assert.equal(r.counters.documentsChanged, 0);
    assert.equal(r.counters.documentsUnchanged, files.length);
    assert.equal(emb.stats.requests, 0);
    const acts = await scheduled();
    assert.deepEqual([...acts.keys()].sort(), ['finishRun', 'planPage', 'prepareCollection'], 'activities other than planning ran');
    assert.equal(acts.get('planPage'), 1, 'one plan passes over all 4 unchanged pages');
    assert.equal(r.counters.pages, 1);
  });

  it('a change in the middle: one plan passes over the unchanged pages up to it, the rest is passed over by the next', async () => {
    const before = await expectedRows(collection, dir, CHUNKING);
    const ids = [...new Set(before.map((row) => row.document_id))].sort(comparePaths);
    assert.equal(ids.length, files.length);
    const target = ids[25]!; // on the third page of 10
    appendFileSync(path.join(dir, target), '\n\nA paragraph added in the middle of the source.\n');
    const seen = textHashes(before);
    emb.reset();
    const r = await ingest();
    const expected = await expectedRows(collection, dir, CHUNKING);
    assert.deepEqual(await sinkRows(collection), expected);
    assert.equal(emb.stats.inputs, [...textHashes(expected)].filter((h) => !seen.has(h)).length, 'embedded other texts than the new ones');
    assert.equal(r.counters.documentsChanged, 1);
    assert.equal(r.counters.documentsUnchanged, files.length - 1);
    assert.equal(r.counters.documentsListed, files.length);
    const acts = await scheduled();
    assert.equal(acts.get('planPage'), 2, 'pages 0-2 (the change) in one plan, page 3 in the next');
    assert.equal(acts.get('commitPage'), 1);
  });

  it('a scheduled re-index through the real `temporal schedule` CLI picks up a change', async () => {
    appendFileSync(path.join(dir, 'added.md'), '\nOne more line for the schedule.\n');
    const cli = process.env.TEMPORAL_CLI_PATH ?? 'temporal';
    const sid = `reindex-${collection}`;
    const base = ['--address', server.address];
    await exec(cli, ['schedule', 'create', ...base, '--schedule-id', sid, '--workflow-id', sid, '--task-queue', TASK_QUEUE, '--type', 'reindexCollection', '--input', JSON.stringify({ collection }), '--interval', '24h', '--overlap-policy', 'Skip']);
    await exec(cli, ['schedule', 'trigger', ...base, '--schedule-id', sid]);
    const handle = tc.client.schedule.getHandle(sid);
    let workflowId: string | undefined;
    for (let i = 0; i < 100 && !workflowId; i++) {
      const d = await handle.describe();
      const a = d.info.recentActions[0]?.action;
      workflowId = a?.type === 'startWorkflow' ? a.workflow.workflowId : undefined;
      if (!workflowId) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(workflowId, 'the schedule did not start a run');
    const result = (await tc.client.workflow.getHandle(workflowId).result()) as ReindexResult;
    assert.equal(result.skipped, false);
    if (!result.skipped) {
      assert.equal(result.counters.documentsChanged, 1);
      assert.equal(result.counters.documentsUnchanged, files.length - 1);
    }
    assert.deepEqual(await sinkRows(collection), await expectedRows(collection, dir, CHUNKING));
    await exec(cli, ['schedule', 'delete', ...base, '--schedule-id', sid]);
  });

  it('the vector-ingest schedule commands create, describe, pause, trigger and delete', async () => {
    const bin = path.resolve(__dirname, '../../bin/vector-ingest.js');
    const base = ['--temporal-address', server.address];
    const run = (...args: string[]) => exec(process.execPath, [bin, 'schedule', ...args, ...base]);
    await run('create', collection, '--every', '12h');
    const d1 = JSON.parse((await run('describe', collection, '--json')).stdout);
    assert.equal(d1.overlap, 'SKIP');
    assert.equal(d1.paused, false);
    assert.equal(d1.nextActionTimes.length > 0, true);
    await run('pause', collection, '--note', 'maintenance');
    const d2 = JSON.parse((await run('describe', collection, '--json')).stdout);
    assert.equal(d2.paused, true);
    assert.equal(d2.note, 'maintenance');
    const list = JSON.parse((await run('list', '--json')).stdout) as Array<{ collection: string }>;
    // visibility of schedules is eventually consistent; the describe above is authoritative
    assert.ok(Array.isArray(list));
    await run('delete', collection);
    const gone = await run('describe', collection).catch((e) => e);
    assert.equal(gone.code, 4);
    const bad = await run('create', collection).catch((e) => e);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /exactly one of --every/);
  });

  it('refuses a different embedding size for an existing collection, unless rebuilt with full', async () => {
    await worker.stop();
    worker = await startTestWorker(server, testConfig({}, env(8)));
    await assert.rejects(ingest(), (e: unknown) => {
      assert.ok(e instanceof WorkflowFailedError);
      const msg = String((e.cause as { cause?: Error })?.cause?.message ?? e.cause?.message);
      assert.match(msg, /was built with pgvector \/ incr-.* \(16 dimensions\), but this worker has pgvector \/ incr-.* \(8 dimensions\)/);
      assert.match(msg, /--full/);
      return true;
    });
    const r = await ingest({ full: true });
    assert.equal(r.counters.documentsChanged, files.length);
    const dims = await withPg(async (c) => (await c.query(`SELECT DISTINCT vector_dims(embedding) AS d FROM public.${collection}`)).rows);
    assert.deepEqual(dims, [{ d: 8 }]);
    assert.deepEqual(await sinkRows(collection), await expectedRows(collection, dir, CHUNKING));
  });
});
