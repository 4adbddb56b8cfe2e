import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../support/env';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin/vector-ingest.js');
const EXAMPLES = path.join(ROOT, 'examples/docs');

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const clean = { ...process.env };
    for (const k of ['TEMPORAL_ADDRESS', 'DATABASE_URL', 'OPENAI_API_KEY', 'OPENAI_BASE_URL', 'VECTOR_INGEST_DATA_DIR', 'QDRANT_URL']) delete clean[k];
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...clean, LOG_LEVEL: 'warn', EMBEDDING_PROVIDER: 'offline', ...env }, cwd: tempDir('vi-cwd-') });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

// `vector-ingest search` as a user runs it after README's first command: embedded PGlite, the
// offline embedder (deterministic), no Temporal server (search never starts one).
describe('vector-ingest search on embedded defaults', () => {
  const dataDir = tempDir('vi-search-data-');

  it('finds a document from a passage of it, as text and as JSON, with --hybrid and --where; exit 4 and 2 on errors', async () => {
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

    const unknown = await cli(['search', 'nope', 'anything', '--data-dir', dataDir]);
    assert.equal(unknown.code, 4);
    assert.match(unknown.stderr, /no collection "nope"/);

    const mismatch = await cli(['search', 'demo', 'anything', '--data-dir', dataDir], { EMBEDDING_DIMENSIONS: '128' });
    assert.equal(mismatch.code, 2);
    assert.match(mismatch.stderr, /collection demo was embedded with model offline-hash-v1 \(384 dimensions\), but the configured embedder is offline-hash-v1 \(128 dimensions\)/);
  });
});
