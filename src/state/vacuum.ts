import type { Pool } from 'pg';
import { withClient } from '../pg/connection';
import { STATE_SCHEMA as S } from './schema';

/**
 * The state tables a run rewrites row by row: every chunk is staged and deleted (as it lands);
 * every document is marked seen, made pending and committed; cached vectors are evicted. Each
 * of those leaves a dead row version that only VACUUM reclaims. A Postgres with autovacuum off
 * (or too lazy for this churn) keeps them all: a 100k-chunk run left 315k dead staged rows in
 * 452 MB for 1,008 live ones, and at 1M chunks the state store held 3.7 GB of dead rows. Later
 * runs were measured no slower for it (the same buffer pages: BENCHMARKS.md §4b), so this is
 * about the disk and the planner's statistics (VACUUM (ANALYZE)), not about speed.
 */
export const CHURN_TABLES = ['staged_chunks', 'documents', 'embedding_cache'] as const;

/** When a table is worth vacuuming: at least `minDead` dead rows, and `deadPerLive` per live one. */
export interface VacuumPolicy {
  minDead: number;
  deadPerLive: number;
}

/** Like autovacuum's default (0.2 per live row), with a floor that keeps small runs from vacuuming each time. */
export const DEFAULT_VACUUM_POLICY: VacuumPolicy = { minDead: 10_000, deadPerLive: 0.2 };

export function needsVacuum(t: { live: number; dead: number }, policy: VacuumPolicy = DEFAULT_VACUUM_POLICY): boolean {
  return t.dead >= policy.minDead && t.dead >= policy.deadPerLive * t.live;
}

export interface TableVacuum {
  table: string;
  live: number;
  dead: number;
  /** Vacuumed (true), not due (false), or the error that stopped it. */
  vacuumed: boolean | string;
  ms?: number;
}

export interface VacuumOptions {
  policy?: VacuumPolicy;
  /** The most one table's VACUUM may take (statement_timeout). */
  timeoutMs?: number;
  /** How long to wait for a table another VACUUM (or DDL) holds before skipping it (lock_timeout). */
  lockTimeoutMs?: number;
  /**
   * Stops the work early (the worker is shutting down): the VACUUM in progress is cancelled
   * (pg_cancel_backend; not on PGlite, where it is waited for) and no further table is begun.
   * What was not vacuumed is reported as such; the next finished run does it.
   */
  signal?: AbortSignal;
}

/** What a table that was due reports when the work was stopped before it (VacuumOptions.signal). */
export const VACUUM_STOPPED = 'stopped: the worker is shutting down';

/**
 * VACUUM (ANALYZE) of the churn tables whose dead rows are due (pg_stat_user_tables, which the
 * server updates a little behind the writes), one at a time on one pooled connection, outside
 * any transaction (VACUUM refuses to run in one). A table that fails (a timeout, a lock held by
 * another VACUUM) is reported and the next one tried; only reading the statistics can throw.
 * On PGlite, whose socket server shares one session among its clients, no setting is changed.
 */
export async function vacuumChurnTables(pool: Pool, o: VacuumOptions = {}): Promise<TableVacuum[]> {
  const policy = o.policy ?? DEFAULT_VACUUM_POLICY;
  return withClient(pool, async (c) => {
    const r = await c.query<{ relname: string; live: number; dead: number; pglite: boolean; pid: number }>(
      `SELECT relname, n_live_tup::float8 AS live, n_dead_tup::float8 AS dead, version() LIKE '%PGlite%' AS pglite,
         pg_backend_pid() AS pid
       FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = ANY($2::text[]) ORDER BY relname`,
      [S, CHURN_TABLES],
    );
    const out: TableVacuum[] = r.rows.map((x) => ({ table: x.relname, live: x.live, dead: x.dead, vacuumed: false }));
    const due = out.filter((t) => needsVacuum(t, policy));
    if (due.length === 0) return out;
    const settings = r.rows[0]?.pglite !== true;
    if (settings) {
      await c.query(`SET statement_timeout = ${Math.max(1, Math.round(o.timeoutMs ?? 10 * 60_000))}`);
      await c.query(`SET lock_timeout = ${Math.max(1, Math.round(o.lockTimeoutMs ?? 2_000))}`);
    }
    // A stop cancels the statement in progress from another connection of the pool.
    const pid = r.rows[0]?.pid;
    const cancel = () => void pool.query('SELECT pg_cancel_backend($1)', [pid]).catch(() => undefined);
    if (settings) o.signal?.addEventListener('abort', cancel, { once: true });
    try {
      for (const t of due) {
        if (o.signal?.aborted) {
          t.vacuumed = VACUUM_STOPPED;
          continue;
        }
        const t0 = Date.now();
        try {
          await c.query(`VACUUM (ANALYZE) ${S}.${t.table}`);
          t.vacuumed = true;
        } catch (err) {
          t.vacuumed = o.signal?.aborted ? VACUUM_STOPPED : (err as Error).message;
        }
        t.ms = Date.now() - t0;
      }
    } finally {
      o.signal?.removeEventListener('abort', cancel);
      if (settings) await c.query('RESET statement_timeout; RESET lock_timeout');
    }
    return out;
  });
}
