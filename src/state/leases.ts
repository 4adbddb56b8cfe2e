import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { STATE_SCHEMA as S } from './schema';

/**
 * One active run per collection, kept where the data is. A run takes its collection's lease
 * when it prepares (keyed by its run key: the first run id of its continue-as-new chain) and
 * gives it back when it finishes. Every write of the run is fenced: it registers a write
 * intent while it holds the lease (one statement that share-locks the lease row), and a
 * takeover from a closed run waits until that run's intents are gone or expired. So a run that
 * lost the lease cannot start a write, and a write it started before cannot land after the new
 * holder began: a stale run never deletes what the holder saw. The lease row stays after
 * release: it also records a collection's latest run (its workflow id), for `status`.
 */
export const LEASES_MIGRATION = `
CREATE TABLE IF NOT EXISTS ${S}.collection_leases (
  collection   text PRIMARY KEY,
  run_key      text NOT NULL,
  workflow_id  text NOT NULL,
  acquired_at  timestamptz NOT NULL DEFAULT now(),
  released_at  timestamptz
);
-- Writes of the holder in progress; an intent past its deadline is from a dead process.
CREATE TABLE IF NOT EXISTS ${S}.lease_writes (
  id          uuid PRIMARY KEY,
  collection  text NOT NULL,
  run_key     text NOT NULL,
  until       timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS lease_writes_run ON ${S}.lease_writes (collection, run_key);
`;

export interface Lease {
  collection: string;
  runKey: string;
  workflowId: string;
  acquiredAt: Date;
  /** Set when the run finished; a released lease is free for the next run. */
  releasedAt: Date | null;
}

export type AcquireOutcome =
  | { acquired: true; takenOverFrom?: Lease }
  | { acquired: false; holder: Lease; /** The closed holder still has writes in flight until then. */ drainingUntil?: Date };

/** A run that lost (or never had) the collection's lease tried to write. */
export class LeaseLostError extends Error {
  constructor(
    readonly collection: string,
    readonly runKey: string,
    readonly holder: Lease | undefined,
  ) {
    super(
      holder && holder.releasedAt === null
        ? `run ${runKey} does not hold collection ${collection}: workflow ${holder.workflowId} (run ${holder.runKey}) does; this run stops writing`
        : `run ${runKey} does not hold collection ${collection} (its lease was released, or this run never took it); this run stops writing`,
    );
    this.name = 'LeaseLostError';
  }
}

/** Run keys of replays (src/activities/reprocess.ts): they hold the lease only while they write. */
export const REPLAY_RUN_PREFIX = 'replay:';

export function isReplayRunKey(runKey: string): boolean {
  return runKey.startsWith(REPLAY_RUN_PREFIX);
}

const SELECT = `SELECT collection, run_key AS "runKey", workflow_id AS "workflowId", acquired_at AS "acquiredAt",
  released_at AS "releasedAt" FROM ${S}.collection_leases`;

const MAX_WRITE_MS = 30 * 60_000;

/**
 * The fence of a write that is one statement in the state store's database (a pgvector sink fed
 * from the state store), as a condition of that statement: true only while `runKey` holds the
 * collection's lease, and it share-locks the lease row until the statement's transaction ends.
 * A takeover (FOR UPDATE) then waits for the write, as it waits for a fenced() write's intent,
 * and a write that waited for a takeover finds the row changed and writes nothing. The
 * arguments are the statement's parameter placeholders of the collection and the run key.
 */
export function leaseHeld(collectionParam: string, runKeyParam: string): string {
  return `EXISTS (SELECT 1 FROM ${S}.collection_leases
                  WHERE collection = ${collectionParam} AND run_key = ${runKeyParam} AND released_at IS NULL FOR SHARE)`;
}

/** Typed access to the lease tables. Knows nothing of Temporal: the caller says who is closed. */
export class LeaseStore {
  constructor(private readonly pool: Pool) {}

  async get(collection: string): Promise<Lease | undefined> {
    const r = await this.pool.query<Lease>(`${SELECT} WHERE collection = $1`, [collection]);
    return r.rows[0];
  }

  /**
   * Takes the lease for `runKey`. Free (no row, or released) or already ours: taken. Held by
   * another run: `isClosed(holder)` decides; a closed holder is taken over once its write
   * intents are gone, under the row lock, so two runs racing for one dead holder cannot both
   * win and no write of the holder can start after the takeover.
   */
  async acquire(collection: string, runKey: string, workflowId: string, isClosed: (holder: Lease) => Promise<boolean>): Promise<AcquireOutcome> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const ins = await this.pool.query(
        `INSERT INTO ${S}.collection_leases AS l (collection, run_key, workflow_id) VALUES ($1, $2, $3)
         ON CONFLICT (collection) DO UPDATE SET run_key = EXCLUDED.run_key, workflow_id = EXCLUDED.workflow_id,
           acquired_at = CASE WHEN l.run_key = EXCLUDED.run_key AND l.released_at IS NULL THEN l.acquired_at ELSE now() END,
           released_at = NULL
         WHERE l.released_at IS NOT NULL OR l.run_key = EXCLUDED.run_key
         RETURNING 1`,
        [collection, runKey, workflowId],
      );
      if (ins.rowCount === 1) return { acquired: true };
      const holder = await this.get(collection);
      if (!holder || holder.releasedAt !== null || holder.runKey === runKey) continue; // changed meanwhile
      if (!(await isClosed(holder))) return { acquired: false, holder };
      const c = await this.pool.connect();
      try {
        await c.query('BEGIN');
        const locked = await c.query(`SELECT 1 FROM ${S}.collection_leases WHERE collection = $1 AND run_key = $2 AND released_at IS NULL FOR UPDATE`, [
          collection,
          holder.runKey,
        ]);
        if (locked.rowCount !== 1) {
          await c.query('ROLLBACK');
          continue;
        }
        const w = await c.query<{ until: Date | null }>(
          `SELECT max(until) AS until FROM ${S}.lease_writes WHERE collection = $1 AND run_key = $2 AND until > now()`,
          [collection, holder.runKey],
        );
        const until = w.rows[0]?.until ?? null;
        if (until) {
          await c.query('ROLLBACK');
          return { acquired: false, holder, drainingUntil: until };
        }
        await c.query(`UPDATE ${S}.collection_leases SET run_key = $2, workflow_id = $3, acquired_at = now(), released_at = NULL WHERE collection = $1`, [
          collection,
          runKey,
          workflowId,
        ]);
        await c.query(`DELETE FROM ${S}.lease_writes WHERE collection = $1 AND run_key = $2`, [collection, holder.runKey]);
        await c.query('COMMIT');
        return { acquired: true, takenOverFrom: holder };
      } catch (err) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        c.release();
      }
    }
    throw new Error(`could not settle the lease of collection ${collection} after 10 attempts (runs racing for it)`);
  }

  /**
   * Runs a write of `runKey` fenced by the lease: throws LeaseLostError without running it
   * unless the run holds the lease, and keeps a takeover waiting until it ended (or, if this
   * process dies, until `maxMs` passed).
   */
  async fenced<T>(collection: string, runKey: string, maxMs: number, write: () => Promise<T>): Promise<T> {
    const id = randomUUID();
    const ms = Math.max(1_000, Math.min(maxMs, MAX_WRITE_MS));
    const r = await this.pool.query(
      `INSERT INTO ${S}.lease_writes (id, collection, run_key, until)
       SELECT $3, collection, run_key, now() + $4 * interval '1 millisecond' FROM ${S}.collection_leases
       WHERE collection = $1 AND run_key = $2 AND released_at IS NULL FOR SHARE`,
      [collection, runKey, id, ms],
    );
    if (r.rowCount !== 1) throw new LeaseLostError(collection, runKey, await this.get(collection));
    try {
      return await write();
    } finally {
      await this.pool.query(`DELETE FROM ${S}.lease_writes WHERE id = $1`, [id]).catch(() => undefined); // expires by itself otherwise
    }
  }

  /** Throws LeaseLostError unless `runKey` holds the collection's lease now. */
  async check(collection: string, runKey: string): Promise<void> {
    const holder = await this.get(collection);
    if (!holder || holder.runKey !== runKey || holder.releasedAt !== null) throw new LeaseLostError(collection, runKey, holder);
  }

  /**
   * Gives the lease back (a finished run). False when `runKey` does not hold it; true again
   * for a run that already released it (a retried finish).
   */
  async release(collection: string, runKey: string): Promise<boolean> {
    const r = await this.pool.query(
      `UPDATE ${S}.collection_leases SET released_at = COALESCE(released_at, now()) WHERE collection = $1 AND run_key = $2`,
      [collection, runKey],
    );
    return r.rowCount === 1;
  }
}
