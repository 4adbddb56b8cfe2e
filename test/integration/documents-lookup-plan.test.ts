/**
 * Planning a page looks up what is recorded of its listed documents (DocumentsTable.known). As
 * `document_id = ANY(ids)`, with statistics taken before the collection grew (the collection
 * looks tiny to the planner), Postgres scanned the collection's whole key range and filtered the
 * ids row by row, so every page of a re-index read every document of the collection (the
 * unchanged re-index profile in BENCHMARKS.md found it: 9,608 buffer blocks, 38 ms, per page of
 * 200 at 10,000 documents). This test builds that situation in a database of its own and counts
 * one page's buffer blocks through EXPLAIN, which does not depend on the machine's speed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { StateStore } from '../../src/state/store';
import { knownQuery } from '../../src/state/documents';
import { scratchDatabase } from '../support/scratch-db';

const db = scratchDatabase('vi_docs_plan_db');

const DOCUMENTS = 20_000;
const PAGE = 200;

describe('looking up the recorded documents of one page', () => {
  let pool: pg.Pool;
  let store: StateStore;
  before(async () => {
    // Statistics taken while the table held another, small collection (autovacuum analyzes a
    // table when a share of it changed, so a collection that grew since is missing from them),
    // and none taken after: autovacuum must not analyze the table while the test runs.
    ({ pool, store } = await db.createStateStore(['documents']));
    await pool.query(
      `INSERT INTO vector_ingest.documents (collection, document_id, content_hash, chunk_count)
       SELECT 'small_c', 'doc-' || i, md5(i::text), 1 FROM generate_series(0, 199) i`,
    );
    await pool.query('ANALYZE vector_ingest.documents');
    await pool.query(
      `INSERT INTO vector_ingest.documents (collection, document_id, content_hash, fingerprint, chunk_count, last_seen_run)
       SELECT 'docs_c', 'dir/doc-' || lpad(i::text, 6, '0') || '.md', md5(i::text), 'fp' || i, 3, 'r0'
       FROM generate_series(0, ${DOCUMENTS - 1}) i`,
    );
    // two runs since, each marking every document seen
    for (const run of ['r1', 'r2']) await pool.query(`UPDATE vector_ingest.documents SET last_seen_run = $1 WHERE collection = 'docs_c'`, [run]);
  });
  after(async () => {
    await pool?.end();
    await db.drop();
  });

  const page = (from: number) => Array.from({ length: PAGE }, (_, i) => `dir/doc-${String(from + i).padStart(6, '0')}.md`);

  it('probes the primary key once per listed document, however many documents the collection has', async () => {
    const q = knownQuery('docs_c', page(12_000));
    const plan = (await pool.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${q.sql}`, q.params)).rows[0]['QUERY PLAN'][0].Plan;
    assert.equal(plan['Actual Rows'], PAGE);
    const blocks = plan['Shared Hit Blocks'] + (plan['Shared Read Blocks'] ?? 0);
    // a probe costs ~5 blocks (200 x 5); reading the collection's key range cost ~60,000 per page
    assert.ok(blocks < 10 * PAGE, `one page's lookup touched ${blocks} buffer blocks for ${PAGE} documents of ${DOCUMENTS}`);
  });

  it('answers with the hash and fingerprint of each recorded document, and nothing for new ones', async () => {
    const [a, b] = page(DOCUMENTS - 2) as [string, string];
    const ids = [a, b, 'dir/new.md', 'other/doc.md'];
    const known = await store.documents.known('docs_c', ids);
    assert.deepEqual(
      [...known.entries()].sort(([x], [y]) => (x < y ? -1 : 1)),
      [
        [a, { hash: await md5(DOCUMENTS - 2), fingerprint: `fp${DOCUMENTS - 2}` }],
        [b, { hash: await md5(DOCUMENTS - 1), fingerprint: `fp${DOCUMENTS - 1}` }],
      ],
    );
    assert.equal((await store.documents.known('docs_c', [])).size, 0);
    assert.equal((await store.documents.known('another_collection', ids)).size, 0, 'another collection of the same ids');
  });

  async function md5(i: number): Promise<string> {
    return (await pool.query<{ h: string }>('SELECT md5($1::text) AS h', [String(i)])).rows[0]!.h;
  }
});
