/**
 * Error type names no retry can fix. Shared by the activities (which throw them) and the
 * workflow's retry policies (which must not retry them). No Node imports: used in the sandbox.
 */
export const NON_RETRYABLE_TYPES = [
  'ConfigError',
  'InvalidInput',
  'AuthenticationFailed',
  'ModelNotFound',
  'EmbeddingDimensionMismatch',
  'CollectionConfigChanged',
  // Another run writes the collection (or took it over from this one): one run at a time.
  'CollectionBusy',
];
