import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';

type Failure = temporal.api.failure.v1.IFailure;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export interface ActivityFailureSeen {
  activityType: string;
  activityId: string;
  /** The attempt that saw it (ActivityTaskStarted of a retry carries the previous attempt's failure). */
  attempt: number;
  /** ApplicationFailure types along the cause chain, outermost first. */
  types: string[];
  message: string;
}

function typesOf(f: Failure | null | undefined): string[] {
  const out: string[] = [];
  for (let c = f, depth = 0; c && depth < 10; c = c.cause, depth++) {
    const t = c.applicationFailureInfo?.type;
    if (t) out.push(t);
  }
  return out;
}

/** Every event of a workflow's run chain, following continue-as-new from its first run. */
export async function chainEvents(client: Client, workflowId: string, firstRunId: string): Promise<HistoryEvent[]> {
  const all: HistoryEvent[] = [];
  let runId: string | undefined = firstRunId;
  for (let runs = 0; runId && runs < 1000; runs++) {
    const h: temporal.api.history.v1.IHistory = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const evs: HistoryEvent[] = h.events ?? [];
    all.push(...evs);
    runId = evs[evs.length - 1]?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return all;
}

/** How many activities of each type a run chain scheduled (attempts of one activity count once). */
export async function scheduledActivities(client: Client, workflowId: string, firstRunId: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const e of await chainEvents(client, workflowId, firstRunId)) {
    const name = e.activityTaskScheduledEventAttributes?.activityType?.name;
    if (name) counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}

/**
 * The failures activities of a run chain saw, read from history: the last failure a retried
 * attempt carries on its ActivityTaskStarted event (retries themselves are not events), and
 * ActivityTaskFailed events (attempts given up, sent back to the workflow).
 */
export async function activityFailuresSeen(client: Client, workflowId: string, firstRunId: string): Promise<ActivityFailureSeen[]> {
  const events = await chainEvents(client, workflowId, firstRunId);
  const scheduled = new Map<string, { activityType: string; activityId: string }>();
  const out: ActivityFailureSeen[] = [];
  for (const e of events) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s) scheduled.set(String(e.eventId), { activityType: s.activityType?.name ?? '?', activityId: s.activityId ?? '?' });
    const st = e.activityTaskStartedEventAttributes;
    if (st?.lastFailure) {
      const a = scheduled.get(String(st.scheduledEventId)) ?? { activityType: '?', activityId: '?' };
      out.push({ ...a, attempt: st.attempt ?? 0, types: typesOf(st.lastFailure), message: st.lastFailure.message ?? '' });
    }
    const f = e.activityTaskFailedEventAttributes;
    if (f?.failure) {
      const a = scheduled.get(String(f.scheduledEventId)) ?? { activityType: '?', activityId: '?' };
      out.push({ ...a, attempt: 0, types: typesOf(f.failure), message: f.failure.message ?? '' });
    }
  }
  return out;
}
