import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { RunLiveness } from './run-liveness';

/** Statuses of a run that may still write. */
const OPEN = new Set(['RUNNING', 'PAUSED', 'UNSPECIFIED', 'UNKNOWN']);

/**
 * Asks Temporal whether a run chain (workflow id + its first run id, which continue-as-new
 * keeps) is still open. A chain is closed when its latest run completed, failed, was
 * terminated, cancelled or timed out, when a later chain reuses its workflow id, or when
 * Temporal no longer knows it (retention).
 */
export class TemporalRunLiveness implements RunLiveness {
  constructor(private readonly client: Client) {}

  async isClosed(run: { workflowId: string; runKey: string }): Promise<boolean> {
    try {
      const latest = await this.client.workflow.getHandle(run.workflowId).describe();
      const firstRunId = latest.raw.workflowExecutionInfo?.firstRunId;
      if (firstRunId) return firstRunId !== run.runKey || !OPEN.has(latest.status.name);
      // A server that does not report the chain: look at the first run itself.
      const first = await this.client.workflow.getHandle(run.workflowId, run.runKey).describe();
      if (first.status.name === 'CONTINUED_AS_NEW') return !OPEN.has(latest.status.name);
      return !OPEN.has(first.status.name);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return true;
      throw err;
    }
  }
}
