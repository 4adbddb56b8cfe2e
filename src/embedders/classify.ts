import { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';
import { classifyHttpStatus, EmbeddingDimensionError, ProviderError } from '../errors';

export { EmbeddingDimensionError, ProviderError };

export function classifyProviderError(err: unknown): ProviderError {
  if (err instanceof ProviderError) return err;
  if (err instanceof APIConnectionTimeoutError) {
    return new ProviderError('ProviderUnavailable', `request timed out: ${err.message}`, true);
  }
  if (err instanceof APIConnectionError) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return new ProviderError('ProviderUnavailable', `connection failed: ${cause?.code ?? cause?.message ?? err.message}`, true);
  }
  if (err instanceof APIError) {
    return classifyHttpStatus(err.status, err.message, err.headers);
  }
  // Malformed JSON, truncated bodies and the like: the server is misbehaving, try again.
  return new ProviderError('ProviderUnavailable', `unexpected provider response: ${(err as Error)?.message ?? String(err)}`, true);
}
