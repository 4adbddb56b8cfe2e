import type { ReplayOutcome, ReplayTotals } from '../contracts/replay';

/**
 * What the replays of a collection's failures did, summed (what the `failures` query, `status`
 * and the Web UI show): without it an automatic replay's result was in the worker's log only.
 * Plain data, no Temporal calls; carried across continue-as-new.
 */
export class ReplayTally {
  private readonly t: ReplayTotals;

  constructor(prev?: ReplayTotals) {
    this.t = prev ? { ...prev } : { replays: 0, automatic: 0, landed: 0, stillFailing: 0, vanished: 0 };
  }

  /** One replay ended (`error`: it gave up, after landing what `outcome` holds). */
  add(outcome: ReplayOutcome, automatic: boolean, at: string, error?: string): void {
    const last = {
      at,
      automatic,
      requested: outcome.requested,
      landed: outcome.succeeded.length,
      stillFailing: outcome.stillFailing.length,
      vanished: outcome.vanished.length,
      ...(error !== undefined && { error }),
    };
    this.t.replays++;
    if (automatic) this.t.automatic++;
    this.t.landed += last.landed;
    this.t.stillFailing += last.stillFailing;
    this.t.vanished += last.vanished;
    this.t.last = last;
  }

  totals(): ReplayTotals {
    return { ...this.t };
  }
}
