import assert from 'node:assert/strict';
import pg from 'pg';
import { after, before, describe, it } from 'node:test';
import type { DevServer } from '../../src/embedded/temporal';
import { dropGeneration, GenerationError } from '../../src/generations';
import { estimateWithConfig, formatEstimate } from '../../src/cli/dry-run';
import { createLogger } from '../../src/log';
import { openSearch } from '../../src/search/open';
import { createSinks } from '../../src/sinks';
import { StateStore } from '../../src/state/store';
import { searchCollection } from '../../src/search/search';
import { EmbedderMismatchError } from '../../src/search/errors';
import { startEmbeddingServer, type EmbeddingServer } from '../../src/testing/embedding-server';
import { startQdrantStandIn, type QdrantStandIn } from '../../src/testing/qdrant-standin';
import { ingestCollection } from '../../src/workflows';
import { TASK_QUEUE, type ChunkingOptions, type IngestInput, type IngestResult, type SinkKindName } from '../../src/contracts/ingest';
import { buildCorpus } from '../support/corpus';
import { dropCollectionTables, startTemporal, startTestWorker, tempDir, testClient, testConfig, TEST_DATABASE_URL, uniqueCollection, withPg, type TestWorker } from '../support/env';
import { expectedRows, textHashes, type ExpectedRow } from '../support/expected';

// Generations, end to end on a real Temporal server and Postgres (and the OpenAPI-checking Qdrant
// stand-in): a model change is built beside the live generation while search keeps answering
// from the live one, swapped in at the end; an interrupted rebuild leaves the live one alone and
// is resumed by the next run; a re-chunk with the same model embeds only texts never seen.
const CHUNK_A: ChunkingOptions = { chunkTokens: 120, overlapTokens: 16 };
const CHUNK_B: ChunkingOptions = { chunkTokens: 70, overlapTokens: 8 };
const CHUNK_C: ChunkingOptions = { chunkTokens: 90, overlapTokens: 8 };
const QUERIES = ['how do retries work', 'schedules and replays', 'workers and task queues', 'embedding models'];

for (const sink of ['pgvector', 'qdrant'] as SinkKindName[]) {
  describe(`generations (${sink})`, () => {
    let server: DevServer;
    let emb: EmbeddingServer;
    let qdrant: QdrantStandIn;
    let worker: TestWorker;
    let tc: Awaited<ReturnType<typeof testClient>>;
    let dir: string;
    const collection = uniqueCollection(sink === 'pgvector' ? 'it_gen' : 'it_qgen');
    // Unique models: the shared embedding cache must not answer for the provider.
    const envA = () => ({ OPENAI_BASE_URL: emb.url, EMBEDDING_MODEL: `ga-${collection}`, EMBEDDING_DIMENSIONS: '16', EMBEDDING_SEND_DIMENSIONS: 'true', QDRANT_URL: qdrant.url });
    const envB = () => ({ ...envA(), EMBEDDING_MODEL: `gb-${collection}`, EMBEDDING_DIMENSIONS: '8' });
    let runs = 0;

    const start = (chunking: ChunkingOptions, extra: Partial<IngestInput> = {}) =>
      tc.client.workflow.start(ingestCollection, {
        taskQueue: TASK_QUEUE,
        workflowId: `${collection}-${++runs}`,
        args: [{ collection, sink, source: { kind: 'directory', path: dir }, chunking, pageSize: 5, batching: { maxChunks: 4 }, ...extra }],
      });
    const ingest = async (chunking: ChunkingOptions, extra: Partial<IngestInput> = {}): Promise<IngestResult> => (await start(chunking, extra)).result();
    const useWorker = async (env: Record<string, string>) => {
      await worker?.stop();
      worker = await startTestWorker(server, testConfig({}, env));
    };
    /** What the collection's name shows (the pgvector view, the Qdrant alias). */
    const liveRows = async (): Promise<ExpectedRow[]> => rowsOf(collection);
    const rowsOf = async (storage: string): Promise<ExpectedRow[]> => {
      if (sink === 'pgvector') {
        return withPg(async (c) => (await c.query(`SELECT id, document_id, chunk_index, content, content_hash FROM public.${storage} ORDER BY id`)).rows);
      }
      return [...(qdrant.collection(storage)?.points.values() ?? [])]
        .map((p) => ({ id: String(p.id), document_id: p.payload.document_id as string, chunk_index: p.payload.chunk_index as number, content: p.payload.content as string, content_hash: p.payload.content_hash as string }))
        .sort((a, b) => (a.id < b.id ? -1 : 1));
    };
    const generations = () =>
      withPg(async (c) => (await c.query(`SELECT generation, state, model, storage FROM vector_ingest.generations WHERE collection = $1 ORDER BY generation`, [collection])).rows);
    const contents = (rows: ExpectedRow[]) => new Set(rows.map((r) => r.content));

    before(async () => {
      dir = tempDir('vi-gen-');
      buildCorpus(dir, { files: 16, largeFiles: 2 });
      [server, emb, qdrant] = await Promise.all([startTemporal(), startEmbeddingServer({ dimensions: 16 }), startQdrantStandIn()]);
      await useWorker(envA());
      tc = await testClient(server);
    });
    after(async () => {
      await tc?.close();
      await worker?.stop();
      await dropCollectionTables(collection).catch(() => undefined);
      await Promise.all([server?.stop(), emb?.close()]);
      assert.deepEqual(qdrant.violations, [], "requests or responses that violate Qdrant's OpenAPI schema");
      await qdrant?.close();
    });

    it('a first run makes generation 1, live', async () => {
      await ingest(CHUNK_A);
      assert.deepEqual(await liveRows(), expectedRows(collection, dir, CHUNK_A));
      assert.deepEqual((await generations()).map((g) => [g.generation, g.state]), [[1, 'live']]);
    });

    it('a model change is built beside the live generation: search answers from the old one until the swap, then the new one, never empty', async (t) => {
      const oldRows = expectedRows(collection, dir, CHUNK_A);
      const newRows = expectedRows(collection, dir, CHUNK_B);
      await useWorker(envB());
      emb.setLatency(120); // a rebuild long enough to search through
      const [searchA, searchB] = await Promise.all([openSearch(testConfig({}, envA()), TEST_DATABASE_URL), openSearch(testConfig({}, envB()), TEST_DATABASE_URL)]);
      const answers: Array<{ from: 'A' | 'B'; building: boolean; contents: string[] }> = [];
      try {
        const h = await start(CHUNK_B, { full: true });
        let done = false;
        const result = h.result().finally(() => (done = true));
        // Until the run ends and a few times after: every answer is whole, from one generation.
        for (let i = 0, after = 0; after < 3 && i < 2_000; i++) {
          if (done) after++;
          const building = (await generations()).some((g) => g.state === 'building');
          const query = QUERIES[i % QUERIES.length]!;
          let from: 'A' | 'B' = 'A';
          let r;
          try {
            r = await searchCollection(searchA, { collection, query, limit: 5 });
          } catch (err) {
            if (!(err instanceof EmbedderMismatchError)) throw err;
            from = 'B';
            r = await searchCollection(searchB, { collection, query, limit: 5 });
          }
          answers.push({ from, building, contents: r.results.map((x) => x.content) });
          await new Promise((res) => setTimeout(res, 100));
        }
        await result;
      } finally {
        emb.setLatency(0);
        await Promise.all([searchA.close(), searchB.close()]);
      }
      t.diagnostic(`${answers.length} answers: ${answers.filter((a) => a.from === 'A' && a.building).length} from the old generation during the rebuild, ${answers.filter((a) => a.from === 'B').length} from the new one`);
      assert.ok(answers.every((a) => a.contents.length === 5), 'every answer has 5 results');
      const firstB = answers.findIndex((a) => a.from === 'B');
      assert.ok(firstB > 0, 'answers from the new generation after the swap');
      assert.ok(answers.slice(firstB).every((a) => a.from === 'B'), 'never the old generation again after the swap');
      assert.ok(answers.slice(0, firstB).filter((a) => a.building).length >= 3, `searched during the rebuild (${answers.length} answers, first new one at ${firstB})`);
      const oldContents = contents(oldRows);
      const newContents = contents(newRows);
      for (const a of answers) for (const c of a.contents) assert.ok((a.from === 'A' ? oldContents : newContents).has(c), `a result from the ${a.from === 'A' ? 'old' : 'new'} generation's chunks`);
      assert.deepEqual(await liveRows(), newRows);
      assert.deepEqual((await generations()).map((g) => [g.generation, g.state]), [[1, 'retired'], [2, 'live']]);
      // The old generation is kept, whole, until dropped.
      const g1 = (await generations())[0]!.storage as string;
      assert.deepEqual(await rowsOf(g1), oldRows);
    });

    it('a re-chunk with the same model embeds only the texts it never embedded (the rest come from the cache)', async () => {
      const seen = textHashes(expectedRows(collection, dir, CHUNK_B));
      const rows = expectedRows(collection, dir, CHUNK_C);
      const fresh = [...textHashes(rows)].filter((h) => !seen.has(h));
      assert.ok(fresh.length > 0 && fresh.length < textHashes(rows).size, 'the new chunking shares some texts with the old one and not others');
      emb.reset();
      await ingest(CHUNK_C, { full: true });
      assert.equal(emb.stats.inputs, fresh.length);
      assert.deepEqual(await liveRows(), rows);
      assert.deepEqual((await generations()).map((g) => [g.generation, g.state]), [[1, 'retired'], [2, 'retired'], [3, 'live']]);
    });

    it('an interrupted rebuild leaves the live generation untouched; the next run resumes it', async () => {
      const live = expectedRows(collection, dir, CHUNK_C);
      emb.setLatency(150);
      const h = await start(CHUNK_A, { full: true });
      // Terminate once the new generation holds some chunks, but not all.
      let building: { storage: string } | undefined;
      for (let i = 0; i < 600; i++) {
        building = (await generations()).find((g) => g.state === 'building');
        if (building && (await rowsOf(building.storage).catch(() => [])).length > 0) break;
        await new Promise((res) => setTimeout(res, 100));
      }
      await h.terminate('test: the rebuild is interrupted');
      emb.setLatency(0);
      // Activities of a terminated run still finish (and cache what they embedded): wait until
      // the worker runs none, so the dry run below sees the cache the next run will see.
      for (let i = 0; i < 300 && worker.set.workers.some((w) => w.getStatus().numInFlightActivities > 0); i++) await new Promise((res) => setTimeout(res, 100));
      assert.ok(worker.set.workers.every((w) => w.getStatus().numInFlightActivities === 0), 'the terminated run\'s activities finished');
      assert.ok(building, 'a generation was being built');
      assert.ok((await rowsOf(building.storage)).length < expectedRows(collection, dir, CHUNK_A).length, 'interrupted part-way');
      assert.deepEqual(await liveRows(), live, 'the live generation is untouched');
      const [searchB] = [await openSearch(testConfig({}, envB()), TEST_DATABASE_URL)];
      try {
        const r = await searchCollection(searchB, { collection, query: QUERIES[0]!, limit: 5 });
        assert.equal(r.results.length, 5);
        for (const x of r.results) assert.ok(contents(live).has(x.content));
      } finally {
        await searchB.close();
      }
      // A dry run now says what the next run will do: re-chunk every document (the rebuild is
      // pending), with the texts the interrupted run embedded coming from the cache.
      const dry = await estimateWithConfig(testConfig({}, envB()), TEST_DATABASE_URL, createLogger('error', { pretty: false }), {
        collection,
        sink,
        source: { kind: 'directory', path: dir },
        chunking: CHUNK_A,
        pageSize: 5,
        batching: { maxChunks: 4 },
      });
      assert.equal(dry.rebuildPending, true);
      assert.equal(dry.documentsChanged, dry.documentsListed, 'every document is planned again');
      assert.ok(dry.chunksCached > 0, 'what the interrupted run embedded is cached');
      assert.ok(formatEstimate(dry).some((l) => /rebuild into a new generation is under way or was interrupted/.test(l)));
      // The next run (no --full) finishes the same generation and swaps it in.
      emb.reset();
      const resumed = await ingest(CHUNK_A);
      assert.equal(resumed.counters.documentsChanged, dry.documentsChanged);
      assert.equal(resumed.counters.chunksPlanned, dry.chunks);
      assert.equal(emb.stats.inputs, dry.textsToEmbed, 'the run embedded what the dry run said it would');
      assert.deepEqual(await liveRows(), expectedRows(collection, dir, CHUNK_A));
      assert.deepEqual((await generations()).map((g) => [g.generation, g.state]), [[1, 'retired'], [2, 'retired'], [3, 'retired'], [4, 'live']]);
    });

    it('generations drop removes a retired generation and refuses the live one', async () => {
      const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 2 });
      try {
        const deps = { store: new StateStore(pool), sinks: createSinks(testConfig({}, envB()), pool) };
        const g1 = (await generations())[0]!.storage as string;
        const r = await dropGeneration(deps, collection, 1);
        assert.equal(r.dropped.generation, 1);
        assert.equal(r.evicted > 0, true, 'model A is used by nothing now: its cached vectors go');
        assert.deepEqual(await rowsOf(g1).catch(() => []), []);
        await assert.rejects(dropGeneration(deps, collection, 4), (e: unknown) => e instanceof GenerationError && /live generation/.test(e.message));
        assert.deepEqual((await generations()).map((g) => g.generation), [2, 3, 4]);
      } finally {
        await pool.end();
      }
    });

    it('keepRetired: a run keeps only the newest n retired generations and drops the rest with their storage; a bad value is refused', async () => {
      const before = await generations();
      assert.deepEqual(before.map((g) => [g.generation, g.state]), [[2, 'retired'], [3, 'retired'], [4, 'live']]);
      const storageOf = (n: number) => before.find((g) => g.generation === n)!.storage as string;
      const exists = async (storage: string) =>
        sink === 'pgvector' ? withPg(async (c) => (await c.query(`SELECT to_regclass($1) IS NOT NULL AS x`, [`public.${storage}`])).rows[0].x as boolean) : qdrant.collection(storage) !== undefined;
      assert.equal(await exists(storageOf(2)), true);
      await ingest(CHUNK_B, { full: true, keepRetired: 1 });
      assert.deepEqual((await generations()).map((g) => [g.generation, g.state]), [[4, 'retired'], [5, 'live']]);
      assert.equal(await exists(storageOf(2)), false, 'generation 2 dropped with its storage');
      assert.equal(await exists(storageOf(3)), false, 'generation 3 dropped with its storage');
      assert.equal(await exists(storageOf(4)), true, 'the newest retired generation is kept');
      assert.deepEqual(await liveRows(), expectedRows(collection, dir, CHUNK_B));
      // An incremental run with keepRetired 0 drops the last retired one; the live one stays.
      await ingest(CHUNK_B, { keepRetired: 0 });
      assert.deepEqual((await generations()).map((g) => [g.generation, g.state]), [[5, 'live']]);
      assert.equal(await exists(storageOf(4)), false);
      assert.deepEqual(await liveRows(), expectedRows(collection, dir, CHUNK_B));
      await assert.rejects(ingest(CHUNK_B, { keepRetired: -1 }), (e: unknown) => /keepRetired must be an integer from 0 to 1000, got -1/.test(String((e as { cause?: unknown }).cause ?? e)));
    });
  });
}
