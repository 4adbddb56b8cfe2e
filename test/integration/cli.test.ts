import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { runCli, UNCONFIGURED } from '../support/cli-run';
import { tempDir } from '../support/env';

const ROOT = path.resolve(__dirname, '../..');
const EXAMPLES = path.join(ROOT, 'examples/docs');

/** The CLI as a user with no configuration runs it. */
const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(args, { unset: UNCONFIGURED, env, timeoutMs: 180_000 });

// README's first command, on embedded defaults: a Temporal dev server started by the CLI,
// PGlite + pgvector, the local model (installed by scripts/infra/install-model.sh, as README's
// first command does). Runs the compiled CLI exactly as a user would.
describe('vector-ingest CLI on embedded defaults', () => {
  const dataDir = tempDir('vi-data-');

  it('ingests the example folder, then a second run finds nothing to do', async () => {
    const first = await cli(['ingest', EXAMPLES, '--collection', 'demo', '--data-dir', dataDir, '--json'], { LOG_LEVEL: 'info' });
    assert.equal(first.code, 0, first.stderr);
    const r1 = JSON.parse(first.stdout.trim().split('\n').pop()!);
    assert.equal(r1.counters.documentsListed, 5);
    assert.equal(r1.counters.documentsChanged, 5);
    assert.equal(r1.counters.chunksUpserted, r1.counters.chunksPlanned);
    assert.ok(r1.counters.chunksPlanned >= 5);
    assert.doesNotMatch(first.stderr, /OFFLINE/);
    assert.match(first.stderr, /"model":"all-MiniLM-L6-v2@[0-9a-f]{12}".*"tokenizer":"wordpiece:all-MiniLM-L6-v2"/, 'the run used the local model');
    assert.match(first.stderr, /Web UI: http:\/\/127\.0\.0\.1:\d+\/namespaces\/default\/workflows\/ingest-demo\//);

    const second = await cli(['ingest', EXAMPLES, '--collection', 'demo', '--data-dir', dataDir, '--json']);
    assert.equal(second.code, 0, second.stderr);
    const r2 = JSON.parse(second.stdout.trim().split('\n').pop()!);
    assert.equal(r2.counters.documentsUnchanged, 5);
    assert.equal(r2.counters.chunksPlanned, 0);
    assert.equal(r2.counters.embeddingRequests, 0);

    const status = await cli(['status', 'demo', '--data-dir', dataDir, '--json']);
    assert.equal(status.code, 0, status.stderr);
    const s = JSON.parse(status.stdout);
    assert.equal(s.status, 'COMPLETED');
    assert.equal(s.result.counters.documentsUnchanged, 5);
  });

  it('refuses bad input with exit code 2 and a clear message', async () => {
    const hostile = await cli(['ingest', EXAMPLES, '--collection', 'x; drop table y', '--data-dir', dataDir]);
    assert.equal(hostile.code, 2);
    assert.match(hostile.stderr, /collection name "x; drop table y" is not allowed/);
    const missing = await cli(['ingest', path.join(dataDir, 'nope'), '--collection', 'demo', '--data-dir', dataDir]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /is not a directory/);
    const badEnv = await cli(['ingest', EXAMPLES, '--collection', 'demo', '--data-dir', dataDir], { VECTOR_INGEST_EMBED_CONCURRENCY: 'many' });
    assert.equal(badEnv.code, 2);
    assert.match(badEnv.stderr, /VECTOR_INGEST_EMBED_CONCURRENCY/);
  });

  it('has --help on every command, naming the environment variables', async () => {
    const top = await cli(['--help']);
    assert.equal(top.code, 0);
    for (const name of ['TEMPORAL_ADDRESS', 'DATABASE_URL', 'OPENAI_API_KEY', 'OPENAI_BASE_URL', 'EMBEDDING_MODEL', 'EMBEDDING_DIMENSIONS', 'VECTOR_INGEST_DATA_DIR', 'TEMPORAL_NAMESPACE']) {
      assert.ok(top.stdout.includes(name), `--help does not mention ${name}`);
    }
    for (const cmd of ['ingest', 'worker', 'dev', 'status']) {
      const h = await cli([cmd, '--help']);
      assert.equal(h.code, 0, `${cmd} --help`);
      assert.match(h.stdout, new RegExp(`Usage: vector-ingest ${cmd}`));
    }
    const unknown = await cli(['frobnicate']);
    assert.equal(unknown.code, 2);
  });
});
