import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';

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
    return await untilWorkerShutdown(work());
  } finally {
    clearInterval(timer);
  }
}

/**
 * `work`, unless the worker's shutdown grace time (`shutdownGraceTime`) runs out first: the SDK
 * then cancels the activities still running with reason WORKER_SHUTDOWN, and the SDK's drain
 * waits for them to end, so an attempt that ignored it (a 15-minute embedding call) held the
 * drain, and the worker's clients, until it ended. This attempt fails instead, retryable, and is
 * retried on another worker; what it was doing is abandoned as after a crash (writes are fenced).
 * Other cancellations are left to the work, as before. Outside an activity: `work` itself.
 */
function untilWorkerShutdown<T>(work: Promise<T>): Promise<T> {
  let cancelled: Promise<never>;
  try {
    cancelled = Context.current().cancelled;
  } catch {
    return work;
  }
  const shutdown = cancelled.catch((err: unknown) => {
    if (err instanceof CancelledFailure && err.message === 'WORKER_SHUTDOWN') {
      throw ApplicationFailure.retryable('the worker shut down and its grace time ran out before this attempt ended', 'WorkerShutdown');
    }
    return new Promise<never>(() => undefined);
  });
  return Promise.race([work, shutdown]);
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
