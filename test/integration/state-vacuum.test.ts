import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import pino from 'pino';
import type { DevServer } from '../../src/embedded/temporal';
import { startEmbeddedPostgres } from '../../src/embedded/pglite';
import { ingestCollection } from '../../src/workflows';
import { TASK_QUEUE, type IngestResult } from '../../src/contracts/ingest';
import { StateStore } from '../../src/state/store';
import { CHURN_TABLES, DEFAULT_VACUUM_POLICY, needsVacuum, vacuumChurnTables } from '../../src/state/vacuum';
import { BackgroundVacuum } from '../../src/activities/vacuum-state';
import { buildCorpus } from '../support/corpus';
import { startTemporal, startTestWorker, teardown, tempDir, testClient, testConfig, uniqueCollection, withPg, type TestWorker } from '../support/env';

const S = 'vector_ingest';
const BLOAT = 15_000; // dead rows per churn table: above DEFAULT_VACUUM_POLICY.minDead

interface TableStats {
  relname: string;
  live: number;
  dead: number;
  lastVacuum: Date | null;
}

async function churnStats(c: pg.Client | pg.Pool): Promise<Map<string, TableStats>> {
  const r = await c.query<TableStats>(
    `SELECT relname, n_live_tup::float8 AS live, n_dead_tup::float8 AS dead, last_vacuum AS "lastVacuum"
     FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = ANY($2::text[])`,
    [S, CHURN_TABLES],
  );
  return new Map(r.rows.map((x) => [x.relname, x]));
}

/** Statistics reach pg_stat_user_tables a little after the writes (each backend flushes its own): poll, bounded. */
async function until(what: string, ok: (s: Map<string, TableStats>) => boolean): Promise<Map<string, TableStats>> {
  let last = new Map<string, TableStats>();
  for (let i = 0; i < 100; i++) {
    last = await withPg(churnStats);
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`${what}: ${JSON.stringify([...last.values()])}`);
}

/** Dead rows in every churn table, made as a big run of another collection makes them: inserted, then deleted. */
async function bloat(c: pg.Client | pg.Pool, n: number): Promise<void> {
  await c.query(
    `INSERT INTO ${S}.staged_chunks (collection, run_key, page_no, batch_no, document_id, chunk_index, point_id, text_hash, content, tokens)
     SELECT 'it_vacuum_big', 'big', g / 1000, 0, 'd' || g, 0, gen_random_uuid(), md5(g::text), repeat('x', 200), 50 FROM generate_series(1, $1::int) g`,
    [n],
  );
  await c.query(`DELETE FROM ${S}.staged_chunks WHERE collection = 'it_vacuum_big'`);
  await c.query(`INSERT INTO ${S}.documents (collection, document_id) SELECT 'it_vacuum_big', 'd' || g FROM generate_series(1, $1::int) g`, [n]);
  await c.query(`DELETE FROM ${S}.documents WHERE collection = 'it_vacuum_big'`);
  await c.query(
    `INSERT INTO ${S}.embedding_cache (model, dimensions, text_hash, embedding)
     SELECT 'it-vacuum-big', 3, md5(g::text), '[1,2,3]' FROM generate_series(1, $1::int) g`,
    [n],
  );
  await c.query(`DELETE FROM ${S}.embedding_cache WHERE model = 'it-vacuum-big'`);
  await c.query('SELECT pg_stat_force_next_flush()');
}

/** The end-of-run vacuum runs on the worker after the run has completed (BackgroundVacuum): its log lines come a little later. */
async function logged(logs: string[], what: string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const line = logs.find((l) => l.includes(what));
    if (line) return line;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`never logged: ${what}: ${logs.join('')}`);
}

async function dbNow(): Promise<Date> {
  return withPg(async (c) => (await c.query<{ now: Date }>('SELECT clock_timestamp() AS now')).rows[0]!.now);
}

// Postgres with autovacuum off (this machine's and CI's) keeps every dead row a run leaves in the
// state store, and later runs walk them. A finished run vacuums the churn tables that are due.
describe('state store vacuum at the end of a run', () => {
  let server: DevServer;
  let worker: TestWorker;
  let tc: Awaited<ReturnType<typeof testClient>>;
  let dir: string;
  const logs: string[] = [];
  const collection = uniqueCollection('it_vacuum');
  let runs = 0;
  const ingest = async (): Promise<IngestResult> => {
    const h = await tc.client.workflow.start(ingestCollection, {
      taskQueue: TASK_QUEUE,
      workflowId: `${collection}-${++runs}`,
      args: [{ collection, source: { kind: 'directory', path: dir }, chunking: { chunkTokens: 120, overlapTokens: 16 }, pageSize: 10 }],
    });
    return h.result();
  };

  before(async () => {
    dir = tempDir('vi-vacuum-');
    buildCorpus(dir, { files: 12, largeFiles: 1 });
    server = await startTemporal();
    const sink = new Writable({ write: (chunk, _enc, done) => (logs.push(String(chunk)), done()) });
    worker = await startTestWorker(server, testConfig({ logLevel: 'info' }), undefined, pino({ level: 'info' }, sink));
    tc = await testClient(server);
  });

  after(() => teardown({ tc, worker, server, collection }));

  it('the migration lowers autovacuum\'s thresholds on the churn tables (for servers that run it)', async () => {
    const r = await withPg((c) =>
      c.query<{ relname: string; reloptions: string[] | null }>(
        `SELECT c.relname, c.reloptions FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = ANY($2::text[])`,
        [S, CHURN_TABLES],
      ),
    );
    assert.equal(r.rows.length, CHURN_TABLES.length);
    for (const t of r.rows) {
      assert.ok(t.reloptions?.includes('autovacuum_vacuum_scale_factor=0.02'), `${t.relname}: ${t.reloptions}`);
      assert.ok(t.reloptions?.includes('autovacuum_analyze_scale_factor=0.02'), `${t.relname}: ${t.reloptions}`);
    }
  });

  it('a finished run leaves the churn tables that were above the threshold vacuumed and under it', async () => {
    await withPg((c) => bloat(c, BLOAT));
    const before = await until('dead rows recorded', (s) => CHURN_TABLES.every((t) => (s.get(t)?.dead ?? 0) >= BLOAT));
    for (const t of CHURN_TABLES) assert.ok(needsVacuum(before.get(t)!), `${t} due before the run`);
    const t0 = await dbNow();
    const r = await ingest();
    assert.ok(r.counters.chunksUpserted > 0);
    const after = await until('every churn table vacuumed by the run', (s) => CHURN_TABLES.every((t) => (s.get(t)?.lastVacuum ?? new Date(0)) > t0));
    for (const t of CHURN_TABLES) {
      const s = after.get(t)!;
      assert.ok(s.dead < DEFAULT_VACUUM_POLICY.minDead && !needsVacuum(s), `${t}: ${s.dead} dead rows left`);
    }
    await logged(logs, 'vacuumed a state table');
  });

  it('a VACUUM that fails (a lock another session holds) is logged and the run still succeeds', async () => {
    await withPg((c) => bloat(c, BLOAT));
    await until('dead rows recorded', (s) => (s.get('staged_chunks')?.dead ?? 0) >= BLOAT && (s.get('documents')?.dead ?? 0) >= BLOAT);
    const holder = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/vector_ingest_test' });
    await holder.connect();
    try {
      // What a VACUUM in progress holds: VACUUM waits for it, ordinary writes do not.
      await holder.query('BEGIN');
      await holder.query(`LOCK TABLE ${S}.staged_chunks IN SHARE UPDATE EXCLUSIVE MODE`);
      const t0 = await dbNow();
      logs.length = 0;
      const r = await ingest();
      assert.ok(r.counters.chunksUpserted >= 0);
      const s = await until('documents vacuumed by the run', (x) => (x.get('documents')?.lastVacuum ?? new Date(0)) > t0);
      assert.ok(!((s.get('staged_chunks')?.lastVacuum ?? new Date(0)) > t0), 'the locked table was not vacuumed');
      assert.ok((s.get('staged_chunks')?.dead ?? 0) >= BLOAT, 'its dead rows are still there');
      const warned = await logged(logs, 'could not vacuum a state table');
      assert.ok(warned.includes('staged_chunks'), `a warning names the table: ${logs.join('')}`);
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    // The next finished run catches up.
    const t1 = await dbNow();
    await ingest();
    await until('staged_chunks vacuumed by the next run', (x) => (x.get('staged_chunks')?.lastVacuum ?? new Date(0)) > t1);
  });

  it('the worker\'s background vacuum: a request returns at once, and stopping it cancels a VACUUM in progress', async () => {
    await withPg((c) => bloat(c, BLOAT));
    await until('dead rows recorded', (s) => (s.get('staged_chunks')?.dead ?? 0) >= BLOAT);
    const pool = new pg.Pool({ connectionString: process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/vector_ingest_test', max: 3 });
    const holder = await pool.connect();
    const lines: string[] = [];
    const log = pino({ level: 'info' }, new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }));
    // A minute's lock timeout: without the stop, it would wait that long for the lock held here.
    const bg = new BackgroundVacuum({ store: new StateStore(pool), log }, { lockTimeoutMs: 60_000 });
    try {
      await holder.query('BEGIN');
      await holder.query(`LOCK TABLE ${S}.staged_chunks IN SHARE UPDATE EXCLUSIVE MODE`);
      const t0 = Date.now();
      bg.request();
      bg.request(); // while one runs: once more after it, not two at a time
      assert.ok(Date.now() - t0 < 50, 'request() does not wait for the work');
      for (let i = 0; ; i++) {
        const r = await pool.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'VACUUM (ANALYZE) ${S}.staged_chunks%' AND wait_event_type = 'Lock'`);
        if (r.rows[0].n > 0) break;
        assert.ok(i < 150, 'the VACUUM of the locked table never started waiting');
        await new Promise((res) => setTimeout(res, 200));
      }
      const t1 = Date.now();
      await bg.stop();
      assert.ok(Date.now() - t1 < 5_000, `stop() took ${Date.now() - t1} ms`);
      assert.ok(lines.some((l) => l.includes('the worker is shutting down') && l.includes('staged_chunks')), lines.join(''));
      bg.request(); // stopped: nothing more starts
      await bg.idle();
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
      await pool.end();
    }
  });

  it('on PGlite (the embedded store) the same migration and vacuum work', async () => {
    const e = await startEmbeddedPostgres(mkdtempSync(tempDir('vi-vacuum-pglite-')));
    const pool = new pg.Pool({ connectionString: e.url, max: 2 });
    try {
      await new StateStore(pool).migrate();
      await bloat(pool, BLOAT);
      const before = await churnStats(pool);
      assert.ok(CHURN_TABLES.every((t) => needsVacuum(before.get(t)!)), JSON.stringify([...before.values()]));
      const out = await vacuumChurnTables(pool);
      assert.deepEqual(out.map((t) => [t.table, t.vacuumed]).sort(), CHURN_TABLES.map((t) => [t, true]).sort());
      const after = await churnStats(pool);
      for (const t of CHURN_TABLES) assert.ok(!needsVacuum(after.get(t)!), `${t}: ${after.get(t)!.dead} dead`);
      assert.equal((await pool.query('SHOW statement_timeout')).rows[0].statement_timeout, '0', 'the shared session keeps its settings');
    } finally {
      await pool.end();
      await e.stop();
    }
  });
});
