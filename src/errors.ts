import { headerLookup, retryAfterMs } from './retry-hints';

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
  | 'UnsupportedDocument'
  /** A file whose bytes are not the format its extension claims (a .pdf that is not a PDF). */
  | 'FormatMismatch'
  /** A PDF with no text layer (scanned pages): OCR it first. */
  | 'NoTextLayer'
  /** A password-protected document. */
  | 'EncryptedDocument'
  /** A document its format's parser cannot make sense of. */
  | 'CorruptDocument'
  /** A PDF over VECTOR_INGEST_MAX_PDF_PAGES. */
  | 'TooManyPages'
  /** A zip container (DOCX) that would inflate past VECTOR_INGEST_MAX_UNZIPPED_BYTES. */
  | 'ZipBomb'
  /** A source file with a line over VECTOR_INGEST_MAX_CODE_LINE_BYTES (minified or generated). */
  | 'LineTooLong';

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

/**
 * What went wrong talking to a provider, in terms the retry policy cares about. Embedders and
 * sinks throw these; activities turn them into Temporal failures. Types are stable names.
 */
export type ProviderErrorType =
  | 'RateLimited' // 429: retry after the server's hint
  | 'ProviderUnavailable' // 5xx, refused/reset connections, timeouts: retry with backoff
  | 'InvalidInput' // 400/422 on the input: no retry; isolate the bad item
  | 'AuthenticationFailed' // 401/403: no retry; the run cannot succeed
  | 'ModelNotFound' // 404: no retry; the run cannot succeed
  | 'EmbeddingDimensionMismatch'; // vectors of the wrong size: no retry

export class ProviderError extends Error {
  constructor(
    readonly type: ProviderErrorType,
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

export class EmbeddingDimensionError extends ProviderError {
  constructor(message: string) {
    super('EmbeddingDimensionMismatch', message, false);
  }
}

export function classifyHttpStatus(
  status: number | undefined,
  message: string,
  headers?: unknown,
): ProviderError {
  if (status === 429) {
    return new ProviderError('RateLimited', `rate limited: ${message}`, true, retryAfterMs(headerLookup(headers)), status);
  }
  if (status === 401 || status === 403) {
    return new ProviderError('AuthenticationFailed', `authentication failed (${status}): ${message}; check the API key`, false, undefined, status);
  }
  if (status === 404) {
    return new ProviderError('ModelNotFound', `not found (404): ${message}; check the model name and base URL`, false, undefined, status);
  }
  if (status === 400 || status === 413 || status === 422) {
    return new ProviderError('InvalidInput', `rejected input (${status}): ${message}`, false, undefined, status);
  }
  if (status === 408 || status === 409 || (status !== undefined && status >= 500)) {
    return new ProviderError('ProviderUnavailable', `provider error (${status}): ${message}`, true, retryAfterMs(headerLookup(headers)), status);
  }
  if (status !== undefined && status >= 400) {
    return new ProviderError('InvalidInput', `request failed (${status}): ${message}`, false, undefined, status);
  }
  return new ProviderError('ProviderUnavailable', message, true);
}
