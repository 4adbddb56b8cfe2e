import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
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

  it("gives each file the size and modification time fs.stat reports (mtime to the millisecond, as Stats#mtime rounds it)", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vi-mtime-'));
    try {
      // nanosecond mtimes set explicitly: truncating them (a bigint stat's mtimeMs) would be 1 ms off for .6
      for (let i = 0; i < 10; i++) {
        const f = path.join(dir, `f${i}.md`);
        writeFileSync(f, 'x'.repeat(i + 1));
        utimesSync(f, 1_700_000_000.1234 + i / 10, 1_700_000_000.0006 + i / 10);
      }
      const page = await new DirectorySource(dir).listPage(null, 100);
      assert.equal(page.items.length, 10);
      for (const item of page.items) {
        const st = statSync(path.join(dir, item.id));
        assert.equal(item.size, st.size, item.id);
        assert.equal(item.modifiedAt, st.mtime.toISOString(), item.id);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
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
      (e: unknown) => e instanceof DocumentError && e.type === 'DocumentTooLarge' && /a\.md: is \d+ bytes; the limit is 3 \(VECTOR_INGEST_MAX_DOCUMENT_BYTES\)/.test(e.message),
    );
  });

  it('refuses a file it may not read as UnreadableDocument (permission denied)', () => {
    // Root reads a mode-000 file anyway, so as root the read runs in a child process as the
    // unprivileged user 65534 ("nobody"): a real EACCES from the kernel, not a simulated one.
    const dir = mkdtempSync(path.join(tmpdir(), 'vi-eacces-'));
    try {
      chmodSync(dir, 0o755);
      writeFileSync(path.join(dir, 'locked.md'), 'secret');
      chmodSync(path.join(dir, 'locked.md'), 0o000);
      const script = path.join(dir, 'read.ts');
      writeFileSync(
        script,
        `import { DirectorySource } from ${JSON.stringify(path.resolve(__dirname, '../../src/sources/directory'))};
void new DirectorySource(${JSON.stringify(dir)}).read({ id: 'locked.md', format: 'markdown' }, 1e6).then(
  () => console.log('read'),
  (e) => console.log(JSON.stringify({ type: e.type, message: e.message })),
);`,
      );
      chmodSync(script, 0o644);
      const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
      const r = spawnSync(process.execPath, ['--import', 'tsx', script], { ...asNobody, cwd: path.resolve(__dirname, '../..'), encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout.trim()), { type: 'UnreadableDocument', message: 'locked.md: permission denied' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
