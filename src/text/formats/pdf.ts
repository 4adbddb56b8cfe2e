import { createRequire } from 'node:module';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DocumentError } from '../../errors';
import { normalizeWhitespace } from '../decode';
import type { ExtractContext, Format, Section } from './types';

type PdfJs = typeof import('pdfjs-dist/legacy/build/pdf.mjs');

const requireHere = createRequire(__filename);
const pdfjsRoot = path.dirname(requireHere.resolve('pdfjs-dist/package.json'));

let pdfjs: Promise<PdfJs> | undefined;
/**
 * pdfjs-dist is ESM only and large: loaded on the first PDF, once per process, by file URL (a
 * bare specifier does not resolve from every loader this code runs under, e.g. tsx's).
 */
function loadPdfJs(): Promise<PdfJs> {
  pdfjs ??= import(pathToFileURL(requireHere.resolve('pdfjs-dist/legacy/build/pdf.mjs')).href) as Promise<PdfJs>;
  return pdfjs;
}

/** A PDF starts with %PDF- within its first kilobyte (some writers put junk before it). */
function looksLikePdf(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 1024)).toString('latin1');
  return head.includes('%PDF-');
}

function describeStart(bytes: Uint8Array): string {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 8));
  if (head[0] === 0x50 && head[1] === 0x4b) return 'a zip archive';
  const text = head.toString('latin1');
  if (/^\s*</.test(text)) return 'markup (HTML or XML)';
  if (/^[\x20-\x7e\s]*$/.test(text)) return 'text';
  return 'binary data of another kind';
}

/**
 * PDF through Mozilla's pdf.js (pdfjs-dist): the text layer of each page, one section per page,
 * so each chunk knows its page. What pdf.js's text layer gives is what a reader's copy-paste
 * gives: tables come out as cells separated by spaces, one row per line; multi-column pages are
 * read in the order the PDF draws them (usually column by column); words hyphenated across lines
 * stay split. Refused per document: not a PDF, encrypted, unparseable, more pages than
 * `maxPdfPages`, or no text at all (scanned pages without OCR).
 */
export const pdf: Format = {
  name: 'pdf',
  extensions: ['.pdf'],
  async extract(bytes, ctx) {
    const id = ctx.documentId;
    if (!looksLikePdf(bytes)) {
      throw new DocumentError('FormatMismatch', `${id}: is named .pdf but is not a PDF (no %PDF- header; it looks like ${describeStart(bytes)})`);
    }
    const lib = await loadPdfJs();
    const task = lib.getDocument({
      // pdf.js takes ownership of (detaches) the buffer it is given: give it a copy.
      data: new Uint8Array(bytes),
      isEvalSupported: false,
      disableFontFace: true,
      useSystemFonts: false,
      stopAtErrors: false,
      verbosity: 0,
      standardFontDataUrl: `${pdfjsRoot}/standard_fonts/`,
      cMapUrl: `${pdfjsRoot}/cmaps/`,
      cMapPacked: true,
    });
    let doc: Awaited<typeof task.promise>;
    try {
      doc = await task.promise;
    } catch (err) {
      await task.destroy().catch(() => undefined);
      throw classify(id, err);
    }
    try {
      const pages = doc.numPages;
      if (pages > ctx.limits.maxPdfPages) {
        throw new DocumentError(
          'TooManyPages',
          `${id}: has ${pages} pages; the limit is ${ctx.limits.maxPdfPages} (VECTOR_INGEST_MAX_PDF_PAGES)`,
        );
      }
      const sections = await pageTexts(doc, ctx);
      if (sections.length === 0) {
        throw new DocumentError('NoTextLayer', `${id}: none of its ${pages} pages has a text layer (scanned?); run OCR on it first`);
      }
      const info = (await doc.getMetadata().catch(() => undefined))?.info as { Title?: unknown } | undefined;
      const title = typeof info?.Title === 'string' && info.Title.trim() ? info.Title.trim().slice(0, 200) : undefined;
      return { sections, metadata: { title, pages } };
    } catch (err) {
      throw classify(id, err);
    } finally {
      await doc.destroy().catch(() => undefined);
    }
  },
};

async function pageTexts(doc: { numPages: number; getPage(n: number): Promise<PdfPage> }, ctx: ExtractContext): Promise<Section[]> {
  const sections: Section[] = [];
  for (let n = 1; n <= doc.numPages; n++) {
    ctx.progress?.();
    const page = await doc.getPage(n);
    const content = await page.getTextContent();
    let s = '';
    for (const item of content.items) {
      if (!('str' in item)) continue;
      s += item.str;
      if (item.hasEOL) s += '\n';
    }
    page.cleanup();
    const text = normalizeWhitespace(s);
    if (text.length > 0) sections.push({ text, headingPath: [], page: n, major: true });
  }
  return sections;
}

interface PdfPage {
  getTextContent(): Promise<{ items: Array<{ str: string; hasEOL: boolean } | object> }>;
  cleanup(): void;
}

function classify(id: string, err: unknown): Error {
  if (err instanceof DocumentError) return err;
  const name = (err as Error)?.name;
  const message = ((err as Error)?.message ?? String(err)).slice(0, 200);
  if (name === 'PasswordException') {
    return new DocumentError('EncryptedDocument', `${id}: is encrypted (password-protected); it cannot be read without the password`);
  }
  return new DocumentError('CorruptDocument', `${id}: cannot be parsed as a PDF (${name ?? 'Error'}: ${message})`);
}
