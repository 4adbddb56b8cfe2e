import type { DocumentFormat } from '../text/extract';
import { BINARY_FORMATS, formatOfContentType } from './web-crawl';

/**
 * PDF or DOCX by the body's first bytes, or undefined. Strict, so a page that merely mentions
 * them is not taken for one: a PDF starts with `%PDF-`; a DOCX is a zip (`PK\3\4`) holding
 * `word/document.xml` (entry names are stored uncompressed; any other zip is not a document).
 */
export function sniffBinaryFormat(body: Uint8Array): DocumentFormat | undefined {
  const b = Buffer.from(body.buffer, body.byteOffset, body.length);
  if (b.length >= 5 && b.toString('latin1', 0, 5) === '%PDF-') return 'pdf';
  if (b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04 && b.includes('word/document.xml', 0, 'latin1')) return 'docx';
  return undefined;
}

/**
 * The format to parse a fetched body as. The listing's format is a guess from the URL (a sitemap
 * entry `/download/report` is listed as HTML), so the answer decides: the body's magic bytes,
 * else its Content-Type. Between text formats the listing's stands (it is finer: `.py` is code,
 * though served as text/plain); where PDF or DOCX is involved on either side, the answer wins,
 * since those parsers read nothing else. Undefined: not a document we index.
 */
export function formatOfBody(listed: DocumentFormat, contentType: string | null, url: string, body: Uint8Array): DocumentFormat | undefined {
  const served = sniffBinaryFormat(body) ?? formatOfContentType(contentType, url);
  if (served === undefined) return undefined;
  return BINARY_FORMATS.has(served) || BINARY_FORMATS.has(listed) ? served : listed;
}
