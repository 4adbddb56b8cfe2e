import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ConfigError, DocumentError } from '../errors';
import { formatOf } from '../text/extract';
import { globList, IGNORE_FILE, parseIgnoreFile, PathRules, type IgnoreLevel } from './path-rules';
import { defineSourceKind, type SkipCounts, type Source, type SourceItem, type SourcePage } from './types';

/** Compares relative POSIX paths segment by segment: the order of a sorted depth-first walk. */
export function comparePaths(a: string, b: string): number {
  const as = a.split('/');
  const bs = b.split('/');
  const n = Math.min(as.length, bs.length);
  for (let i = 0; i < n; i++) {
    const x = as[i]!;
    const y = bs[i]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return as.length - bs.length;
}

const SKIPPED_DIRS = new Set(['.git', 'node_modules', '.hg', '.svn', '.vector-ingest']);

/** Most bytes of one `.vectorignore` file (a larger one is refused rather than half-applied). */
const MAX_IGNORE_FILE_BYTES = 1 << 20;

function noSkips(): SkipCounts {
  return { filesExcluded: 0, directoriesExcluded: 0, filesUnsupported: 0 };
}

function addSkips(into: SkipCounts, from: SkipCounts): void {
  into.filesExcluded += from.filesExcluded;
  into.directoriesExcluded += from.directoriesExcluded;
  into.filesUnsupported += from.filesUnsupported;
}

export interface DirectoryRules {
  include?: string[];
  exclude?: string[];
}

/**
 * A directory tree as a source. Documents are regular files (or symlinks to them) with a
 * supported extension that the source's include/exclude globs and `.vectorignore` files let
 * through (src/sources/path-rules.ts); ids are paths relative to the root. Listing is a sorted
 * depth-first walk that skips whole subtrees before the cursor, so paging a large tree costs
 * one pass, not one pass per page. Directory symlinks are not followed (no loops, no escaping
 * the root). What the walk passes over (files and directories excluded by rule, files of no
 * supported format) is counted per page, so a run can say what it left out.
 */
export class DirectorySource implements Source {
  readonly root: string;
  private readonly rules: PathRules;

  constructor(root: string, rules: DirectoryRules = {}) {
    if (!path.isAbsolute(root)) {
      throw new ConfigError(`directory source path must be absolute (the worker resolves it), got ${JSON.stringify(root)}`);
    }
    this.root = path.normalize(root);
    this.rules = new PathRules(globList('include', rules.include), globList('exclude', rules.exclude));
  }

  describe(): string {
    return `directory ${this.root}`;
  }

  async assertReadable(): Promise<void> {
    let st;
    try {
      st = await fs.stat(this.root);
    } catch (err) {
      throw new ConfigError(`source directory ${this.root} cannot be read on the worker: ${(err as Error).message}`);
    }
    if (!st.isDirectory()) throw new ConfigError(`source path ${this.root} is not a directory`);
  }

  async listPage(cursor: string | null, limit: number): Promise<SourcePage> {
    await this.assertReadable();
    const items: SourceItem[] = [];
    let more = false;
    // Skips are counted for the page whose range holds them: those after the page's last
    // document are dropped when the page is full, and counted by the next page instead.
    const skipped = noSkips();
    let pending = noSkips();
    const walk = async (rel: string, inherited: readonly IgnoreLevel[]): Promise<boolean> => {
      const abs = rel ? path.join(this.root, rel) : this.root;
      let entries;
      try {
        entries = await fs.readdir(abs, { withFileTypes: true });
      } catch {
        return false; // an unreadable directory is skipped; its files cannot be listed
      }
      const ignoreFile = entries.find((e) => e.name === IGNORE_FILE && (e.isFile() || e.isSymbolicLink()));
      const levels = ignoreFile ? [...inherited, { base: rel, rules: await this.readIgnoreFile(rel) }] : inherited;
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const e of entries) {
        const id = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) {
          if (SKIPPED_DIRS.has(e.name)) continue;
          // Skip a subtree that lies wholly before the cursor.
          if (cursor !== null && comparePaths(id, cursor) < 0 && !cursor.startsWith(`${id}/`)) continue;
          if (this.rules.skipsDirectory(id, levels)) {
            pending.directoriesExcluded++;
            continue;
          }
          if (await walk(id, levels)) return true;
          continue;
        }
        if (!e.isFile() && !e.isSymbolicLink()) continue;
        if (e.name === IGNORE_FILE) continue; // the rules themselves, not a document
        if (cursor !== null && comparePaths(id, cursor) <= 0) continue;
        if (this.rules.skipsFile(id, levels)) {
          pending.filesExcluded++;
          continue;
        }
        const format = formatOf(e.name);
        if (!format) {
          pending.filesUnsupported++;
          continue;
        }
        if (items.length === limit) {
          more = true;
          return true;
        }
        items.push({ id, format });
        addSkips(skipped, pending);
        pending = noSkips();
      }
      return false;
    };
    await walk('', []);
    if (!more) addSkips(skipped, pending);
    await this.fingerprint(items);
    return { items, nextCursor: more ? items[items.length - 1]!.id : null, skipped };
  }

  /**
   * A `.vectorignore` that cannot be read fails the listing (a ConfigError naming it): going on
   * without it would index what it was written to keep out.
   */
  private async readIgnoreFile(dir: string): Promise<IgnoreLevel['rules']> {
    const rel = dir ? `${dir}/${IGNORE_FILE}` : IGNORE_FILE;
    let bytes;
    try {
      const abs = path.join(this.root, ...rel.split('/'));
      const st = await fs.stat(abs);
      if (st.size > MAX_IGNORE_FILE_BYTES) throw new Error(`it is ${st.size} bytes; the limit is ${MAX_IGNORE_FILE_BYTES}`);
      bytes = await fs.readFile(abs, 'utf8');
    } catch (err) {
      throw new ConfigError(`${rel} in ${this.root} cannot be read, so its exclusions cannot be applied: ${(err as Error).message}`);
    }
    return parseIgnoreFile(bytes);
  }

  /**
   * Size and mtime (nanoseconds) of each file, taken before any read: a file rewritten after
   * this stat has a newer mtime, so the next run reads it again. A file that cannot be stat'ed
   * gets none and is read (and its error recorded) as usual.
   */
  private async fingerprint(items: SourceItem[]): Promise<void> {
    const STATS_AT_ONCE = 32;
    for (let i = 0; i < items.length; i += STATS_AT_ONCE) {
      await Promise.all(
        items.slice(i, i + STATS_AT_ONCE).map(async (item) => {
          try {
            const st = await fs.stat(path.join(this.root, ...item.id.split('/')), { bigint: true });
            if (st.isFile()) {
              item.fingerprint = `${st.size}:${st.mtimeNs}`;
              // for the chunks' metadata (byte_size, modified_at)
              item.size = Number(st.size);
              item.modifiedAt = new Date(Number(st.mtimeMs)).toISOString();
            }
          } catch {
            // no fingerprint: read() reports what is wrong with the file
          }
        }),
      );
    }
  }

  async read(item: SourceItem, maxBytes: number): Promise<Uint8Array> {
    const abs = path.join(this.root, ...item.id.split('/'));
    let st;
    try {
      st = await fs.stat(abs);
    } catch (err) {
      throw fileError(item.id, err);
    }
    if (!st.isFile()) throw new DocumentError('UnsupportedDocument', `${item.id}: is not a regular file`);
    if (st.size > maxBytes) {
      throw new DocumentError('DocumentTooLarge', `${item.id}: is ${st.size} bytes; the limit is ${maxBytes} (VECTOR_INGEST_MAX_DOCUMENT_BYTES)`);
    }
    try {
      return await fs.readFile(abs);
    } catch (err) {
      throw fileError(item.id, err);
    }
  }
}

function fileError(id: string, err: unknown): DocumentError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new DocumentError('DocumentVanished', `${id}: was listed but no longer exists`);
  if (code === 'ELOOP') return new DocumentError('UnreadableDocument', `${id}: symbolic link loop`);
  if (code === 'EACCES' || code === 'EPERM') return new DocumentError('UnreadableDocument', `${id}: permission denied`);
  return new DocumentError('UnreadableDocument', `${id}: cannot be read (${code ?? (err as Error).message})`);
}

export const directorySource = defineSourceKind({
  kind: 'directory',
  open(spec) {
    if (typeof spec.path !== 'string' || spec.path.length === 0) {
      throw new ConfigError('source.path is required for a directory source');
    }
    return new DirectorySource(spec.path, { ...(spec.include !== undefined && { include: spec.include }), ...(spec.exclude !== undefined && { exclude: spec.exclude }) });
  },
});
