/**
 * The pgvector write path in binary: PgVectorStore.upsert goes through binary COPY into a
 * session temp table and one INSERT … ON CONFLICT on PostgreSQL, and through unnest() on the
 * embedded PGlite (no COPY over its socket; vectors as a binary vector[] parameter). Both must store the same rows, skip unchanged
 * rows, update changed ones, and refuse bad input with a clear error without poisoning the pool.
 * The embedding cache takes its vectors as one binary vector[] parameter, on both servers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/embedded/pglite';
import { pointId } from '../../src/ids';
import { copySupported } from '../../src/pg/copy-upsert';
import { PgVectorStore } from '../../src/sinks/pgvector';
import type { Point } from '../../src/sinks/types';
import { StateStore } from '../../src/state/store';
import { TEST_DATABASE_URL, tempDir, uniqueCollection } from '../support/env';

const DIMS = 3;
const point = (collection: string, doc: string, i: number, v = [0.25, -1.5, i]): Point => ({
  id: pointId(collection, doc, i),
  documentId: doc,
  chunkIndex: i,
  content: `${doc} chunk ${i}: naïve café ✓`,
  contentHash: `h-${doc}-${i}`,
  metadata: { tokens: 3 + i, title: 'Ünïcode "quoted"' },
  vector: v,
});

function suite(name: string, url: () => string, expectCopy: boolean) {
  describe(name, () => {
    let pool: pg.Pool;
    let store: PgVectorStore;
    const collection = uniqueCollection('pgbin');
    before(async () => {
      pool = new pg.Pool({ connectionString: url(), max: 2 });
      store = new PgVectorStore(pool);
      await store.ensureCollection(collection, DIMS);
    });
    after(async () => {
      await store.drop(collection).catch(() => undefined);
      await pool.end();
    });

    it(`uses ${expectCopy ? 'binary COPY' : 'the unnest() insert'} on this server`, async () => {
      assert.equal(await copySupported(pool), expectCopy);
    });

    it('stores every field as given, vectors exact at float4', async () => {
      const pts = [point(collection, 'a.md', 0), point(collection, 'a.md', 1), point(collection, 'b.md', 0, [1e-7, 3.4e38, -0.1])];
      assert.equal(await store.upsert(collection, pts), 3);
      const r = await pool.query(
        `SELECT id::text, document_id, chunk_index, content, content_hash, metadata, embedding::text AS e FROM public.${collection} ORDER BY document_id, chunk_index`,
      );
      assert.equal(r.rows.length, 3);
      for (const [i, p] of pts.entries()) {
        const row = r.rows[i];
        assert.deepEqual(
          { id: row.id, documentId: row.document_id, chunkIndex: row.chunk_index, content: row.content, contentHash: row.content_hash, metadata: row.metadata },
          { id: p.id, documentId: p.documentId, chunkIndex: p.chunkIndex, content: p.content, contentHash: p.contentHash, metadata: p.metadata },
        );
        // pgvector prints float4s in their shortest form: compare as float4.
        assert.deepEqual((JSON.parse(row.e) as number[]).map(Math.fround), p.vector.map(Math.fround));
      }
    });

    it('rewrites nothing when nothing changed, and exactly the changed row otherwise', async () => {
      const pts = [point(collection, 'a.md', 0), point(collection, 'a.md', 1)];
      assert.equal(await store.upsert(collection, pts), 0);
      assert.equal(await store.upsert(collection, [pts[0]!, point(collection, 'a.md', 1, [9, 9, 9])]), 1);
      const r = await pool.query(`SELECT embedding::text AS e FROM public.${collection} WHERE document_id = 'a.md' AND chunk_index = 1`);
      assert.equal(r.rows[0].e, '[9,9,9]');
      assert.equal(await store.count(collection), 3);
    });

    it('refuses a non-finite vector or a wrong dimension with a clear error, and the pool still works', async () => {
      await assert.rejects(store.upsert(collection, [point(collection, 'c.md', 0, [0, Number.NaN, 1])]), /non-finite|NaN/);
      await assert.rejects(store.upsert(collection, [point(collection, 'c.md', 0, [1, 2])]), /dimensions/);
      if (expectCopy) {
        // Fails inside the COPY, whose data was sent behind the query in the same round trip
        // (src/pg/pipelined-copy.ts): the connection must come back clean, the row not land.
        await assert.rejects(store.upsert(collection, [{ ...point(collection, 'c.md', 0), content: 'nul \u0000 byte' }]), /0x00|invalid byte/);
      }
      for (let i = 0; i < 4; i++) assert.equal(await store.upsert(collection, [point(collection, `d${i}.md`, 0)]), 1);
      assert.equal(await store.count(collection), 7);
    });

    it('keeps the last of two points with one id in a call', async () => {
      assert.equal(await store.upsert(collection, [point(collection, 'e.md', 0, [1, 1, 1]), point(collection, 'e.md', 0, [2, 2, 2])]), 1);
      const r = await pool.query(`SELECT embedding::text AS e FROM public.${collection} WHERE document_id = 'e.md'`);
      assert.deepEqual(r.rows, [{ e: '[2,2,2]' }]);
    });

    it('writes a mix of new and present points in one call: new ones inserted, changed ones updated', async () => {
      const pts = [point(collection, 'a.md', 0), point(collection, 'a.md', 1, [7, 7, 7]), point(collection, 'f.md', 0)];
      assert.equal(await store.upsert(collection, pts), 2);
      const r = await pool.query(`SELECT document_id, chunk_index, embedding::text AS e FROM public.${collection} WHERE document_id IN ('a.md', 'f.md') ORDER BY 1, 2`);
      assert.deepEqual(r.rows.map((x) => x.e), ['[0.25,-1.5,0]', '[7,7,7]', '[0.25,-1.5,0]']);
    });

    it('upserts points selected in the database (upsertFromSelect) the same way', async () => {
      const id = pointId(collection, 'g.md', 0);
      const q = { sql: `SELECT $1::uuid, 'g.md', 0, 'g text', 'hg', '{}'::jsonb, '[1,2,3]'::vector`, params: [id] };
      // counts: what each extra statement of the query yielded (none here)
      assert.deepEqual(await store.upsertFromSelect(collection, q), { offered: 1, written: 1, counts: {} });
      assert.deepEqual(await store.upsertFromSelect(collection, q), { offered: 1, written: 0, counts: {} });
    });

    it('embedding cache: vectors in binary, read back exact at float4, first write wins', async () => {
      const state = new StateStore(pool);
      await state.migrate();
      const model = `${collection}-model`;
      const vs = [[0.1, -2, 3e-5], [1, 2, 3]];
      await state.cache.putEmbeddings(model, 3, ['h1', 'h2'], vs);
      await state.cache.putEmbeddings(model, 3, ['h1', 'h3'], [[9, 9, 9], [4, 5, 6]]);
      const got = await state.cache.getEmbeddings(model, 3, ['h1', 'h2', 'h3', 'h4']);
      assert.deepEqual([...got.keys()].sort(), ['h1', 'h2', 'h3']);
      assert.deepEqual(got.get('h1')!.map(Math.fround), vs[0]!.map(Math.fround));
      assert.deepEqual(got.get('h3'), [4, 5, 6]);
      await assert.rejects(state.cache.putEmbeddings(model, 3, ['h5'], [[1, Number.POSITIVE_INFINITY, 0]]), /non-finite/);
      await pool.query('DELETE FROM vector_ingest.embedding_cache WHERE model = $1', [model]);
    });
  });
}

suite('pgvector upsert on PostgreSQL', () => TEST_DATABASE_URL, true);

let embedded: EmbeddedPostgres | undefined;
before(async () => {
  embedded = await startEmbeddedPostgres(tempDir('vi-pgbin-'));
});
after(async () => {
  await embedded?.stop();
});
suite('pgvector upsert on embedded PGlite', () => embedded!.url, false);
