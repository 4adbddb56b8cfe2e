/**
 * A Git repository: its tracked files at a ref. The worker clones it into its data dir.
 * Credentials never go here: they come from the worker's environment (GIT_ASKPASS, or the
 * token in VECTOR_INGEST_GIT_TOKEN for https URLs).
 */
export interface GitSourceSpec {
  kind: 'git';
  /** Clone URL (https://, ssh://, file://) or an absolute path of a repository on the worker. */
  url: string;
  /** Branch, tag or commit; default: the remote's HEAD. */
  ref?: string;
}
