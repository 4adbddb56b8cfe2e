import type { Logger } from 'pino';
import type { Embedder } from '../embedders/types';
import type { FailureReporter } from '../failure-reporter';
import type { VectorStore } from '../sinks/types';
import type { StateStore } from '../state/store';

/** Everything an activity may touch, built once per worker process (src/deps.ts). */
export interface ActivityDeps {
  store: StateStore;
  sink: VectorStore;
  embedder: Embedder;
  log: Logger;
  /** Items that failed for good go to the collection's replay workflow through this. */
  failures: FailureReporter;
  /** The namespace has our custom search attributes, so workflows may upsert them. */
  searchAttributes: boolean;
  limits: {
    /** Documents larger than this are refused (DocumentTooLarge) instead of read. */
    maxDocumentBytes: number;
  };
}
