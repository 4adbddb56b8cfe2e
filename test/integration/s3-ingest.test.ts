import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { WorkflowFailedError } from '@temporalio/client';
import type { DevServer } from '../../src/embedded/temporal';
import { startEmbeddingServer, type EmbeddingServer } from '../../src/testing/embedding-server';
import { failuresQuery, ingestCollection } from '../../src/workflows';
import { replayWorkflowId } from '../../src/contracts/replay';
import { TASK_QUEUE, type IngestInput, type IngestResult } from '../../src/contracts/ingest';
import { buildCorpus } from '../support/corpus';
import { startCountingProxy, type CountingProxy } from '../support/counting-proxy';
import { startTemporal, teardown, startTestWorker, tempDir, testClient, testConfig, uniqueCollection, withPg, type TestWorker } from '../support/env';
import { expectedRows, sinkRows, textHashes } from '../support/expected';
import { objectReads, startMoto, type MotoServer } from '../support/moto';
import { syncDirToBucket } from '../support/s3-sync';
import { cliAgainst } from '../support/cli-run';

const exec = promisify(execFile);
const CHUNKING = { chunkTokens: 120, overlapTokens: 16 };
const BUCKET = 'corpus';

// An s3 source through a real worker against moto's S3-compatible server over HTTP. A counting
// proxy in front of moto shows what the worker really asked for: an unchanged re-run lists the
// bucket and reads no object.
describe('s3 source: incremental ingest through a real worker (moto)', () => {
  let server: DevServer;
  let emb: EmbeddingServer;
  let moto: MotoServer;
  let proxy: CountingProxy;
  let worker: TestWorker;
  let tc: Awaited<ReturnType<typeof testClient>>;
  let s3: S3Client;
  let dir: string;
  let files: string[];
  let synced = new Map<string, string>();
  const collection = uniqueCollection('it_s3');
  const saved: Record<string, string | undefined> = {};
  let runs = 0;

  const ingest = async (extra: Partial<IngestInput> = {}, name = collection): Promise<IngestResult> => {
    const input: IngestInput = { collection: name, source: { kind: 's3', bucket: BUCKET }, chunking: CHUNKING, pageSize: 10, ...extra };
    const h = await tc.client.workflow.start(ingestCollection, { taskQueue: TASK_QUEUE, workflowId: `${name}-${++runs}`, args: [input] });
    return h.result();
  };

  before(async () => {
    dir = tempDir('vi-s3-');
    files = buildCorpus(dir, { files: 30, largeFiles: 1 });
    [server, emb, moto] = await Promise.all([startTemporal(), startEmbeddingServer({ dimensions: 16 }), startMoto()]);
    proxy = await startCountingProxy(moto.endpoint);
    // The worker's standard AWS environment: the only place an s3 source takes these from.
    const env = { AWS_ENDPOINT_URL_S3: proxy.url, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: 'us-east-1' };
    for (const [k, v] of Object.entries(env)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    s3 = new S3Client({ region: 'us-east-1', endpoint: moto.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    synced = await syncDirToBucket(s3, BUCKET, dir);
    worker = await startTestWorker(server, testConfig({ maxDocumentBytes: 256 * 1024 }, { OPENAI_BASE_URL: emb.url, EMBEDDING_MODEL: `s3-${collection}`, EMBEDDING_DIMENSIONS: '16' }));
    tc = await testClient(server);
  });

  after(async () => {
    await teardown({ tc, worker, server, emb, collection });
    for (const t of ['cli', 'vi']) await withPg((c) => c.query(`DROP TABLE IF EXISTS public.${collection}_${t}`)).catch(() => undefined);
    s3?.destroy();
    await proxy?.close();
    await moto?.stop();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it('first run: the sink holds exactly the bucket’s documents', async () => {
    const r = await ingest();
    const expected = await expectedRows(collection, dir, CHUNKING);
    assert.equal(r.counters.documentsListed, files.length);
    assert.equal(r.counters.documentsFailed, 0);
    assert.deepEqual(await sinkRows(collection), expected);
    assert.equal(emb.stats.inputs, textHashes(expected).size);
  });

  it('unchanged re-run: no object read, nothing embedded, nothing written', async () => {
    emb.reset();
    const from = proxy.log.length;
    const t0 = Date.now();
    const r = await ingest();
    console.log(`s3 unchanged re-run of ${files.length} objects: ${Date.now() - t0} ms`);
    assert.equal(r.counters.documentsChanged, 0);
    assert.equal(r.counters.documentsUnchanged, files.length);
    assert.equal(objectReads(proxy.log.slice(from), BUCKET), 0, 'objects read although their ETag and size were unchanged');
    assert.equal(emb.stats.requests, 0);
    assert.equal(r.counters.chunksUpserted, 0);
  });

  it('change, add and delete objects: exact contents, only the changed objects read', async () => {
    const seen = textHashes(await expectedRows(collection, dir, CHUNKING));
    const [changed, deleted] = [files[2]!, files[5]!];
    writeFileSync(path.join(dir, changed), `${readFileSync(path.join(dir, changed), 'utf8')}\n\nA new closing paragraph about buckets and prefixes.\n`);
    rmSync(path.join(dir, deleted));
    writeFileSync(path.join(dir, 'added.md'), '# Added\n\nAn object that did not exist in the first run, about incremental indexing.\n');
    synced = await syncDirToBucket(s3, BUCKET, dir, synced);
    emb.reset();
    const from = proxy.log.length;
    const r = await ingest();
    const expected = await expectedRows(collection, dir, CHUNKING);
    assert.equal(r.counters.documentsChanged, 2, 'changed + added');
    assert.equal(r.counters.documentsDeleted, 1);
    assert.equal(objectReads(proxy.log.slice(from), BUCKET), 2);
    assert.deepEqual(await sinkRows(collection), expected);
    assert.equal(emb.stats.inputs, [...textHashes(expected)].filter((h) => !seen.has(h)).length);
  });

  it('an object that cannot be ingested fails alone and is listed in the replay workflow', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'zz/huge.txt', Body: Buffer.alloc(300 * 1024, 'ab ') }));
    const r = await ingest();
    assert.equal(r.counters.documentsFailed, 1);
    assert.equal(r.counters.documentsChanged, 0);
    const f = await tc.client.workflow.getHandle(replayWorkflowId(collection)).query(failuresQuery, { limit: 10 });
    assert.deepEqual(f.items.map((i) => [i.documentId, i.type]), [['zz/huge.txt', 'DocumentTooLarge']]);
    assert.deepEqual(await sinkRows(collection), await expectedRows(collection, dir, CHUNKING), 'the rest of the collection is untouched');
  });

  it('a bucket that does not exist fails the run with a ConfigError before anything is written', async () => {
    const name = `${collection}_nob`;
    await assert.rejects(ingest({ source: { kind: 's3', bucket: 'no-such-bucket' } }, name), (e: unknown) => {
      assert.ok(e instanceof WorkflowFailedError);
      const cause = (e.cause as { cause?: Error & { type?: string } })?.cause;
      assert.equal(cause?.type, 'ConfigError');
      assert.match(cause?.message ?? '', /s3:\/\/no-such-bucket\/ on http:\/\/127\.0\.0\.1:\d+: bucket no-such-bucket does not exist/);
      return true;
    });
    const table = await withPg(async (c) => (await c.query(`SELECT to_regclass('public.${name}') AS t`)).rows[0].t);
    assert.equal(table, null, 'a table was created');
    const state = await withPg(async (c) => (await c.query('SELECT count(*)::int AS n FROM vector_ingest.collections WHERE name = $1', [name])).rows[0].n);
    assert.equal(state, 0, 'the collection was recorded');
  });

  it('`temporal workflow start` with an s3 source object completes', async () => {
    const name = `${collection}_cli`;
    const cli = process.env.TEMPORAL_CLI_PATH ?? 'temporal';
    const workflowId = `${name}-from-cli`;
    const input = JSON.stringify({ collection: name, source: { kind: 's3', bucket: BUCKET, prefix: 'added' } });
    await exec(cli, ['workflow', 'start', '--address', server.address, '--namespace', server.namespace, '--type', 'ingestCollection', '--task-queue', TASK_QUEUE, '--workflow-id', workflowId, '--input', input]);
    const r = (await tc.client.workflow.getHandle(workflowId).result()) as IngestResult;
    assert.equal(r.counters.documentsListed, 1);
    assert.equal(r.counters.documentsFailed, 0);
    const rows = await withPg(async (c) => (await c.query(`SELECT DISTINCT document_id FROM public.${name}`)).rows.map((x) => x.document_id));
    assert.deepEqual(rows, ['added.md']);
  });
  it('`vector-ingest ingest s3://bucket/prefix` runs; a bucket that does not exist exits 2', async () => {
    const name = `${collection}_vi`;
    const ok = await cliAgainst(server, ['ingest', `s3://${BUCKET}/added`, '--collection', name, '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal((JSON.parse(ok.stdout.trim().split('\n').pop()!) as IngestResult).counters.documentsListed, 1);
    const bad = await cliAgainst(server, ['ingest', 's3://no-such-bucket/docs/', '--collection', `${collection}_nob2`]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /bucket no-such-bucket does not exist/);
  });
});
