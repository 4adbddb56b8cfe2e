/** A directory tree read by the worker (the path must exist where the worker runs). */
export interface DirectorySourceSpec {
  kind: 'directory';
  /** Absolute path on the worker. */
  path: string;
  include?: string[];
  exclude?: string[];
}
