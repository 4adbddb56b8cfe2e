import { DocumentError } from '../errors';
import { formatByName, formatForPath, SUPPORTED_EXTENSIONS } from './formats';
import { DEFAULT_FORMAT_LIMITS } from './formats/types';

export { decodeUtf8, normalizeWhitespace } from './decode';
export { SUPPORTED_EXTENSIONS };

/** A format's name (markdown, html, text, pdf, docx, code, …: see src/text/formats/index.ts). */
export type DocumentFormat = string;

export function formatOf(path: string): DocumentFormat | undefined {
  return formatForPath(path)?.name;
}

/**
 * The plain text of a text document (markdown, HTML, plain text), sections joined: for callers
 * that want the text without the structure. The pipeline itself goes through chunkDocument
 * (src/text/document.ts), which keeps sections, pages and headings.
 */
export function extractText(documentId: string, raw: string, format: DocumentFormat): string {
  const f = formatByName(format);
  if (!f) throw new DocumentError('UnsupportedDocument', `${documentId}: no format named ${format}`);
  const out = f.extract(Buffer.from(raw, 'utf8'), { documentId, path: documentId, limits: DEFAULT_FORMAT_LIMITS });
  if (out instanceof Promise) throw new Error(`extractText: format ${format} is asynchronous; use chunkDocument`);
  return out.text ?? out.sections.map((s) => s.text).join('\n\n');
}
