import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { IngestResult } from '../../src/contracts/ingest';
import { tempDir, uniqueCollection } from '../support/env';
import { expectedRowsAsync, sinkRows } from '../support/expected';
import { SourceRig } from '../support/source-run';

const CHUNKING = { chunkTokens: 60, overlapTokens: 8 };
const CHUNK_FLAGS = ['--chunk-tokens', '60', '--overlap-tokens', '8'];

const para = (topic: string) => `${topic}: ${Array.from({ length: 12 }, (_, i) => `sentence ${i} about ${topic} and durable ingestion.`).join(' ')}`;

/** A handbook with what people keep next to their documents: build output, vendored code, logs, drafts, images. */
const TREE: Record<string, string> = {
  '.vectorignore': '# generated and private\nbuild/\n*.log\n/private.md\n',
  'readme.md': `# Handbook\n\n${para('the handbook')}`,
  'private.md': `# Private\n\n${para('private notes')}`,
  'server.log': 'GET / 200',
  'logo.png': 'not really a png',
  'guides/install.md': `# Install\n\n${para('installing')}`,
  'guides/private.md': `# Team\n\n${para('team guide')}`, // /private.md is anchored at the root: listed
  'guides/draft-upgrade.md': `# Upgrade\n\n${para('upgrading')}`,
  'guides/.vectorignore': '*.txt\n!keep.txt\n',
  'guides/scratch.txt': para('scratch'),
  'guides/keep.txt': para('kept text'),
  'build/guide.html': `<h1>Built</h1><p>${para('built output')}</p>`,
  'src/build/gen.ts': 'export const generated = 1;',
  'src/app.ts': `export function app(): string {\n  return ${JSON.stringify(para('the app'))};\n}\n`,
  'vendor/lib.js': `function lib() { return ${JSON.stringify(para('vendored'))}; }`,
};
/** What the rules below let through: the documents the collection must hold. */
const LISTED = ['guides/install.md', 'guides/keep.txt', 'guides/private.md', 'readme.md', 'src/app.ts'];

// A directory with include/exclude globs and .vectorignore files (root and nested) ingested by
// the compiled CLI through a real Temporal server and worker into pgvector: the sink holds
// exactly the documents the rules let through, and the run's counters (JSON result, summary,
// status) say what was left out. Changing the rules changes the collection.
describe('directory source: include/exclude globs and .vectorignore', () => {
  const rig = new SourceRig('directory', `rules-${Date.now()}`);
  const collection = uniqueCollection('it_rules');
  const viaTcli = uniqueCollection('it_rulestc');
  const dir = tempDir('vi-rules-');

  /** What the sink must hold: the same chunking of only those files, computed offline. */
  const expected = (coll: string, files: string[]) => {
    const only = tempDir('vi-rules-expected-');
    for (const f of files) {
      mkdirSync(path.dirname(path.join(only, f)), { recursive: true });
      writeFileSync(path.join(only, f), TREE[f]!);
    }
    return expectedRowsAsync(coll, only, CHUNKING);
  };

  before(async () => {
    for (const [f, text] of Object.entries(TREE)) {
      mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      writeFileSync(path.join(dir, f), text);
    }
    await rig.start();
  });
  after(async () => {
    await rig.stop([collection, viaTcli]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('`ingest --exclude … --include …`: the sink holds what the rules let through; the counters and summary say what was left out', async () => {
    const out = await rig.viaCli(dir, collection, [...CHUNK_FLAGS, '--exclude', 'vendor', '--exclude', '**/draft-*', '--include', '*.md', '--include', '*.txt', '--include', 'src/**']);
    assert.equal(out.code, 0, out.stderr);
    const c = out.result.counters;
    assert.equal(c.documentsListed, LISTED.length, JSON.stringify(c));
    assert.deepEqual(await sinkRows(collection), await expected(collection, LISTED));
    // files: private.md, server.log (root .vectorignore), guides/draft-upgrade.md (--exclude),
    //        guides/scratch.txt (nested .vectorignore), logo.png (no --include matches it)
    // directories: build, src/build (build/), vendor (--exclude)
    assert.deepEqual([c.filesExcluded, c.directoriesExcluded, c.filesUnsupported], [5, 3, 0], JSON.stringify(c));
    assert.match(out.stderr, /skipped: +5 files and 3 directories excluded by include\/exclude\/\.vectorignore rules, 0 files of unsupported type/);

    const status = await rig.cli(['status', collection]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /skipped: +5 files and 3 directories excluded/);
  });

  it('changed rules change the collection: a newly excluded file is deleted, a newly included one added', async () => {
    // no --include now: logo.png counts as unsupported, vendor/lib.js and the draft are documents
    const out = await rig.viaCli(dir, collection, [...CHUNK_FLAGS, '--exclude', 'guides/keep.txt']);
    assert.equal(out.code, 0, out.stderr);
    const now = ['guides/draft-upgrade.md', 'guides/install.md', 'guides/private.md', 'readme.md', 'src/app.ts', 'vendor/lib.js'];
    assert.deepEqual(await sinkRows(collection), await expected(collection, now));
    const c = out.result.counters;
    assert.equal(c.documentsDeleted, 1, 'guides/keep.txt');
    assert.equal(c.documentsChanged, 2, 'the draft and vendor/lib.js');
    assert.deepEqual([c.filesExcluded, c.directoriesExcluded, c.filesUnsupported], [4, 2, 1], JSON.stringify(c));
  });

  it('`temporal workflow start` with include/exclude in the source object; --include on a non-directory source is refused', async () => {
    const r = await rig.viaTemporalCli(viaTcli, { kind: 'directory', path: dir, include: ['guides/**'], exclude: ['*.txt'] }, { chunking: CHUNKING });
    assert.deepEqual(await sinkRows(viaTcli), await expected(viaTcli, ['guides/draft-upgrade.md', 'guides/install.md', 'guides/private.md']));
    assert.equal((r.result as IngestResult).counters.documentsListed, 3);

    const bad = await rig.cli(['ingest', 's3://bucket/prefix', '--collection', `${viaTcli}_bad`, '--include', '*.md']);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /--include and --exclude apply to directory sources only, not to a s3 source/);
  });
});
