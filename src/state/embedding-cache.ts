import type { Pool } from 'pg';
import { STATE_SCHEMA as S } from './schema';
import { STAGED_CHUNK_COLUMNS, stagedChunkOf, type BatchKey, type StagedChunk, type StagedChunkRow } from './staging';
import { parseVectorLiteral } from '../sinks/vector-literal';
import { encodeVectorArray, vectorTypeOid } from '../pg/binary-copy';
import type { PointsQuery } from '../sinks/types';

/**
 * Vectors by (model, dimensions, text hash): embed writes them here and upsert reads them, so
 * vectors never travel through Temporal, and unchanged text is never embedded twice.
 * pointsQuery and landingQuery join a batch's staged chunks to this cache; they live here so
 * the join condition is written in one file.
 *
 * Both look each staged chunk's vector up by the whole key, one index probe per chunk, through a
 * subquery the planner may not flatten (OFFSET 0). As a plain join, on a cache without
 * statistics yet (a first run), the planner scanned the index on (model, dimensions) alone and
 * filtered text_hash: every batch read every cached vector of its model, so a run's cost grew
 * with the square of its size (64 ms against 0.15 ms per 64-chunk batch at 8,000 cached rows;
 * the tax profile in BENCHMARKS.md found it).
 */
const CACHED_VECTOR = (hashColumn: string) =>
  `SELECT c.embedding FROM ${S}.embedding_cache c
    WHERE c.model = $5 AND c.dimensions = $6 AND c.text_hash = ${hashColumn} OFFSET 0`;

/** A staged chunk as a sink row (PointsQuery's columns), its vector from the lateral join `e`. */
const POINT_COLUMNS = `SELECT s.point_id, s.document_id, s.chunk_index, s.content, s.text_hash,
              COALESCE(s.metadata, '{}'::jsonb)
                || jsonb_build_object('document_id', s.document_id, 'chunk_index', s.chunk_index, 'tokens', s.tokens),
              e.embedding`;

export class EmbeddingCache {
  constructor(private readonly pool: Pool) {}

  async cachedHashes(model: string, dimensions: number, hashes: string[]): Promise<Set<string>> {
    if (hashes.length === 0) return new Set();
    // One probe per hash, as in CACHED_VECTOR: `text_hash = ANY($3)` on a cache without
    // statistics was planned as a scan of the model's whole key range, filtered.
    const r = await this.pool.query<{ text_hash: string }>(
      `SELECT h.text_hash FROM unnest($3::text[]) AS h(text_hash)
       WHERE EXISTS (SELECT 1 FROM ${S}.embedding_cache c
                     WHERE c.model = $1 AND c.dimensions = $2 AND c.text_hash = h.text_hash OFFSET 0)`,
      [model, dimensions, hashes],
    );
    return new Set(r.rows.map((row) => row.text_hash));
  }

  /**
   * What embedBatch needs to start, in one round trip: the batch's chunks still waiting to land
   * (as StagingTable.batchChunks), which of their text hashes are cached already, and how many
   * of the batch's chunks an earlier attempt marked failed.
   */
  async batchToEmbed(k: BatchKey, model: string, dimensions: number): Promise<{ chunks: StagedChunk[]; cached: Set<string>; failedBefore: number }> {
    const r = await this.pool.query<StagedChunkRow & { status: number; cached: boolean }>(
      `SELECT ${STAGED_CHUNK_COLUMNS.split(', ').map((c) => `s.${c}`).join(', ')}, s.status,
              s.status = 0 AND EXISTS (${CACHED_VECTOR('s.text_hash')}) AS cached
       FROM ${S}.staged_chunks s
       WHERE s.collection = $1 AND s.run_key = $2 AND s.page_no = $3 AND s.batch_no = $4 AND s.status IN (0, 2)
       ORDER BY s.document_id, s.chunk_index`,
      [k.collection, k.runKey, k.pageNo, k.batchNo, model, dimensions],
    );
    const pending = r.rows.filter((row) => row.status === 0);
    return {
      chunks: pending.map(stagedChunkOf),
      cached: new Set(pending.filter((row) => row.cached).map((row) => row.text_hash)),
      failedBefore: r.rows.length - pending.length,
    };
  }

  /** Vectors travel as one binary `vector[]` parameter (float4s), not as text the server parses. */
  async putEmbeddings(model: string, dimensions: number, hashes: string[], vectors: number[][]): Promise<void> {
    if (hashes.length === 0) return;
    const vectorArray = encodeVectorArray(await vectorTypeOid(this.pool), vectors);
    await this.pool.query(
      `INSERT INTO ${S}.embedding_cache (model, dimensions, text_hash, embedding)
       SELECT $1, $2, h, v FROM unnest($3::text[], $4::vector[]) AS x(h, v)
       ON CONFLICT DO NOTHING`,
      [model, dimensions, hashes, vectorArray],
    );
  }

  async getEmbeddings(model: string, dimensions: number, hashes: string[]): Promise<Map<string, number[]>> {
    if (hashes.length === 0) return new Map();
    const r = await this.pool.query<{ text_hash: string; embedding: string }>(
      `SELECT h.text_hash, e.embedding::text AS embedding FROM unnest($3::text[]) AS h(text_hash)
       JOIN LATERAL (SELECT c.embedding FROM ${S}.embedding_cache c
                     WHERE c.model = $1 AND c.dimensions = $2 AND c.text_hash = h.text_hash OFFSET 0) e ON true`,
      [model, dimensions, hashes],
    );
    return new Map(r.rows.map((row) => [row.text_hash, parseVectorLiteral(row.embedding)]));
  }

  /**
   * The batch's pending chunks that have a vector in the cache, as sink rows (see PointsQuery):
   * for a pgvector sink in this database, which writes them with one INSERT … SELECT.
   */
  pointsQuery(k: BatchKey, model: string, dimensions: number): PointsQuery {
    return {
      sql: `${POINT_COLUMNS}
            FROM ${S}.staged_chunks s
            JOIN LATERAL (${CACHED_VECTOR('s.text_hash')}) e ON true
            WHERE s.collection = $1 AND s.run_key = $2 AND s.page_no = $3 AND s.batch_no = $4 AND s.status = 0`,
      params: [k.collection, k.runKey, k.pageNo, k.batchNo, model, dimensions],
    };
  }

  /**
   * pointsQuery as the batch's whole write, one statement: its rows only while `fence` holds (a
   * condition over the parameters $1 collection and $2 run key, see leases.ts leaseHeld), the
   * written chunks' staged rows deleted in the same statement (`landed`: a landed chunk is no
   * longer staged, see StagingTable), the batch's chunks that were pending counted (`pending`;
   * those without a vector stay pending: skipped), and those an earlier attempt landed
   * (`landed_before`): a retry whose first attempt wrote but never reported still reports the
   * batch's chunks in the sink, so the run's counters stay exact across a crash. Their rows are
   * gone, so each landing adds its count to the batch's row in landed_batches (`tally`, nothing
   * when it landed nothing); this statement's snapshot does not see its own tally, so the two
   * never overlap.
   */
  landingQuery(k: BatchKey, model: string, dimensions: number, fence: string): PointsQuery {
    const q = this.pointsQuery(k, model, dimensions);
    return {
      sql: `${q.sql} AND ${fence}`,
      params: q.params,
      with: {
        landed: `DELETE FROM ${S}.staged_chunks s USING src
                 WHERE s.collection = $1 AND s.run_key = $2 AND s.page_no = $3 AND s.batch_no = $4
                   AND s.document_id = src.document_id AND s.chunk_index = src.chunk_index
                 RETURNING 1`,
        pending: `SELECT 1 FROM ${S}.staged_chunks
                  WHERE collection = $1 AND run_key = $2 AND page_no = $3 AND batch_no = $4 AND status = 0`,
        // One row per count (upsertFromSelect counts rows); status 1: landed by a worker before v7.
        landed_before: `SELECT 1 FROM ${S}.landed_batches b CROSS JOIN generate_series(1, b.landed)
                        WHERE b.collection = $1 AND b.run_key = $2 AND b.page_no = $3 AND b.batch_no = $4
                        UNION ALL
                        SELECT 1 FROM ${S}.staged_chunks
                        WHERE collection = $1 AND run_key = $2 AND page_no = $3 AND batch_no = $4 AND status = 1`,
        tally: `INSERT INTO ${S}.landed_batches AS b (collection, run_key, page_no, batch_no, landed)
                SELECT $1, $2, $3, $4, n FROM (SELECT count(*)::int AS n FROM landed) x WHERE n > 0
                ON CONFLICT (collection, run_key, page_no, batch_no) DO UPDATE SET landed = b.landed + EXCLUDED.landed
                RETURNING 1`,
      },
    };
  }

  /**
   * landingQuery for the fused batch activity, which holds the vectors it just embedded: the
   * same one statement, fenced the same way, also writes those vectors to the embedding cache
   * (`cached`, committed with the write; it does not depend on the fence, so a write the fence
   * holds back still caches what was answered) and takes each chunk's vector from them before
   * the cache (a statement does not see its own inserts). `vectors` is one binary `vector[]`
   * parameter (encodeVectorArray), null with no hashes. `landed_before` and `tally` as landingQuery's.
   */
  async freshLandingQuery(k: BatchKey, model: string, dimensions: number, fence: string, fresh: ReadonlyMap<string, readonly number[]>): Promise<PointsQuery> {
    const landing = this.landingQuery(k, model, dimensions, fence);
    const hashes = [...fresh.keys()];
    const vectors = hashes.length === 0 ? null : encodeVectorArray(await vectorTypeOid(this.pool), [...fresh.values()]);
    const freshVector = `(SELECT x.v FROM unnest($7::text[], $8::vector[]) AS x(h, v) WHERE x.h = s.text_hash LIMIT 1)`;
    return {
      sql: `${POINT_COLUMNS}
            FROM ${S}.staged_chunks s
            JOIN LATERAL (SELECT COALESCE(${freshVector}, (${CACHED_VECTOR('s.text_hash')})) AS embedding) e ON e.embedding IS NOT NULL
            WHERE s.collection = $1 AND s.run_key = $2 AND s.page_no = $3 AND s.batch_no = $4 AND s.status = 0 AND ${fence}`,
      params: [...landing.params, hashes, vectors],
      with: {
        cached: `INSERT INTO ${S}.embedding_cache (model, dimensions, text_hash, embedding)
                 SELECT $5, $6, h, v FROM unnest($7::text[], $8::vector[]) AS x(h, v)
                 ON CONFLICT DO NOTHING RETURNING 1`,
        ...landing.with,
      },
    };
  }
}
