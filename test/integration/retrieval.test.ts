import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TASK_QUEUE, type IngestInput } from '../../src/contracts/ingest';
import type { DevServer } from '../../src/embedded/temporal';
import { searchCollection, type SearchDeps } from '../../src/search';
import { ingestCollection } from '../../src/workflows';
import { RETRIEVAL_DOCS, RETRIEVAL_QUESTIONS } from '../support/retrieval-corpus';
import { startTemporal, startTestWorker, tempDir, testClient, testConfig, uniqueCollection, withPg } from '../support/env';

// Retrieval quality, end to end: the same documents ingested by the real pipeline (Temporal dev
// server, Postgres + pgvector) with the local model (all-MiniLM-L6-v2, the default) and with the
// offline hash embedder, then the same questions asked of each through the search library.
// Questions use other words than their documents, so only an embedder that captures meaning
// finds the answers.
describe('retrieval quality: recall@5 of the local model against the hash embedder', () => {
  let server: DevServer;
  let tc: Awaited<ReturnType<typeof testClient>>;
  const dir = tempDir('vi-retrieval-');
  const collections = { local: uniqueCollection('it_rlocal'), offline: uniqueCollection('it_rhash') };
  const recall: Partial<Record<keyof typeof collections, { recall: number; misses: string[] }>> = {};

  before(async () => {
    for (const [rel, text] of Object.entries(RETRIEVAL_DOCS)) {
      mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      writeFileSync(path.join(dir, rel), text);
    }
    server = await startTemporal();
    tc = await testClient(server);
  });
  after(async () => {
    for (const c of Object.values(collections)) await withPg((pg) => pg.query(`DROP TABLE IF EXISTS public.${c}`));
    await tc?.close();
    await server?.stop();
  });

  for (const provider of ['local', 'offline'] as const) {
    it(`ingests the corpus and answers the questions with the ${provider} embedder`, async () => {
      const worker = await startTestWorker(server, testConfig({}, { EMBEDDING_PROVIDER: provider }));
      try {
        const collection = collections[provider];
        const input: IngestInput = { collection, source: { kind: 'directory', path: dir } };
        const r = await tc.client.workflow.execute(ingestCollection, { taskQueue: TASK_QUEUE, workflowId: `ingest-${collection}`, args: [input] });
        assert.equal(r.counters.documentsChanged, Object.keys(RETRIEVAL_DOCS).length);
        assert.equal(r.counters.chunksFailed, 0);
        const deps: SearchDeps = { store: worker.deps.store, sinks: worker.deps.sinks, embedder: worker.deps.embedder };
        const misses: string[] = [];
        for (const q of RETRIEVAL_QUESTIONS) {
          const res = await searchCollection(deps, { collection, query: q.question, limit: 5 });
          assert.ok(res.results.length > 0);
          if (!res.results.some((x) => x.documentId === q.answer)) misses.push(`${q.question} → ${res.results.map((x) => x.documentId).join(', ')}`);
        }
        recall[provider] = { recall: 1 - misses.length / RETRIEVAL_QUESTIONS.length, misses };
      } finally {
        await worker.stop();
      }
    });
  }

  it('the local model finds most answers in its top 5, and more than the hash embedder does', (t) => {
    const local = recall.local;
    const hash = recall.offline;
    assert.ok(local && hash, 'both ingests ran');
    t.diagnostic(`recall@5 over ${RETRIEVAL_QUESTIONS.length} questions: local ${local.recall.toFixed(2)}, hash ${hash.recall.toFixed(2)}`);
    assert.ok(local.recall >= 0.8, `local recall@5 ${local.recall.toFixed(2)}; missed:\n${local.misses.join('\n')}`);
    assert.ok(local.recall > hash.recall, `local ${local.recall.toFixed(2)} is not above hash ${hash.recall.toFixed(2)}`);
  });
});
