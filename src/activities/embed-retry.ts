import { ProviderError } from '../errors';
import { heartbeat } from './context';

/**
 * Retries of one embedding request inside an activity attempt. A batch that needs bisecting
 * sends a dozen requests in one attempt; without retries of their own, a few percent of
 * transient errors per request would fail nearly every attempt and each Temporal retry would
 * start the bisection again. Bounded in tries and in time; a wait longer than the cap (a long
 * Retry-After) goes back to Temporal, whose retry honours it.
 */
export interface RetryBudget {
  /** Tries per request, the first included. */
  tries: number;
  /** The longest wait between tries spent inside the attempt. */
  maxWaitMs: number;
  /** No new try starts after this (epoch ms): the attempt must end within its timeout. */
  deadline: number;
  baseDelayMs: number;
}

export const DEFAULT_RETRY: Omit<RetryBudget, 'deadline'> = { tries: 4, maxWaitMs: 20_000, baseDelayMs: 200 };

/** 5xx, timeouts, resets, malformed answers, 429: worth another try. */
export function isTransient(err: unknown): err is ProviderError {
  return err instanceof ProviderError && err.retryable;
}

export async function withRetries<T>(budget: RetryBudget, call: () => Promise<T>, onRetry?: (err: ProviderError) => void): Promise<T> {
  for (let t = 1; ; t++) {
    try {
      return await call();
    } catch (err) {
      if (!isTransient(err) || t >= budget.tries) throw err;
      const backoff = Math.min(budget.baseDelayMs * 2 ** (t - 1), 5_000) * (0.5 + Math.random() / 2);
      const wait = err.type === 'RateLimited' && err.retryAfterMs !== undefined ? err.retryAfterMs : backoff;
      if (wait > budget.maxWaitMs || Date.now() + wait > budget.deadline) throw err;
      onRetry?.(err);
      heartbeat({ retryingIn: Math.round(wait) });
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
