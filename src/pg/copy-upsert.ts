/**
 * Bulk upserts through binary COPY, so rows (and their vectors, as float4s rather than text
 * literals the server parses back) reach PostgreSQL the fast way, while keeping ON CONFLICT's
 * idempotence. In one transaction:
 *   1. BEGIN and look up which keys are already present (one round trip);
 *   2. COPY the new rows straight into the table (COPY's bulk insert, the fastest way in);
 *   3. rows already present: left alone (DO NOTHING), or COPYed into a session temp table and
 *      merged with one INSERT … SELECT … ON CONFLICT;
 *   4. COMMIT.
 * A concurrent writer inserting one of the "new" keys between 1 and 2 makes the COPY fail with a
 * unique violation: the transaction is rolled back and done once more, which then sees the row.
 *
 * PGlite (the embedded default) cannot run COPY FROM STDIN over its socket: `copySupported`
 * tells callers to keep their parameterised INSERT there.
 */
import type { Pool, PoolClient } from 'pg';
import { withClient } from './connection';
import { copyBinary, encodeCopyRows, type CopyColumn, type CopyValue } from './binary-copy';

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
  /** The target table, quoted (schema.table). */
  table: string;
  /** Its columns that the rows fill, in order, and their binary types. */
  columns: readonly string[];
  types: readonly CopyColumn[];
  rows: ReadonlyArray<readonly CopyValue[]>;
  /** The conflict key of each row, as text (a later row with the same key replaces an earlier one). */
  keys: readonly string[];
  /** SQL without parameters selecting column `k` (text) of the given keys already in the table. */
  existing: (keysArray: string, literal: (s: string) => string) => string;
  /** How rows already present are merged; without it they are left as they are (DO NOTHING). */
  merge?: { temp: string; columnDefs: string; sql: (temp: string) => string };
}

/** Writes the rows; returns how many were new and how many present rows the merge changed. */
export async function copyUpsert(pool: Pool, u: CopyUpsert): Promise<{ inserted: number; merged: number }> {
  const last = new Map<string, number>();
  u.keys.forEach((k, i) => last.set(k, i));
  const rows = [...last.values()].map((i) => u.rows[i]!);
  const keys = [...last.keys()];
  if (rows.length === 0) return { inserted: 0, merged: 0 };
  encodeCopyRows(u.types, rows); // invalid values fail here, before a connection is taken
  for (let attempt = 1; ; attempt++) {
    try {
      return await withClient(pool, (c) => once(c, u, rows, keys));
    } catch (err) {
      if (attempt >= 2 || (err as { code?: string }).code !== '23505') throw err;
    }
  }
}

async function once(c: PoolClient, u: CopyUpsert, rows: ReadonlyArray<readonly CopyValue[]>, keys: string[]): Promise<{ inserted: number; merged: number }> {
  const literal = (s: string) => c.escapeLiteral(s);
  const keysArray = literal(`{${keys.map((k) => `"${k.replace(/["\\]/g, '\\$&')}"`).join(',')}}`);
  const results = (await c.query(
    `BEGIN; SET LOCAL client_min_messages = warning; ${u.existing(keysArray, literal)}`,
  )) as unknown as Array<{ rows: Array<{ k: string }> }>;
  const present = new Set(results[results.length - 1]!.rows.map((r) => r.k));
  const fresh = rows.filter((_, i) => !present.has(keys[i]!));
  const old = u.merge ? rows.filter((_, i) => present.has(keys[i]!)) : [];
  let merged = 0;
  if (fresh.length > 0) {
    await copyBinary(c, `COPY ${u.table} (${u.columns.join(', ')}) FROM STDIN (FORMAT binary)`, encodeCopyRows(u.types, fresh));
  }
  if (u.merge && old.length > 0) {
    await c.query(`CREATE TEMP TABLE IF NOT EXISTS ${u.merge.temp} (${u.merge.columnDefs}) ON COMMIT DELETE ROWS`);
    await copyBinary(c, `COPY ${u.merge.temp} FROM STDIN (FORMAT binary)`, encodeCopyRows(u.types, old));
    const r = (await c.query(`${u.merge.sql(u.merge.temp)}; COMMIT`)) as unknown as Array<{ rowCount: number | null }>;
    merged = r[0]!.rowCount ?? 0;
  } else {
    await c.query('COMMIT');
  }
  return { inserted: fresh.length, merged };
}

