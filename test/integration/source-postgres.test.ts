import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { after, before, describe, it } from 'node:test';
import { pointId, sha256 } from '../../src/ids';
import { chunkText } from '../../src/text/chunker';
import { extractText } from '../../src/text/extract';
import { TEST_DATABASE_URL, uniqueCollection, withPg } from '../support/env';
import { sinkRows, type ExpectedRow } from '../support/expected';
import { SourceRig } from '../support/source-run';
import { searchCollection, type SearchDeps } from '../../src/search';
import { openSource } from '../../src/sources';
import { createSourceContext } from '../../src/sources/context';
import { tempDir } from '../support/env';

const CHUNKING = { chunkTokens: 60, overlapTokens: 8 };
const ENV = 'VI_TEST_SOURCE_DB';

async function failureOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof WorkflowFailedError, String(err));
    const parts: string[] = [];
    for (let e: unknown = err, i = 0; e && i < 5; e = (e as { cause?: unknown }).cause, i++) parts.push(`${(e as { type?: string }).type ?? ''} ${(e as Error).message}`);
    return parts.join(' | ');
  }
  assert.fail('the run should have failed');
}

async function tableExists(name: string): Promise<boolean> {
  return withPg(async (c) => (await c.query(`SELECT to_regclass('public.${name}') IS NOT NULL AS x`)).rows[0].x);
}

// A real table in the real Postgres: rows are documents, `updated_at` their fingerprint; the
// connection string is in the worker's environment, named by the source (never in history).
describe('postgres table source', () => {
  const schema = uniqueCollection('src_pg');
  const table = `${schema}.articles`;
  const rig = new SourceRig('postgres', `pg-${Date.now()}`, { [ENV]: TEST_DATABASE_URL, VI_TEST_UNREACHABLE_DB: 'postgres://postgres@127.0.0.1:9/x', VI_TEST_NOBODY_DB: TEST_DATABASE_URL.replace('postgres@', 'no_such_role_vi@') });
  const collection = uniqueCollection('it_pg');
  const viaCli = uniqueCollection('it_pgcli');
  const viaTcli = uniqueCollection('it_pgtcli');
  const source = { kind: 'postgres' as const, connectionEnv: ENV, table, id: 'id', text: ['title', 'body'], metadata: ['tag'], updatedAt: 'updated_at' };

  /** What the sink must hold, from the table itself, with the same extraction and chunking. */
  const expected = async (coll: string): Promise<ExpectedRow[]> => {
    const rows = await withPg(async (c) => (await c.query(`SELECT id::text AS id, title, body FROM ${table} ORDER BY id`)).rows);
    const out: ExpectedRow[] = [];
    for (const r of rows) {
      const text = extractText(r.id, [r.title, r.body].filter((x) => x).join('\n\n'), 'text');
      for (const ch of chunkText(text, CHUNKING)) out.push({ id: pointId(coll, r.id, ch.index), document_id: r.id, chunk_index: ch.index, content: ch.text, content_hash: sha256(ch.text) });
    }
    return out.sort((a, b) => (a.id < b.id ? -1 : 1));
  };

  before(async () => {
    await withPg(async (c) => {
      await c.query(`CREATE SCHEMA ${schema}`);
      await c.query(`CREATE TABLE ${table} (id int PRIMARY KEY, title text, body text, tag text, updated_at timestamptz NOT NULL DEFAULT now())`);
      await c.query(
        `INSERT INTO ${table} (id, title, body, tag)
         SELECT i, 'Article ' || i, repeat('Sentence ' || i || ' about durable workflows and vectors. ', 5 + i % 20), 't' || (i % 3)
         FROM generate_series(1, 30) i`,
      );
    });
    await rig.start();
  });
  after(async () => {
    await rig.stop([collection, viaCli, viaTcli]);
    await withPg((c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
  });

  it('first run ingests every row; an unchanged re-run reads and embeds nothing', async () => {
    const first = await rig.ingest({ collection, source, chunking: CHUNKING, pageSize: 7 });
    assert.equal(first.result.counters.documentsListed, 30, JSON.stringify(first.result.counters));
    assert.equal(first.reads, 30);
    assert.deepEqual(await sinkRows(collection), await expected(collection));
    const again = await rig.ingest({ collection, source, chunking: CHUNKING, pageSize: 7 });
    process.stderr.write(`unchanged re-run (postgres, 30 rows): ${again.ms} ms\n`);
    assert.equal(again.reads, 0);
    assert.equal(again.embedded, 0);
    assert.equal(again.result.counters.documentsUnchanged, 30, JSON.stringify(again.result.counters));
  });

  it('update, insert and delete: only those rows are read; the sink follows the table', async () => {
    await withPg(async (c) => {
      await c.query(`UPDATE ${table} SET body = body || ' An update about fingerprints.', updated_at = now() + interval '1 second' WHERE id = 4`);
      await c.query(`INSERT INTO ${table} (id, title, body) VALUES (31, 'Article 31', 'A brand new row about Postgres sources.')`);
      await c.query(`DELETE FROM ${table} WHERE id = 9`);
    });
    const r = await rig.ingest({ collection, source, chunking: CHUNKING, pageSize: 7 });
    assert.equal(r.reads, 2);
    assert.equal(r.result.counters.documentsChanged, 2);
    assert.equal(r.result.counters.documentsDeleted, 1);
    assert.deepEqual(await sinkRows(collection), await expected(collection));
  });

  it('metadata columns land in every chunk\'s metadata, `search --where` filters on them, and a change of metadata alone is rewritten without embedding', async () => {
    const meta = () =>
      withPg(async (c) => (await c.query<{ document_id: string; metadata: Record<string, unknown> }>(`SELECT document_id, metadata FROM public.${collection} ORDER BY document_id::int, chunk_index`)).rows);
    const tags = await withPg(async (c) => new Map((await c.query<{ id: string; tag: string | null }>(`SELECT id::text AS id, tag FROM ${table}`)).rows.map((r) => [r.id, r.tag])));
    const rows = await meta();
    assert.ok(rows.length > 30);
    for (const r of rows) {
      const tag = tags.get(r.document_id);
      if (tag === null) assert.equal('tag' in r.metadata, false, `row ${r.document_id}: a NULL is left out`);
      else assert.equal(r.metadata.tag, tag, `row ${r.document_id}`);
      assert.equal(r.metadata.path, r.document_id, 'the built-in keys are still there');
      assert.equal(r.metadata.format, 'text');
    }
    const deps: SearchDeps = { store: rig.worker.deps.store, sinks: rig.worker.deps.sinks, embedder: rig.worker.deps.embedder };
    const found = await searchCollection(deps, { collection, query: 'durable workflows and vectors', limit: 50, where: ['tag=t1'] });
    assert.ok(found.results.length > 0);
    assert.deepEqual([...new Set(found.results.map((x) => tags.get(x.documentId)))], ['t1'], 'only rows tagged t1');
    assert.deepEqual(
      new Set(found.results.map((x) => x.documentId)),
      new Set([...tags].filter(([, t]) => t === 't1').map(([id]) => id)),
      'every row tagged t1 (limit 50 holds them all)',
    );

    await withPg((c) => c.query(`UPDATE ${table} SET tag = 'moved', updated_at = now() + interval '2 seconds' WHERE id = 5`));
    const r = await rig.ingest({ collection, source, chunking: CHUNKING, pageSize: 7 });
    assert.equal(r.reads, 1);
    assert.equal(r.result.counters.documentsChanged, 1, 'same text, new metadata: the row lands again');
    assert.equal(r.embedded, 0, 'its vectors come from the cache');
    const moved = (await meta()).filter((x) => x.document_id === '5');
    assert.ok(moved.length > 0 && moved.every((x) => x.metadata.tag === 'moved'), JSON.stringify(moved));
    const byTag = await searchCollection(deps, { collection, query: 'durable workflows', limit: 10, where: ['tag=moved'] });
    assert.deepEqual([...new Set(byTag.results.map((x) => x.documentId))], ['5']);
  });

  it('from `vector-ingest ingest postgres://ENV/schema.table?…` (no updated_at: Postgres fingerprints rows by md5)', async () => {
    const address = `postgres://${ENV}/${table}?id=id&text=title,body`;
    const first = await rig.viaCli(address, viaCli, ['--chunk-tokens', '60', '--overlap-tokens', '8']);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(await sinkRows(viaCli), await expected(viaCli));
    const again = await rig.viaCli(address, viaCli, ['--chunk-tokens', '60', '--overlap-tokens', '8']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.reads, 0);
    assert.equal(again.embedded, 0);
    await withPg((c) => c.query(`UPDATE ${table} SET title = 'Article 2, retitled' WHERE id = 2`)); // updated_at untouched
    const changed = await rig.viaCli(address, viaCli, ['--chunk-tokens', '60', '--overlap-tokens', '8']);
    assert.equal(changed.reads, 1, 'the md5 fingerprint notices a change without updated_at');
    assert.deepEqual(await sinkRows(viaCli), await expected(viaCli));
  });

  it('from `temporal workflow start` with a JSON postgres source', async () => {
    const r = await rig.viaTemporalCli(viaTcli, source, { chunking: CHUNKING });
    assert.equal(r.result.counters.documentsListed, 30);
    assert.deepEqual(await sinkRows(viaTcli), await expected(viaTcli));
  });

  it('a missing column or table, an unset variable, an unreachable or refusing server: a ConfigError naming it, nothing written, CLI exit 2', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ ...source, text: ['title', 'no_such_col'] }, /no_such_col/],
      [{ ...source, table: `${schema}.nope` }, /does not exist/],
      [{ ...source, connectionEnv: 'VI_TEST_UNSET_DB' }, /has no VI_TEST_UNSET_DB/],
      [{ ...source, connectionEnv: 'VI_TEST_UNREACHABLE_DB' }, /database unreachable/],
      [{ ...source, connectionEnv: 'VI_TEST_NOBODY_DB' }, /authentication refused/],
    ];
    for (const [spec, why] of cases) {
      const name = uniqueCollection('it_pgbad');
      const msg = await failureOf(rig.ingest({ collection: name, source: spec as never }));
      assert.match(msg, /ConfigError/);
      assert.match(msg, why);
      assert.equal(await tableExists(name), false);
    }
    const out = await rig.cli(['ingest', `postgres://${ENV}/${table}?id=id&text=nope`, '--collection', uniqueCollection('it_pgbad')]);
    assert.equal(out.code, 2, out.stderr);
    assert.match(out.stderr, /nope/);
  });

  it('names are validated and quoted; the connection cannot write', async () => {
    assert.throws(() => openSource({ ...source, table: 'articles; DROP TABLE x' }), /not a plain identifier/);
    assert.throws(() => openSource({ ...source, text: ['body"--'] }), /not a plain identifier/);
    const ctx = createSourceContext(tempDir('vi-pgctx-'), { [ENV]: TEST_DATABASE_URL });
    try {
      const src = openSource(source, ctx) as unknown as { pool(): import('pg').Pool };
      await assert.rejects(src.pool().query(`CREATE TABLE ${schema}.written (x int)`), /read-only transaction/);
    } finally {
      await ctx.close();
    }
  });
});
