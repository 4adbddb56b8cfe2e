import type { FailureReport, ReplaySpec } from './contracts/replay';

/**
 * Where activities send items that failed for good, and news of items that now succeed. The
 * Temporal implementation signals the collection's replay workflow; tests may collect in memory.
 */
export interface FailureReporter {
  report(args: { collection: string; runKey: string; replay: ReplaySpec; items: FailureReport[] }): Promise<void>;
  resolve(args: { collection: string; documentIds: string[] }): Promise<void>;
}

/** Keeps reports in memory (unit tests, tools that run activities outside Temporal). */
export class MemoryFailureReporter implements FailureReporter {
  readonly reported: FailureReport[] = [];
  readonly resolved: string[] = [];
  async report(args: { items: FailureReport[] }): Promise<void> {
    this.reported.push(...args.items);
  }
  async resolve(args: { documentIds: string[] }): Promise<void> {
    this.resolved.push(...args.documentIds);
  }
}
