import type { HeaderLookup } from '../retry-hints';

/**
 * A provider's rate limits as its response headers state them (OpenAI's `x-ratelimit-*`): the
 * limit per minute of requests and of tokens, and how much of it is left. Absent headers leave
 * the field out; nothing here is guessed.
 */
export interface RateLimitState {
  /** The limit, per minute. */
  perMinute: number;
  /** What is left of it now (same unit), when the provider says. */
  remaining?: number;
}

export interface ProviderRateLimits {
  requests?: RateLimitState;
  tokens?: RateLimitState;
}

const UNITS = ['requests', 'tokens'] as const;

function count(v: string | null | undefined): number | undefined {
  if (v === null || v === undefined || !/^\s*\d+(\.\d+)?\s*$/.test(v)) return undefined;
  return Number(v);
}

/** The limits in `x-ratelimit-limit-{requests,tokens}` and `x-ratelimit-remaining-*`, if any. */
export function parseRateLimitHeaders(get: HeaderLookup): ProviderRateLimits | undefined {
  const out: ProviderRateLimits = {};
  for (const unit of UNITS) {
    const perMinute = count(get(`x-ratelimit-limit-${unit}`));
    if (perMinute === undefined || perMinute <= 0) continue;
    const remaining = count(get(`x-ratelimit-remaining-${unit}`));
    out[unit] = remaining === undefined ? { perMinute } : { perMinute, remaining: Math.min(remaining, perMinute) };
  }
  return out.requests || out.tokens ? out : undefined;
}
