import type { Pool, PoolClient } from 'pg';
import { ConfigError } from '../errors';
import { quoteIdent, validateStorageName } from '../naming';
import { inTransaction } from '../pg/connection';
import { copySupported, copyUpsert } from '../pg/copy-upsert';
import { encodeVectorArray, vectorTypeOid } from '../pg/binary-copy';
import { whereSql } from './pg-where';
import type { ChunkHit, ChunkTrim, KeywordQuery, Point, PointsQuery, StorageOptions, VectorQuery, VectorStore, VectorType } from './types';
import { toVectorLiteral } from './vector-literal';

const POINT_COLUMNS = ['id', 'document_id', 'chunk_index', 'content', 'content_hash', 'metadata', 'embedding'];

/** Rows whose content and vector are unchanged are left alone, so a re-run rewrites nothing. */
const UPSERT_CONFLICT = `ON CONFLICT (id) DO UPDATE SET document_id = EXCLUDED.document_id, chunk_index = EXCLUDED.chunk_index,
         content = EXCLUDED.content, content_hash = EXCLUDED.content_hash, metadata = EXCLUDED.metadata,
         embedding = EXCLUDED.embedding, updated_at = now()
       WHERE t.content_hash IS DISTINCT FROM EXCLUDED.content_hash
          OR t.metadata IS DISTINCT FROM EXCLUDED.metadata
          OR t.embedding IS DISTINCT FROM EXCLUDED.embedding`;

/**
 * The full-text expression of hybrid search. The `simple` configuration lowercases and splits
 * words without stemming or stop words, so identifiers and codes stay whole. The GIN index
 * (built by finalize(), like the HNSW index) is on exactly this expression; a query must repeat
 * it verbatim for Postgres to use the index.
 */
const FTS = `to_tsvector('simple'::regconfig, content)`;

/** From this many chunks on, a word in more than half of them is a stop word to keyword search. */
export const MIN_CHUNKS_FOR_COMMON = 4;

export interface PgVectorOptions {
  /**
   * The most maintenance_work_mem (kB) the index builds in finalize() get. pgvector builds the
   * HNSW graph in memory while it fits and switches to a far slower on-disk build when it does
   * not; the server default (64MB) holds the graph of only ~100k small vectors. A build gets what
   * its table's graph needs (hnswBuildKb), up to this. Undefined: the server's setting.
   */
  indexBuildMemoryKb?: number;
}

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
    private readonly options: PgVectorOptions = {},
  ) {
    if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new ConfigError(`invalid Postgres schema name ${JSON.stringify(schema)}`);
  }

  readonly keepsReplacedStorage = true;

  private table(name: string): string {
    return `${quoteIdent(this.schema)}.${quoteIdent(validateStorageName(name))}`;
  }

  firstStorage(collection: string): string {
    return collection;
  }

  async ensureCollection(name: string, dimensions: number, options: StorageOptions = {}): Promise<void> {
    const t = this.table(name);
    const type = options.vectorType ?? 'vector';
    const existing = await this.columnOf(this.pool, name);
    if (existing !== undefined && (existing.dimensions !== dimensions || existing.type !== type)) {
      throw new ConfigError(
        `table ${this.schema}.${name} stores ${existing.type}s of ${existing.dimensions} dimensions, but this run writes ${type}s of ${dimensions}; ` +
          `use another collection name or rebuild it into a new generation with --full`,
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
         embedding    ${type}(${dimensions}) NOT NULL,
         updated_at   timestamptz NOT NULL DEFAULT now()
       )`,
    );
    await this.pool.query(`CREATE INDEX IF NOT EXISTS ${quoteIdent(`${name}_document_id`)} ON ${t} (document_id, chunk_index)`);
  }

  /** Vector size of an existing table's (or view's) embedding column, or undefined if there is none. */
  async dimensionsOf(name: string): Promise<number | undefined> {
    return (await this.columnOf(this.pool, name))?.dimensions;
  }

  /** Type and size of the embedding column of a table or view, or undefined if there is none. */
  private async columnOf(c: { query: Pool['query'] }, name: string): Promise<{ type: VectorType; dimensions: number } | undefined> {
    const r = await c.query<{ typmod: number; type: string }>(
      `SELECT a.atttypmod AS typmod, a.atttypid::regtype::text AS type FROM pg_attribute a
       JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relname = $2 AND a.attname = 'embedding' AND NOT a.attisdropped`,
      [this.schema, name],
    );
    const row = r.rows[0];
    if (!row) return undefined;
    return { type: row.type.endsWith('halfvec') ? 'halfvec' : 'vector', dimensions: row.typmod };
  }

  /**
   * The swap: in one transaction, the collection's name becomes a view over `storage`. A table
   * that held the name (the first generation) is renamed to `retireAs`, with its indexes; a view
   * is replaced. Readers wait for the commit at most, then see the new generation whole.
   */
  async makeLive(collection: string, storage: string, retireAs: string, record?: (tx?: PoolClient) => Promise<void>): Promise<void> {
    if (storage === collection) return record?.();
    const name = this.table(collection);
    await inTransaction(this.pool, async (c) => {
      // The swap's ACCESS EXCLUSIVE lock waits for searches running on the old table, and every
      // search queues behind it while it waits: give up after a few seconds (the activity is
      // retried) rather than stall search behind one long query.
      await c.query(`SET LOCAL lock_timeout = '5s'`);
      const r = await c.query<{ relkind: string }>(
        `SELECT c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
        [this.schema, collection],
      );
      const kind = r.rows[0]?.relkind;
      if (kind === 'r') await c.query(`ALTER TABLE ${name} RENAME TO ${quoteIdent(validateStorageName(retireAs))}`);
      else if (kind === 'v') await c.query(`DROP VIEW ${name}`);
      else if (kind !== undefined) throw new ConfigError(`${this.schema}.${collection} is neither a table nor a view (relkind ${kind}); not replacing it`);
      await c.query(`CREATE VIEW ${name} AS SELECT * FROM ${this.table(storage)}`);
      await record?.(c);
    });
  }

  /**
   * Points go in by binary COPY, straight into the table while none is present, else into a
   * session temp table and one INSERT … SELECT … ON CONFLICT, one round trip each
   * (src/pg/copy-upsert.ts): vectors travel as float4s, not text.
   * PGlite (no COPY over its socket) gets the same upsert from unnest(), vectors as one binary
   * vector[] parameter.
   */
  async upsert(name: string, given: Point[]): Promise<number> {
    // One row per id, the last one given (ON CONFLICT cannot touch a row twice in a statement).
    const points = [...new Map(given.map((p) => [p.id.toLowerCase(), p])).values()];
    if (points.length === 0) return 0;
    const type = (await this.columnOf(this.pool, name))?.type ?? 'vector';
    if (await copySupported(this.pool)) {
      return copyUpsert(this.pool, {
        table: this.table(name),
        columns: POINT_COLUMNS,
        types: ['uuid', 'text', 'int4', 'text', 'text', 'jsonb', type],
        rows: points.map((p) => [p.id, p.documentId, p.chunkIndex, p.content, p.contentHash, JSON.stringify(p.metadata), p.vector]),
        keys: points.map((p) => p.id.toLowerCase()),
        // One session temp table per column type: it is created once per connection (IF NOT EXISTS).
        temp: type === 'vector' ? 'vi_stage_points' : `vi_stage_points_${type}`,
        columnDefs: `id uuid, document_id text, chunk_index int, content text, content_hash text, metadata jsonb, embedding ${type}`,
        merge: (temp) => `${this.insertInto(name)} SELECT * FROM ${temp} ${UPSERT_CONFLICT}`,
      });
    }
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
        encodeVectorArray(await vectorTypeOid(this.pool), points.map((p) => p.vector)),
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
  async upsertFromSelect(name: string, points: PointsQuery): Promise<{ offered: number; written: number; counts: Record<string, number> }> {
    const extra = Object.entries(points.with ?? {});
    for (const [n] of extra) if (!/^[a-z_][a-z0-9_]*$/.test(n) || n === 'src' || n === 'ins') throw new Error(`PointsQuery.with: ${n} is not a plain name of its own`);
    const r = await this.pool.query<{ offered: number; written: number; counts: Record<string, number> }>(
      `WITH src AS (${points.sql}),
       ins AS (${this.insertInto(name)} SELECT * FROM src ${UPSERT_CONFLICT} RETURNING 1)
       ${extra.map(([n, sql]) => `, ${n} AS (${sql})`).join('\n')}
       SELECT (SELECT count(*) FROM src)::int AS offered, (SELECT count(*) FROM ins)::int AS written,
         jsonb_build_object(${extra.map(([n]) => `'${n}', (SELECT count(*) FROM ${n})`).join(', ')}) AS counts`,
      points.params,
    );
    return r.rows[0]!;
  }

  private insertInto(name: string): string {
    return `INSERT INTO ${this.table(name)} AS t (${POINT_COLUMNS.join(', ')})`;
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

  /**
   * Builds the ANN and full-text indexes after a bulk load (both IF NOT EXISTS, so tables made
   * before the full-text index existed get it at their next run's finish). Maintaining them row
   * by row during the first load would be several times slower. The builds run in one
   * transaction with maintenance_work_mem raised for it alone (indexBuildMemoryKb), so the HNSW
   * graph stays in memory. A parallel build takes that much dynamic shared memory (/dev/shm); where
   * it cannot (a container's 64MB /dev/shm), the build is repeated without parallel workers, in
   * the backend's own memory, rather than failing the run's finish forever.
   */
  async finalize(name: string): Promise<void> {
    try {
      await this.buildIndexes(name, false);
    } catch (err) {
      if (!isSharedMemoryShortage(err)) throw err;
      await this.buildIndexes(name, true);
    }
  }

  private async buildIndexes(name: string, serial: boolean): Promise<void> {
    const column = await this.columnOf(this.pool, name);
    const type = column?.type ?? 'vector';
    const kb = await this.buildMemoryKb(name, column?.dimensions);
    await inTransaction(this.pool, async (c) => {
      if (kb !== undefined) await c.query(`SET LOCAL maintenance_work_mem = '${checkedKb(kb)}kB'`);
      if (serial) await c.query(`SET LOCAL max_parallel_maintenance_workers = 0`);
      await c.query(
        `CREATE INDEX IF NOT EXISTS ${quoteIdent(`${name}_embedding_hnsw`)} ON ${this.table(name)}
         USING hnsw (embedding ${type}_cosine_ops)`,
      );
      await c.query(`CREATE INDEX IF NOT EXISTS ${quoteIdent(`${name}_content_fts`)} ON ${this.table(name)} USING gin (${FTS})`);
    });
  }

  /**
   * maintenance_work_mem for the builds: indexBuildMemoryKb, lowered to what the table's HNSW
   * graph needs (hnswBuildKb) when the index is still to be built. A parallel build allocates all
   * of it as shared memory up front: 1GB for a table of 7,800 64-d vectors made the builds 0.4-2 s
   * slower than at 64MB (2 cores, the tax profile); a graph that outgrows an estimate
   * is still built, on disk, only slower. The count runs only when the index does not exist yet.
   */
  private async buildMemoryKb(name: string, dimensions: number | undefined): Promise<number | undefined> {
    const most = this.options.indexBuildMemoryKb;
    if (most === undefined || dimensions === undefined || dimensions <= 0) return most;
    const r = await this.pool.query<{ rows: string | null }>(
      `SELECT CASE WHEN to_regclass($1) IS NULL THEN (SELECT count(*) FROM ${this.table(name)}) END AS rows`,
      [`${quoteIdent(this.schema)}.${quoteIdent(`${name}_embedding_hnsw`)}`],
    );
    const rows = r.rows[0]?.rows;
    if (rows === null || rows === undefined) return most;
    return Math.min(most, hnswBuildKb(Number(rows), dimensions));
  }

  /**
   * Cosine search over the HNSW index (`<=>` is cosine distance; score = 1 - distance). With a
   * filter, pgvector 0.8's iterative scan keeps walking the index until `limit` rows pass it,
   * instead of filtering a fixed ef_search candidate list down to fewer rows.
   */
  async search(name: string, q: VectorQuery): Promise<ChunkHit[]> {
    const t = this.table(name);
    const where = whereSql(q.where, 3);
    return inTransaction(this.pool, async (c) => {
      if (q.efSearch !== undefined) await c.query(`SET LOCAL hnsw.ef_search = ${checkedEf(q.efSearch)}`);
      if (q.where?.length && (await this.iterativeScan(c))) await c.query(`SET LOCAL hnsw.iterative_scan = strict_order`);
      // The query vector takes the column's type (halfvec <=> halfvec), so the HNSW index serves it.
      const type = (await this.columnOf(c, name))?.type ?? 'vector';
      const r = await c.query<HitRow>(
        `SELECT id, document_id, chunk_index, content, metadata, 1 - (embedding <=> $1::${type}) AS score
         FROM ${t} WHERE ${where.sql} ORDER BY embedding <=> $1::${type} LIMIT $2`,
        [toVectorLiteral(q.vector), q.limit, ...where.params],
      );
      return r.rows.map(toHit);
    });
  }

  private iterative?: boolean;
  /** pgvector 0.8 and later have hnsw.iterative_scan; older ones refuse the setting. */
  private async iterativeScan(c: { query: Pool['query'] }): Promise<boolean> {
    if (this.iterative === undefined) {
      const r = await c.query<{ v: string | null }>(`SELECT extversion AS v FROM pg_extension WHERE extname = 'vector'`);
      const [major, minor] = (r.rows[0]?.v ?? '0.0').split('.').map(Number);
      this.iterative = major! > 0 || minor! >= 8;
    }
    return this.iterative;
  }

  /**
   * Full-text ranking for hybrid search. A chunk qualifies when it has any of the query's words
   * (a question full of names need not contain every word of a chunk), except words found in
   * more than half of the chunks (stop words, in any language: they are no keywords, and would
   * put nearly every chunk on both sides of the fusion); chunks are ranked by the
   * summed inverse document frequency of the query words they contain (BM25's idf, over the
   * collection), so a rare identifier outweighs common words, then by ts_rank_cd. Each chunk's
   * tsvector is computed once; the GIN index finds the candidates and the per-word counts.
   */
  async keywordSearch(name: string, q: KeywordQuery): Promise<ChunkHit[]> {
    const t = this.table(name);
    const where = whereSql(q.where, 3, 'c');
    const r = await this.pool.query<HitRow>(
      `WITH terms AS (
         SELECT DISTINCT plainto_tsquery('simple'::regconfig, lexeme) AS tq
         FROM unnest(tsvector_to_array(to_tsvector('simple'::regconfig, $1))) AS lexeme),
       total AS (SELECT count(*)::float8 AS n FROM ${t}),
       idf AS (
         SELECT terms.tq, ln(1 + (total.n - d.df + 0.5) / (d.df + 0.5)) AS w
         FROM terms CROSS JOIN total CROSS JOIN LATERAL (SELECT count(*)::float8 AS df FROM ${t} WHERE ${FTS} @@ terms.tq) d
         WHERE d.df > 0 AND (total.n < ${MIN_CHUNKS_FOR_COMMON} OR d.df <= total.n / 2)),
       anyq AS (SELECT string_agg('(' || tq::text || ')', ' | ')::tsquery AS aq FROM idf)
       SELECT c.id, c.document_id, c.chunk_index, c.content, c.metadata, s.score
       FROM ${t} c CROSS JOIN anyq
         CROSS JOIN LATERAL (SELECT to_tsvector('simple'::regconfig, c.content) AS v) tv
         CROSS JOIN LATERAL (SELECT sum(idf.w) AS score FROM idf WHERE tv.v @@ idf.tq) s
       WHERE anyq.aq IS NOT NULL AND to_tsvector('simple'::regconfig, c.content) @@ anyq.aq AND ${where.sql}
       ORDER BY s.score DESC, ts_rank_cd(tv.v, anyq.aq) DESC, c.document_id, c.chunk_index LIMIT $2`,
      [q.text, q.limit, ...where.params],
    );
    return r.rows.map(toHit);
  }

  async count(name: string): Promise<number> {
    if ((await this.dimensionsOf(name)) === undefined) return 0;
    const r = await this.pool.query(`SELECT count(*)::int AS n FROM ${this.table(name)}`);
    return r.rows[0].n;
  }

  /** Drops a generation's table; Postgres refuses while the collection's view reads it (the live one). */
  async drop(name: string): Promise<void> {
    await this.pool.query(`DROP TABLE IF EXISTS ${this.table(name)}`);
  }

  async close(): Promise<void> {
    // The pool belongs to the worker's dependencies and is closed there, after draining.
  }
}

interface HitRow {
  id: string;
  document_id: string;
  chunk_index: number;
  content: string;
  metadata: Record<string, unknown>;
  score: number;
}

function toHit(r: HitRow): ChunkHit {
  return { id: r.id, documentId: r.document_id, chunkIndex: r.chunk_index, content: r.content, metadata: r.metadata, score: Number(r.score) };
}

function checkedEf(ef: number): number {
  if (!Number.isInteger(ef) || ef < 1 || ef > 1000) throw new ConfigError(`ef_search must be an integer from 1 to 1000, got ${ef}`);
  return ef;
}

/** The setting goes into SQL text (SET takes no parameters): a whole number of kB, nothing else. */
/**
 * Memory (kB) to build the HNSW graph of `rows` vectors of `dimensions` in memory (pgvector's
 * defaults, m = 16): per element its vector as float4s and ~1 KB of header and neighbour lists
 * (measured: 4 × dimensions + ~800 bytes, README's VECTOR_INGEST_INDEX_BUILD_MEMORY), doubled for
 * slack; never below 64MB, the server default and what a small table's build was fastest at.
 */
export function hnswBuildKb(rows: number, dimensions: number): number {
  const bytes = rows * (4 * dimensions + 1024) * 2;
  return Math.max(64 * 1024, Math.ceil(bytes / 1024));
}

function checkedKb(kb: number): number {
  if (!Number.isInteger(kb) || kb < 1024 || kb > 2147483647) throw new ConfigError(`index build memory must be 1024-2147483647 kB, got ${kb}`);
  return kb;
}

/** A parallel index build that could not get its dynamic shared memory (ENOSPC/ENOMEM on /dev/shm). */
function isSharedMemoryShortage(err: unknown): boolean {
  return err instanceof Error && /could not (resize|create|allocate)\b.*shared memory segment/.test(err.message);
}
