/**
 * Whether a run of the ingest workflow is still open, asked by activities that must not take
 * a collection away from a live run. The Temporal implementation describes the workflow; the
 * activities know nothing else of Temporal.
 */
export interface RunLiveness {
  /** True when the run chain (workflow id + first run id) can no longer write. */
  isClosed(run: { workflowId: string; runKey: string }): Promise<boolean>;
}
