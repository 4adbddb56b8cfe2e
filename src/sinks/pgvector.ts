import type { Pool } from 'pg';
import { ConfigError } from '../errors';
import { quoteIdent, validateCollectionName } from '../naming';
import type { ChunkTrim, Point, PointsQuery, VectorStore } from './types';
import { toVectorLiteral } from './vector-literal';

/** Rows whose content and vector are unchanged are left alone, so a re-run rewrites nothing. */
const UPSERT_CONFLICT = `ON CONFLICT (id) DO UPDATE SET document_id = EXCLUDED.document_id, chunk_index = EXCLUDED.chunk_index,
         content = EXCLUDED.content, content_hash = EXCLUDED.content_hash, metadata = EXCLUDED.metadata,
         embedding = EXCLUDED.embedding, updated_at = now()
       WHERE t.content_hash IS DISTINCT FROM EXCLUDED.content_hash
          OR t.metadata IS DISTINCT FROM EXCLUDED.metadata
          OR t.embedding IS DISTINCT FROM EXCLUDED.embedding`;

/**
 * Postgres + pgvector: one table per collection, named by the collection, in `schema`.
 * Rows: id uuid primary key, document_id, chunk_index, content, content_hash, metadata jsonb,
 * embedding vector(d). Upserts are INSERT ... ON CONFLICT DO UPDATE that skip rows whose content
 * and vector are unchanged, so a re-run rewrites nothing. The HNSW index is built by finalize(),
 * after the first bulk load, which is several times faster than maintaining it row by row.
 */
export class PgVectorStore implements VectorStore {
  readonly kind = 'pgvector' as const;

  constructor(
    private readonly pool: Pool,
    private readonly schema = 'public',
  ) {
    if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new ConfigError(`invalid Postgres schema name ${JSON.stringify(schema)}`);
  }

  private table(name: string): string {
    return `${quoteIdent(this.schema)}.${quoteIdent(validateCollectionName(name))}`;
  }

  async ensureCollection(name: string, dimensions: number): Promise<void> {
    const t = this.table(name);
    const existing = await this.dimensionsOf(name);
    if (existing !== undefined && existing !== dimensions) {
      throw new ConfigError(
        `table ${this.schema}.${name} stores vectors of ${existing} dimensions, but the embedder makes ${dimensions}; ` +
          `use another collection name or rebuild it with --full`,
      );
    }
    if (existing !== undefined) return;
    await this.pool.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(this.schema)}`);
    await this.pool.query(
      `CREATE TABLE IF NOT EXISTS ${t} (
         id           uuid PRIMARY KEY,
         document_id  text NOT NULL,
         chunk_index  int  NOT NULL,
         content      text NOT NULL,
         content_hash text NOT NULL,
         metadata     jsonb NOT NULL DEFAULT '{}'::jsonb,
         embedding    vector(${dimensions}) NOT NULL,
         updated_at   timestamptz NOT NULL DEFAULT now()
       )`,
    );
    await this.pool.query(`CREATE INDEX IF NOT EXISTS ${quoteIdent(`${name}_document_id`)} ON ${t} (document_id, chunk_index)`);
  }

  /** Vector size of an existing table's embedding column, or undefined if there is no table. */
  async dimensionsOf(name: string): Promise<number | undefined> {
    const r = await this.pool.query<{ typmod: number }>(
      `SELECT a.atttypmod AS typmod FROM pg_attribute a
       JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relname = $2 AND a.attname = 'embedding' AND NOT a.attisdropped`,
      [this.schema, name],
    );
    return r.rows[0]?.typmod;
  }

  async upsert(name: string, points: Point[]): Promise<number> {
    if (points.length === 0) return 0;
    const r = await this.pool.query(
      `${this.insertInto(name)}
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::text[], $6::jsonb[], $7::vector[])
       ${UPSERT_CONFLICT}`,
      [
        points.map((p) => p.id),
        points.map((p) => p.documentId),
        points.map((p) => p.chunkIndex),
        points.map((p) => p.content),
        points.map((p) => p.contentHash),
        points.map((p) => JSON.stringify(p.metadata)),
        points.map((p) => toVectorLiteral(p.vector)),
      ],
    );
    return r.rowCount ?? 0;
  }

  /**
   * The same upsert from a SELECT in this database (the state store's staging table joined
   * with the embedding cache): one statement, and no chunk text or vector travels to the worker
   * and back. `offered` counts the selected rows, `written` the rows that changed. The query
   * runs on this store's pool, so it must reach the state store's database: src/deps.ts builds
   * both on one pool.
   */
  async upsertFromSelect(name: string, points: PointsQuery): Promise<{ offered: number; written: number }> {
    const r = await this.pool.query<{ offered: number; written: number }>(
      `WITH src AS (${points.sql}),
       ins AS (${this.insertInto(name)} SELECT * FROM src ${UPSERT_CONFLICT} RETURNING 1)
       SELECT (SELECT count(*) FROM src)::int AS offered, (SELECT count(*) FROM ins)::int AS written`,
      points.params,
    );
    return r.rows[0]!;
  }

  private insertInto(name: string): string {
    return `INSERT INTO ${this.table(name)} AS t (id, document_id, chunk_index, content, content_hash, metadata, embedding)`;
  }

  async deleteDocuments(name: string, documentIds: string[]): Promise<void> {
    if (documentIds.length === 0) return;
    await this.pool.query(`DELETE FROM ${this.table(name)} WHERE document_id = ANY($1::text[])`, [documentIds]);
  }

  async trimDocuments(name: string, trims: ChunkTrim[]): Promise<void> {
    if (trims.length === 0) return;
    await this.pool.query(
      `DELETE FROM ${this.table(name)} t USING unnest($1::text[], $2::int[]) AS k(doc, keep)
       WHERE t.document_id = k.doc AND t.chunk_index >= k.keep`,
      [trims.map((x) => x.documentId), trims.map((x) => x.keep)],
    );
  }

  async finalize(name: string): Promise<void> {
    await this.pool.query(
      `CREATE INDEX IF NOT EXISTS ${quoteIdent(`${name}_embedding_hnsw`)} ON ${this.table(name)}
       USING hnsw (embedding vector_cosine_ops)`,
    );
  }

  async count(name: string): Promise<number> {
    if ((await this.dimensionsOf(name)) === undefined) return 0;
    const r = await this.pool.query(`SELECT count(*)::int AS n FROM ${this.table(name)}`);
    return r.rows[0].n;
  }

  async drop(name: string): Promise<void> {
    await this.pool.query(`DROP TABLE IF EXISTS ${this.table(name)}`);
  }

  async close(): Promise<void> {
    // The pool belongs to the worker's dependencies and is closed there, after draining.
  }
}
