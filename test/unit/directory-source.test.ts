import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DirectorySource, comparePaths } from '../../src/sources/directory';
import { DocumentError } from '../../src/errors';

describe('DirectorySource', () => {
  let root: string;
  const files = ['a.md', 'b/c.txt', 'b/d/e.html', 'b-x.md', 'b0.md', 'z/y/x/w.md', 'z/a.txt'];
  before(() => {
    root = mkdtempSync(path.join(tmpdir(), 'vi-src-'));
    for (const f of files) {
      mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
      writeFileSync(path.join(root, f), `content of ${f}`);
    }
    writeFileSync(path.join(root, 'image.png'), 'png');
    mkdirSync(path.join(root, '.git'));
    writeFileSync(path.join(root, '.git', 'x.md'), 'ignored');
    symlinkSync(root, path.join(root, 'b', 'loop')); // a directory symlink back to the root
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('lists every supported file once, in walk order, across any page size', async () => {
    const src = new DirectorySource(root);
    const expected = [...files].sort(comparePaths);
    for (const pageSize of [1, 2, 3, 100]) {
      const got: string[] = [];
      let cursor: string | null = null;
      for (let i = 0; i < 100; i++) {
        const page = await src.listPage(cursor, pageSize);
        assert.ok(page.items.length <= pageSize);
        got.push(...page.items.map((x) => x.id));
        if (page.nextCursor === null) break;
        cursor = page.nextCursor;
      }
      assert.deepEqual(got, expected, `page size ${pageSize}`);
    }
  });

  it('refuses a relative root and a missing one', async () => {
    assert.throws(() => new DirectorySource('relative/dir'), /must be absolute/);
    await assert.rejects(new DirectorySource(path.join(root, 'nope')).listPage(null, 10), /cannot be read on the worker/);
  });

  it('reports a vanished file as a typed per-document error', async () => {
    const src = new DirectorySource(root);
    await assert.rejects(
      src.read({ id: 'gone.md', format: 'markdown' }, 1000),
      (e: unknown) => e instanceof DocumentError && e.type === 'DocumentVanished',
    );
  });

  it('refuses a file over the size limit before reading it', async () => {
    const src = new DirectorySource(root);
    await assert.rejects(
      src.read({ id: 'a.md', format: 'markdown' }, 3),
      (e: unknown) => e instanceof DocumentError && e.type === 'DocumentTooLarge' && /a\.md: is \d+ bytes; the limit is 3/.test(e.message),
    );
  });
});
