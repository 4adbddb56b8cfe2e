/**
 * Bloat: what dead rows in the state store cost a run. A Postgres with autovacuum off (this
 * machine's, CI's) keeps every dead version a big run leaves in staged_chunks, documents and
 * embedding_cache. The peer-sized ingest (600 files, 50 ms + 0.5 ms/input provider) is timed
 * cold with the churn tables bloated the way a 100k-chunk run leaves them (rows inserted,
 * updated and deleted: ~300k dead staged chunks, ~120k dead documents, ~38k dead cache rows,
 * under another collection), and after VACUUM (ANALYZE); alternating which state goes first.
 */
import { buildCorpus } from '../test/support/corpus';
import { tempDir, withPg } from '../test/support/env';
import { clearEmbeddingCache, dropCollection, median, report, startStack, timedIngest } from './lib';

const S = 'vector_ingest';
const BIG = 'bench_bloat_big';

/** Leaves dead rows as a big run of another collection does: staged, landed, dropped; documents seen, pending, committed, forgotten; cache rows cleared. */
async function makeBloat(stagedRows: number, documents: number, cacheRows: number): Promise<void> {
  await withPg(async (c) => {
    const content = 'x'.repeat(900);
    await c.query(`DELETE FROM ${S}.staged_chunks WHERE collection = $1`, [BIG]);
    await c.query(`DELETE FROM ${S}.documents WHERE collection = $1`, [BIG]);
    for (let i = 0; i < stagedRows; i += 50_000) {
      const n = Math.min(50_000, stagedRows - i);
      await c.query(
        `INSERT INTO ${S}.staged_chunks (collection, run_key, page_no, batch_no, document_id, chunk_index, point_id, text_hash, content, tokens)
         SELECT $1, 'big-run', g / 1000, (g % 1000) / 64, 'doc-' || (g / 5), g % 5, gen_random_uuid(), md5(g::text), $2 || g, 200
         FROM generate_series($3::int, $4::int) g`,
        [BIG, content, i, i + n - 1],
      );
      await c.query(`UPDATE ${S}.staged_chunks SET status = 1 WHERE collection = $1 AND page_no BETWEEN $2 AND $3`, [BIG, Math.floor(i / 1000), Math.floor((i + n - 1) / 1000)]);
    }
    await c.query(`DELETE FROM ${S}.staged_chunks WHERE collection = $1`, [BIG]);
    await c.query(
      `INSERT INTO ${S}.documents (collection, document_id, last_seen_run) SELECT $1, 'doc-' || g, 'big-run' FROM generate_series(1, $2::int) g`,
      [BIG, documents],
    );
    await c.query(`UPDATE ${S}.documents SET pending_hash = md5(document_id), pending_chunk_count = 5, pending_page = 'big-run:1' WHERE collection = $1`, [BIG]);
    await c.query(`UPDATE ${S}.documents SET content_hash = pending_hash, chunk_count = 5, pending_hash = NULL, pending_page = NULL WHERE collection = $1`, [BIG]);
    await c.query(`DELETE FROM ${S}.documents WHERE collection = $1`, [BIG]);
    await c.query(
      `INSERT INTO ${S}.embedding_cache (model, dimensions, text_hash, embedding)
       SELECT 'bench-bloat-big', 64, md5(g::text), array_fill(0.1::real, ARRAY[64])::vector FROM generate_series(1, $1::int) g`,
      [cacheRows],
    );
    await c.query(`DELETE FROM ${S}.embedding_cache WHERE model = 'bench-bloat-big'`);
  });
}

/**
 * Dead versions under the very keys the next run looks up (BLOAT_SAME_KEYS=1): the collection's
 * documents and the model's cached vectors rewritten `times` times before they are dropped, as
 * repeated runs of one collection leave them.
 */
async function makeSameKeyBloat(collection: string, model: string, times: number): Promise<void> {
  await withPg(async (c) => {
    for (let i = 0; i < times; i++) {
      await c.query(`UPDATE ${S}.documents SET updated_at = now() WHERE collection = $1`, [collection]);
      await c.query(`UPDATE ${S}.embedding_cache SET created_at = now() WHERE model = $1`, [model]);
    }
  });
}

async function vacuum(): Promise<void> {
  await withPg(async (c) => {
    for (const t of ['staged_chunks', 'documents', 'embedding_cache']) await c.query(`VACUUM (ANALYZE) ${S}.${t}`);
  });
}

async function churnStats(): Promise<string> {
  return withPg(async (c) => {
    await c.query('SELECT pg_stat_force_next_flush()').catch(() => undefined);
    const r = await c.query<{ relname: string; live: string; dead: string; mb: string }>(
      `SELECT relname, n_live_tup AS live, n_dead_tup AS dead, round(pg_total_relation_size(relid) / 1048576.0) AS mb
       FROM pg_stat_user_tables WHERE schemaname = $1 AND relname IN ('staged_chunks', 'documents', 'embedding_cache') ORDER BY relname`,
      [S],
    );
    return r.rows.map((x) => `${x.relname} ${x.live}/${x.dead} dead ${x.mb} MB`).join(', ');
  });
}

/** Buffer pages this database's backends touched (hit or read): the Postgres work, which the machine's load does not change. */
async function buffers(): Promise<number> {
  return withPg(async (c) => {
    const r = await c.query<{ n: string }>('SELECT blks_hit + blks_read AS n FROM pg_stat_database WHERE datname = current_database()');
    return Number(r.rows[0]!.n);
  });
}

/** Backends flush their statistics when idle for 10 s at most (PG15 PGSTAT_IDLE_INTERVAL). */
const settle = () => new Promise((r) => setTimeout(r, 11_000));

export async function bloat(smoke: boolean): Promise<void> {
  const files = smoke ? 60 : 600;
  const scale = smoke ? 0.05 : 1;
  const dir = tempDir('vi-bench-bloat-');
  buildCorpus(dir, { files, largeFiles: Math.ceil(files / 100), seed: 21 });
  const model = `bench-bloat-${Date.now()}`;
  const stack = await startStack({ model, emb: { latencyMs: 50, perInputLatencyMs: 0.5 } });
  const collection = 'bench_bloat_ours';
  const input = {
    collection,
    source: { kind: 'directory' as const, path: dir },
    chunking: { chunkTokens: 256, overlapTokens: 32 },
    batching: { maxChunks: 64, maxTokens: 32_000 },
    pageSize: 200,
  };
  const rows: Array<Record<string, unknown>> = [];
  const times: Record<string, number[]> = { bloated: [], vacuumed: [] };
  const work: Record<string, number[]> = { bloated: [], vacuumed: [] };
  const runsPerState = smoke ? 1 : 2;
  const sameKeys = process.env.BLOAT_SAME_KEYS === '1';
  if (sameKeys) await timedIngest(stack, `bench-bloat-warmup-${Date.now()}`, input); // rows for the first bloated run to rewrite
  const measure = async (state: 'bloated' | 'vacuumed', round: number) => {
    if (state === 'bloated') await makeBloat(Math.round(150_000 * scale), Math.round(40_000 * scale), Math.round(38_000 * scale));
    else await vacuum();
    const stats = await churnStats();
    for (let i = 1; i <= runsPerState; i++) {
      if (state === 'bloated' && sameKeys) await makeSameKeyBloat(collection, model, 30);
      await dropCollection(collection);
      await clearEmbeddingCache(model);
      stack.emb.reset();
      await settle();
      const b0 = await buffers();
      const r = await timedIngest(stack, `bench-bloat-${round}-${state}-${i}-${Date.now()}`, input);
      await settle();
      const pages = (await buffers()) - b0;
      times[state]!.push(r.seconds);
      work[state]!.push(pages);
      rows.push({ round, state, run: i, chunks: r.result.counters.chunksUpserted, 'first run s': r.seconds, 'buffer pages': pages, 'chunks/s': r.result.counters.chunksUpserted / r.seconds, 'churn tables (live/dead)': i === 1 ? stats : '' });
    }
  };
  try {
    const rounds = smoke ? 1 : 2;
    for (let round = 1; round <= rounds; round++) {
      const order: Array<'bloated' | 'vacuumed'> = round % 2 === 1 ? ['bloated', 'vacuumed'] : ['vacuumed', 'bloated'];
      for (const s of order) await measure(s, round);
    }
    report('bloat', rows, [
      ...(sameKeys ? ['with BLOAT_SAME_KEYS=1: before each bloated run, its collection\'s documents and its model\'s cache rows were rewritten 30 times'] : []),
      `median first run: bloated ${median(times.bloated!).toFixed(2)} s, vacuumed ${median(times.vacuumed!).toFixed(2)} s (${(median(times.bloated!) / median(times.vacuumed!)).toFixed(2)}x)`,
      `median buffer pages per run: bloated ${median(work.bloated!)}, vacuumed ${median(work.vacuumed!)} (${(median(work.bloated!) / median(work.vacuumed!)).toFixed(2)}x)`,
    ]);
  } finally {
    await stack.stop();
    await dropCollection(collection).catch(() => undefined);
  }
}
