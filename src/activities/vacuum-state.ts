import type { ActivityDeps } from './deps';
import { attemptTimeoutMs, whileHeartbeating } from './context';
import { vacuumChurnTables, type VacuumOptions } from '../state/vacuum';

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
      else if (t.vacuumed !== false) deps.log.warn({ ...at, err: t.vacuumed }, 'could not vacuum a state table; the next finished run tries again');
    }
  } catch (err) {
    deps.log.warn({ err: (err as Error).message }, 'state tables not vacuumed');
  }
}
