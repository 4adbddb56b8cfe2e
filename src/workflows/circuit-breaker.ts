/** What the breaker needs from its workflow: a durable timer, a probe, and someone to tell. */
export interface CircuitBreakerDeps {
  /** Workflow `sleep`: a durable timer. */
  sleep(ms: number): Promise<unknown>;
  /** Asks the provider once; throws while it is down. */
  probe(): Promise<unknown>;
  /** Called when the circuit opens (with why) and when it closes. */
  changed(open: boolean, why?: string): void;
  /** Called with each failed probe's error. */
  probeFailed(err: unknown): void;
}

/** Longest wait between two probes. */
export const MAX_PROBE_DELAY_MS = 300_000;

/**
 * Circuit breaker over the embedding provider and the sink: while open, the batch window
 * dispatches nothing; a probe asks the provider, backing off from the first delay (15 s by
 * default) doubling to 5 min, and the first success closes it. Batches that hit the outage wait
 * in the window's queue, so nothing is lost and no item's retry budget is spent on a dead provider.
 */
export class CircuitBreaker {
  private openNow = false;

  constructor(
    private readonly firstDelayMs: number,
    private readonly deps: CircuitBreakerDeps,
  ) {}

  get isOpen(): boolean {
    return this.openNow;
  }

  /** Opens the circuit and probes until the provider answers; a no-op while already open. */
  async open(why: string): Promise<void> {
    if (this.openNow) return;
    this.openNow = true;
    this.deps.changed(true, why);
    let delay = this.firstDelayMs;
    for (;;) {
      await this.deps.sleep(delay);
      try {
        await this.deps.probe();
        break;
      } catch (err) {
        this.deps.probeFailed(err);
        delay = Math.min(delay * 2, MAX_PROBE_DELAY_MS);
      }
    }
    this.openNow = false;
    this.deps.changed(false);
  }
}
