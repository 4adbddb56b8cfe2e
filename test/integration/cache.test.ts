import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { StateStore } from '../../src/state/store';
import { runCli } from '../support/cli-run';
import { uniqueCollection, withPg as withTestPg } from '../support/env';
import { scratchDatabase } from '../support/scratch-db';

const cli = (args: string[]) => runCli(args, { env: { DATABASE_URL: dbUrl } });

// Pruning is global to a database (every model, every collection), so the test gets a database
// of its own: rows left in the shared test database by other tests or killed runs cannot move
// its counts.
const db = scratchDatabase('vi_cache_db');
const dbUrl = db.url;
const withPg = <T>(fn: (c: pg.Client) => Promise<T>) => withTestPg(fn, dbUrl);

const vec = (d: number) => `[${Array.from({ length: d }, (_, i) => (i + 1) / d).join(',')}]`;

// Issue 11 item 6: the embedding cache grew without bound and kept the vectors of models no
// collection uses. `cache prune` evicts those, and with --max-rows the oldest beyond the cap;
// vectors a staged chunk still waits for are kept.
describe('vector-ingest cache stats|prune', () => {
  before(async () => {
    await db.create();
    const pool = new pg.Pool({ connectionString: dbUrl, max: 1 });
    try {
      await new StateStore(pool).migrate();
    } finally {
      await pool.end();
    }
  });
  after(() => db.drop());

  it('prunes models no collection uses, then the oldest rows beyond the cap, never a pending vector', async () => {
    const collection = uniqueCollection('it_cache');
    const used = `used-${collection}`;
    const unused = `unused-${collection}`;
    await withPg(async (c) => {
      await c.query(`INSERT INTO vector_ingest.collections (name, sink, model, dimensions) VALUES ($1, 'pgvector', $2, 4)`, [collection, used]);
      for (let i = 0; i < 6; i++) {
        // the used model's rows are the oldest in the cache: 2000-01-0i
        await c.query(`INSERT INTO vector_ingest.embedding_cache (model, dimensions, text_hash, embedding, created_at) VALUES ($1, 4, $2, $3::vector, $4)`, [used, `h${i}`, vec(4), `2000-01-0${i + 1}T00:00:00Z`]);
        await c.query(`INSERT INTO vector_ingest.embedding_cache (model, dimensions, text_hash, embedding) VALUES ($1, 4, $2, $3::vector)`, [unused, `u${i}`, vec(4)]);
      }
      // one of the oldest is still awaited by a staged chunk
      await c.query(
        `INSERT INTO vector_ingest.staged_chunks (collection, run_key, page_no, batch_no, document_id, chunk_index, point_id, text_hash, content, tokens)
         VALUES ($1, 'r', 0, 0, 'd', 0, gen_random_uuid(), 'h0', 'x', 1)`,
        [collection],
      );
    });
    try {
      const stats = await cli(['cache', 'stats', '--json']);
      assert.equal(stats.code, 0, stats.stderr);
      const byModel = new Map((JSON.parse(stats.stdout) as Array<{ model: string; rows: number; used: boolean }>).map((r) => [r.model, r]));
      assert.equal(byModel.get(used)?.rows, 6);
      assert.equal(byModel.get(used)?.used, true);
      assert.equal(byModel.get(unused)?.rows, 6);
      assert.equal(byModel.get(unused)?.used, false);

      const total = await withPg(async (c) => (await c.query('SELECT count(*)::int AS n FROM vector_ingest.embedding_cache e WHERE EXISTS (SELECT 1 FROM vector_ingest.collections c WHERE c.model = e.model AND c.dimensions = e.dimensions)')).rows[0].n as number);
      // Cap: everything that stays after the unused models go, minus 3 → the 3 oldest go, but h0 is pending.
      const prune = await cli(['cache', 'prune', '--max-rows', String(total - 3), '--json']);
      assert.equal(prune.code, 0, prune.stderr);
      const r = JSON.parse(prune.stdout);
      assert.ok(r.unusedModels >= 6);
      assert.equal(r.overCap, 2);
      const left = await withPg(async (c) => (await c.query('SELECT model, text_hash FROM vector_ingest.embedding_cache WHERE model = ANY($1) ORDER BY text_hash', [[used, unused]])).rows.map((x) => x.text_hash));
      assert.deepEqual(left, ['h0', 'h3', 'h4', 'h5'], 'the unused model is gone; of the used one, the oldest went except the pending h0');
    } finally {
      await withPg(async (c) => {
        await c.query('DELETE FROM vector_ingest.staged_chunks WHERE collection = $1', [collection]);
        await c.query('DELETE FROM vector_ingest.embedding_cache WHERE model = ANY($1)', [[used, unused]]);
        await c.query('DELETE FROM vector_ingest.collections WHERE name = $1', [collection]);
      });
    }
  });
});
