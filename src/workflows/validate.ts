import { ApplicationFailure } from '@temporalio/workflow';
import { validateCollectionName } from '../naming';

/** A collection name from workflow input, or a non-retryable failure that says what is wrong. */
export function collectionOrFail(name: unknown): string {
  try {
    return validateCollectionName(name);
  } catch (err) {
    throw ApplicationFailure.nonRetryable((err as Error).message, 'ConfigError');
  }
}
