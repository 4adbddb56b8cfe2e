import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { ConfigError, DocumentError } from '../errors';
import { formatOf } from '../text/extract';
import { classifyGitError, firstLines, git, GitCommandError } from './git-cli';
import { defineSourceKind, type Source, type SourceContext, type SourceItem, type SourcePage } from './types';

/** Environment variable with a token for https remotes (sent as HTTP basic auth, never on a command line). */
export const GIT_TOKEN_ENV = 'VECTOR_INGEST_GIT_TOKEN';

const REF_RE = /^(?!-)(?!.*\.\.)[A-Za-z0-9._/+@-]{1,250}$/;
const SHA_RE = /^[0-9a-f]{7,64}$/i;

interface TreeEntry {
  path: string;
  blob: string;
  size: number;
}

/** A commit's documents, and the paths of its files that have no supported format (counted, not read). */
interface Tree {
  entries: TreeEntry[];
  unsupported: string[];
}

/** Trees listed recently, by commit: paging a tree lists it once, not once per page. */
const treeCache = new Map<string, Tree>();
const TREES_KEPT = 4;
/** One fetch at a time per local mirror (git locks its refs). */
const mirrorLocks = new Map<string, Promise<unknown>>();

function locked<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const prev = mirrorLocks.get(key) ?? Promise.resolve();
  const next = prev.then(fn, fn);
  mirrorLocks.set(key, next.catch(() => undefined));
  return next;
}

function bytewise(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** How many of the sorted paths are <= `path`. */
function countUpTo(sorted: string[], path: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! <= path) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * A Git repository at a ref: documents are the tracked files (with a supported extension) of
 * the commit the ref resolves to when the run starts. The worker keeps a bare mirror under its
 * data dir and fetches into it; listing is `git ls-tree -r` of that commit, and each file's
 * fingerprint is its blob id, so an unchanged file is skipped without reading it. The commit is
 * carried in the cursor (`<commit>:<path>`), so every page of a run reads the same commit even
 * if the branch moves meanwhile.
 */
export class GitSource implements Source {
  readonly url: string;
  readonly ref: string | undefined;
  private readonly mirror: string;

  constructor(
    spec: { url: string; ref?: string },
    private readonly ctx: SourceContext,
  ) {
    this.url = normalizeUrl(spec.url);
    if (spec.ref !== undefined && (typeof spec.ref !== 'string' || !REF_RE.test(spec.ref))) {
      throw new ConfigError(`git source: ref ${JSON.stringify(spec.ref)} is not a valid branch, tag or commit name`);
    }
    this.ref = spec.ref;
    const key = createHash('sha256').update(this.url).digest('hex').slice(0, 24);
    this.mirror = path.join(ctx.dataDir, 'sources', 'git', `${key}.git`);
  }

  describe(): string {
    return `git ${this.url}${this.ref ? `#${this.ref}` : ''}`;
  }

  async validate(): Promise<void> {
    await this.resolve(true);
  }

  async listPage(cursor: string | null, limit: number): Promise<SourcePage> {
    let commit: string;
    let after: string | null = null;
    if (cursor === null) {
      commit = await this.resolve(false);
    } else {
      const sep = cursor.indexOf(':');
      commit = cursor.slice(0, sep);
      after = cursor.slice(sep + 1);
      if (sep < 0 || !SHA_RE.test(commit)) throw new ConfigError(`git source: cursor ${JSON.stringify(cursor)} is not <commit>:<path>`);
      await this.ensureCommit(commit);
    }
    const { entries, unsupported } = await this.tree(commit);
    const start = after === null ? 0 : countUpTo(entries.map((e) => e.path), after);
    const page = entries.slice(start, start + limit);
    const items: SourceItem[] = page.map((e) => ({ id: e.path, format: formatOf(e.path)!, fingerprint: e.blob }));
    const more = start + limit < entries.length;
    const last = more ? page[page.length - 1]!.path : null;
    // Unsupported files between the previous page's last document and this page's (to the end on the last page): each is counted by exactly one page.
    const filesUnsupported = (last === null ? unsupported.length : countUpTo(unsupported, last)) - (after === null ? 0 : countUpTo(unsupported, after));
    return { items, nextCursor: last === null ? null : `${commit}:${last}`, version: commit, skipped: { filesExcluded: 0, directoriesExcluded: 0, filesUnsupported } };
  }

  async read(item: SourceItem, maxBytes: number): Promise<Uint8Array> {
    let blob = item.fingerprint;
    if (!blob) {
      // A replay names a document only: read it at the ref's current commit.
      const commit = await this.resolve(false);
      const entry = (await this.tree(commit)).entries.find((e) => e.path === item.id);
      if (!entry) throw new DocumentError('DocumentVanished', `${item.id}: is not tracked at ${this.describe()} (${commit.slice(0, 12)})`);
      blob = entry.blob;
    }
    const size = await this.blobSize(item.id, blob);
    if (size > maxBytes) throw new DocumentError('DocumentTooLarge', `${item.id}: is ${size} bytes; the limit is ${maxBytes} (VECTOR_INGEST_MAX_DOCUMENT_BYTES)`);
    try {
      return (await git(['cat-file', 'blob', blob], { cwd: this.mirror, maxBuffer: maxBytes + 1 })).stdout;
    } catch (err) {
      if (err instanceof GitCommandError) throw new DocumentError('UnreadableDocument', `${item.id}: blob ${blob} cannot be read: ${firstLines(err.stderr, 1)}`);
      throw err;
    }
  }

  private async blobSize(id: string, blob: string): Promise<number> {
    try {
      return Number((await git(['cat-file', '-s', blob], { cwd: this.mirror })).stdout.toString('utf8').trim());
    } catch (err) {
      if (err instanceof GitCommandError) throw new DocumentError('UnreadableDocument', `${id}: blob ${blob} is not in the worker's mirror: ${firstLines(err.stderr, 1)}`);
      throw err;
    }
  }

  /** Tracked files of a commit with a supported extension, and the paths of those without, each sorted by path (bytewise). */
  private async tree(commit: string): Promise<Tree> {
    const hit = treeCache.get(`${this.mirror}@${commit}`);
    if (hit) return hit;
    const out = (await git(['ls-tree', '-r', '-l', '-z', '--full-tree', commit], { cwd: this.mirror })).stdout.toString('utf8');
    const entries: TreeEntry[] = [];
    const unsupported: string[] = [];
    for (const rec of out.split('\0')) {
      if (!rec) continue;
      const tab = rec.indexOf('\t');
      const [mode, type, blob, size] = rec.slice(0, tab).split(/\s+/);
      const p = rec.slice(tab + 1);
      // Regular files only: symlinks (120000) and submodules (commits) are not documents.
      if (type !== 'blob' || mode === '120000') continue;
      if (formatOf(p)) entries.push({ path: p, blob: blob!, size: Number(size) });
      else unsupported.push(p);
    }
    entries.sort((a, b) => bytewise(a.path, b.path));
    unsupported.sort(bytewise);
    const tree = { entries, unsupported };
    treeCache.set(`${this.mirror}@${commit}`, tree);
    while (treeCache.size > TREES_KEPT) treeCache.delete(treeCache.keys().next().value!);
    return tree;
  }

  /** Fetches the ref into the mirror and returns its commit; `strict`: every failure is a ConfigError. */
  private async resolve(strict: boolean): Promise<string> {
    return locked(this.mirror, async () => {
      await this.initMirror();
      const ref = this.ref ?? 'HEAD';
      try {
        if (SHA_RE.test(ref)) {
          // A commit id: present already, or fetched with every branch and tag.
          if (!(await this.hasCommit(ref))) await this.fetch(['+refs/heads/*:refs/vi/heads/*', '+refs/tags/*:refs/vi/tags/*']);
          if (!(await this.hasCommit(ref))) throw new ConfigError(`git source ${this.describe()}: commit ${ref} does not exist in the repository`);
          return (await git(['rev-parse', '--verify', '--end-of-options', `${ref}^{commit}`], { cwd: this.mirror })).stdout.toString('utf8').trim();
        }
        await this.fetch([`+${ref}:refs/vi/target`]);
        return (await git(['rev-parse', '--verify', 'refs/vi/target^{commit}'], { cwd: this.mirror })).stdout.toString('utf8').trim();
      } catch (err) {
        throw this.explain(err, strict);
      }
    });
  }

  private async ensureCommit(commit: string): Promise<void> {
    if (existsSync(this.mirror) && (await this.hasCommit(commit))) return;
    await this.resolve(false);
    if (await this.hasCommit(commit)) return;
    await locked(this.mirror, () => this.fetch(['+refs/heads/*:refs/vi/heads/*', '+refs/tags/*:refs/vi/tags/*']).catch((err) => Promise.reject(this.explain(err, false))));
    if (!(await this.hasCommit(commit))) {
      throw new ConfigError(`git source ${this.describe()}: commit ${commit} of this run is no longer in the repository (history rewritten?); start the run again`);
    }
  }

  private async hasCommit(rev: string): Promise<boolean> {
    try {
      await git(['cat-file', '-e', '--end-of-options', `${rev}^{commit}`], { cwd: this.mirror });
      return true;
    } catch {
      return false;
    }
  }

  private async initMirror(): Promise<void> {
    if (existsSync(path.join(this.mirror, 'HEAD'))) return;
    mkdirSync(path.dirname(this.mirror), { recursive: true });
    await git(['init', '--bare', '--quiet', this.mirror]);
  }

  private async fetch(refspecs: string[]): Promise<void> {
    await git(['fetch', '--quiet', '--no-tags', '--force', '--no-write-fetch-head', '--end-of-options', this.url, ...refspecs], {
      cwd: this.mirror,
      env: this.authEnv(),
    });
  }

  /** A token from the worker's environment becomes an HTTP header through git's env config (not argv). */
  private authEnv(): Record<string, string> {
    const token = this.ctx.env[GIT_TOKEN_ENV];
    if (!token || !/^https?:/i.test(this.url)) return {};
    const basic = Buffer.from(`x-access-token:${token}`).toString('base64');
    return { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'http.extraHeader', GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}` };
  }

  /** Turns a failed fetch into a message naming the problem; run-level ones become ConfigError. */
  private explain(err: unknown, strict: boolean): Error {
    if (!(err instanceof GitCommandError)) return err as Error;
    const why = firstLines(err.stderr);
    switch (classifyGitError(err.stderr)) {
      case 'auth':
        return new ConfigError(
          `git source ${this.describe()}: authentication refused (${why}); give the worker credentials in its environment (${GIT_TOKEN_ENV}, GIT_ASKPASS or an SSH key), never in the source`,
        );
      case 'missing-ref':
        return new ConfigError(`git source ${this.describe()}: ref ${JSON.stringify(this.ref ?? 'HEAD')} does not exist (${why})`);
      case 'missing-repo':
        return new ConfigError(`git source ${this.describe()}: no repository there (${why})`);
      case 'unreachable':
        return strict ? new ConfigError(`git source ${this.describe()}: host unreachable (${why})`) : new Error(`git source ${this.describe()}: host unreachable (${why})`);
      default:
        return strict ? new ConfigError(`git source ${this.describe()}: fetch failed (${why})`) : new Error(`git source ${this.describe()}: fetch failed (${why})`);
    }
  }
}

/** Absolute paths and file:// URLs as given; URLs with an embedded password are refused. */
function normalizeUrl(url: unknown): string {
  if (typeof url !== 'string' || url.length === 0) throw new ConfigError('source.url is required for a git source');
  if (url.startsWith('-')) throw new ConfigError(`git source: url ${JSON.stringify(url)} is not a repository URL or path`);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new ConfigError(`git source: url ${JSON.stringify(url)} is not a valid URL`);
    }
    if (u.password) {
      throw new ConfigError(`git source: the url carries a password, which would be kept in workflow history; give the worker ${GIT_TOKEN_ENV} or GIT_ASKPASS instead`);
    }
    return url;
  }
  if (/^[\w.-]+@[\w.-]+:/.test(url)) return url; // scp-like ssh: git@host:org/repo.git
  if (!path.isAbsolute(url)) throw new ConfigError(`git source: a repository path must be absolute (the worker resolves it), got ${JSON.stringify(url)}`);
  return path.normalize(url);
}

export const gitSource = defineSourceKind({
  kind: 'git',
  open(spec, ctx) {
    return new GitSource(spec, ctx);
  },
});
