import { ApplicationFailure } from '@temporalio/client';

/** The innermost cause of a failed run (an activity's failure under the workflow's). */
export function innermost(err: Error): Error {
  let e: Error = err;
  for (let i = 0; i < 10 && e.cause instanceof Error; i++) e = e.cause;
  return e;
}

/** The first typed ApplicationFailure in a failure's cause chain (e.g. CollectionBusy, ConfigError). */
export function failureType(err: Error): string | undefined {
  for (let e: unknown = err, i = 0; e instanceof Error && i < 10; e = e.cause, i++) {
    if (e instanceof ApplicationFailure && e.type) return e.type;
  }
  return undefined;
}
