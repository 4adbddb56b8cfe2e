import type { Client } from '@temporalio/client';
import type { FailureReporter } from './failure-reporter';
import { recordFailuresSignal, replayFailures, resolveFailuresSignal } from './workflows/replay';
import { replayWorkflowId, type FailureReport, type ReplayInput, type ReplaySpec } from './contracts/replay';
import { TASK_QUEUE } from './contracts/ingest';

const MAX_ITEMS_PER_SIGNAL = 500;

/**
 * Sends failures to the collection's replay workflow with signal-with-start, so the first
 * failure of a collection starts it and later ones join it. Large reports are split so no
 * signal comes near Temporal's payload limits.
 */
export class TemporalFailureReporter implements FailureReporter {
  constructor(
    private readonly client: Client,
    private readonly opts: { searchAttributes: boolean; autoRetryEvery?: string } = { searchAttributes: false },
  ) {}

  private start(collection: string) {
    return {
      workflowId: replayWorkflowId(collection),
      taskQueue: TASK_QUEUE,
      args: [{ collection, searchAttributes: this.opts.searchAttributes, autoRetryEvery: this.opts.autoRetryEvery }] as [ReplayInput],
      staticSummary: `Failed items of collection ${collection}`,
    };
  }

  async report(args: { collection: string; runKey: string; replay: ReplaySpec; items: FailureReport[] }): Promise<void> {
    for (let i = 0; i < args.items.length; i += MAX_ITEMS_PER_SIGNAL) {
      await this.client.workflow.signalWithStart(replayFailures, {
        ...this.start(args.collection),
        signal: recordFailuresSignal,
        signalArgs: [{ runKey: args.runKey, replay: args.replay, items: args.items.slice(i, i + MAX_ITEMS_PER_SIGNAL) }],
      });
    }
  }

  async resolve(args: { collection: string; documentIds: string[] }): Promise<void> {
    for (let i = 0; i < args.documentIds.length; i += MAX_ITEMS_PER_SIGNAL * 4) {
      await this.client.workflow.signalWithStart(replayFailures, {
        ...this.start(args.collection),
        signal: resolveFailuresSignal,
        signalArgs: [{ documentIds: args.documentIds.slice(i, i + MAX_ITEMS_PER_SIGNAL * 4) }],
      });
    }
  }
}
