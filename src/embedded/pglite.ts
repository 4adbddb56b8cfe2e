import { mkdirSync } from 'node:fs';
import * as path from 'node:path';

export interface EmbeddedPostgres {
  /** postgres:// URL of the socket server; hand it to `pg` like any Postgres. */
  url: string;
  stop(): Promise<void>;
}

/**
 * The embedded default store: PGlite (Postgres compiled to WASM) with pgvector, persisted under
 * the data directory and served over a local socket so that `pg` talks to it like to any
 * Postgres. The socket server multiplexes several client connections over PGlite's single one.
 * One process at a time may open a PGlite directory.
 */
export async function startEmbeddedPostgres(dataDir: string, opts: { port?: number; maxConnections?: number } = {}): Promise<EmbeddedPostgres> {
  const dir = path.join(dataDir, 'pglite');
  mkdirSync(dir, { recursive: true });
  const { PGlite } = await import('@electric-sql/pglite');
  const { vector } = await import('@electric-sql/pglite-pgvector');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  let db;
  try {
    db = await PGlite.create(dir, { extensions: { vector } });
  } catch (err) {
    throw new Error(
      `cannot open the embedded database in ${dir} (is another vector-ingest process using this data dir?): ${(err as Error).message}`,
    );
  }
  await db.exec('CREATE EXTENSION IF NOT EXISTS vector');
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: opts.port ?? 0, maxConnections: opts.maxConnections ?? 16 });
  await server.start();
  const conn = server.getServerConn(); // "127.0.0.1:PORT"
  return {
    url: `postgres://postgres@${conn}/postgres?sslmode=disable`,
    stop: async () => {
      await server.stop();
      await db.close();
    },
  };
}
