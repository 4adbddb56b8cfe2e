import assert from 'node:assert/strict';
import { cl100k } from '../../src/text/tokenizer';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DevServer } from '../../src/embedded/temporal';
import { OfflineEmbedder } from '../../src/embedders/offline';
import { CollectionNotFoundError, EmbedderMismatchError, searchCollection, type SearchDeps } from '../../src/search';
import { startQdrantStandIn, type QdrantStandIn } from '../../src/testing/qdrant-standin';
import { ingestCollection } from '../../src/workflows';
import { TASK_QUEUE, type IngestInput } from '../../src/contracts/ingest';
import { startTemporal, startTestWorker, tempDir, testClient, testConfig, uniqueCollection, withPg, type TestWorker } from '../support/env';

// A small corpus where the offline hash embedder (deterministic, word-based) behaves like any
// dense model on identifiers: a query made mostly of common topic words and one error code ranks
// the chunks full of topic words above the one chunk that explains the code.
const IDENTIFIER_DOC = 'billing/ledger.md';
const PASSAGE = 'The nightly export writes one file per account into the archive bucket and signs it with the audit key.';
const FILLER = [
  'What does the worker do? The worker does what the queue says it should do, and that is what the code is for.',
  'What does the window mean? The window is what the worker keeps open; the code does not mean more than that.',
  'What does the batch mean? A batch is what the queue gives the worker; that is what the code means by it.',
  'What does the queue do? The queue does what it is told and the worker does the rest; the code says what it means.',
];
const DOCS: Record<string, string> = {
  'guides/workers.md': `# Workers\n\n${FILLER[0]} ${FILLER[1]}\n`,
  'guides/queues.md': `# Queues\n\n${FILLER[2]} ${FILLER[3]}\n`,
  'guides/windows.md': `# Windows\n\n${FILLER[1]} ${FILLER[3]}\n`,
  'guides/deep/batches.md': `# Batches\n\n${FILLER[0]} ${FILLER[2]}\n`,
  'reference/tuning.txt': `Tuning\n\n${FILLER[3]} ${FILLER[0]}\n`,
  'reference/export.md': `# Export\n\n${PASSAGE} Old files are pruned after ninety days.\n`,
  // The code buried in a long paragraph about something else, as codes are in real documents.
  [IDENTIFIER_DOC]:
    '# Ledger\n\nInvoices are drafted on the first day of the month from the usage records of each account, ' +
    'priced with the plan that was active on the day of use, reviewed by finance, and sent by mail two days later. ' +
    'Credits and refunds are booked against the next invoice. When the ledger is locked by a long transaction, ' +
    'billing stops and logs ERR_QX_4471 with the account id; unlock the ledger and rerun billing for that account. ' +
    'Disputed invoices stay open until support closes the ticket, and reminders go out after fourteen days.\n',
};
// A question in plain words around a code: its common words are what a word-based dense model
// matches, its code is what keyword search matches.
const ID_QUERY = 'what does the code ERR_QX_4471 mean';

describe('search: dense, hybrid and filtered, on pgvector and Qdrant', () => {
  let server: DevServer;
  let qdrant: QdrantStandIn;
  let worker: TestWorker;
  let tc: Awaited<ReturnType<typeof testClient>>;
  let deps: SearchDeps;
  const pgCollection = uniqueCollection('it_search');
  const qdCollection = uniqueCollection('it_searchq');
  const dir = tempDir('vi-search-');

  before(async () => {
    for (const [rel, text] of Object.entries(DOCS)) {
      mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      writeFileSync(path.join(dir, rel), text);
    }
    [server, qdrant] = await Promise.all([startTemporal(), startQdrantStandIn()]);
    worker = await startTestWorker(server, testConfig({}, { EMBEDDING_PROVIDER: 'offline', QDRANT_URL: qdrant.url }));
    tc = await testClient(server);
    for (const [collection, sink] of [[pgCollection, 'pgvector'], [qdCollection, 'qdrant']] as const) {
      const input: IngestInput = { collection, sink, source: { kind: 'directory', path: dir } };
      const r = await tc.client.workflow.execute(ingestCollection, { taskQueue: TASK_QUEUE, workflowId: `ingest-${collection}`, args: [input] });
      assert.equal(r.counters.chunksUpserted, Object.keys(DOCS).length);
    }
    assert.equal(worker.deps.embedder.model, 'offline-hash-v1');
    deps = { store: worker.deps.store, sinks: worker.deps.sinks, embedder: worker.deps.embedder };
    // A metadata key only this test writes: team=blue on the guides' chunks.
    await withPg((c) => c.query(`UPDATE public.${pgCollection} SET metadata = metadata || '{"team":"blue"}' WHERE document_id LIKE 'guides/%'`));
    const points = [...qdrant.collection(qdCollection)!.points.values()].filter((p) => String(p.payload.document_id).startsWith('guides/'));
    await worker.deps.sinks.qdrant!.upsert(
      qdCollection,
      points.map((p) => ({
        id: String(p.id),
        documentId: String(p.payload.document_id),
        chunkIndex: Number(p.payload.chunk_index),
        content: String(p.payload.content),
        contentHash: String(p.payload.content_hash),
        metadata: { ...p.payload, team: 'blue' },
        vector: p.vector,
      })),
    );
  });

  after(async () => {
    await tc?.close();
    await worker?.stop();
    await withPg((c) => c.query(`DROP TABLE IF EXISTS public.${pgCollection}`)).catch(() => undefined);
    await server?.stop();
    assert.deepEqual(qdrant.violations, [], "requests or responses that violate Qdrant's OpenAPI schema");
    await qdrant.close();
  });

  it('pgvector: finishing the run built the HNSW and the full-text index', async () => {
    const idx = await withPg((c) => c.query<{ indexdef: string }>(`SELECT indexdef FROM pg_indexes WHERE tablename = $1`, [pgCollection]));
    const defs = idx.rows.map((r) => r.indexdef).join('\n');
    assert.match(defs, /USING hnsw \(embedding vector_cosine_ops\)/);
    assert.match(defs, /USING gin \(to_tsvector\('simple'::regconfig, content\)\)/);
  });

  for (const sink of ['pgvector', 'qdrant'] as const) {
    const col = () => (sink === 'pgvector' ? pgCollection : qdCollection);

    it(`${sink}: a passage of a document ranks that document first, scores are cosine similarities in order`, async () => {
      const r = await searchCollection(deps, { collection: col(), query: PASSAGE, limit: 5 });
      assert.equal(r.sink, sink);
      assert.equal(r.model, 'offline-hash-v1');
      assert.equal(r.results.length, 5);
      assert.equal(r.results[0]!.documentId, 'reference/export.md');
      assert.equal(r.results[0]!.chunkIndex, 0);
      assert.ok(r.results[0]!.score > 0.8 && r.results[0]!.score <= 1.000001, String(r.results[0]!.score));
      assert.deepEqual(r.results.map((x) => x.rank), [1, 2, 3, 4, 5]);
      for (let i = 1; i < r.results.length; i++) assert.ok(r.results[i - 1]!.score >= r.results[i]!.score);
      assert.match(r.results[0]!.snippet, /nightly export/);
      assert.ok(!r.results[0]!.snippet.includes('\n'));
      // the same with a larger HNSW candidate list
      const ef = await searchCollection(deps, { collection: col(), query: PASSAGE, limit: 5, efSearch: 200 });
      assert.deepEqual(ef.results.map((x) => x.id), r.results.map((x) => x.id));
    });

    it(`${sink}: an identifier the dense ranking misses is found by --hybrid`, async () => {
      const dense = await searchCollection(deps, { collection: col(), query: ID_QUERY, limit: 3 });
      assert.equal(dense.results.length, 3);
      assert.ok(!dense.results.some((x) => x.documentId === IDENTIFIER_DOC), `dense found it: ${dense.results.map((x) => x.documentId)}`);
      const hybrid = await searchCollection(deps, { collection: col(), query: ID_QUERY, limit: 3, hybrid: true });
      assert.equal(hybrid.hybrid, true);
      const hit = hybrid.results.find((x) => x.documentId === IDENTIFIER_DOC);
      assert.ok(hit, `hybrid missed it: ${hybrid.results.map((x) => x.documentId)}`);
      assert.equal(hit.ranks!.keyword, 1);
      assert.ok(hit.ranks!.dense === null || hit.ranks!.dense > 3);
      assert.match(hit.snippet, /ERR_QX_4471/);
      // fused scores are RRF sums, best first
      for (let i = 1; i < hybrid.results.length; i++) assert.ok(hybrid.results[i - 1]!.score >= hybrid.results[i]!.score);
      assert.ok(hybrid.results[0]!.score <= 2 / 61 + 1e-12);
    });

    it(`${sink}: --where filters on the path glob, chunk_index and a metadata key, all together`, async () => {
      const all = Object.keys(DOCS).length;
      const guides = await searchCollection(deps, { collection: col(), query: ID_QUERY, limit: all, where: ['path=guides/**'] });
      assert.deepEqual(guides.results.map((x) => x.documentId).sort(), Object.keys(DOCS).filter((d) => d.startsWith('guides/')).sort());
      const top = await searchCollection(deps, { collection: col(), query: ID_QUERY, limit: all, where: ['path=guides/*.md'] });
      assert.deepEqual(top.results.map((x) => x.documentId).sort(), ['guides/queues.md', 'guides/windows.md', 'guides/workers.md']);
      const blue = await searchCollection(deps, { collection: col(), query: ID_QUERY, limit: all, where: ['team=blue', 'chunk_index=0', 'document_id=guides/queues.md'] });
      assert.deepEqual(blue.results.map((x) => x.documentId), ['guides/queues.md']);
      assert.equal(blue.results[0]!.metadata.team, 'blue');
      const none = await searchCollection(deps, { collection: col(), query: ID_QUERY, limit: all, where: ['team=blue', 'path=billing/**'] });
      assert.deepEqual(none.results, []);
      const noGlobMatch = await searchCollection(deps, { collection: col(), query: ID_QUERY, limit: all, where: ['path=nowhere/**'] });
      assert.deepEqual(noGlobMatch.results, []);
      const hybridFiltered = await searchCollection(deps, { collection: col(), query: ID_QUERY, limit: all, hybrid: true, where: ['path=reference/**'] });
      assert.ok(hybridFiltered.results.length > 0 && hybridFiltered.results.every((x) => x.documentId.startsWith('reference/')));
    });
  }

  it('refuses another embedder than the collection was built with, naming both models, and an unknown collection', async () => {
    await assert.rejects(
      searchCollection({ ...deps, embedder: new OfflineEmbedder(128) }, { collection: pgCollection, query: 'x' }),
      (err: unknown) => err instanceof EmbedderMismatchError && /offline-hash-v1 \(384 dimensions\).*offline-hash-v1 \(128 dimensions\)/.test(err.message),
    );
    const other = { model: 'another-model', dimensions: 384, semantic: true, maxInputTokens: 8191, tokenizer: cl100k, embed: async () => ({ vectors: [], tokens: 0 }), close: async () => {} };
    await assert.rejects(searchCollection({ ...deps, embedder: other }, { collection: qdCollection, query: 'x' }), /embedded with model offline-hash-v1 .*configured embedder is another-model/);
    await assert.rejects(searchCollection(deps, { collection: 'no_such_collection_here', query: 'x' }), CollectionNotFoundError);
    await assert.rejects(searchCollection(deps, { collection: pgCollection, query: 'x', where: ['nonsense'] }), /expected key=value/);
  });
});
