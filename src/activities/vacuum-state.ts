import { AsyncResource } from 'node:async_hooks';
import type { ActivityDeps } from './deps';
import { attemptTimeoutMs, whileHeartbeating } from './context';
import { VACUUM_STOPPED, vacuumChurnTables, type VacuumOptions } from '../state/vacuum';

/**
 * End-of-run housekeeping: the state store's churn tables are vacuumed when the run (or earlier
 * ones) left them enough dead rows, whatever the server's autovacuum does (CI's and some
 * managed servers run with it off). Never fails the run: a table that could not be vacuumed is
 * logged, and the next finished run tries again.
 */
export async function vacuumStateStore(deps: Pick<ActivityDeps, 'store' | 'log'>, o: VacuumOptions = {}): Promise<void> {
  // Each table gets at most a quarter of the attempt's time (15 min by default), so the three
  // fit inside it and a timed-out attempt never leaves a VACUUM behind.
  const timeoutMs = o.timeoutMs ?? Math.min(10 * 60_000, attemptTimeoutMs() / 4);
  try {
    const tables = await whileHeartbeating(() => vacuumChurnTables(deps.store.pool, { ...o, timeoutMs }));
    for (const t of tables) {
      const at = { table: t.table, live: t.live, dead: t.dead, ms: t.ms };
      if (t.vacuumed === true) deps.log.info(at, 'vacuumed a state table full of dead rows');
      else if (t.vacuumed === VACUUM_STOPPED) deps.log.info(at, 'state table not vacuumed: the worker is shutting down; the next finished run does it');
      else if (t.vacuumed !== false) deps.log.warn({ ...at, err: t.vacuumed }, 'could not vacuum a state table; the next finished run tries again');
    }
  } catch (err) {
    deps.log.warn({ err: (err as Error).message }, 'state tables not vacuumed');
  }
}

/**
 * vacuumStateStore on the worker after the finishRun that asked for it has returned, so a run's
 * completion does not wait for housekeeping (a VACUUM of a big run's dead rows takes seconds to
 * minutes). Nothing depends on it: if the worker dies first, the dead rows are still counted in
 * pg_stat_user_tables and the next finished run vacuums them, as it does after a failed VACUUM.
 *
 * One at a time per worker; a request while one runs makes it run once more when it ends (the
 * statistics it read may predate the new run's dead rows). It runs outside the activity's
 * context (no heartbeats of an activity that has completed). stop() (deps.close(), after the
 * workers drained and before the pool ends) cancels a VACUUM in progress and waits for the
 * connection to come back.
 */
export class BackgroundVacuum {
  private running: Promise<void> | undefined;
  private again = false;
  private readonly stopping = new AbortController();
  /** Calls `fn` in the async context this object was made in: outside any activity. */
  private readonly detached = AsyncResource.bind((fn: () => void) => fn());

  constructor(
    private readonly deps: Pick<ActivityDeps, 'store' | 'log'>,
    private readonly o: Omit<VacuumOptions, 'signal'> = {},
  ) {}

  /** Vacuums the churn tables that are due, soon, without waiting for it. */
  request(): void {
    if (this.stopping.signal.aborted) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.detached(() => {
      this.running = this.loop().finally(() => (this.running = undefined));
    });
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      // A table's VACUUM is bounded by statement_timeout (10 min), not by an activity's attempt.
      await vacuumStateStore(this.deps, { timeoutMs: 10 * 60_000, ...this.o, signal: this.stopping.signal });
    } while (this.again && !this.stopping.signal.aborted);
  }

  /** The work in progress, if any (tests wait for it). */
  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.running;
  }
}
