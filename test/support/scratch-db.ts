import pg from 'pg';
import { StateStore } from '../../src/state/store';
import { TEST_DATABASE_URL, uniqueCollection, withPg } from './env';

/**
 * A database of a test's own, on the test server: for tests whose subject is what Postgres
 * knows about the tables (statistics, plans) or who must see no other test's rows.
 */
export function scratchDatabase(prefix: string) {
  const name = uniqueCollection(prefix);
  const u = new URL(TEST_DATABASE_URL);
  u.pathname = `/${name}`;
  const url = u.toString();
  return {
    name,
    url,
    create: async (): Promise<void> => void (await withPg((c) => c.query(`CREATE DATABASE ${name}`))),
    drop: async (): Promise<void> => void (await withPg((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))),
    /**
     * Creates it with the state store's schema and a pool on it. Autovacuum is turned off for
     * `frozenTables` (state tables) so that no statistics are taken while the test runs.
     */
    async createStateStore(frozenTables: string[]): Promise<{ pool: pg.Pool; store: StateStore }> {
      await this.create();
      const pool = new pg.Pool({ connectionString: url, max: 2 });
      const store = new StateStore(pool);
      await store.migrate();
      for (const t of frozenTables) await pool.query(`ALTER TABLE vector_ingest.${t} SET (autovacuum_enabled = false)`);
      return { pool, store };
    },
  };
}
