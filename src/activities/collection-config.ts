import { ConfigError } from '../errors';
import { validateCollectionName } from '../naming';
import type { IngestInput } from '../contracts/ingest';
import type { ActivityDeps } from './deps';

/**
 * The saved ingest configuration of a collection (its last ingest's source and options), which
 * a scheduled re-index repeats. A collection that was never ingested cannot be re-indexed.
 */
export async function loadIngestConfig(deps: ActivityDeps, input: { collection: string }): Promise<Omit<IngestInput, 'state' | 'full'>> {
  const name = validateCollectionName(input.collection);
  const rec = await deps.store.collections.get(name);
  if (!rec?.ingestConfig) {
    throw new ConfigError(`collection ${name} has never been ingested here, so there is nothing to re-index; run \`vector-ingest ingest <dir> --collection ${name}\` first`);
  }
  return { ...(rec.ingestConfig as Omit<IngestInput, 'state' | 'full'>), collection: name };
}
