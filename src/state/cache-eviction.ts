import type { Pool } from 'pg';
import { STATE_SCHEMA as S } from './schema';

export interface CacheModelStats {
  model: string;
  dimensions: number;
  rows: number;
  bytes: number;
  oldest: string | null;
  newest: string | null;
  /** A collection is built with this model and size. */
  used: boolean;
}

export interface PruneResult {
  /** Rows of models no collection uses. */
  unusedModels: number;
  /** Oldest rows over the size cap. */
  overCap: number;
}

// A vector still needed by a staged chunk waiting to be written is never evicted mid-run.
const NOT_PENDING = `NOT EXISTS (SELECT 1 FROM ${S}.staged_chunks s WHERE s.text_hash = e.text_hash AND s.status = 0)`;
// Used: by a collection's live generation, or by a generation being built or kept (retired).
const USED = `(EXISTS (SELECT 1 FROM ${S}.collections c WHERE c.model = e.model AND c.dimensions = e.dimensions)
  OR EXISTS (SELECT 1 FROM ${S}.generations g WHERE g.model = e.model AND g.dimensions = e.dimensions))`;
const UNUSED = `NOT ${USED}`;

/**
 * Keeps the embedding cache bounded: vectors of a model no collection uses (left behind by a
 * rebuild into another model) can never be read again; beyond a size cap the oldest go first.
 * Vectors that a staged chunk still waits for are kept either way.
 */
export class CacheEviction {
  constructor(private readonly pool: Pool) {}

  async stats(): Promise<CacheModelStats[]> {
    const r = await this.pool.query<CacheModelStats>(
      `SELECT e.model, e.dimensions, count(*)::int AS rows, coalesce(sum(pg_column_size(e.embedding)), 0)::bigint::float8 AS bytes,
              min(e.created_at)::text AS oldest, max(e.created_at)::text AS newest,
              ${USED} AS used
       FROM ${S}.embedding_cache e GROUP BY e.model, e.dimensions ORDER BY e.model, e.dimensions`,
    );
    return r.rows;
  }

  /** Deletes vectors of models no collection uses. */
  async pruneUnusedModels(): Promise<number> {
    const r = await this.pool.query(`DELETE FROM ${S}.embedding_cache e WHERE ${UNUSED} AND ${NOT_PENDING}`);
    return r.rowCount ?? 0;
  }

  /** Deletes the oldest vectors until at most `maxRows` remain (pending ones excepted). */
  async pruneToCap(maxRows: number): Promise<number> {
    const r = await this.pool.query(
      `DELETE FROM ${S}.embedding_cache e USING (
         SELECT model, dimensions, text_hash FROM ${S}.embedding_cache
         ORDER BY created_at DESC, model, dimensions, text_hash OFFSET $1) old
       WHERE e.model = old.model AND e.dimensions = old.dimensions AND e.text_hash = old.text_hash AND ${NOT_PENDING}`,
      [maxRows],
    );
    return r.rowCount ?? 0;
  }

  async prune(opts: { maxRows?: number }): Promise<PruneResult> {
    const unusedModels = await this.pruneUnusedModels();
    const overCap = opts.maxRows === undefined ? 0 : await this.pruneToCap(opts.maxRows);
    return { unusedModels, overCap };
  }
}
