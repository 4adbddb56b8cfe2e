/** Sink write path ÷ raw binary COPY of identical rows (pgvector), and QdrantStore ÷ a bare client loop. */
import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { PgVectorStore } from '../src/sinks/pgvector';
import { createQdrantClient, QdrantStore } from '../src/sinks/qdrant';
import type { Point } from '../src/sinks/types';
import { startQdrantStandIn } from '../src/testing/qdrant-standin';
import { TEST_DATABASE_URL } from '../test/support/env';
import { report } from './lib';

const DIMS = 384;

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

/** PostgreSQL binary COPY encoding of (uuid, text, int4, text, text, jsonb, vector). */
function encode(points: Point[]): Buffer[] {
  const out: Buffer[] = [Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'binary'), Buffer.alloc(8)])];
  for (const p of points) {
    const fields: Buffer[] = [];
    const field = (b: Buffer) => {
      const len = Buffer.alloc(4);
      len.writeInt32BE(b.length);
      fields.push(len, b);
    };
    field(Buffer.from(p.id.replace(/-/g, ''), 'hex'));
    field(Buffer.from(p.documentId));
    const i4 = Buffer.alloc(4);
    i4.writeInt32BE(p.chunkIndex);
    field(i4);
    field(Buffer.from(p.content));
    field(Buffer.from(p.contentHash));
    field(Buffer.concat([Buffer.from([1]), Buffer.from(JSON.stringify(p.metadata))]));
    const v = Buffer.alloc(4 + 4 * p.vector.length);
    v.writeInt16BE(p.vector.length, 0);
    v.writeInt16BE(0, 2);
    p.vector.forEach((f, k) => v.writeFloatBE(f, 4 + 4 * k));
    field(v);
    const count = Buffer.alloc(2);
    count.writeInt16BE(7);
    out.push(count, ...fields);
  }
  const trailer = Buffer.alloc(2);
  trailer.writeInt16BE(-1);
  out.push(trailer);
  return out;
}

export async function sink(smoke: boolean): Promise<void> {
  const n = smoke ? 2000 : 40_000;
  const batch = 128;
  const data = rows(n);
  const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 4 });
  const results: Array<Record<string, unknown>> = [];
  try {
    await pool.query('DROP TABLE IF EXISTS public.bench_sink; DROP TABLE IF EXISTS public.bench_copy');
    const store = new PgVectorStore(pool);
    await store.ensureCollection('bench_sink', DIMS);
    let t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i += batch) await store.upsert('bench_sink', data.slice(i, i + batch));
    const upsertSecs = Number(process.hrtime.bigint() - t0) / 1e9;
    t0 = process.hrtime.bigint();
    await store.finalize('bench_sink');
    const hnswSecs = Number(process.hrtime.bigint() - t0) / 1e9;

    await pool.query(`CREATE TABLE public.bench_copy (id uuid, document_id text, chunk_index int, content text, content_hash text, metadata jsonb, embedding vector(${DIMS}))`);
    const client = await pool.connect();
    t0 = process.hrtime.bigint();
    try {
      for (let i = 0; i < n; i += batch) {
        const stream = client.query(copyFrom('COPY public.bench_copy FROM STDIN (FORMAT binary)'));
        await pipeline(Readable.from(encode(data.slice(i, i + batch))), stream);
      }
    } finally {
      client.release();
    }
    const copySecs = Number(process.hrtime.bigint() - t0) / 1e9;
    results.push(
      { path: 'raw binary COPY, unindexed table', rows: n, seconds: copySecs, 'rows/s': n / copySecs },
      { path: 'vector-ingest pgvector upsert (ON CONFLICT, PK + document index)', rows: n, seconds: upsertSecs, 'rows/s': n / upsertSecs },
      { path: 'HNSW index build after the load', rows: n, seconds: hnswSecs, 'rows/s': n / hnswSecs },
    );

    const q = await startQdrantStandIn();
    try {
      const qn = Math.min(n, 4000);
      const qstore = new QdrantStore(createQdrantClient(q.url));
      await qstore.ensureCollection('bench_q', DIMS);
      t0 = process.hrtime.bigint();
      for (let i = 0; i < qn; i += batch) await qstore.upsert('bench_q', data.slice(i, i + batch));
      const qSecs = Number(process.hrtime.bigint() - t0) / 1e9;
      const raw = createQdrantClient(q.url);
      await raw.createCollection('bench_q_raw', { vectors: { size: DIMS, distance: 'Cosine' } });
      t0 = process.hrtime.bigint();
      for (let i = 0; i < qn; i += batch) {
        await raw.upsert('bench_q_raw', { wait: true, points: data.slice(i, i + batch).map((p) => ({ id: p.id, vector: p.vector, payload: { document_id: p.documentId, chunk_index: p.chunkIndex, content: p.content, content_hash: p.contentHash, tokens: 80 } })) });
      }
      const rawSecs = Number(process.hrtime.bigint() - t0) / 1e9;
      results.push(
        { path: 'Qdrant stand-in: bare client loop', rows: qn, seconds: rawSecs, 'rows/s': qn / rawSecs },
        { path: 'Qdrant stand-in: QdrantStore.upsert', rows: qn, seconds: qSecs, 'rows/s': qn / qSecs },
      );
    } finally {
      await q.close();
    }
    report('sink', results, [
      `pgvector write path ÷ raw binary COPY: ${(copySecs / upsertSecs).toFixed(3)} (target >= 0.8); batches of ${batch}, ${DIMS} dimensions`,
      `QdrantStore ÷ bare client loop: ${((results[3]!.seconds as number) / (results[4]!.seconds as number)).toFixed(3)} (the stand-in validates every request; a real Qdrant is the real measure)`,
    ]);
  } finally {
    await pool.query('DROP TABLE IF EXISTS public.bench_sink; DROP TABLE IF EXISTS public.bench_copy').catch(() => undefined);
    await pool.end();
  }
}
