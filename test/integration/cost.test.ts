import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startEmbeddingServer, type EmbeddingServer } from '../../src/testing/embedding-server';
import type { DevServer } from '../../src/embedded/temporal';
import type { RunEstimate } from '../../src/estimate/estimate';
import { ingestCollection } from '../../src/workflows';
import { TASK_QUEUE, type IngestInput, type IngestResult } from '../../src/contracts/ingest';
import { buildCorpus } from '../support/corpus';
import { startTemporal, startTestWorker, teardown, tempDir, testClient, testConfig, TEST_DATABASE_URL, uniqueCollection, withPg, type TestWorker } from '../support/env';

const BIN = path.resolve(__dirname, '../../bin/vector-ingest.js');
const MODEL = `test-embed-priced-${Date.now().toString(36)}`; // its own model: the cache holds nothing of it yet
const PRICE = 0.37; // dollars per million tokens, set by VECTOR_INGEST_PRICES (not in the default table)

// Real Temporal dev server, real Postgres + pgvector, the project's OpenAI-compatible embedding
// server behind the real `openai` client, and the compiled CLI. Nothing is mocked.
describe('tokens and cost: --dry-run estimates, runs count what the provider received', () => {
  const DIMS = 32;
  let server: DevServer;
  let emb: EmbeddingServer;
  let worker: TestWorker;
  let tc: Awaited<ReturnType<typeof testClient>>;
  let corpus: string;
  const collection = uniqueCollection('it_cost');
  const env = () => ({
    DATABASE_URL: TEST_DATABASE_URL,
    OPENAI_BASE_URL: emb.url,
    OPENAI_API_KEY: 'sk-test-not-a-secret',
    EMBEDDING_MODEL: MODEL,
    EMBEDDING_DIMENSIONS: String(DIMS),
    VECTOR_INGEST_PRICES: JSON.stringify({ [MODEL]: PRICE }),
  });
  const input = (): IngestInput => ({
    collection,
    source: { kind: 'directory', path: corpus },
    pageSize: 10,
    chunking: { chunkTokens: 120, overlapTokens: 16 },
    batching: { maxChunks: 16, maxTokens: 4_000 },
    maxInFlightBatches: 3,
  });

  const cli = (args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, ...args], {
        env: { ...process.env, ...env(), LOG_LEVEL: 'warn', TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: server.namespace },
        cwd: tempDir('vi-cwd-'),
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });

  // The options of input(), as flags.
  const flags = () => ['ingest', corpus, '--collection', collection, '--dry-run', '--page-size', '10', '--chunk-tokens', '120', '--overlap-tokens', '16', '--batch-size', '16', '--batch-tokens', '4000'];
  const dryRun = async (): Promise<RunEstimate> => {
    const r = await cli([...flags(), '--json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as RunEstimate;
  };
  const run = async (n: number): Promise<IngestResult> =>
    (await tc.client.workflow.start(ingestCollection, { taskQueue: TASK_QUEUE, workflowId: `${collection}-${n}`, args: [input()] })).result();
  const cacheRows = () => withPg(async (c) => Number((await c.query(`SELECT count(*) AS n FROM vector_ingest.embedding_cache WHERE model = $1`, [MODEL])).rows[0].n));
  const tableExists = () => withPg(async (c) => (await c.query(`SELECT to_regclass($1) IS NOT NULL AS ok`, [`public.${collection}`])).rows[0].ok as boolean);

  before(async () => {
    corpus = tempDir('vi-cost-');
    buildCorpus(corpus, { files: 24, largeFiles: 1, seed: Date.now() % 100_000 });
    // Left out by the listing: a file of no supported format, and a directory the .vectorignore excludes.
    writeFileSync(path.join(corpus, 'diagram.png'), 'not a document');
    mkdirSync(path.join(corpus, 'drafts'));
    writeFileSync(path.join(corpus, 'drafts', 'unfinished.md'), '# Draft\n\nNot for the index.');
    writeFileSync(path.join(corpus, '.vectorignore'), 'drafts/\n');
    [server, emb] = await Promise.all([startTemporal(), startEmbeddingServer({ dimensions: DIMS })]);
    worker = await startTestWorker(server, testConfig({}, env()));
    tc = await testClient(server);
  });
  after(() => teardown({ tc, worker, server, emb, collection }));

  let estimate: RunEstimate;
  it('--dry-run lists documents, chunks, tokens and cost, and embeds and writes nothing', async () => {
    const rowsBefore = await cacheRows();
    estimate = await dryRun();
    assert.equal(estimate.documentsListed, 24);
    assert.equal(estimate.documentsChanged, 24);
    assert.ok(estimate.chunks > 24, `chunks ${estimate.chunks}`);
    assert.ok(estimate.tokensToEmbed > 0);
    assert.equal(estimate.priceSource, 'setting');
    assert.ok(Math.abs(estimate.costUsd - (estimate.tokensToEmbed * PRICE) / 1e6) < 1e-12);
    assert.equal(emb.stats.requests, 0, 'the dry run sent nothing to the provider');
    assert.equal(await cacheRows(), rowsBefore, 'the dry run cached nothing');
    assert.equal(await tableExists(), false, 'the dry run created no collection table');
    const human = await cli(flags());
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, new RegExp(`tokens: +${estimate.tokensToEmbed} to embed with ${MODEL}`));
    assert.match(human.stdout, /nothing embedded, nothing written/);
    // What the listing leaves out is counted as a run counts it: one file of no supported format, one excluded directory.
    assert.deepEqual([estimate.filesUnsupported, estimate.directoriesExcluded, estimate.filesExcluded], [1, 1, 0]);
    assert.match(human.stdout, /skipped: +0 files and 1 directory excluded by include\/exclude\/.vectorignore rules, 1 file of unsupported type/);
  });

  it('a real run then embeds exactly the estimated texts and tokens, as the provider counted them', async () => {
    emb.reset();
    const r = await run(1);
    assert.equal(r.counters.chunksFailed, 0);
    assert.equal(r.counters.chunksEmbedded, estimate.textsToEmbed);
    assert.deepEqual([r.counters.filesUnsupported, r.counters.directoriesExcluded, r.counters.filesExcluded], [estimate.filesUnsupported, estimate.directoriesExcluded, estimate.filesExcluded]);
    assert.equal(emb.stats.tokens, estimate.tokensToEmbed, 'tokens the embedding server received');
    assert.equal(emb.stats.inputs, estimate.textsToEmbed);
    // The run's summary and `status` report the tokens the server received, and their price.
    assert.equal(r.counters.tokensEmbedded, emb.stats.tokens);
    assert.ok(Math.abs(r.counters.costUsd - (emb.stats.tokens * PRICE) / 1e6) < 1e-9, `cost ${r.counters.costUsd}`);
    const status = await cli(['status', collection, '--json']);
    assert.equal(status.code, 0, status.stderr);
    const shown = JSON.parse(status.stdout) as { result: IngestResult };
    assert.equal(shown.result.counters.tokensEmbedded, emb.stats.tokens);
    assert.equal(shown.result.counters.costUsd, r.counters.costUsd);
    const human = await cli(['status', collection]);
    assert.match(human.stdout, new RegExp(`cost: +${emb.stats.tokens} tokens embedded, \\$0\\.00`));
  });

  it('after a change, the dry run counts only the texts not in the cache, and the next run agrees', async () => {
    const files = readdirSync(corpus, { recursive: true, withFileTypes: true }).filter((f) => f.isFile() && !['diagram.png', '.vectorignore', 'unfinished.md'].includes(f.name)).slice(0, 3);
    for (const [i, f] of files.entries()) appendFileSync(path.join(f.parentPath, f.name), `\n\nA new closing paragraph number ${i} about cost accounting.\n`);
    const e2 = await dryRun();
    assert.equal(e2.documentsChanged, 3);
    assert.equal(e2.documentsUnchanged, 21);
    assert.ok(e2.chunksCached > 0, 'unchanged chunks of the changed documents come from the cache');
    assert.ok(e2.tokensToEmbed > 0 && e2.tokensToEmbed < estimate.tokensToEmbed);
    emb.reset();
    const r = await run(2);
    assert.equal(emb.stats.tokens, e2.tokensToEmbed);
    assert.equal(r.counters.chunksEmbedded, e2.textsToEmbed);
    assert.equal(r.counters.tokensEmbedded, emb.stats.tokens);
    // Unchanged now: nothing to embed, nothing to pay.
    const e3 = await dryRun();
    assert.equal(e3.tokensToEmbed, 0);
    assert.equal(e3.costUsd, 0);
  });
});
