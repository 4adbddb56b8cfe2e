import type { Pool } from 'pg';
import { STATE_SCHEMA as S } from './schema';

export interface CollectionRecord {
  name: string;
  sink: string;
  model: string;
  dimensions: number;
  /** The last ingest's input minus run state: what a scheduled re-index repeats. */
  ingestConfig?: unknown;
  /** A rebuild is under way or was abandoned: runs plan every document until one completes. */
  replanAll?: boolean;
}

/** One row per collection: its sink, its embedding model, the config a re-index repeats. */
export class CollectionsTable {
  constructor(private readonly pool: Pool) {}

  async get(name: string): Promise<CollectionRecord | undefined> {
    const r = await this.pool.query(
      `SELECT name, sink, model, dimensions, ingest_config AS "ingestConfig", replan_all AS "replanAll" FROM ${S}.collections WHERE name = $1`,
      [name],
    );
    return r.rows[0];
  }

  async put(rec: CollectionRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO ${S}.collections (name, sink, model, dimensions, ingest_config) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (name) DO UPDATE SET sink = EXCLUDED.sink, model = EXCLUDED.model,
         dimensions = EXCLUDED.dimensions, ingest_config = COALESCE(EXCLUDED.ingest_config, ${S}.collections.ingest_config),
         updated_at = now()`,
      [rec.name, rec.sink, rec.model, rec.dimensions, rec.ingestConfig === undefined ? null : JSON.stringify(rec.ingestConfig)],
    );
  }

  /** A run over the live generation completed: incremental planning again. */
  async clearReplan(name: string): Promise<void> {
    await this.pool.query(`UPDATE ${S}.collections SET replan_all = false WHERE name = $1 AND replan_all`, [name]);
  }
}
