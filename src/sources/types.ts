import type { SourceSpec } from '../contracts/ingest';
import type { DocumentFormat } from '../text/extract';

/** A document's own metadata from its source: JSON values (a Date becomes its ISO 8601 text). */
export type DocumentMetadata = Record<string, unknown>;

export interface SourceItem {
  /** Stable document id within the collection (a relative POSIX path for directories). */
  id: string;
  format: DocumentFormat;
  /**
   * The cheapest change signal the source has, taken while listing, before any read: a git
   * blob id, an S3 ETag and size, an HTTP ETag or Last-Modified, an `updated_at`, a file's size
   * and mtime. Equal fingerprints (under the same chunking) mean the document is unchanged, so
   * planning skips it without reading it. Absent: the document is read and its bytes hashed.
   */
  fingerprint?: string;
  /** Size in bytes, when the listing knows it (chunk metadata `byte_size` uses the bytes read). */
  size?: number;
  /** Last modification time, ISO 8601, when the source knows it (chunk metadata `modified_at`). */
  modifiedAt?: string;
}

/** What a listing passed over, so a run's summary can say what it left out. */
export interface SkipCounts {
  /** Files an include/exclude glob or a `.vectorignore` left out. */
  filesExcluded: number;
  /** Directories an exclude glob or a `.vectorignore` left out (not walked: their files are not counted). */
  directoriesExcluded: number;
  /** Files with no supported format (by extension). */
  filesUnsupported: number;
}

export interface SourcePage {
  items: SourceItem[];
  /** What this page's range of the listing passed over (sources that can tell: a directory). */
  skipped?: SkipCounts;
  /** Cursor to pass for the next page; null when this was the last page. */
  nextCursor: string | null;
  /** What the listing reflects, when the source has versions (a git commit id). */
  version?: string;
}

export interface Source {
  /** Lists up to `limit` documents after `cursor` in a stable order. */
  listPage(cursor: string | null, limit: number): Promise<SourcePage>;
  /** Reads one document's bytes; throws DocumentError for per-document problems. */
  read(item: SourceItem, maxBytes: number): Promise<Uint8Array>;
  /**
   * The same, for sources whose documents carry metadata of their own (a row's metadata
   * columns): merged into every chunk's metadata, under the keys the chunker sets itself.
   * Absent: read() and no metadata. `format`, when given, is what the bytes turned out to be
   * and overrides the item's (a web page's Content-Type or first bytes; its URL may say nothing).
   */
  readWithMetadata?(item: SourceItem, maxBytes: number): Promise<{ bytes: Uint8Array; metadata: DocumentMetadata; format?: DocumentFormat }>;
  /** Human description for errors and logs (never a secret). */
  describe(): string;
  /**
   * The format of a document known only by its id (a replay re-reads failed documents without
   * listing). Absent: by the id's extension. A web page's URL often has none.
   */
  formatOf?(id: string): DocumentFormat | undefined;
  /**
   * Checks, before a run writes anything, that the source can be listed: the host answers,
   * the credentials are accepted, the ref / bucket / table / columns exist. Throws ConfigError
   * naming the problem. Absent: nothing to check beyond what listing does.
   */
  validate?(): Promise<void>;
}

/**
 * What a source may use from the worker: its data dir, its environment (credentials and
 * connection strings are named in a spec, never carried in it), and clients shared by every
 * activity of the worker, created on first use and closed when the worker's clients close.
 */
export interface SourceContext {
  dataDir: string;
  env: Readonly<Record<string, string | undefined>>;
  shared<T>(key: string, create: () => T, close: (client: T) => Promise<void> | void): T;
}

/**
 * One kind of source: how to check its spec and open it. Each kind lives in its own file
 * (src/sources/<kind>.ts) and is registered by one line in src/sources/index.ts.
 */
export interface SourceKind<S extends SourceSpec = SourceSpec> {
  kind: S['kind'];
  /** Validates the spec's shape (ConfigError naming the field) and opens the source. No I/O. */
  open(spec: S, ctx: SourceContext): Source;
}

/** Declares a source kind with its spec type inferred from the kind name. */
export function defineSourceKind<K extends SourceSpec['kind']>(def: SourceKind<Extract<SourceSpec, { kind: K }>> & { kind: K }): SourceKind<Extract<SourceSpec, { kind: K }>> {
  return def;
}
