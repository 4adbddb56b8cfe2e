import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '../../src/errors';
import { DirectorySource } from '../../src/sources/directory';
import { openSource } from '../../src/sources';
import { globList, ignoredByFiles, parseIgnoreFile, PathRules, type IgnoreLevel } from '../../src/sources/path-rules';
import type { SkipCounts } from '../../src/sources/types';
import { excludedFromWatch, withPathRules } from '../../src/cli/path-rule-options';

describe('include / exclude globs', () => {
  it('a glob without a slash matches a name at any depth; one with a slash the whole path', () => {
    const r = new PathRules(['*.md', 'docs/*.txt'], []);
    assert.equal(r.skipsFile('a.md'), false);
    assert.equal(r.skipsFile('deep/er/a.md'), false);
    assert.equal(r.skipsFile('docs/a.txt'), false);
    assert.equal(r.skipsFile('other/docs/a.txt'), true, 'docs/*.txt is anchored at the root');
    assert.equal(r.skipsFile('docs/sub/a.txt'), true, '* does not cross a slash');
    assert.equal(r.skipsFile('a.html'), true, 'include given: a file none matches is skipped');
  });

  it('no include globs: every file is in unless excluded', () => {
    const r = new PathRules([], ['*.log']);
    assert.equal(r.skipsFile('x/y.html'), false);
    assert.equal(r.skipsFile('x/y.log'), true);
  });

  it('exclusion wins over inclusion', () => {
    const r = new PathRules(['docs/**'], ['**/draft-*', 'docs/private/**']);
    assert.equal(r.skipsFile('docs/guide.md'), false);
    assert.equal(r.skipsFile('docs/draft-guide.md'), true);
    assert.equal(r.skipsFile('docs/private/keys.md'), true);
    assert.equal(r.skipsDirectory('docs/private'), true, 'dir/** excludes the directory itself, so it is not walked');
    assert.equal(r.skipsDirectory('docs'), false, 'include globs never prune a directory');
  });

  it('a leading slash anchors at the root; dot files match like others', () => {
    const r = new PathRules([], ['/notes.md', 'build']);
    assert.equal(r.skipsFile('notes.md'), true);
    assert.equal(r.skipsFile('sub/notes.md'), false);
    assert.equal(r.skipsDirectory('build'), true);
    assert.equal(r.skipsDirectory('pkg/build'), true);
    assert.equal(new PathRules(['**/*.md']).skipsFile('.github/readme.md'), false);
  });

  it('refuses include/exclude that are not lists of non-empty strings', () => {
    assert.deepEqual(globList('include', undefined), []);
    assert.throws(() => globList('include', '*.md'), (e: unknown) => e instanceof ConfigError && /source\.include must be an array/.test(e.message));
    assert.throws(() => globList('exclude', ['ok', '']), /source\.exclude\[1\] must be a non-empty glob/);
    assert.throws(() => openSource({ kind: 'directory', path: '/tmp', exclude: [3 as unknown as string] }), ConfigError);
  });
});

describe('.vectorignore (gitignore syntax)', () => {
  const root = (text: string): IgnoreLevel[] => [{ base: '', rules: parseIgnoreFile(text) }];

  it('! re-includes what an earlier line excluded; the last matching line wins', () => {
    const l = root('*.log\n!keep.log\n');
    assert.equal(ignoredByFiles(l, 'a.log', false), true);
    assert.equal(ignoredByFiles(l, 'sub/a.log', false), true);
    assert.equal(ignoredByFiles(l, 'keep.log', false), false);
    assert.equal(ignoredByFiles(l, 'sub/keep.log', false), false);
    assert.equal(ignoredByFiles(root('!keep.log\n*.log\n'), 'keep.log', false), true, 'a later line overrides the negation');
  });

  it('build/ matches directories only, at any depth', () => {
    const l = root('build/\n');
    assert.equal(ignoredByFiles(l, 'build', true), true);
    assert.equal(ignoredByFiles(l, 'pkg/build', true), true);
    assert.equal(ignoredByFiles(l, 'build', false), false, 'a file named build stays');
  });

  it('/x is anchored to the directory of the file', () => {
    const l = root('/secret.md\n');
    assert.equal(ignoredByFiles(l, 'secret.md', false), true);
    assert.equal(ignoredByFiles(l, 'docs/secret.md', false), false);
    const nested: IgnoreLevel[] = [{ base: 'docs', rules: parseIgnoreFile('/secret.md\n') }];
    assert.equal(ignoredByFiles(nested, 'docs/secret.md', false), true);
    assert.equal(ignoredByFiles(nested, 'docs/sub/secret.md', false), false);
  });

  it('a deeper file overrides a shallower one, both ways', () => {
    const l: IgnoreLevel[] = [
      { base: '', rules: parseIgnoreFile('*.txt\n') },
      { base: 'keep', rules: parseIgnoreFile('!*.txt\nlocal.md\n') },
    ];
    assert.equal(ignoredByFiles(l, 'a.txt', false), true);
    assert.equal(ignoredByFiles(l, 'keep/a.txt', false), false);
    assert.equal(ignoredByFiles(l, 'keep/local.md', false), true);
    assert.equal(ignoredByFiles(l, 'local.md', false), false);
  });

  it('comments and blank lines are not patterns', () => {
    const l = root('# *.md\n\n  \n');
    assert.equal(ignoredByFiles(l, 'a.md', false), false);
  });
});

describe('DirectorySource with rules', () => {
  let dir: string;
  const tree: Record<string, string> = {
    '.vectorignore': '# root rules\nbuild/\n*.log\n!keep.log\n/secret.md\n',
    'a.md': 'a',
    'secret.md': 'root secret',
    'keep.log': 'kept log? no: .log is not a supported format',
    'x.log': 'excluded',
    'image.png': 'png',
    'docs/guide.md': 'guide',
    'docs/secret.md': 'not anchored here, so listed',
    'docs/draft-plan.md': 'draft',
    'docs/build': 'a file named build is not a directory',
    'docs/.vectorignore': '!x.txt\nlocal.md\n',
    'docs/local.md': 'excluded by the nested file',
    'docs/x.txt': 'x',
    'build/out.md': 'in an excluded directory',
    'build/deep/more.md': 'never walked',
    'pkg/build/gen.md': 'also excluded (build/ at any depth)',
    'pkg/index.ts': 'export const x = 1;',
    'vendor/lib.js': 'excluded by --exclude',
  };
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'vi-rules-'));
    for (const [f, text] of Object.entries(tree)) {
      mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      writeFileSync(path.join(dir, f), text);
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function listAll(src: DirectorySource, pageSize: number): Promise<{ ids: string[]; skipped: SkipCounts }> {
    const ids: string[] = [];
    const skipped: SkipCounts = { filesExcluded: 0, directoriesExcluded: 0, filesUnsupported: 0 };
    let cursor: string | null = null;
    for (let i = 0; i < 100; i++) {
      const page = await src.listPage(cursor, pageSize);
      ids.push(...page.items.map((x) => x.id));
      for (const k of Object.keys(skipped) as Array<keyof SkipCounts>) skipped[k] += page.skipped?.[k] ?? 0;
      if (page.nextCursor === null) return { ids, skipped };
      cursor = page.nextCursor;
    }
    throw new Error('listing did not end');
  }

  it('lists what the rules let through and counts what they left out, the same at every page size', async () => {
    const src = new DirectorySource(dir, { exclude: ['vendor', '**/draft-*'] });
    for (const pageSize of [1, 2, 3, 1000]) {
      const { ids, skipped } = await listAll(src, pageSize);
      assert.deepEqual(ids, ['a.md', 'docs/guide.md', 'docs/secret.md', 'docs/x.txt', 'pkg/index.ts'], `page size ${pageSize}`);
      // files: secret.md, x.log (root rules), docs/draft-plan.md (--exclude), docs/local.md (nested)
      // directories: build, pkg/build (build/), vendor (--exclude)
      // unsupported: keep.log (re-included, but .log has no format), image.png, docs/build
      assert.deepEqual(skipped, { filesExcluded: 4, directoriesExcluded: 3, filesUnsupported: 3 }, `page size ${pageSize}`);
    }
  });

  it('include globs narrow the listing; what they leave out counts as excluded', async () => {
    const src = new DirectorySource(dir, { include: ['docs/**'] });
    const { ids, skipped } = await listAll(src, 2);
    assert.deepEqual(ids, ['docs/draft-plan.md', 'docs/guide.md', 'docs/secret.md', 'docs/x.txt']);
    // files outside docs/: a.md, image.png, keep.log, pkg/index.ts, vendor/lib.js (by include),
    // secret.md, x.log (root .vectorignore), docs/local.md (nested): 8; rules come before the
    // format, so image.png counts as excluded, docs/build (included, no format) as unsupported
    assert.deepEqual(skipped, { filesExcluded: 8, directoriesExcluded: 2, filesUnsupported: 1 });
  });

  it('without rules or .vectorignore nothing is excluded and unsupported files are still counted', async () => {
    const plain = mkdtempSync(path.join(tmpdir(), 'vi-rules-plain-'));
    try {
      writeFileSync(path.join(plain, 'a.md'), 'a');
      writeFileSync(path.join(plain, 'b.bin'), 'b');
      const { ids, skipped } = await listAll(new DirectorySource(plain), 10);
      assert.deepEqual(ids, ['a.md']);
      assert.deepEqual(skipped, { filesExcluded: 0, directoriesExcluded: 0, filesUnsupported: 1 });
    } finally {
      rmSync(plain, { recursive: true, force: true });
    }
  });
});

describe('--include / --exclude on the command line', () => {
  it('adds the globs to a directory source and refuses them on any other kind', () => {
    assert.deepEqual(withPathRules({ kind: 'directory', path: '/d', exclude: ['a'] }, { exclude: ['b'], include: ['*.md'] }), { kind: 'directory', path: '/d', exclude: ['a', 'b'], include: ['*.md'] });
    assert.deepEqual(withPathRules({ kind: 'git', url: '/r' }, {}), { kind: 'git', url: '/r' });
    assert.throws(() => withPathRules({ kind: 'git', url: '/r' }, { include: ['*.md'] }), (e: unknown) => e instanceof ConfigError && /directory sources only, not to a git source/.test(e.message));
  });

  it('watch ignores changes where an exclude glob leaves them out, and only there', () => {
    const ignored = excludedFromWatch('/data/docs', ['build', 'notes/*.tmp']);
    assert.equal(ignored('/data/docs/build'), true);
    assert.equal(ignored('/data/docs/build/out.md'), false, 'the directory itself is ignored, so chokidar never looks inside');
    assert.equal(ignored('/data/docs/pkg/build'), true);
    assert.equal(ignored('/data/docs/notes/a.tmp'), true);
    assert.equal(ignored('/data/docs/notes/a.md'), false);
    assert.equal(ignored('/data/docs'), false, 'never the root');
    assert.equal(ignored('/data/build'), false, 'nothing outside the root');
  });
});
