import { setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import { SA } from './search-attributes';
import type { FailureList } from './failure-list';
import { describeReplays, type ReplayTotals } from '../contracts/replay';

/**
 * What the Web UI shows of a collection's failure list: filterable search attributes (upserted
 * only when the count changed: each upsert is a history event) and a live summary by type.
 */
export class ReplayVisibility {
  private shownCount = -1;

  constructor(
    private readonly collection: string,
    private readonly searchAttributes: boolean,
  ) {}

  show(items: FailureList, replaying: boolean, nextAutoRetryAt: number | null, replays?: ReplayTotals): void {
    if (this.searchAttributes && this.shownCount !== items.size) {
      upsertSearchAttributes([
        { key: SA.collection, value: this.collection },
        { key: SA.phase, value: 'failures' },
        { key: SA.documentsFailed, value: items.size },
      ]);
    }
    this.shownCount = items.size;
    setCurrentDetails(
      [
        `**${items.size} failed item(s)** in \`${this.collection}\`${replaying ? ' · replaying now' : ''}`,
        '',
        ...Object.entries(items.byType()).map(([t, n]) => `- ${t}: ${n}`),
        nextAutoRetryAt === null ? '- automatic retry: off' : `- next automatic retry: ${new Date(nextAutoRetryAt).toISOString()}`,
        ...(replays && replays.replays > 0 ? [`- ${describeReplays(replays)}`] : []),
      ].join('\n'),
    );
  }
}
