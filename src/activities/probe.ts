import type { ActivityDeps } from './deps';

/**
 * One tiny embedding request: is the provider back? The ingest workflow calls it while its
 * circuit breaker is open instead of letting every batch burn its retries on a dead provider.
 */
export async function probeEmbedder(deps: ActivityDeps): Promise<{ ok: true; dimensions: number }> {
  const res = await deps.embedder.embed(['vector-ingest health probe']);
  return { ok: true, dimensions: res.vectors[0]?.length ?? 0 };
}
