import { ConfigError } from '../errors';

/** No collection of that name in the state store (nothing was ingested under it). */
export class CollectionNotFoundError extends Error {
  readonly type = 'CollectionNotFound';
  constructor(readonly collection: string) {
    super(`no collection ${JSON.stringify(collection)}: nothing has been ingested under that name`);
    this.name = 'CollectionNotFoundError';
  }
}

/**
 * The embedder in hand is not the one the collection was embedded with: its query vectors would
 * be compared with vectors of another model (meaningless scores) or another size (an error).
 */
export class EmbedderMismatchError extends ConfigError {
  readonly type = 'EmbedderMismatch';
  constructor(
    readonly collection: string,
    readonly recorded: { model: string; dimensions: number },
    readonly configured: { model: string; dimensions: number },
  ) {
    super(
      `collection ${collection} was embedded with model ${recorded.model} (${recorded.dimensions} dimensions), ` +
        `but the configured embedder is ${configured.model} (${configured.dimensions} dimensions); ` +
        `configure ${recorded.model} (EMBEDDING_MODEL, EMBEDDING_DIMENSIONS, the provider's settings) to search it`,
    );
    this.name = 'EmbedderMismatchError';
  }
}
