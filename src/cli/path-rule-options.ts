import * as path from 'node:path';
import type { Command } from 'commander';
import { PathRules } from '../sources/path-rules';
import { ConfigError } from '../errors';
import type { SourceSpec } from '../contracts/ingest';

export interface PathRuleOpts {
  include?: string[];
  exclude?: string[];
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

/** `--include` / `--exclude` (repeatable) for the commands that take a directory source. */
export function addPathRuleOptions(cmd: Command): Command {
  return cmd
    .option('--include <glob>', 'only files matching this glob are documents (directory sources; repeatable: any may match)', collect)
    .option('--exclude <glob>', 'leave out files or directories matching this glob (directory sources; repeatable; wins over --include)', collect);
}

export const PATH_RULES_HELP = `
Include / exclude (directory sources): globs match the path relative to the directory; one
without a slash matches a name at any depth (--include '*.md', --exclude build), one with a
slash the whole path (--include 'docs/**', --exclude 'src/generated/**'; a leading / only
anchors). Exclusion wins; an excluded directory is not walked. A .vectorignore file in the
directory or any subdirectory excludes too, in .gitignore syntax (patterns, build/, /anchored,
!negation). What rules and unsupported extensions left out is counted in the run's summary.`;

/** The source with the command line's globs added to any the spec already has. */
export function withPathRules(source: SourceSpec, opts: PathRuleOpts): SourceSpec {
  const include = opts.include ?? [];
  const exclude = opts.exclude ?? [];
  if (include.length === 0 && exclude.length === 0) return source;
  if (source.kind !== 'directory') {
    throw new ConfigError(`--include and --exclude apply to directory sources only, not to a ${source.kind} source`);
  }
  return {
    ...source,
    ...(include.length > 0 && { include: [...(source.include ?? []), ...include] }),
    ...(exclude.length > 0 && { exclude: [...(source.exclude ?? []), ...exclude] }),
  };
}

/**
 * For `watch`: whether a changed path (absolute, as chokidar reports it) lies where an exclude
 * glob leaves it out, so a change there starts no run. Include globs and .vectorignore files are
 * not applied here: a run they make pointless finds nothing changed and writes nothing.
 */
export function excludedFromWatch(root: string, exclude: readonly string[]): (absPath: string) => boolean {
  const rules = new PathRules([], exclude);
  return (p) => {
    const rel = path.relative(root, p).split(path.sep).join('/');
    return rel !== '' && !rel.startsWith('..') && rules.excludedByGlob(rel);
  };
}
