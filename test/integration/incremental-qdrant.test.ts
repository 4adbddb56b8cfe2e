import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DevServer } from '../../src/embedded/temporal';
import { startEmbeddingServer, type EmbeddingServer } from '../../src/testing/embedding-server';
import { startQdrantStandIn, type QdrantStandIn } from '../../src/testing/qdrant-standin';
import { ingestCollection } from '../../src/workflows';
import { TASK_QUEUE, type IngestInput, type IngestResult } from '../../src/contracts/ingest';
import { buildCorpus } from '../support/corpus';
import { startTemporal, startTestWorker, tempDir, testClient, testConfig, uniqueCollection, type TestWorker } from '../support/env';
import { expectedRows, textHashes, type ExpectedRow } from '../support/expected';

const CHUNKING = { chunkTokens: 120, overlapTokens: 16 };

// The same incremental expectations as for pgvector, end to end into Qdrant: the stand-in
// checks every request against Qdrant's OpenAPI schema and holds the points in memory.
describe('incremental re-index (Qdrant, through the OpenAPI-checking stand-in)', () => {
  let server: DevServer;
  let emb: EmbeddingServer;
  let qdrant: QdrantStandIn;
  let worker: TestWorker;
  let tc: Awaited<ReturnType<typeof testClient>>;
  let dir: string;
  let files: string[];
  const collection = uniqueCollection('it_qincr');
  let runs = 0;

  const ingest = async (): Promise<IngestResult> => {
    const input: IngestInput = { collection, sink: 'qdrant', source: { kind: 'directory', path: dir }, chunking: CHUNKING, pageSize: 10 };
    const h = await tc.client.workflow.start(ingestCollection, { taskQueue: TASK_QUEUE, workflowId: `${collection}-${++runs}`, args: [input] });
    return h.result();
  };
  const qdrantRows = (): ExpectedRow[] =>
    [...(qdrant.collection(collection)?.points.values() ?? [])]
      .map((p) => ({ id: String(p.id), document_id: p.payload.document_id as string, chunk_index: p.payload.chunk_index as number, content: p.payload.content as string, content_hash: p.payload.content_hash as string }))
      .sort((a, b) => (a.id < b.id ? -1 : 1));

  before(async () => {
    dir = tempDir('vi-qincr-');
    files = buildCorpus(dir, { files: 30, largeFiles: 1 });
    [server, emb, qdrant] = await Promise.all([startTemporal(), startEmbeddingServer({ dimensions: 16 }), startQdrantStandIn()]);
    worker = await startTestWorker(server, testConfig({}, { OPENAI_BASE_URL: emb.url, EMBEDDING_MODEL: `qincr-${collection}`, EMBEDDING_DIMENSIONS: '16', QDRANT_URL: qdrant.url }));
    tc = await testClient(server);
  });
  after(async () => {
    await tc?.close();
    await worker?.stop();
    await Promise.all([server?.stop(), emb?.close()]);
    assert.deepEqual(qdrant.violations, [], "requests or responses that violate Qdrant's OpenAPI schema");
    await qdrant.close();
  });

  it('first run: Qdrant holds exactly the expected points, with a document_id index', async () => {
    const r = await ingest();
    const expected = await expectedRows(collection, dir, CHUNKING);
    assert.equal(r.counters.chunksUpserted, expected.length);
    assert.deepEqual(qdrantRows(), expected);
    const col = qdrant.collection(collection)!;
    assert.equal(col.size, 16);
    assert.equal(col.distance, 'Cosine');
    assert.equal(col.indexes.document_id, 'keyword');
  });

  it('after add, change, shrink and delete: exact points, only new texts embedded', async () => {
    const seen = textHashes(await expectedRows(collection, dir, CHUNKING));
    const text = readFileSync(path.join(dir, files[0]!), 'utf8');
    writeFileSync(path.join(dir, files[0]!), text.replace('Section 4', 'Section four, rewritten'));
    const s = readFileSync(path.join(dir, files[3]!), 'utf8');
    writeFileSync(path.join(dir, files[3]!), s.slice(0, Math.max(200, Math.floor(s.length / 4))));
    rmSync(path.join(dir, files[7]!));
    writeFileSync(path.join(dir, 'added.md'), '# Added\n\nNew in the second run.\n');
    emb.reset();
    const r = await ingest();
    const expected = await expectedRows(collection, dir, CHUNKING);
    assert.equal(r.counters.documentsDeleted, 1);
    assert.deepEqual(qdrantRows(), expected);
    assert.equal(emb.stats.inputs, [...textHashes(expected)].filter((h) => !seen.has(h)).length);
  });

  it('an unchanged re-run embeds nothing and sends Qdrant no writes', async () => {
    emb.reset();
    const before = qdrant.requests['PUT upsert_points'] ?? 0;
    const r = await ingest();
    assert.equal(r.counters.documentsChanged, 0);
    assert.equal(emb.stats.requests, 0);
    assert.equal(qdrant.requests['PUT upsert_points'] ?? 0, before);
  });
});
