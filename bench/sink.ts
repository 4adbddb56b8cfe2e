/**
 * Sink write path ÷ binary COPY of identical rows into an identically indexed table (pgvector),
 * and QdrantStore ÷ a bare client loop.
 *
 * The COPY baseline is written the way a careful user writes a bulk load: one COPY stream for
 * the whole load, one buffer per batch of 128 rows (one CopyData message each), into a table
 * with the same columns, primary key and (document_id, chunk_index) index as ours. It can only
 * insert (a second load of the same ids fails); ours upserts, skips unchanged rows and is
 * idempotent, which is the price the ratio measures.
 *
 * Ours is measured two ways on the same rows: one call at a time, and 4 calls at once (the
 * worker's default VECTOR_INGEST_UPSERT_CONCURRENCY: that many upsert activities write at once,
 * each batch its own transaction). The baseline's single stream has no per-batch round trip or
 * commit to wait for; concurrent calls are how the worker hides ours.
 */
import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { PgVectorStore } from '../src/sinks/pgvector';
import { createQdrantClient, QdrantStore } from '../src/sinks/qdrant';
import type { Point } from '../src/sinks/types';
import { startQdrantStandIn } from '../src/testing/qdrant-standin';
import { TEST_DATABASE_URL } from '../test/support/env';
import { alternating, median, report } from './lib';

const DIMS = 384;
const UPSERT_CONCURRENCY = 4;

function rows(n: number): Point[] {
  let x = 12345;
  const rnd = () => ((x = (x * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff) - 0.5;
  return Array.from({ length: n }, (_, i) => ({
    id: randomUUID(),
    documentId: `doc-${Math.floor(i / 4)}.md`,
    chunkIndex: i % 4,
    content: `chunk ${i} `.repeat(40),
    contentHash: `h${i}`,
    metadata: { tokens: 80 },
    vector: Array.from({ length: DIMS }, rnd),
  }));
}

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'binary');

/** One batch as PostgreSQL binary COPY tuples of (uuid, text, int4, text, text, jsonb, vector), in one buffer. */
function encodeBatch(points: Point[]): Buffer {
  const strs = points.map((p) => [Buffer.from(p.documentId), Buffer.from(p.content), Buffer.from(p.contentHash), Buffer.from(JSON.stringify(p.metadata))] as const);
  let size = 0;
  for (let i = 0; i < points.length; i++) {
    const [d, c, h, m] = strs[i]!;
    size += 2 + 7 * 4 + 16 + d.length + 4 + c.length + h.length + 1 + m.length + 4 + 4 * points[i]!.vector.length;
  }
  const b = Buffer.allocUnsafe(size);
  let o = 0;
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    const [d, c, h, m] = strs[i]!;
    o = b.writeInt16BE(7, o);
    o = b.writeInt32BE(16, o);
    o += b.write(p.id.replace(/-/g, ''), o, 'hex');
    for (const s of [d]) {
      o = b.writeInt32BE(s.length, o);
      o += s.copy(b, o);
    }
    o = b.writeInt32BE(4, o);
    o = b.writeInt32BE(p.chunkIndex, o);
    for (const s of [c, h]) {
      o = b.writeInt32BE(s.length, o);
      o += s.copy(b, o);
    }
    o = b.writeInt32BE(1 + m.length, o);
    o = b.writeUInt8(1, o);
    o += m.copy(b, o);
    o = b.writeInt32BE(4 + 4 * p.vector.length, o);
    o = b.writeInt16BE(p.vector.length, o);
    o = b.writeInt16BE(0, o);
    o += Buffer.from(Float32Array.from(p.vector).buffer).swap32().copy(b, o); // big-endian float4s
  }
  return b;
}

async function* copyStream(data: Point[], batch: number): AsyncGenerator<Buffer> {
  const header = Buffer.alloc(SIGNATURE.length + 8);
  SIGNATURE.copy(header);
  yield header;
  for (let i = 0; i < data.length; i += batch) yield encodeBatch(data.slice(i, i + batch));
  const trailer = Buffer.alloc(2);
  trailer.writeInt16BE(-1);
  yield trailer;
}

const secondsSince = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;

export async function sink(smoke: boolean): Promise<void> {
  const n = smoke ? 2000 : 40_000;
  const batch = 128;
  const rounds = smoke ? 1 : 3;
  const data = rows(n);
  const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 4 });
  const results: Array<Record<string, unknown>> = [];
  const ratios: number[] = [];
  const store = new PgVectorStore(pool);
  const ratios4: number[] = [];
  const drop = () => pool.query('DROP TABLE IF EXISTS public.bench_sink; DROP TABLE IF EXISTS public.bench_sink4; DROP TABLE IF EXISTS public.bench_copy');
  try {
    const runOurs = async () => {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i += batch) await store.upsert('bench_sink', data.slice(i, i + batch));
      return secondsSince(t0);
    };
    const runOurs4 = async () => {
      const t0 = process.hrtime.bigint();
      let next = 0;
      await Promise.all(
        Array.from({ length: UPSERT_CONCURRENCY }, async () => {
          while (next < n) {
            const i = next;
            next += batch;
            await store.upsert('bench_sink4', data.slice(i, i + batch));
          }
        }),
      );
      return secondsSince(t0);
    };
    const runCopy = async () => {
      const client = await pool.connect();
      try {
        const t0 = process.hrtime.bigint();
        await pipeline(copyStream(data, batch), client.query(copyFrom('COPY public.bench_copy (id, document_id, chunk_index, content, content_hash, metadata, embedding) FROM STDIN (FORMAT binary)')));
        return secondsSince(t0);
      } finally {
        client.release();
      }
    };
    // Shared noisy machine: several rounds from empty tables, alternating who goes first; median ratio.
    for (let round = 1; round <= rounds; round++) {
      await drop();
      // Identical tables: the same DDL (columns, primary key, (document_id, chunk_index) index).
      for (const t of ['bench_sink', 'bench_sink4', 'bench_copy']) {
        await store.ensureCollection(t, DIMS);
        await pool.query(`VACUUM ANALYZE public.${t}`);
      }
      const [copySecs, [upsertSecs, upsert4Secs]] = await alternating(round, runCopy, async () => {
        const one = await runOurs();
        return [one, await runOurs4()] as const;
      });
      ratios.push(copySecs / upsertSecs);
      ratios4.push(copySecs / upsert4Secs);
      results.push(
        { round, path: 'binary COPY, one stream, one buffer per 128 rows, same PK + index', rows: n, seconds: copySecs, 'rows/s': n / copySecs, ratio: '' },
        { round, path: 'vector-ingest PgVectorStore.upsert, one call at a time (one transaction per call)', rows: n, seconds: upsertSecs, 'rows/s': n / upsertSecs, ratio: (copySecs / upsertSecs).toFixed(3) },
        { round, path: `vector-ingest PgVectorStore.upsert, ${UPSERT_CONCURRENCY} calls at once (the worker's upsert slots)`, rows: n, seconds: upsert4Secs, 'rows/s': n / upsert4Secs, ratio: (copySecs / upsert4Secs).toFixed(3) },
      );
    }
    let t0 = process.hrtime.bigint();
    await store.finalize('bench_sink');
    const hnswSecs = secondsSince(t0);
    results.push({ round: '', path: 'HNSW index build after the load', rows: n, seconds: hnswSecs, 'rows/s': n / hnswSecs, ratio: '' });

    const q = await startQdrantStandIn();
    let qratio = 0;
    try {
      const qn = Math.min(n, 4000);
      const qstore = new QdrantStore(createQdrantClient(q.url));
      await qstore.ensureCollection('bench_q', DIMS);
      t0 = process.hrtime.bigint();
      for (let i = 0; i < qn; i += batch) await qstore.upsert('bench_q', data.slice(i, i + batch));
      const qSecs = secondsSince(t0);
      const raw = createQdrantClient(q.url);
      await raw.createCollection('bench_q_raw', { vectors: { size: DIMS, distance: 'Cosine' } });
      t0 = process.hrtime.bigint();
      for (let i = 0; i < qn; i += batch) {
        await raw.upsert('bench_q_raw', { wait: true, points: data.slice(i, i + batch).map((p) => ({ id: p.id, vector: p.vector, payload: { document_id: p.documentId, chunk_index: p.chunkIndex, content: p.content, content_hash: p.contentHash, tokens: 80 } })) });
      }
      const rawSecs = secondsSince(t0);
      qratio = rawSecs / qSecs;
      results.push(
        { round: '', path: 'Qdrant stand-in: bare client loop', rows: qn, seconds: rawSecs, 'rows/s': qn / rawSecs, ratio: '' },
        { round: '', path: 'Qdrant stand-in: QdrantStore.upsert', rows: qn, seconds: qSecs, 'rows/s': qn / qSecs, ratio: qratio.toFixed(3) },
      );
    } finally {
      await q.close();
    }
    report('sink', results, [
      `pgvector write path ÷ binary COPY into an identically indexed table (target >= 0.8), batches of ${batch}, ${DIMS} dimensions, median over ${rounds} round(s): ` +
        `${median(ratios4).toFixed(3)} with ${UPSERT_CONCURRENCY} calls at once (as the worker writes), ${median(ratios).toFixed(3)} one call at a time`,
      `QdrantStore ÷ bare client loop: ${qratio.toFixed(3)} (the stand-in validates every request; a real Qdrant is the real measure)`,
    ]);
  } finally {
    await drop().catch(() => undefined);
    await pool.end();
  }
}
