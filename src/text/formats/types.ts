/**
 * What a document format is: the file extensions it claims and how it turns a document's bytes
 * into text. Each format lives in one file of this folder and is registered by one line in
 * ./index.ts. Formats get bytes, not text: binary formats (PDF, DOCX) parse them, text formats
 * decode them (strict UTF-8) themselves.
 */

/** Limits a format enforces on one document; each is a worker setting (src/config.ts). */
export interface FormatLimits {
  /** PDFs with more pages are refused (TooManyPages). */
  maxPdfPages: number;
  /** Zip containers (DOCX) whose entries add up to more are refused before inflating (ZipBomb). */
  maxUnzippedBytes: number;
  /** Source files with a longer line are refused (LineTooLong): minified or generated code. */
  maxCodeLineBytes: number;
}

export const DEFAULT_FORMAT_LIMITS: FormatLimits = {
  maxPdfPages: 2_000,
  maxUnzippedBytes: 100 * 1024 * 1024,
  maxCodeLineBytes: 20_000,
};

export interface ExtractContext {
  /** The document's id, first word of every error message. */
  documentId: string;
  /** The file name or path, for formats that look at the extension (code: the language). */
  path: string;
  limits: FormatLimits;
  /** The chunk size the document will be cut to: formats that split by structure size to it. */
  chunkTokens?: number;
  /** Called now and then by long extractions (a PDF's pages) so the activity can heartbeat. */
  progress?: () => void;
}

/**
 * A stretch of a document under one heading (or on one page, or one code definition). Its text
 * is the original text, heading line included; sections in order cover the whole document.
 */
export interface Section {
  text: string;
  /** Headings from the top down to this section's own: ["Guide", "Install", "Linux"]. */
  headingPath: string[];
  /** PDF page number, from 1. */
  page?: number;
  /**
   * A boundary chunks keep: an h1/h2 heading, a PDF page. A chunk never holds text from both
   * sides of a major boundary unless what came before it is tiny.
   */
  major: boolean;
  /**
   * The text is a verbatim slice of the document, whitespace included (code): neighbours are
   * joined as they are, so a chunk is a contiguous stretch of the file. Otherwise sections are
   * joined by a blank line.
   */
  verbatim?: boolean;
}

export interface ExtractedMetadata {
  title?: string;
  /** Programming language of a source file. */
  language?: string;
  /** Page count of a PDF. */
  pages?: number;
}

/** Either plain text (chunked as one run) or sections (chunked along the structure). */
export type Extracted = ({ text: string; sections?: undefined } | { sections: Section[]; text?: undefined }) & {
  metadata: ExtractedMetadata;
};

export interface Format {
  /** The format's name, as it appears in chunk metadata (`format`). */
  name: string;
  /** Lower-case extensions with the dot: ['.md', '.markdown']. */
  extensions: readonly string[];
  extract(bytes: Uint8Array, ctx: ExtractContext): Extracted | Promise<Extracted>;
}
