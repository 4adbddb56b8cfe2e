/** A directory tree read by the worker (the path must exist where the worker runs). */
export interface DirectorySourceSpec {
  kind: 'directory';
  /** Absolute path on the worker. */
  path: string;
  /**
   * Globs (picomatch) a file's path relative to `path` must match to be a document; absent or
   * empty: every file. A glob without a slash matches a file name at any depth (`*.md`); one
   * with a slash matches the whole relative path (`docs/**`; a leading `/` only anchors).
   * Applies to files only, never prunes a directory.
   */
  include?: string[];
  /**
   * Globs (as for `include`) that leave a file out, or a whole directory (`build`, `vendor/**`).
   * Exclusion wins over inclusion. `.vectorignore` files in the tree (.gitignore syntax) exclude too.
   */
  exclude?: string[];
}
