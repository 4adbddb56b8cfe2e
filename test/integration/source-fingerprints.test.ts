import assert from 'node:assert/strict';
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DevServer } from '../../src/embedded/temporal';
import { startEmbeddingServer, type EmbeddingServer } from '../../src/testing/embedding-server';
import { ingestCollection } from '../../src/workflows';
import { TASK_QUEUE, type IngestResult } from '../../src/contracts/ingest';
import { buildCorpus } from '../support/corpus';
import { startTemporal, teardown, startTestWorker, tempDir, testClient, testConfig, uniqueCollection, type TestWorker } from '../support/env';
import { expectedRows, sinkRows } from '../support/expected';
import { documentsRead } from '../support/reads';

const CHUNKING = { chunkTokens: 120, overlapTokens: 16 };

// Design invariant 12: a directory lists size+mtime with each file; a file whose fingerprint
// is the one recorded when it last landed is skipped without being read.
describe('directory fingerprints: unchanged files are not read', () => {
  let server: DevServer;
  let emb: EmbeddingServer;
  let worker: TestWorker;
  let tc: Awaited<ReturnType<typeof testClient>>;
  let dir: string;
  let files: string[];
  const collection = uniqueCollection('it_fp');
  const model = `fp-${collection}`;
  let runs = 0;

  const ingest = async (): Promise<{ r: IngestResult; reads: number; embedded: number }> => {
    const reads0 = await documentsRead('directory');
    emb.reset();
    const h = await tc.client.workflow.start(ingestCollection, {
      taskQueue: TASK_QUEUE,
      workflowId: `${collection}-${++runs}`,
      args: [{ collection, source: { kind: 'directory', path: dir }, chunking: CHUNKING, pageSize: 7 }],
    });
    const r = await h.result();
    return { r, reads: (await documentsRead('directory')) - reads0, embedded: emb.stats.inputs };
  };

  before(async () => {
    dir = tempDir('vi-fp-');
    files = buildCorpus(dir, { files: 20, largeFiles: 1 });
    [server, emb] = await Promise.all([startTemporal(), startEmbeddingServer({ dimensions: 16 })]);
    worker = await startTestWorker(server, testConfig({}, { OPENAI_BASE_URL: emb.url, EMBEDDING_MODEL: model, EMBEDDING_DIMENSIONS: '16' }));
    tc = await testClient(server);
  });
  after(() => teardown({ tc, worker, server, emb, collection }));

  it('first run reads every file; an unchanged re-run reads none and embeds none', async () => {
    const first = await ingest();
    assert.equal(first.reads, files.length);
    assert.equal(first.r.counters.documentsChanged, files.length);
    const started = Date.now();
    const again = await ingest();
    process.stderr.write(`unchanged re-run (directory, ${files.length} files): ${Date.now() - started} ms\n`);
    assert.equal(again.reads, 0, 'an unchanged file was read');
    assert.equal(again.embedded, 0);
    assert.equal(again.r.counters.documentsUnchanged, files.length);
    assert.equal(again.r.counters.chunksUpserted, 0);
    assert.deepEqual(await sinkRows(collection), expectedRows(collection, dir, CHUNKING));
  });

  it('a touched file (new mtime, same bytes) is read once, embeds nothing, and is not read again', async () => {
    const touched = path.join(dir, files[2]!);
    const t = new Date(Date.now() + 5_000);
    utimesSync(touched, t, t);
    const once = await ingest();
    assert.equal(once.reads, 1);
    assert.equal(once.embedded, 0);
    assert.equal(once.r.counters.documentsUnchanged, files.length);
    const twice = await ingest();
    assert.equal(twice.reads, 0, 'the new fingerprint of the touched file was not recorded');
  });

  it('a changed file is read and re-embedded; the sink follows', async () => {
    const changed = path.join(dir, files[3]!); // markdown: appended text is part of the document
    writeFileSync(changed, `${readFileSync(changed, 'utf8')}\n\nA new closing paragraph about fingerprints.\n`);
    const r = await ingest();
    assert.equal(r.reads, 1);
    assert.equal(r.r.counters.documentsChanged, 1);
    assert.ok(r.embedded >= 1);
    assert.deepEqual(await sinkRows(collection), expectedRows(collection, dir, CHUNKING));
  });

  it('a full run ignores fingerprints and reads everything', async () => {
    const reads0 = await documentsRead('directory');
    const h = await tc.client.workflow.start(ingestCollection, {
      taskQueue: TASK_QUEUE,
      workflowId: `${collection}-${++runs}`,
      args: [{ collection, source: { kind: 'directory', path: dir }, chunking: CHUNKING, full: true }],
    });
    await h.result();
    assert.equal((await documentsRead('directory')) - reads0, files.length);
  });
});
