import type { ActivityDeps } from './deps';

/**
 * A database round trip and one tiny embedding request: are the dependencies back? The ingest workflow calls it while its
 * circuit breaker is open instead of letting every batch burn its retries on a dead provider.
 * It probes the database as well as the embedder; the name stays because recorded histories name it.
 */
export async function probeEmbedder(deps: ActivityDeps): Promise<{ ok: true; dimensions: number }> {
  await deps.store.pool.query('SELECT 1'); // the state store is a dependency of every batch too
  const res = await deps.embedder.embed(['vector-ingest health probe']);
  return { ok: true, dimensions: res.vectors[0]?.length ?? 0 };
}
