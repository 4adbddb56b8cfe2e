import type { Pool } from 'pg';
import { STATE_SCHEMA as S } from './schema';

export interface KnownDocument {
  hash: string | null;
  fingerprint: string | null;
}

/**
 * The lookup behind `known`: one primary-key probe per id. Written as `document_id = ANY(ids)`,
 * with statistics taken before the collection grew (it looks tiny to the planner), Postgres
 * scanned the collection's whole key range and filtered the ids row by row, so each page read
 * every document of the collection and a re-index grew with the square of its size (10,000
 * documents: 50 pages x 10,000 rows). OFFSET 0 keeps the probe from being flattened into a join
 * the planner could choose to run that way again.
 */
export function knownQuery(collection: string, ids: string[]): { sql: string; params: unknown[] } {
  return {
    sql: `SELECT d.document_id, d.content_hash, d.fingerprint FROM unnest($2::text[]) AS x(id)
          JOIN LATERAL (SELECT document_id, content_hash, fingerprint FROM ${S}.documents
                        WHERE collection = $1 AND document_id = x.id OFFSET 0) d ON true`,
    params: [collection, ids],
  };
}

/**
 * What each collection's documents looked like when they last landed (content hash, chunk
 * count), which run last saw them, and their last error. Pending hashes are written and
 * committed page by page by the staging table (src/state/staging.ts).
 */
export class DocumentsTable {
  constructor(private readonly pool: Pool) {}

  /**
   * What is recorded of each known document among `ids`: the content hash and the source
   * fingerprint of what landed (null: never landed, or no fingerprint).
   */
  async known(collection: string, ids: string[]): Promise<Map<string, KnownDocument>> {
    if (ids.length === 0) return new Map();
    const q = knownQuery(collection, ids);
    const r = await this.pool.query<{ document_id: string; content_hash: string | null; fingerprint: string | null }>(q.sql, q.params);
    return new Map(r.rows.map((row) => [row.document_id, { hash: row.content_hash, fingerprint: row.fingerprint }]));
  }

  /** Forget everything about a collection's documents (a --full rebuild into a new model). */
  async reset(collection: string): Promise<void> {
    await this.pool.query(`DELETE FROM ${S}.documents WHERE collection = $1`, [collection]);
  }

  /** Documents this run did not see: they vanished from the source. */
  async unseen(collection: string, runKey: string, limit: number): Promise<Array<{ documentId: string; hadError: boolean }>> {
    const r = await this.pool.query<{ document_id: string; had_error: boolean }>(
      `SELECT document_id, error_type IS NOT NULL AS had_error FROM ${S}.documents
       WHERE collection = $1 AND last_seen_run IS DISTINCT FROM $2
       ORDER BY document_id LIMIT $3`,
      [collection, runKey, limit],
    );
    return r.rows.map((row) => ({ documentId: row.document_id, hadError: row.had_error }));
  }

  async delete(collection: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.pool.query(`DELETE FROM ${S}.documents WHERE collection = $1 AND document_id = ANY($2::text[])`, [
      collection,
      ids,
    ]);
  }

  async count(collection: string): Promise<number> {
    const r = await this.pool.query(`SELECT count(*)::int AS n FROM ${S}.documents WHERE collection = $1`, [collection]);
    return r.rows[0].n;
  }
}
