import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildCorpus } from '../support/corpus';
import { tempDir, uniqueCollection, withPg } from '../support/env';
import { gitIn, SourceRig } from '../support/source-run';

const BIN = path.resolve(__dirname, '../../bin/vector-ingest.js');

/** Polls `check` every 100 ms until it is true or `ms` pass; returns the time it took. */
async function within(ms: number, what: string, check: () => Promise<boolean>): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (await check()) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`${what}: not within ${ms} ms`);
}

async function contentHas(collection: string, needle: string): Promise<boolean> {
  return withPg(async (c) => {
    const r = await c.query(`SELECT to_regclass('public.${collection}') IS NOT NULL AS x`);
    if (!r.rows[0].x) return false;
    return (await c.query(`SELECT count(*)::int AS n FROM public.${collection} WHERE content LIKE $1`, [`%${needle}%`])).rows[0].n > 0;
  });
}

// `vector-ingest watch` (the compiled CLI) against a real server and worker: the index follows
// a directory edit within seconds, and a polled git source follows a new commit.
describe('vector-ingest watch', () => {
  const rig = new SourceRig('directory', `watch-${Date.now()}`);
  const dirColl = uniqueCollection('it_watch');
  const gitColl = uniqueCollection('it_watchgit');
  const children: ChildProcess[] = [];
  let stderr = '';

  const watch = (args: string[]): ChildProcess => {
    const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn', TEMPORAL_ADDRESS: rig.server.address, TEMPORAL_NAMESPACE: rig.server.namespace };
    delete env.DATABASE_URL;
    const child = spawn(process.execPath, [BIN, 'watch', ...args], { env, cwd: tempDir('vi-cwd-') });
    child.stderr!.on('data', (d) => (stderr += d));
    child.stdout!.resume();
    children.push(child);
    return child;
  };
  const exited = (child: ChildProcess) => new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));

  before(() => rig.start());
  after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await rig.stop([dirColl, gitColl]);
  });

  it('a directory: the first run, then an edited file is in pgvector within seconds; SIGTERM exits 0', async () => {
    const dir = tempDir('vi-watch-');
    const files = buildCorpus(dir, { files: 10, largeFiles: 0 });
    const child = watch([dir, '--collection', dirColl, '--debounce-ms', '200']);
    await within(30_000, 'first run', () => contentHas(dirColl, 'd9p0'));
    const target = path.join(dir, files.find((f) => f.endsWith('.md'))!);
    writeFileSync(target, `${readFileSync(target, 'utf8')}\n\nWatched edit zebracorn appears.\n`);
    const ms = await within(15_000, 'the edit', () => contentHas(dirColl, 'zebracorn'));
    process.stderr.write(`watch: edit searchable in pgvector after ${ms} ms\n`);
    writeFileSync(path.join(dir, 'new.md'), '# New\n\nA file created while watched: quokkaplex.\n');
    await within(15_000, 'a new file', () => contentHas(dirColl, 'quokkaplex'));
    child.kill('SIGTERM');
    assert.equal(await exited(child), 0, stderr);
  });

  it('a git repository is polled: a new commit reaches the index on the next poll', async () => {
    const work = tempDir('vi-watch-git-');
    await gitIn(work, 'init', '--quiet', '--initial-branch=main');
    writeFileSync(path.join(work, 'a.md'), '# A\n\nThe first version of a.\n');
    await gitIn(work, 'add', '-A');
    await gitIn(work, 'commit', '--quiet', '-m', 'one');
    const child = watch([`git+file://${work}#main`, '--collection', gitColl, '--interval', '1']);
    await within(30_000, 'first run', () => contentHas(gitColl, 'first version'));
    writeFileSync(path.join(work, 'b.md'), '# B\n\nCommitted later: wombatrix.\n');
    await gitIn(work, 'add', '-A');
    await gitIn(work, 'commit', '--quiet', '-m', 'two');
    await within(20_000, 'the new commit', () => contentHas(gitColl, 'wombatrix'));
    child.kill('SIGTERM');
    assert.equal(await exited(child), 0, stderr);
  });

  it('a refused source stops the watch with exit 2', async () => {
    const work = tempDir('vi-watch-bad-');
    const child = watch([`git+file://${work}#main`, '--collection', uniqueCollection('it_watchbad'), '--interval', '1']);
    const code = await Promise.race([exited(child), new Promise<string>((r) => setTimeout(() => r('timeout'), 30_000))]);
    assert.equal(code, 2, stderr);
    assert.match(stderr, /no repository there/);
  });
});
