/**
 * Bulk upserts through binary COPY, so rows (and their vectors, as float4s rather than text
 * literals the server parses back) reach PostgreSQL the fast way, while keeping ON CONFLICT's
 * idempotence. Each try is one statement batch sent with its COPY data in one round trip
 * (src/pg/pipelined-copy.ts):
 *   - fast path, while the table has none of the keys (a first load): BEGIN; COPY the rows
 *     straight into the table; COMMIT. A key already present fails it whole (unique violation,
 *     rolled back) and the merge below runs instead;
 *   - merge: BEGIN; COPY the rows into a session temp table (ON COMMIT DELETE ROWS: no WAL,
 *     emptied by the commit); one INSERT … SELECT … ON CONFLICT from it; COMMIT.
 * After a conflict the next calls on that table go straight to the merge for a while, so a
 * re-run pays for a failed COPY once in a while, not on every call. Before this, a call cost
 * four round trips (look up present keys; COPY, which waits for the server's CopyInResponse;
 * its data; COMMIT).
 *
 * PGlite (the embedded default) cannot run COPY FROM STDIN over its socket: `copySupported`
 * tells callers to keep their parameterised INSERT there.
 */
import type { Pool } from 'pg';
import { withClient } from './connection';
import { encodeCopyRows, type CopyColumn, type CopyValue } from './binary-copy';
import { pipelinedCopy } from './pipelined-copy';

const copyCapable = new WeakMap<Pool, Promise<boolean>>();

/** Whether this pool's server takes COPY FROM STDIN (any PostgreSQL; not PGlite over its socket). */
export function copySupported(pool: Pool): Promise<boolean> {
  let p = copyCapable.get(pool);
  if (!p) {
    p = pool.query<{ pglite: boolean }>(`SELECT version() LIKE '%PGlite%' AS pglite`).then((r) => !r.rows[0]!.pglite);
    // A failed probe (database down) is not remembered: the next call asks again.
    p.catch(() => copyCapable.delete(pool));
    copyCapable.set(pool, p);
  }
  return p;
}

export interface CopyUpsert {
  /** The target table, quoted (schema.table), and its columns the rows fill, in order. */
  table: string;
  columns: readonly string[];
  /** The binary types of the row's columns, in order. */
  types: readonly CopyColumn[];
  rows: ReadonlyArray<readonly CopyValue[]>;
  /** The conflict key of each row, as text (a later row with the same key replaces an earlier one). */
  keys: readonly string[];
  /** The session temp table the rows are staged in, and its column definitions (same order as `types`). */
  temp: string;
  columnDefs: string;
  /** The INSERT … SELECT … FROM temp … ON CONFLICT statement (no RETURNING) that merges the staged rows. */
  merge: (temp: string) => string;
}

/**
 * Tables whose last fast-path COPY hit a row already present, and how many more calls go
 * straight to the merge before the fast path is tried again (re-runs and retries write rows
 * that are there; a first load writes none).
 */
const mergeFirst = new Map<string, number>();
const MERGE_FIRST_CALLS = 16;
const UNIQUE_VIOLATION = '23505';

/** Writes the rows; returns how many rows were inserted or changed. */
export async function copyUpsert(pool: Pool, u: CopyUpsert): Promise<number> {
  const last = new Map<string, number>();
  u.keys.forEach((k, i) => last.set(k, i));
  const rows = [...last.values()].map((i) => u.rows[i]!);
  if (rows.length === 0) return 0;
  const data = encodeCopyRows(u.types, rows); // invalid values fail here, before a connection is taken
  const skip = mergeFirst.get(u.table) ?? 0;
  if (skip === 0) {
    // Fast path: COPY straight into the table (COPY's bulk insert, no per-row conflict check).
    // Any row already present fails it with a unique violation, rolled back whole.
    try {
      await withClient(pool, (c) => pipelinedCopy(c, `BEGIN; COPY ${u.table} (${u.columns.join(', ')}) FROM STDIN (FORMAT binary); COMMIT`, data));
      return rows.length;
    } catch (err) {
      if ((err as { code?: string }).code !== UNIQUE_VIOLATION) throw err;
      mergeFirst.set(u.table, MERGE_FIRST_CALLS);
    }
  } else {
    mergeFirst.set(u.table, skip - 1);
  }
  const tags = await withClient(pool, (c) =>
    pipelinedCopy(
      c,
      `BEGIN; SET LOCAL client_min_messages = warning;
       CREATE TEMP TABLE IF NOT EXISTS ${u.temp} (${u.columnDefs}) ON COMMIT DELETE ROWS;
       COPY ${u.temp} FROM STDIN (FORMAT binary);
       ${u.merge(u.temp)};
       COMMIT`,
      data,
    ),
  );
  const insert = tags.find((t) => t.startsWith('INSERT '));
  if (!insert) throw new Error(`copy upsert: no INSERT in the batch's results (${tags.join(', ')})`);
  return Number(insert.split(' ')[2]);
}
