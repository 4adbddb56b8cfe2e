/**
 * Error types the activities throw. Their `type` names are stable: retry policies list the
 * non-retryable ones, the replay workflow groups failures by them, and operators filter on them.
 */

export type DocumentErrorType =
  | 'BinaryDocument'
  | 'InvalidUtf8'
  | 'EmptyDocument'
  | 'DocumentTooLarge'
  | 'UnreadableDocument'
  | 'DocumentVanished'
  | 'UnsupportedDocument';

/** A problem with one document: it is recorded against that document and the run goes on. */
export class DocumentError extends Error {
  constructor(
    readonly type: DocumentErrorType,
    message: string,
  ) {
    super(message);
    this.name = 'DocumentError';
  }
}

/** Bad configuration or input that no retry can fix; the run fails with this message. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
