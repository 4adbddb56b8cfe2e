import ignore, { type Ignore } from 'ignore';
import picomatch from 'picomatch';
import { ConfigError } from '../errors';

/** The file, in any directory of a directory source, whose lines (.gitignore syntax) exclude paths under it. */
export const IGNORE_FILE = '.vectorignore';

const MAX_PATTERNS = 200;
const MAX_PATTERN_LENGTH = 1000;

/**
 * Checks the `include` / `exclude` fields of a directory source spec: absent, or arrays of
 * non-empty strings (bounded, since they travel in workflow input). Returns them, never undefined.
 */
export function globList(field: string, value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new ConfigError(`source.${field} must be an array of glob patterns, got ${JSON.stringify(value)}`);
  if (value.length > MAX_PATTERNS) throw new ConfigError(`source.${field} has ${value.length} patterns; at most ${MAX_PATTERNS}`);
  return value.map((p, i) => {
    if (typeof p !== 'string' || p.trim().length === 0 || p.length > MAX_PATTERN_LENGTH) {
      throw new ConfigError(`source.${field}[${i}] must be a non-empty glob pattern of at most ${MAX_PATTERN_LENGTH} characters, got ${JSON.stringify(p)}`);
    }
    return p.trim();
  });
}

type Matcher = (relPath: string) => boolean;

/**
 * One glob, gitignore-style in where it applies: a pattern without a slash matches a name at any
 * depth (`*.md`, `build`); a pattern with a slash matches the whole path from the root (`docs/**`,
 * `/notes.txt` — a leading slash only anchors). Dot files match like any other.
 */
function compile(pattern: string): Matcher {
  const anchored = pattern.startsWith('/');
  const p = anchored ? pattern.slice(1) : pattern.replace(/\/+$/, '');
  const isMatch = picomatch(p, { dot: true });
  if (!anchored && !p.includes('/')) return (rel) => isMatch(rel.slice(rel.lastIndexOf('/') + 1));
  return (rel) => isMatch(rel);
}

/** The `.vectorignore` files that apply to a directory: its own and its ancestors', root first. */
export interface IgnoreLevel {
  /** The directory holding the file, relative to the root ('' for the root itself). */
  base: string;
  rules: Ignore;
}

export function parseIgnoreFile(text: string): Ignore {
  return ignore().add(text);
}

/**
 * Whether `.vectorignore` files exclude a path, as git decides for .gitignore files: within a
 * file the last matching line wins (`!` re-includes), and a deeper file's verdict overrides a
 * shallower one's. `dir` marks a directory, so `build/` matches it and not a file named build.
 */
export function ignoredByFiles(levels: readonly IgnoreLevel[], rel: string, dir: boolean): boolean {
  for (let i = levels.length - 1; i >= 0; i--) {
    const { base, rules } = levels[i]!;
    if (base !== '' && !rel.startsWith(`${base}/`)) continue; // a file elsewhere in the tree
    const sub = base === '' ? rel : rel.slice(base.length + 1);
    const r = rules.test(dir ? `${sub}/` : sub);
    if (r.ignored) return true;
    if (r.unignored) return false;
  }
  return false;
}

/**
 * Which paths of a directory source are documents, by its `include` and `exclude` globs and the
 * `.vectorignore` files in the tree. Exclusion wins: a file is skipped when an exclude glob or a
 * `.vectorignore` excludes it, or when include globs are given and none matches it. Directories
 * are pruned (never walked) when an exclude glob or a `.vectorignore` excludes them; include
 * globs apply to files only. As with git, a file under an excluded directory cannot be
 * re-included, by `!` or by an include glob.
 */
export class PathRules {
  private readonly include: Matcher[];
  private readonly exclude: Matcher[];

  constructor(include: readonly string[] = [], exclude: readonly string[] = []) {
    this.include = include.map(compile);
    this.exclude = exclude.map(compile);
  }

  /** Excluded by an exclude glob (used for files and directories alike). */
  excludedByGlob(rel: string): boolean {
    return this.exclude.some((m) => m(rel));
  }

  skipsDirectory(rel: string, levels: readonly IgnoreLevel[] = []): boolean {
    return this.excludedByGlob(rel) || ignoredByFiles(levels, rel, true);
  }

  skipsFile(rel: string, levels: readonly IgnoreLevel[] = []): boolean {
    if (this.excludedByGlob(rel) || ignoredByFiles(levels, rel, false)) return true;
    return this.include.length > 0 && !this.include.some((m) => m(rel));
  }
}
