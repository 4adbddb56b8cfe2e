import { Context } from '@temporalio/activity';

/** Heartbeats when running inside an activity; a no-op when called directly (unit tests). */
export function heartbeat(details?: unknown): void {
  try {
    Context.current().heartbeat(details);
  } catch {
    // not in an activity context
  }
}

export function activityInfo(): { workflowId: string; runId: string; activityId: string; attempt: number } | undefined {
  try {
    const i = Context.current().info;
    return { workflowId: i.workflowExecution?.workflowId ?? '', runId: i.workflowExecution?.runId ?? '', activityId: i.activityId, attempt: i.attempt };
  } catch {
    return undefined;
  }
}

/** Every 5 s, or a third of a shorter heartbeat timeout (drills use 3 s), so no timeout fires on a live worker. */
function heartbeatEveryMs(): number {
  try {
    const t = Context.current().info.heartbeatTimeoutMs;
    return t ? Math.max(200, Math.min(5_000, Math.floor(t / 3))) : 5_000;
  } catch {
    return 5_000;
  }
}

/**
 * Heartbeats every `everyMs` while `work` runs, so a worker that dies mid-call is noticed within
 * the heartbeat timeout (seconds) instead of the start-to-close timeout (minutes). Not at the
 * start: the timeout counts from the start anyway, and the SDK sends a first heartbeat to the
 * server at once (only later ones are throttled), so a heartbeat at the start cost every
 * activity, most of which take well under a second, one more request to the server.
 */
export async function whileHeartbeating<T>(work: () => Promise<T>, everyMs = heartbeatEveryMs()): Promise<T> {
  const timer = setInterval(() => heartbeat(), everyMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/**
 * How long one attempt of the calling activity may take (its start-to-close timeout): the
 * longest a fenced write of it can be in flight. A default when not in an activity.
 */
export function attemptTimeoutMs(fallback = 15 * 60_000): number {
  try {
    return Context.current().info.startToCloseTimeoutMs || fallback;
  } catch {
    return fallback;
  }
}
