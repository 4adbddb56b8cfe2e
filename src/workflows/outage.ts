import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/common';

/** Failure types that mean "the provider or store is unwell", not "this batch is bad". */
const OUTAGE_TYPES = new Set(['ProviderUnavailable', 'RateLimited', 'StoreUnavailable']);

/** An activity that failed because what it talks to is down (retryable outage type or a timeout): the batch waits, the run goes on. */
export function isOutage(err: unknown): boolean {
  if (!(err instanceof ActivityFailure)) return false;
  const cause = err.cause;
  if (cause instanceof TimeoutFailure) return true;
  return cause instanceof ApplicationFailure && !cause.nonRetryable && OUTAGE_TYPES.has(cause.type ?? '');
}

/** An activity that ran out of attempts on rate limits: the provider is up, only busy. */
export function isRateLimited(err: unknown): boolean {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === 'RateLimited';
}

/** "Type: message" of an activity failure's cause, for the run's visible last error. */
export function errorText(err: unknown): string {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof Error ? `${(cause as ApplicationFailure).type ?? cause.name}: ${cause.message}` : String(cause);
}
