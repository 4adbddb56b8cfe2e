import type { DocumentFormat } from '../text/extract';

export interface SourceItem {
  /** Stable document id within the collection (a relative POSIX path for directories). */
  id: string;
  format: DocumentFormat;
  /** Size in bytes, when the listing knows it (chunk metadata `byte_size` uses the bytes read). */
  size?: number;
  /** Last modification time, ISO 8601, when the source knows it (chunk metadata `modified_at`). */
  modifiedAt?: string;
}

export interface SourcePage {
  items: SourceItem[];
  /** Cursor to pass for the next page; null when this was the last page. */
  nextCursor: string | null;
}

export interface Source {
  /** Lists up to `limit` documents after `cursor` in a stable order. */
  listPage(cursor: string | null, limit: number): Promise<SourcePage>;
  /** Reads one document's bytes; throws DocumentError for per-document problems. */
  read(item: SourceItem, maxBytes: number): Promise<Uint8Array>;
  /** Human description for errors and logs. */
  describe(): string;
}
