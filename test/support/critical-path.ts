/**
 * Where a workflow run's time went, from its history: the critical path from the run's start to
 * its end, walked backwards (the run's completion ← the workflow task that completed it ← what
 * scheduled that task ← …), each step's time added to what it was: a workflow task waiting for a
 * worker ('wft queue'), running on it ('wft run'), an activity waiting in its queue
 * ('<type> queue') or running ('<type> run'), or the server's own gap between an event and the
 * workflow task it schedules ('server'). The parts add up to the run's time in history.
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

type Event = temporal.api.history.v1.IHistoryEvent;
const T = temporal.api.enums.v1.EventType;

export type CriticalPath = Record<string, number>;

const ms = (e: Event): number => {
  const t = e.eventTime!;
  return Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6);
};

/** The critical path of a closed run with its events (id order); keys are the parts, values ms. */
export function criticalPath(events: Event[]): CriticalPath {
  const byId = new Map<number, Event>(events.map((e) => [Number(e.eventId), e]));
  const activityType = (scheduledId: number): string => byId.get(scheduledId)?.activityTaskScheduledEventAttributes?.activityType?.name ?? 'activity';
  const parts: CriticalPath = {};
  const add = (k: string, from: Event, to: Event) => (parts[k] = (parts[k] ?? 0) + Math.max(0, ms(to) - ms(from)));
  let e: Event | undefined = events[events.length - 1];
  while (e && e.eventType !== T.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED) {
    const id = Number(e.eventId);
    let prev: Event | undefined;
    let part = 'server';
    switch (e.eventType) {
      case T.EVENT_TYPE_WORKFLOW_TASK_STARTED:
        prev = byId.get(Number(e.workflowTaskStartedEventAttributes!.scheduledEventId));
        part = 'wft queue';
        break;
      case T.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
        prev = byId.get(Number(e.workflowTaskCompletedEventAttributes!.startedEventId));
        part = 'wft run';
        break;
      case T.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
        const s = Number(e.activityTaskStartedEventAttributes!.scheduledEventId);
        prev = byId.get(s);
        part = `${activityType(s)} queue`;
        break;
      }
      case T.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
      case T.EVENT_TYPE_ACTIVITY_TASK_FAILED:
      case T.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: {
        const a = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes!;
        prev = byId.get(Number(a.startedEventId));
        part = `${activityType(Number(a.scheduledEventId))} run`;
        break;
      }
      default: {
        // A command (its workflow task's completion came first) or a workflow task scheduled by
        // the event before it.
        const cmd = e.activityTaskScheduledEventAttributes ?? e.workflowExecutionCompletedEventAttributes ?? e.workflowExecutionContinuedAsNewEventAttributes ?? e.timerStartedEventAttributes ?? e.markerRecordedEventAttributes ?? e.upsertWorkflowSearchAttributesEventAttributes ?? e.workflowPropertiesModifiedEventAttributes;
        prev = cmd?.workflowTaskCompletedEventId != null ? byId.get(Number(cmd.workflowTaskCompletedEventId)) : byId.get(id - 1);
        // A workflow task scheduled while another ran waits for that one to complete.
        if (e.eventType === T.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED && prev && prev.eventType !== T.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) {
          const lastCompleted = [...events.slice(0, id - 1)].reverse().find((x) => x.eventType === T.EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
          if (lastCompleted && ms(lastCompleted) > ms(prev)) prev = lastCompleted;
        }
      }
    }
    if (!prev) break;
    add(part, prev, e);
    e = prev;
  }
  return parts;
}

/** The critical path of a workflow's latest run, from the server's history. */
export async function criticalPathOf(client: Client, workflowId: string): Promise<CriticalPath> {
  const h = await client.workflow.getHandle(workflowId).fetchHistory();
  return criticalPath(h.events ?? []);
}
