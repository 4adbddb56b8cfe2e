import type { Pool } from 'pg';
import { inTransaction } from './db';
import { STATE_SCHEMA as S } from './schema';

export interface BatchKey {
  collection: string;
  runKey: string;
  pageNo: number;
  batchNo: number;
}

export interface StagedChunk {
  documentId: string;
  chunkIndex: number;
  pointId: string;
  /** sha256 of what is embedded: embeddingText(embedPrefix, content) (src/text/sections.ts). */
  textHash: string;
  /** The document's own text: what the sink stores. */
  content: string;
  /** Embedded ahead of the content (the heading path); empty or absent for none. */
  embedPrefix?: string | null;
  /** Chunk metadata for the sink (src/text/document.ts ChunkMetadata). */
  metadata?: Record<string, unknown> | null;
  tokens: number;
  batchNo: number;
}

export interface DocumentPlan {
  documentId: string;
  hash: string;
  chunkCount: number;
  /** The source's fingerprint (with the chunking parameters); recorded with the hash at commit. */
  fingerprint?: string | null;
}

/** An unchanged document (same content hash) listed with a new fingerprint: recorded at once. */
export interface RefreshedFingerprint {
  documentId: string;
  hash: string;
  fingerprint: string;
}

export interface ChunkFailure {
  documentId: string;
  chunkIndex: number;
  type: string;
  message: string;
}

export interface CommittedDocument {
  documentId: string;
  chunkCount: number;
  /** It had failed before: the replay workflow should let it go. */
  hadError: boolean;
}

/** The columns a StagedChunk is read from (batchChunks, EmbeddingCache.batchToEmbed). */
export const STAGED_CHUNK_COLUMNS = 'document_id, chunk_index, point_id, text_hash, content, tokens, batch_no, embed_prefix, metadata';

/** A staged_chunks row as `pg` returns it (STAGED_CHUNK_COLUMNS). */
export interface StagedChunkRow {
  document_id: string;
  chunk_index: number;
  point_id: string;
  text_hash: string;
  content: string;
  tokens: number;
  batch_no: number;
  embed_prefix: string | null;
  metadata: Record<string, unknown> | null;
}

export function stagedChunkOf(row: StagedChunkRow): StagedChunk {
  return {
    documentId: row.document_id,
    chunkIndex: row.chunk_index,
    pointId: row.point_id,
    textHash: row.text_hash,
    content: row.content,
    tokens: row.tokens,
    batchNo: row.batch_no,
    embedPrefix: row.embed_prefix,
    metadata: row.metadata,
  };
}

/**
 * The chunks a run has planned but not yet committed, by page and batch: staged with their text
 * when a page is planned, deleted as they land in the sink (in the landing statement itself for
 * pgvector) or marked failed (status 2) batch by batch, and the rest dropped when the page
 * commits, which is also when its documents' pending hashes become current. A staged row is a
 * chunk not yet in the sink: a retried batch finds only what is left to write.
 *
 * Landing deletes the row rather than rewriting its ~1 KB (text, metadata) with status 1, as
 * before state version 7: one row version less per chunk, and the page's later reads skip what
 * landed. Rows with status 1 that a worker before v7 left in a run still in flight count as
 * landed wherever status is read (`status <> 1`, `status = 0`, `status IN (0, 2)`).
 */
export class StagingTable {
  constructor(private readonly pool: Pool) {}

  /**
   * Records one planned page in one transaction: every listed document is marked seen by this
   * run, changed documents get their pending hash, failed ones their error, and the chunks are
   * staged. Re-running it for the same page (an activity retry) replaces what it wrote.
   */
  async stagePage(args: {
    collection: string;
    runKey: string;
    pageNo: number;
    seen: string[];
    planned: DocumentPlan[];
    failed: Array<{ documentId: string; type: string; message: string }>;
    chunks: StagedChunk[];
    refreshed?: RefreshedFingerprint[];
  }): Promise<void> {
    const { collection, runKey, pageNo } = args;
    const page = `${runKey}:${pageNo}`;
    await inTransaction(this.pool, async (c) => {
      for (const table of ['staged_chunks', 'landed_batches']) {
        await c.query(`DELETE FROM ${S}.${table} WHERE collection = $1 AND run_key = $2 AND page_no = $3`, [collection, runKey, pageNo]);
      }
      if (args.seen.length > 0) {
        await c.query(
          `INSERT INTO ${S}.documents (collection, document_id, last_seen_run)
           SELECT $1, id, $2 FROM unnest($3::text[]) AS id
           ON CONFLICT (collection, document_id) DO UPDATE SET last_seen_run = EXCLUDED.last_seen_run`,
          [collection, runKey, args.seen],
        );
      }
      if (args.planned.length > 0) {
        await c.query(
          `UPDATE ${S}.documents d SET pending_hash = p.hash, pending_chunk_count = p.n, pending_page = $2,
             pending_fingerprint = p.fp, updated_at = now()
           FROM unnest($3::text[], $4::text[], $5::int[], $6::text[]) AS p(id, hash, n, fp)
           WHERE d.collection = $1 AND d.document_id = p.id`,
          [
            collection,
            page,
            args.planned.map((p) => p.documentId),
            args.planned.map((p) => p.hash),
            args.planned.map((p) => p.chunkCount),
            args.planned.map((p) => p.fingerprint ?? null),
          ],
        );
      }
      const refreshed = args.refreshed ?? [];
      if (refreshed.length > 0) {
        // Only where the landed content is the one just hashed: the new fingerprint describes it.
        await c.query(
          `UPDATE ${S}.documents d SET fingerprint = r.fp
           FROM unnest($2::text[], $3::text[], $4::text[]) AS r(id, hash, fp)
           WHERE d.collection = $1 AND d.document_id = r.id AND d.content_hash = r.hash`,
          [collection, refreshed.map((r) => r.documentId), refreshed.map((r) => r.hash), refreshed.map((r) => r.fingerprint)],
        );
      }
      if (args.failed.length > 0) {
        await c.query(
          `UPDATE ${S}.documents d SET error_type = f.type, error_message = f.message, updated_at = now()
           FROM unnest($2::text[], $3::text[], $4::text[]) AS f(id, type, message)
           WHERE d.collection = $1 AND d.document_id = f.id`,
          [collection, args.failed.map((f) => f.documentId), args.failed.map((f) => f.type), args.failed.map((f) => f.message)],
        );
      }
      const CHUNK_ROWS = 2000;
      for (let i = 0; i < args.chunks.length; i += CHUNK_ROWS) {
        const part = args.chunks.slice(i, i + CHUNK_ROWS);
        await c.query(
          `INSERT INTO ${S}.staged_chunks
             (collection, run_key, page_no, batch_no, document_id, chunk_index, point_id, text_hash, content, tokens,
              embed_prefix, metadata)
           SELECT $1, $2, $3, * FROM unnest($4::int[], $5::text[], $6::int[], $7::uuid[], $8::text[], $9::text[], $10::int[],
             $11::text[], $12::jsonb[])`,
          [
            collection,
            runKey,
            pageNo,
            part.map((x) => x.batchNo),
            part.map((x) => x.documentId),
            part.map((x) => x.chunkIndex),
            part.map((x) => x.pointId),
            part.map((x) => x.textHash),
            part.map((x) => x.content),
            part.map((x) => x.tokens),
            part.map((x) => x.embedPrefix || null),
            part.map((x) => (x.metadata ? JSON.stringify(x.metadata) : null)),
          ],
        );
      }
    });
  }

  /** Chunks of a batch still waiting to land (status 0), in a stable order. */
  async batchChunks(k: BatchKey): Promise<StagedChunk[]> {
    const r = await this.pool.query<StagedChunkRow>(
      `SELECT ${STAGED_CHUNK_COLUMNS}
       FROM ${S}.staged_chunks
       WHERE collection = $1 AND run_key = $2 AND page_no = $3 AND batch_no = $4 AND status = 0
       ORDER BY document_id, chunk_index`,
      [k.collection, k.runKey, k.pageNo, k.batchNo],
    );
    return r.rows.map(stagedChunkOf);
  }

  /** The chunks landed in the sink: their staged rows go (see the class comment). */
  async markLanded(k: BatchKey, chunks: Array<{ documentId: string; chunkIndex: number }>): Promise<void> {
    if (chunks.length === 0) return;
    await this.pool.query(
      `DELETE FROM ${S}.staged_chunks s
       USING unnest($5::text[], $6::int[]) AS x(doc, idx)
       WHERE s.collection = $1 AND s.run_key = $2 AND s.page_no = $3 AND s.batch_no = $4
         AND s.document_id = x.doc AND s.chunk_index = x.idx`,
      [k.collection, k.runKey, k.pageNo, k.batchNo, chunks.map((c) => c.documentId), chunks.map((c) => c.chunkIndex)],
    );
  }

  /** Chunks of a batch marked failed, by this attempt of its embedding or an earlier one. */
  async failedCount(k: BatchKey): Promise<number> {
    const r = await this.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${S}.staged_chunks
       WHERE collection = $1 AND run_key = $2 AND page_no = $3 AND batch_no = $4 AND status = 2`,
      [k.collection, k.runKey, k.pageNo, k.batchNo],
    );
    return r.rows[0]?.n ?? 0;
  }

  async markFailed(k: BatchKey, failures: ChunkFailure[]): Promise<void> {
    if (failures.length === 0) return;
    await this.pool.query(
      `UPDATE ${S}.staged_chunks s SET status = 2, error_type = x.type, error_message = x.message
       FROM unnest($5::text[], $6::int[], $7::text[], $8::text[]) AS x(doc, idx, type, message)
       WHERE s.collection = $1 AND s.run_key = $2 AND s.page_no = $3 AND s.batch_no = $4
         AND s.document_id = x.doc AND s.chunk_index = x.idx`,
      [
        k.collection,
        k.runKey,
        k.pageNo,
        k.batchNo,
        failures.map((f) => f.documentId),
        failures.map((f) => f.chunkIndex),
        failures.map((f) => f.type),
        failures.map((f) => f.message),
      ],
    );
  }

  /**
   * Documents of a page whose every staged chunk landed (none is left but landed ones from before
   * v7): their pending hash becomes current.
   * Returns them with their new chunk counts so the caller can trim chunks beyond that count.
   * The page's unlanded chunks are read once (OFFSET 0 keeps the subquery whole): as a
   * correlated NOT EXISTS, the key (collection, run_key, page_no, batch_no, document_id, …) has
   * no prefix for a document, so each document rescanned the whole page (200 documents of 5
   * chunks: 202,000 buffer blocks, ~270 ms, per commit; quadratic in the page size).
   */
  async committablePage(collection: string, runKey: string, pageNo: number): Promise<CommittedDocument[]> {
    const r = await this.pool.query<{ document_id: string; pending_chunk_count: number; had_error: boolean }>(
      `SELECT d.document_id, d.pending_chunk_count, d.error_type IS NOT NULL AS had_error FROM ${S}.documents d
       LEFT JOIN (SELECT DISTINCT s.document_id FROM ${S}.staged_chunks s
                  WHERE s.collection = $1 AND s.run_key = $3 AND s.page_no = $4 AND s.status <> 1 OFFSET 0) unlanded
         ON unlanded.document_id = d.document_id
       WHERE d.collection = $1 AND d.pending_page = $2 AND unlanded.document_id IS NULL`,
      [collection, `${runKey}:${pageNo}`, runKey, pageNo],
    );
    return r.rows.map((row) => ({ documentId: row.document_id, chunkCount: row.pending_chunk_count, hadError: row.had_error }));
  }

  /** Failures of a page that stay on record after the page is committed. */
  async pageChunkFailures(collection: string, runKey: string, pageNo: number): Promise<ChunkFailure[]> {
    const r = await this.pool.query(
      `SELECT document_id, chunk_index, error_type, error_message FROM ${S}.staged_chunks
       WHERE collection = $1 AND run_key = $2 AND page_no = $3 AND status = 2
       ORDER BY document_id, chunk_index`,
      [collection, runKey, pageNo],
    );
    return r.rows.map((row) => ({
      documentId: row.document_id,
      chunkIndex: row.chunk_index,
      type: row.error_type,
      message: row.error_message,
    }));
  }

  async commitPage(collection: string, runKey: string, pageNo: number, committed: CommittedDocument[]): Promise<void> {
    await inTransaction(this.pool, async (c) => {
      if (committed.length > 0) {
        await c.query(
          `UPDATE ${S}.documents d SET content_hash = d.pending_hash, chunk_count = d.pending_chunk_count,
             fingerprint = d.pending_fingerprint,
             pending_hash = NULL, pending_chunk_count = NULL, pending_page = NULL, pending_fingerprint = NULL,
             error_type = NULL, error_message = NULL, updated_at = now()
           WHERE d.collection = $1 AND d.document_id = ANY($2::text[]) AND d.pending_page = $3`,
          [collection, committed.map((d) => d.documentId), `${runKey}:${pageNo}`],
        );
      }
      // Documents left pending had a failed chunk: keep their old hash so the next run retries them.
      await c.query(
        `UPDATE ${S}.documents d SET pending_page = NULL,
           error_type = COALESCE(f.error_type, d.error_type), error_message = COALESCE(f.error_message, d.error_message)
         FROM (SELECT DISTINCT ON (document_id) document_id, error_type, error_message FROM ${S}.staged_chunks
               WHERE collection = $1 AND run_key = $3 AND page_no = $4 AND status = 2
               ORDER BY document_id, chunk_index) f
         WHERE d.collection = $1 AND d.pending_page = $2 AND d.document_id = f.document_id`,
        [collection, `${runKey}:${pageNo}`, runKey, pageNo],
      );
      for (const table of ['staged_chunks', 'landed_batches']) {
        await c.query(`DELETE FROM ${S}.${table} WHERE collection = $1 AND run_key = $2 AND page_no = $3`, [collection, runKey, pageNo]);
      }
    });
  }

  /** Drops staging rows of other, abandoned runs of this collection (older than a day). */
  async dropAbandoned(collection: string, runKey: string): Promise<number> {
    const r = await this.pool.query(
      `DELETE FROM ${S}.staged_chunks WHERE collection = $1 AND run_key <> $2
         AND created_at < now() - interval '1 day'`,
      [collection, runKey],
    );
    await this.pool.query(
      `DELETE FROM ${S}.landed_batches WHERE collection = $1 AND run_key <> $2 AND created_at < now() - interval '1 day'`,
      [collection, runKey],
    );
    return r.rowCount ?? 0;
  }

  async dropRun(collection: string, runKey: string): Promise<void> {
    for (const table of ['staged_chunks', 'landed_batches']) {
      await this.pool.query(`DELETE FROM ${S}.${table} WHERE collection = $1 AND run_key = $2`, [collection, runKey]);
    }
  }

  /** Chunks planned but not yet written, all collections (the metrics backlog). */
  async backlog(): Promise<number> {
    const r = await this.pool.query(`SELECT count(*)::int AS n FROM ${S}.staged_chunks WHERE status = 0`);
    return r.rows[0].n;
  }
}
