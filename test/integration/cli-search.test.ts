import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import pg from 'pg';
import { StateStore } from '../../src/state/store';
import { runCli, UNCONFIGURED } from '../support/cli-run';
import { tempDir, TEST_DATABASE_URL, uniqueCollection, withPg } from '../support/env';

const ROOT = path.resolve(__dirname, '../..');
const EXAMPLES = path.join(ROOT, 'examples/docs');

/** The CLI with no configuration but the offline embedder (deterministic vectors). */
const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(args, { unset: UNCONFIGURED, env: { EMBEDDING_PROVIDER: 'offline', ...env }, timeoutMs: 120_000 });

// `vector-ingest search` as a user runs it after README's first command: embedded PGlite, the
// offline embedder (deterministic), no Temporal server (search never starts one).
describe('vector-ingest search on embedded defaults', () => {
  const dataDir = tempDir('vi-search-data-');

  it('finds a document from a passage of it, as text and as JSON, with --hybrid and --where', async () => {
    const ingest = await cli(['ingest', EXAMPLES, '--collection', 'demo', '--data-dir', dataDir, '--json']);
    assert.equal(ingest.code, 0, ingest.stderr);

    const passage = readFileSync(path.join(EXAMPLES, 'reference/ids.txt'), 'utf8').split('\n\n')[1]!.slice(0, 200);
    const text = await cli(['search', 'demo', passage, '--limit', '3', '--data-dir', dataDir]);
    assert.equal(text.code, 0, text.stderr);
    const lines = text.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 6, text.stdout); // rank line + snippet line per result
    assert.match(lines[0]!, /^1\. \d\.\d{3} {2}reference\/ids\.txt #0$/);
    assert.match(lines[2]!, /^2\. /);
    assert.doesNotMatch(text.stderr, /dev server|Temporal/i);

    const json = await cli(['search', 'demo', 'retries rate limits 429', '--json', '--hybrid', '--where', 'path=guides/**', '--where', 'chunk_index=0', '--data-dir', dataDir]);
    assert.equal(json.code, 0, json.stderr);
    const r = JSON.parse(json.stdout) as { hybrid: boolean; model: string; results: Array<{ rank: number; documentId: string; chunkIndex: number; snippet: string; ranks: unknown }> };
    assert.equal(r.hybrid, true);
    assert.equal(r.model, 'offline-hash-v1');
    assert.ok(r.results.length >= 1);
    assert.equal(r.results[0]!.documentId, 'guides/retries.md');
    assert.ok(r.results.every((x) => x.documentId.startsWith('guides/') && x.chunkIndex === 0 && x.ranks));
  });

  // The same command against a configured Postgres (DATABASE_URL): no embedded PGlite either.
  it('against DATABASE_URL: exit 4 for an unknown collection, exit 2 for another embedder than the recorded one', async () => {
    const collection = uniqueCollection('cli_search');
    const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 1 });
    await new StateStore(pool).migrate().finally(() => pool.end());
    await withPg(async (c) => {
      await c.query(`INSERT INTO vector_ingest.collections (name, sink, model, dimensions) VALUES ($1, 'pgvector', 'offline-hash-v1', 384)`, [collection]);
    });
    try {
      const env = { DATABASE_URL: TEST_DATABASE_URL };
      const unknown = await cli(['search', `${collection}_nope`, 'anything'], env);
      assert.equal(unknown.code, 4, unknown.stderr);
      assert.match(unknown.stderr, new RegExp(`no collection "${collection}_nope"`));
      const mismatch = await cli(['search', collection, 'anything'], { ...env, EMBEDDING_DIMENSIONS: '128' });
      assert.equal(mismatch.code, 2, mismatch.stderr);
      assert.match(mismatch.stderr, new RegExp(`collection ${collection} was embedded with model offline-hash-v1 \\(384 dimensions\\), but the configured embedder is offline-hash-v1 \\(128 dimensions\\)`));
    } finally {
      await withPg((c) => c.query('DELETE FROM vector_ingest.collections WHERE name = $1', [collection]));
    }
  });
});
