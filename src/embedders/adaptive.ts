/**
 * Embedding concurrency that adapts to the provider, as an Embedder decorator (knows nothing of
 * Temporal). A batch is sent as several concurrent sub-requests when there is room, and how many
 * requests this process keeps in flight is an AIMD limit: it grows while requests succeed and
 * their latency holds (doubling per round trip at first, then +1 per round trip), and halves on
 * a 429 or a 5xx/timeout. "Latency holds" is judged on a moving average of how much slower
 * than the best seen each answer was, not on one answer: on a busy worker single answers come
 * late for reasons of its own (a GC pause, a starved event loop, the rate limiter's database
 * round trip), and one of them used to end slow start for good (the peer benchmark's limit
 * stuck at 10-13 of 32 on a loaded machine). Against a slow provider (~200 ms + a few ms per
 * input) a batch of 64 split in four comes back in about half the time, and more batches are in
 * flight at once.
 *
 * Failures are not retried here (Temporal's retry policy is the one retry layer): a sub-request's
 * error fails the whole call, exactly as the undivided request would have.
 */
import { ProviderError } from '../errors';
import { EmbedderDecorator } from './decorator';
import type { Embedder, EmbeddingResult } from './types';

export interface AdaptiveOptions {
  /** In-flight requests at start, and the floor and ceiling of the limit. */
  initial: number;
  min: number;
  max: number;
  /** Never split a batch into sub-requests of fewer inputs than this. */
  minPartSize: number;
  /** Latency above this multiple of the best seen (for requests of that size) stops growth. */
  latencyTolerance: number;
}

export const ADAPTIVE_DEFAULTS: AdaptiveOptions = { initial: 4, min: 1, max: 32, minPartSize: 16, latencyTolerance: 2 };

/** Weight of the newest answer in the moving average of slowdowns: answers 3x the best, one after another, cross a tolerance of 2 at the third. */
const SLOWDOWN_SMOOTHING = 0.25;

/** Additive-increase / multiplicative-decrease limit on concurrent requests, with slow start. */
export class AimdLimiter {
  private current: number;
  private inFlight = 0;
  /** Waiters woken but not yet running. */
  private reserved = 0;
  private slowStart = true;
  private readonly waiting: Array<() => void> = [];
  /** Best latency seen per request size (log2 of the input count). */
  private readonly best = new Map<number, number>();
  /** Moving average of each answer's latency ÷ the best seen for its size (1: as fast as ever). */
  private slowdown = 1;

  constructor(
    private readonly o: AdaptiveOptions,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.current = o.initial;
  }

  get limit(): number {
    return Math.floor(this.current);
  }

  async run<T>(inputs: number, fn: () => Promise<T>): Promise<T> {
    if (this.waiting.length > 0 || this.inFlight + this.reserved >= this.limit) {
      await new Promise<void>((r) => this.waiting.push(r));
      this.reserved--;
    }
    this.inFlight++;
    const t0 = this.now();
    try {
      const out = await fn();
      this.onSuccess(inputs, this.now() - t0);
      return out;
    } catch (err) {
      if (err instanceof ProviderError && (err.type === 'RateLimited' || err.type === 'ProviderUnavailable')) this.onCongestion();
      throw err;
    } finally {
      this.inFlight--;
      this.wake();
    }
  }

  private onSuccess(inputs: number, ms: number): void {
    const size = Math.ceil(Math.log2(Math.max(1, inputs)));
    const best = Math.min(this.best.get(size) ?? ms, ms);
    this.best.set(size, best);
    this.slowdown += SLOWDOWN_SMOOTHING * (ms / Math.max(best, 1e-3) - this.slowdown);
    if (this.slowdown > this.o.latencyTolerance) {
      this.slowStart = false; // the provider is slowing down: hold
      return;
    }
    this.current = Math.min(this.o.max, this.current + (this.slowStart ? 1 : 1 / this.current));
  }

  private onCongestion(): void {
    this.slowStart = false;
    this.current = Math.max(this.o.min, this.current / 2);
  }

  private wake(): void {
    while (this.waiting.length > 0 && this.inFlight + this.reserved < this.limit) {
      this.reserved++;
      this.waiting.shift()!();
    }
  }
}

export class AdaptiveEmbedder extends EmbedderDecorator {
  readonly limiter: AimdLimiter;
  private activeCalls = 0;

  constructor(
    inner: Embedder,
    private readonly o: AdaptiveOptions = ADAPTIVE_DEFAULTS,
  ) {
    super(inner);
    this.limiter = new AimdLimiter(o);
  }

  async embed(texts: string[]): Promise<EmbeddingResult> {
    this.activeCalls++;
    try {
      // Split only as far as the limit leaves room for every call now in progress.
      const room = Math.max(1, Math.floor(this.limiter.limit / this.activeCalls));
      const parts = Math.max(1, Math.min(room, Math.floor(texts.length / this.o.minPartSize)));
      const size = Math.ceil(texts.length / parts);
      const slices: string[][] = [];
      for (let i = 0; i < texts.length; i += size) slices.push(texts.slice(i, i + size));
      const results = await Promise.all(slices.map((s) => this.limiter.run(s.length, () => this.inner.embed(s))));
      const rateLimits = [...results].reverse().find((r) => r.rateLimits)?.rateLimits;
      return {
        vectors: results.flatMap((r) => r.vectors),
        tokens: results.reduce((n, r) => n + r.tokens, 0),
        ...(results.every((r) => r.tokensFromProvider) && { tokensFromProvider: true }),
        requests: results.reduce((n, r) => n + (r.requests ?? 1), 0),
        ...(rateLimits && { rateLimits }),
      };
    } finally {
      this.activeCalls--;
    }
  }
}
