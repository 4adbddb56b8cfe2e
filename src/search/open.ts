import pg from 'pg';
import type { Config } from '../config';
import { createEmbedder } from '../embedders';
import { createSinks } from '../sinks';
import { StateStore } from '../state/store';
import type { SearchDeps } from './search';

/**
 * Builds what searchCollection needs from a configuration: one small pg pool (state store and
 * pgvector), the Qdrant sink when QDRANT_URL is set, and the configured embedder. Read-only: it
 * migrates nothing and starts no worker and no Temporal connection. Call close() when done.
 */
export async function openSearch(config: Config, databaseUrl: string): Promise<SearchDeps & { close(): Promise<void> }> {
  // The embedder first: the local model checks its files and may refuse (naming the install command).
  const embedder = await createEmbedder(config);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2, connectionTimeoutMillis: 15_000, application_name: 'vector-ingest-search' });
  pool.on('error', () => undefined); // an idle connection lost; the next query reconnects
  const sinks = createSinks(config, pool);
  return {
    store: new StateStore(pool),
    sinks,
    embedder,
    close: async () => {
      await embedder.close();
      await pool.end();
    },
  };
}
