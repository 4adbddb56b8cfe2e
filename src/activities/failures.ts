import { ApplicationFailure } from '@temporalio/common';
import { ConfigError, ProviderError } from '../errors';
import { LeaseLostError } from '../state/leases';

/** Longest wait we accept from a server's Retry-After before trying again. */
export const MAX_RETRY_DELAY_MS = 5 * 60_000;

export { NON_RETRYABLE_TYPES } from '../contracts/error-types';

/**
 * Turns our classified errors into what Temporal's retry policy understands: a typed
 * ApplicationFailure, non-retryable where no retry can help, with the server's requested
 * delay on rate limits. Anything unclassified stays retryable.
 */
export function toFailure(err: unknown): unknown {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof ProviderError) {
    const delay = err.retryAfterMs === undefined ? undefined : Math.min(Math.max(err.retryAfterMs, 100), MAX_RETRY_DELAY_MS);
    return ApplicationFailure.create({
      type: err.type,
      message: err.message,
      nonRetryable: !err.retryable,
      nextRetryDelay: err.retryable ? delay : undefined,
      details: err.status === undefined ? undefined : [{ status: err.status }],
    });
  }
  if (isDatabaseUnavailable(err)) {
    return ApplicationFailure.create({ type: 'StoreUnavailable', message: `database unavailable: ${(err as Error).message}`, nonRetryable: false });
  }
  if (err instanceof LeaseLostError) {
    return ApplicationFailure.create({ type: 'CollectionBusy', message: err.message, nonRetryable: true });
  }
  if (err instanceof ConfigError) {
    return ApplicationFailure.create({ type: err.name, message: err.message, nonRetryable: true });
  }
  return err;
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Postgres (or its network) is down, restarting or refusing connections: retry, and let the
 * workflow's circuit breaker pause dispatch if it lasts. SQLSTATE class 08 is "connection
 * exception"; 57P01-57P03 are admin shutdown / crash shutdown / cannot connect now.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | undefined;
  if (!e) return false;
  if (e.code && (CONNECTION_CODES.has(e.code) || e.code.startsWith('08') || /^57P0[123]$/.test(e.code))) return true;
  return /Connection terminated|connection timeout|Client has encountered a connection error|timeout exceeded when trying to connect/i.test(e.message ?? '');
}
