import type { FailureReport, ReplaySpec } from './contracts/replay';

/**
 * Where activities send items that failed for good, and news of items that now succeed. The
 * Temporal implementation (temporal-failure-reporter.ts) signals the collection's replay workflow.
 */
export interface FailureReporter {
  report(args: { collection: string; runKey: string; replay: ReplaySpec; items: FailureReport[] }): Promise<void>;
  resolve(args: { collection: string; documentIds: string[] }): Promise<void>;
}
