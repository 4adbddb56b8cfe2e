/**
 * halfvec beside vector on the same data: table and HNSW index size, index build time, and
 * recall@10 of the HNSW search (and of an exact scan, which isolates the float16 rounding)
 * against exact float64 cosine search, at pgvector's default ef_search (40) and at 100.
 *
 * Data: clustered unit vectors in 384 dimensions (the local model's size): 64 random centroids,
 * each point a centroid plus Gaussian noise, normalised; queries drawn the same way. Both tables
 * are written by PgVectorStore.upsert (binary COPY: float4 for vector, float16 for halfvec) and
 * indexed by its finalize(), as an ingest does.
 */
import pg from 'pg';
import { pointId } from '../src/ids';
import { PgVectorStore } from '../src/sinks/pgvector';
import type { Point, VectorType } from '../src/sinks/types';
import { TEST_DATABASE_URL } from '../test/support/env';
import { median, report } from './lib';

const DIMS = 384;
const K = 10;

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

function gaussian(r: () => number): number {
  return Math.sqrt(-2 * Math.log(r() || 1e-12)) * Math.cos(2 * Math.PI * r());
}

function unit(v: number[]): number[] {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

function dataset(n: number, queries: number): { points: number[][]; queries: number[][] } {
  const r = rng(42);
  const centroids = Array.from({ length: 64 }, () => unit(Array.from({ length: DIMS }, () => gaussian(r))));
  const draw = () => unit(centroids[Math.floor(r() * centroids.length)]!.map((c) => c + gaussian(r) * 0.06));
  return { points: Array.from({ length: n }, draw), queries: Array.from({ length: queries }, draw) };
}

function exactTopK(points: number[][], q: number[]): number[] {
  const scores = points.map((p, i) => {
    let d = 0;
    for (let j = 0; j < DIMS; j++) d += p[j]! * q[j]!;
    return [d, i] as const;
  });
  scores.sort((a, b) => b[0] - a[0]);
  return scores.slice(0, K).map(([, i]) => i);
}

export async function halfvec(smoke: boolean): Promise<void> {
  const n = smoke ? 2_000 : 20_000;
  const nq = smoke ? 30 : 200;
  const { points, queries } = dataset(n, nq);
  const truth = queries.map((q) => exactTopK(points, q));
  const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 2 });
  const store = new PgVectorStore(pool);
  const rows: Array<Record<string, unknown>> = [];
  const names: Record<VectorType, string> = { vector: `bench_hv_vector`, halfvec: `bench_hv_halfvec` };
  const idOf = new Map<string, number>();
  try {
    const built: Record<string, { seconds: number; table: number; index: number }> = {};
    // Alternating order over the two builds would need two rounds of a slow build; the sizes are
    // exact either way, the build times are one measurement each (noted in the results).
    for (const type of ['vector', 'halfvec'] as VectorType[]) {
      const name = names[type];
      await pool.query(`DROP TABLE IF EXISTS public.${name}`);
      await store.ensureCollection(name, DIMS, { vectorType: type });
      for (let i = 0; i < n; i += 1_000) {
        const batch: Point[] = points.slice(i, i + 1_000).map((v, j) => {
          const id = pointId(name, 'd', i + j);
          idOf.set(id, i + j);
          return { id, documentId: 'd', chunkIndex: i + j, content: `point ${i + j}`, contentHash: String(i + j), metadata: {}, vector: v };
        });
        await store.upsert(name, batch);
      }
      await pool.query(`VACUUM ANALYZE public.${name}`);
      const t0 = process.hrtime.bigint();
      await store.finalize(name);
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const size = await pool.query<{ table: string; index: string }>(
        `SELECT pg_table_size('public.${name}')::text AS table, pg_relation_size('public.${name}_embedding_hnsw')::text AS index`,
      );
      built[type] = { seconds, table: Number(size.rows[0]!.table), index: Number(size.rows[0]!.index) };
    }
    const recall = async (type: VectorType, ef: number | 'exact'): Promise<{ recall: number; ms: number }> => {
      let hit = 0;
      const ms: number[] = [];
      for (let qi = 0; qi < queries.length; qi++) {
        const t0 = process.hrtime.bigint();
        let ids: string[];
        if (ef === 'exact') {
          const c = await pool.connect();
          try {
            await c.query('BEGIN');
            await c.query('SET LOCAL enable_indexscan = off');
            await c.query('SET LOCAL enable_bitmapscan = off');
            const r = await c.query<{ id: string }>(`SELECT id FROM public.${names[type]} ORDER BY embedding <=> $1::${type} LIMIT ${K}`, [`[${queries[qi]!.join(',')}]`]);
            await c.query('COMMIT');
            ids = r.rows.map((x) => x.id);
          } finally {
            c.release();
          }
        } else {
          ids = (await store.search(names[type], { vector: queries[qi]!, limit: K, efSearch: ef })).map((h) => h.id);
        }
        ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
        const want = new Set(truth[qi]);
        hit += ids.filter((id) => want.has(idOf.get(id)!)).length;
      }
      return { recall: hit / (queries.length * K), ms: median(ms) };
    };
    const results: Record<string, Record<string, { recall: number; ms: number }>> = { vector: {}, halfvec: {} };
    for (const [i, ef] of ([40, 100, 'exact'] as const).entries()) {
      // alternate which type goes first per setting
      const order: VectorType[] = i % 2 === 0 ? ['vector', 'halfvec'] : ['halfvec', 'vector'];
      for (const type of order) results[type]![String(ef)] = await recall(type, ef);
    }
    for (const type of ['vector', 'halfvec'] as VectorType[]) {
      const b = built[type]!;
      rows.push({
        type,
        chunks: n,
        'table MiB': b.table / 1024 / 1024,
        'HNSW index MiB': b.index / 1024 / 1024,
        'index build s': b.seconds,
        'recall@10 ef40': results[type]!['40']!.recall,
        'recall@10 ef100': results[type]!['100']!.recall,
        'recall@10 exact scan': results[type]!.exact!.recall,
        'query ms (median, ef40)': results[type]!['40']!.ms,
      });
    }
    const v = built.vector!;
    const h = built.halfvec!;
    report('halfvec', rows, [
      `halfvec ÷ vector: table ${(h.table / v.table).toFixed(2)}, HNSW index ${(h.index / v.index).toFixed(2)}, build time ${(h.seconds / v.seconds).toFixed(2)}.`,
      `${n} clustered unit vectors of ${DIMS} dimensions, ${nq} queries; recall against exact float64 cosine top-${K}. Build times are one measurement each on a shared machine.`,
    ]);
  } finally {
    for (const name of Object.values(names)) await pool.query(`DROP TABLE IF EXISTS public.${name}`);
    await pool.end();
  }
}
