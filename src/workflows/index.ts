// Entry point of the workflow bundle: every workflow type the workers register.
export { ingestCollection, progressQuery } from './ingest';
export { replayFailures, recordFailuresSignal, resolveFailuresSignal, failuresQuery, replayUpdate } from './replay';
export { reindexCollection } from './reindex';
