import { ProviderError } from '../errors';
import { EmbedderDecorator } from './decorator';
import type { RateLimitState } from './rate-limits';
import { inputTokens, type Embedder, type EmbeddingResult } from './types';

export type RateUnit = 'requests' | 'tokens';

/** A rate budget every worker process shares (src/state/rate-buckets.ts keeps it in Postgres). */
export interface SharedRateBudget {
  setLimit(key: string, unit: RateUnit, limit: RateLimitState): Promise<void>;
  /** Reserves one request of `tokens` tokens: how long to wait before sending it. */
  reserve(key: string, tokens: number): Promise<{ waitMs: number; cancel(): Promise<void> }>;
  /** The provider answered 429 with "wait `ms`": nobody's next request goes before then. */
  holdOff(key: string, ms: number): Promise<void>;
  /** The limits per minute some process recorded for `key` (none: not limited). */
  limits(key: string): Promise<Partial<Record<RateUnit, number>>>;
}

export interface RateLimitOptions {
  /** Names the provider account the limit belongs to (base URL and model). */
  key: string;
  /** Configured limits per minute; the provider's x-ratelimit-* headers can lower them, never raise them. */
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  /** A longer wait goes back to the caller as a RateLimited error carrying it (retried after it). */
  maxWaitMs?: number;
  /** Clock for the re-check of other processes' limits (tests). */
  now?: () => number;
}

/**
 * While no limit is known, how long a process trusts "nobody recorded one" before asking the
 * budget again: until then its requests skip the reservation (a database round trip each).
 * A limit this process learns (settings, headers) takes effect at once.
 */
export const UNLIMITED_RECHECK_MS = 5_000;

const NO_WAIT = { waitMs: 0, cancel: async () => undefined };

/** How long to hold off after a 429 that names no wait. */
const DEFAULT_HOLD_OFF_MS = 1_000;

/**
 * Keeps an embedder's requests within the provider's requests-per-minute and tokens-per-minute
 * limits across every worker process: each request reserves its cost in the shared budget and
 * waits its turn before it is sent. The limits come from settings and from the provider's own
 * `x-ratelimit-limit-*` / `-remaining-*` headers, whichever is lower; a 429 that gets through
 * anyway (another client on the same account) holds everyone off for its Retry-After. Failures
 * are not retried here.
 */
export class RateLimitedEmbedder extends EmbedderDecorator {
  /** The limit this process last recorded per unit, so unchanged headers cost no write. */
  private readonly recorded: Partial<Record<RateUnit, number>> = {};
  private configured: Promise<void> | undefined;
  /** When this process last asked whether anyone recorded a limit, and whether someone had. */
  private unlimitedAt: number | undefined;
  private sharedLimit = false;

  constructor(
    inner: Embedder,
    private readonly budget: SharedRateBudget,
    private readonly o: RateLimitOptions,
  ) {
    super(inner);
  }

  async embed(texts: string[]): Promise<EmbeddingResult> {
    this.configured ??= Promise.all([this.record('requests'), this.record('tokens')]).then(() => undefined);
    await this.configured.catch((err) => {
      this.configured = undefined; // try again with the next request
      throw err;
    });
    // Counted only when a reservation needs it: an unlimited provider's requests cost no
    // tokenizer pass here (the caller counts what it bills; inputTokens remembers recent counts,
    // so a limited request's texts are not tokenized twice either).
    const turn = (await this.limited()) ? await this.budget.reserve(this.o.key, texts.reduce((n, t) => n + inputTokens(this, t), 0)) : NO_WAIT;
    const maxWaitMs = this.o.maxWaitMs ?? 10_000;
    if (turn.waitMs > maxWaitMs) {
      await turn.cancel();
      throw new ProviderError('RateLimited', `the shared embedding rate limit has no room for ${Math.ceil(turn.waitMs / 1000)} s`, true, turn.waitMs);
    }
    if (turn.waitMs > 0) await new Promise((r) => setTimeout(r, turn.waitMs));
    let res: EmbeddingResult;
    try {
      res = await this.inner.embed(texts);
    } catch (err) {
      if (err instanceof ProviderError && err.type === 'RateLimited') await this.budget.holdOff(this.o.key, err.retryAfterMs ?? DEFAULT_HOLD_OFF_MS);
      throw err;
    }
    await Promise.all([this.record('requests', res.rateLimits?.requests), this.record('tokens', res.rateLimits?.tokens)]);
    return res;
  }

  /**
   * Whether requests must reserve: a limit this process recorded, or one another process did
   * (asked at most every UNLIMITED_RECHECK_MS while none is known). An unlimited provider then
   * costs no database round trip per request.
   */
  private async limited(): Promise<boolean> {
    if (this.sharedLimit || this.recorded.requests !== undefined || this.recorded.tokens !== undefined) return true;
    const now = (this.o.now ?? Date.now)();
    if (this.unlimitedAt !== undefined && now - this.unlimitedAt < UNLIMITED_RECHECK_MS) return false;
    const known = await this.budget.limits(this.o.key);
    // A recorded limit is never removed, so once seen this process reserves from then on.
    this.sharedLimit = known.requests !== undefined || known.tokens !== undefined;
    this.unlimitedAt = now;
    return this.sharedLimit;
  }

  /** Records the lower of the configured limit and the provider's, when it differs from the last recorded. */
  private async record(unit: RateUnit, stated?: RateLimitState): Promise<void> {
    const configured = unit === 'requests' ? this.o.requestsPerMinute : this.o.tokensPerMinute;
    const perMinute = Math.min(configured ?? Infinity, stated?.perMinute ?? Infinity);
    if (perMinute === Infinity || this.recorded[unit] === perMinute) return;
    this.recorded[unit] = perMinute;
    // What the provider says is used of its limit is used of ours too.
    const used = stated?.remaining === undefined ? undefined : stated.perMinute - stated.remaining;
    try {
      await this.budget.setLimit(this.o.key, unit, used === undefined ? { perMinute } : { perMinute, remaining: Math.max(0, perMinute - used) });
    } catch (err) {
      delete this.recorded[unit];
      throw err;
    }
  }
}
