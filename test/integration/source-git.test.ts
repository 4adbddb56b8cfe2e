import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { after, before, describe, it } from 'node:test';
import { buildCorpus } from '../support/corpus';
import { tempDir, uniqueCollection, withPg } from '../support/env';
import { expectedRows, sinkRows } from '../support/expected';
import { gitIn, SourceRig } from '../support/source-run';
import { documentsRead } from '../support/reads';
import { reindexCollection } from '../../src/workflows';
import { openSource } from '../../src/sources';
import { createSourceContext } from '../../src/sources/context';
import { TASK_QUEUE } from '../../src/contracts/ingest';

const CHUNKING = { chunkTokens: 120, overlapTokens: 16 };

async function failureOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof WorkflowFailedError, String(err));
    let e: unknown = err;
    const parts: string[] = [];
    for (let i = 0; i < 5 && e; i++) {
      parts.push(`${(e as { type?: string }).type ?? ''} ${(e as Error).message}`);
      e = (e as { cause?: unknown }).cause;
    }
    return parts.join(' | ');
  }
  assert.fail('the run should have failed');
}

async function tableExists(name: string): Promise<boolean> {
  return withPg(async (c) => (await c.query(`SELECT to_regclass('public.${name}') IS NOT NULL AS x`)).rows[0].x);
}

// A git repository made with the git CLI: documents are tracked files at the ref's commit,
// fingerprinted by blob id, so an unchanged re-run reads nothing.
describe('git source', () => {
  const rig = new SourceRig('git', `git-${Date.now()}`);
  const collection = uniqueCollection('it_git');
  const viaCli = uniqueCollection('it_gitcli');
  const viaTcli = uniqueCollection('it_gittcli');
  let work: string; // the working tree (its .git is a file pointing elsewhere, so expectedRows sees only the files)
  let files: string[];

  before(async () => {
    work = tempDir('vi-git-work-');
    const gitDir = path.join(tempDir('vi-git-dir-'), 'repo.git');
    await gitIn(work, 'init', '--quiet', '--initial-branch=main', `--separate-git-dir=${gitDir}`, '.');
    files = buildCorpus(work, { files: 24, largeFiles: 1 });
    writeFileSync(path.join(work, 'image.png'), 'not a document');
    symlinkSync('README-link-target.md', path.join(work, 'dangling-link.md')); // symlinks are not documents
    await gitIn(work, 'add', '-A');
    await gitIn(work, 'commit', '--quiet', '-m', 'first');
    await gitIn(work, 'tag', 'v1');
    rmSync(path.join(work, 'dangling-link.md'));
    await gitIn(work, 'rm', '--quiet', '--cached', 'dangling-link.md');
    await gitIn(work, 'commit', '--quiet', '-m', 'no link');
    await rig.start();
  });
  after(() => rig.stop([collection, viaCli, viaTcli]));

  const source = () => ({ kind: 'git' as const, url: work, ref: 'main' });

  it('first run ingests the tracked files and records the commit; an unchanged re-run reads and embeds nothing', async () => {
    const first = await rig.ingest({ collection, source: source(), chunking: CHUNKING, pageSize: 7 });
    assert.equal(first.result.counters.documentsListed, files.length);
    assert.equal(first.reads, files.length);
    assert.equal(first.result.sourceVersion, await gitIn(work, 'rev-parse', 'main'));
    assert.deepEqual(await sinkRows(collection), expectedRows(collection, work, CHUNKING));
    // Tracked files that are not documents (image.png, whatever else the corpus holds) are counted, each once across the 7-file pages.
    const tracked = (await gitIn(work, 'ls-files')).split('\n').filter(Boolean).length;
    assert.ok(tracked > files.length);
    assert.equal(first.result.counters.filesUnsupported, tracked - files.length);

    const again = await rig.ingest({ collection, source: source(), chunking: CHUNKING, pageSize: 7 });
    process.stderr.write(`unchanged re-run (git, ${files.length} files): ${again.ms} ms\n`);
    assert.equal(again.reads, 0, 'an unchanged blob was read');
    assert.equal(again.embedded, 0);
    assert.equal(again.result.counters.documentsUnchanged, files.length);
    assert.equal(again.result.counters.chunksUpserted, 0);
  });

  it('change, add and delete in a new commit: only those are read, the sink follows the commit', async () => {
    const changed = path.join(work, files[3]!);
    writeFileSync(changed, `${readFileSync(changed, 'utf8')}\n\nA paragraph added in the second commit.\n`);
    mkdirSync(path.join(work, 'new'), { recursive: true });
    writeFileSync(path.join(work, 'new', 'added.md'), '# Added\n\nA file added in a later commit, about git sources.\n');
    rmSync(path.join(work, files[5]!));
    writeFileSync(path.join(work, 'untracked.md'), '# Untracked\n\nnever committed\n');
    await gitIn(work, 'add', files[3]!, 'new/added.md', files[5]!);
    await gitIn(work, 'commit', '--quiet', '-m', 'second');
    rmSync(path.join(work, 'untracked.md'));

    const r = await rig.ingest({ collection, source: source(), chunking: CHUNKING, pageSize: 7 });
    assert.equal(r.reads, 2, 'changed + added');
    assert.equal(r.result.counters.documentsChanged, 2);
    assert.equal(r.result.counters.documentsDeleted, 1);
    assert.equal(r.result.sourceVersion, await gitIn(work, 'rev-parse', 'main'));
    assert.deepEqual(await sinkRows(collection), expectedRows(collection, work, CHUNKING));
  });

  it('a tag pins an older commit: going back re-reads only what differs', async () => {
    const r = await rig.ingest({ collection, source: { kind: 'git', url: work, ref: 'v1' }, chunking: CHUNKING, pageSize: 50 });
    assert.equal(r.result.sourceVersion, await gitIn(work, 'rev-parse', 'v1^{commit}'));
    assert.equal(r.reads, 2, 'the changed file and the file deleted since');
    assert.equal(r.result.counters.documentsDeleted, 1, 'new/added.md is not in v1');
  });

  it('a scheduled re-index (reindexCollection) repeats the saved git source: nothing read', async () => {
    const reads0 = await documentsRead('git');
    const h = await rig.tc.client.workflow.start(reindexCollection, { taskQueue: TASK_QUEUE, workflowId: `${collection}-reindex`, args: [{ collection }] });
    const r = await h.result();
    assert.equal(r.skipped, false);
    assert.equal((await documentsRead('git')) - reads0, 0);
    assert.equal(r.skipped === false && r.sourceVersion, await gitIn(work, 'rev-parse', 'v1^{commit}'), 'the saved source is the last ingest\'s (ref v1)');
  });

  it('from `vector-ingest ingest git+file://…#main` (exit 0; the unchanged re-run reads nothing)', async () => {
    const address = `git+file://${work}#main`;
    const first = await rig.viaCli(address, viaCli, ['--chunk-tokens', '120', '--overlap-tokens', '16']);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.result.sourceVersion, await gitIn(work, 'rev-parse', 'main'));
    assert.deepEqual(await sinkRows(viaCli), expectedRows(viaCli, work, CHUNKING));
    const again = await rig.viaCli(address, viaCli, ['--chunk-tokens', '120', '--overlap-tokens', '16']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.reads, 0);
    assert.equal(again.embedded, 0);
  });

  it('from `temporal workflow start` with a JSON git source', async () => {
    const r = await rig.viaTemporalCli(viaTcli, { kind: 'git', url: `file://${work}`, ref: 'main' }, { chunking: CHUNKING });
    assert.equal(r.result.counters.documentsListed, files.length);
    assert.deepEqual(await sinkRows(viaTcli), expectedRows(viaTcli, work, CHUNKING));
  });

  it('a ref that does not exist, a missing repository, an unreachable host: a ConfigError naming it, nothing written, CLI exit 2', async () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ url: work, ref: 'no-such-branch' }, /ref "no-such-branch" does not exist/],
      [{ url: work, ref: 'deadbeefdeadbeef' }, /commit deadbeefdeadbeef does not exist/],
      [{ url: path.join(tempDir('vi-nogit-'), 'nothing') }, /no repository there/],
      [{ url: 'http://127.0.0.1:9/repo.git' }, /host unreachable/],
    ];
    for (const [spec, why] of cases) {
      const name = uniqueCollection('it_gitbad');
      const msg = await failureOf(rig.ingest({ collection: name, source: { kind: 'git', ...spec } as never }));
      assert.match(msg, /ConfigError/);
      assert.match(msg, why);
      assert.equal(await tableExists(name), false, `${name}: a table was created for a bad source`);
    }
    const name = uniqueCollection('it_gitbad');
    const out = await rig.cli(['ingest', `git+file://${work}#no-such-branch`, '--collection', name]);
    assert.equal(out.code, 2, out.stderr);
    assert.match(out.stderr, /ref "no-such-branch" does not exist/);
  });

  it('refuses a URL with a password in it (it would sit in history) when the source is opened, before any run', () => {
    assert.throws(() => openSource({ kind: 'git', url: 'https://user:secret@127.0.0.1:9/r.git', ref: 'main' }), /carries a password/);
    assert.throws(() => openSource({ kind: 'git', url: work, ref: '--upload-pack=touch /tmp/x' }), /not a valid branch, tag or commit name/);
    assert.throws(() => openSource({ kind: 'git', url: 'relative/repo' }), /must be absolute/);
  });

  it('counts tracked files of no supported format once, at every page size', async () => {
    const tracked = (await gitIn(work, 'ls-files')).split('\n').filter(Boolean).length;
    const src = openSource({ kind: 'git', url: work, ref: 'main' }, createSourceContext(tempDir('vi-git-list-')));
    for (const size of [1, 2, 3, 1000]) {
      let cursor: string | null = null;
      let unsupported = 0;
      let listed = 0;
      for (let i = 0; i < 1000; i++) {
        const page = await src.listPage(cursor, size);
        unsupported += page.skipped?.filesUnsupported ?? 0;
        listed += page.items.length;
        cursor = page.nextCursor;
        if (cursor === null) break;
      }
      assert.equal(cursor, null);
      assert.equal(listed, files.length, `page size ${size}`);
      assert.equal(unsupported, tracked - files.length, `page size ${size}`);
    }
  });
});
