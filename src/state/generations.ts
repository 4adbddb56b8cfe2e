import type { Pool, PoolClient } from 'pg';
import type { VectorTypeName } from '../contracts/ingest';
import { inTransaction } from './db';
import { STATE_SCHEMA as S } from './schema';

export type GenerationState = 'building' | 'live' | 'retired';

export interface GenerationRecord {
  collection: string;
  generation: number;
  state: GenerationState;
  sink: string;
  model: string;
  dimensions: number;
  /** The pgvector table or Qdrant collection that holds it. */
  storage: string;
  /** pgvector column type: 'vector' (float4) or 'halfvec' (float2). */
  vectorType: VectorTypeName;
  createdAt: string;
  liveSince: string | null;
}

export type NewGeneration = Pick<GenerationRecord, 'sink' | 'model' | 'dimensions' | 'vectorType'>;

const COLUMNS = `collection, generation, state, sink, model, dimensions, storage, vector_type AS "vectorType",
  created_at::text AS "createdAt", live_since::text AS "liveSince"`;

/**
 * A collection's generations: the live one (what its name shows, what search reads), at most one
 * being built beside it by a rebuild, and retired ones kept until dropped. The swap is one
 * transaction here (after the sink pointed the name at the new storage).
 */
export class GenerationsTable {
  constructor(private readonly pool: Pool) {}

  async list(collection: string): Promise<GenerationRecord[]> {
    const r = await this.pool.query<GenerationRecord>(`SELECT ${COLUMNS} FROM ${S}.generations WHERE collection = $1 ORDER BY generation`, [collection]);
    return r.rows;
  }

  /** Records the first generation of a collection (a new one, or one made before generations existed). */
  async ensureFirst(collection: string, g: NewGeneration & { storage: string }): Promise<void> {
    await this.pool.query(
      `INSERT INTO ${S}.generations (collection, generation, state, sink, model, dimensions, storage, vector_type, live_since)
       SELECT $1, 1, 'live', $2, $3, $4, $5, $6, now()
       WHERE NOT EXISTS (SELECT 1 FROM ${S}.generations WHERE collection = $1)`,
      [collection, g.sink, g.model, g.dimensions, g.storage, g.vectorType],
    );
  }

  /**
   * Starts generation max+1 as 'building' in `storageOf(n)`, and makes every run plan every
   * document until a run completes. Returns the new record.
   */
  async startBuilding(collection: string, g: NewGeneration, storageOf: (n: number) => string): Promise<GenerationRecord> {
    return inTransaction(this.pool, async (c) => {
      await c.query(`SELECT 1 FROM ${S}.collections WHERE name = $1 FOR UPDATE`, [collection]);
      const m = await c.query<{ n: number }>(`SELECT coalesce(max(generation), 0)::int AS n FROM ${S}.generations WHERE collection = $1`, [collection]);
      const n = m.rows[0]!.n + 1;
      const r = await c.query<GenerationRecord>(
        `INSERT INTO ${S}.generations (collection, generation, state, sink, model, dimensions, storage, vector_type)
         VALUES ($1, $2, 'building', $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
        [collection, n, g.sink, g.model, g.dimensions, storageOf(n), g.vectorType],
      );
      await c.query(`UPDATE ${S}.collections SET replan_all = true, updated_at = now() WHERE name = $1`, [collection]);
      return r.rows[0]!;
    });
  }

  /**
   * The swap, in the state store: the building generation becomes live, the live one retired
   * (its storage now `retiredStorage`, or its row gone when the sink could not keep it), and the
   * collection record takes the new generation's sink, model and size. Idempotent.
   */
  async promote(collection: string, generation: number, retired: { storage: string } | 'gone', tx?: PoolClient): Promise<void> {
    const run = (fn: (c: PoolClient) => Promise<void>) => (tx ? fn(tx) : inTransaction(this.pool, fn));
    await run(async (c) => {
      const b = await c.query<GenerationRecord>(
        `SELECT ${COLUMNS} FROM ${S}.generations WHERE collection = $1 AND generation = $2 FOR UPDATE`,
        [collection, generation],
      );
      const g = b.rows[0];
      if (!g || g.state !== 'building') return;
      if (retired === 'gone') {
        await c.query(`DELETE FROM ${S}.generations WHERE collection = $1 AND state = 'live'`, [collection]);
      } else {
        await c.query(`UPDATE ${S}.generations SET state = 'retired', storage = $2 WHERE collection = $1 AND state = 'live'`, [
          collection,
          retired.storage,
        ]);
      }
      await c.query(`UPDATE ${S}.generations SET state = 'live', live_since = now() WHERE collection = $1 AND generation = $2`, [collection, generation]);
      await c.query(
        `UPDATE ${S}.collections SET sink = $2, model = $3, dimensions = $4, replan_all = false, updated_at = now() WHERE name = $1`,
        [collection, g.sink, g.model, g.dimensions],
      );
    });
  }

  /** The live generation's number and storage (undefined for a collection made before generations and not run since). */
  async live(collection: string): Promise<GenerationRecord | undefined> {
    const r = await this.pool.query<GenerationRecord>(`SELECT ${COLUMNS} FROM ${S}.generations WHERE collection = $1 AND state = 'live'`, [collection]);
    return r.rows[0];
  }

  /** Forgets a generation whose storage was dropped. */
  async forget(collection: string, generation: number): Promise<void> {
    await this.pool.query(`DELETE FROM ${S}.generations WHERE collection = $1 AND generation = $2 AND state <> 'live'`, [collection, generation]);
  }
}
