/**
 * Requests-per-window and tokens-per-window limits, as providers enforce them (OpenAI: RPM and
 * TPM). A sliding window over the last `windowMs`; `admit` says whether a request of `tokens`
 * fits now and, if not, how long until it would.
 */
export class RateWindow {
  private readonly events: Array<{ at: number; tokens: number }> = [];

  constructor(
    private readonly windowMs: number,
    private readonly maxRequests?: number,
    private readonly maxTokens?: number,
  ) {}

  private prune(now: number): void {
    while (this.events.length > 0 && this.events[0]!.at <= now - this.windowMs) this.events.shift();
  }

  remaining(now = Date.now()): { requests?: number; tokens?: number } {
    this.prune(now);
    const used = this.events.reduce((s, e) => s + e.tokens, 0);
    return {
      requests: this.maxRequests === undefined ? undefined : Math.max(0, this.maxRequests - this.events.length),
      tokens: this.maxTokens === undefined ? undefined : Math.max(0, this.maxTokens - used),
    };
  }

  /** Records the request if it fits; otherwise returns the wait in ms until it would. */
  admit(tokens: number, now = Date.now()): { ok: true } | { ok: false; retryAfterMs: number; reason: 'requests' | 'tokens' } {
    this.prune(now);
    if (this.maxRequests !== undefined && this.events.length >= this.maxRequests) {
      return { ok: false, reason: 'requests', retryAfterMs: this.events[0]!.at + this.windowMs - now };
    }
    if (this.maxTokens !== undefined) {
      let used = this.events.reduce((s, e) => s + e.tokens, 0);
      if (used + tokens > this.maxTokens) {
        // wait until enough old requests leave the window
        let wait = 0;
        for (const e of this.events) {
          used -= e.tokens;
          wait = e.at + this.windowMs - now;
          if (used + tokens <= this.maxTokens) break;
        }
        return { ok: false, reason: 'tokens', retryAfterMs: Math.max(1, wait) };
      }
    }
    this.events.push({ at: now, tokens });
    return { ok: true };
  }
}
