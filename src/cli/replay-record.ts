import type { Client } from '@temporalio/client';
import { failuresQuery } from '../workflows';
import { describeReplays, replayWorkflowId, type FailuresPage } from '../contracts/replay';

/**
 * The collection's failure record for `status`: what is still failing and what replays did
 * (items a replay landed leave the list, so the ingest run's own documentsFailed overstates).
 * Undefined when there is no running replay workflow, or when it does not answer within 5 s
 * (no worker polling): `status` must not hang on it.
 */
export async function failureRecord(client: Client, collection: string): Promise<Pick<FailuresPage, 'total' | 'byType' | 'replays'> | undefined> {
  const handle = client.workflow.getHandle(replayWorkflowId(collection));
  try {
    if ((await handle.describe()).status.name !== 'RUNNING') return undefined;
    const page = await client.connection.withDeadline(Date.now() + 5_000, () => handle.query(failuresQuery, { limit: 1 }));
    return { total: page.total, byType: page.byType, replays: page.replays };
  } catch {
    return undefined;
  }
}

/** The lines `status` prints for it. */
export function formatFailureRecord(r: Pick<FailuresPage, 'total' | 'byType' | 'replays'>): string[] {
  const types = Object.entries(r.byType).map(([t, n]) => `${t} ${n}`).join(', ');
  const lines = [`failures on record now: ${r.total}${types ? ` (${types})` : ''}`];
  if (r.replays && r.replays.replays > 0) lines.push(describeReplays(r.replays));
  return lines;
}
