import { compile } from 'html-to-text';
import { marked } from 'marked';
import { DocumentError } from '../errors';

export type DocumentFormat = 'markdown' | 'html' | 'text';

const FORMAT_BY_EXTENSION: Record<string, DocumentFormat> = {
  '.md': 'markdown',
  '.markdown': 'markdown',
  '.mdx': 'markdown',
  '.html': 'html',
  '.htm': 'html',
  '.xhtml': 'html',
  '.txt': 'text',
  '.text': 'text',
  '.rst': 'text',
  '.csv': 'text',
  '.json': 'text',
  '.yaml': 'text',
  '.yml': 'text',
};

/** Extensions a directory source picks up by default. */
export const SUPPORTED_EXTENSIONS = Object.keys(FORMAT_BY_EXTENSION);

export function formatOf(path: string): DocumentFormat | undefined {
  const dot = path.lastIndexOf('.');
  if (dot < 0) return undefined;
  return FORMAT_BY_EXTENSION[path.slice(dot).toLowerCase()];
}

const HTML_OPTIONS = {
  wordwrap: false as const,
  preserveNewlines: false,
  selectors: [
    { selector: 'a', options: { ignoreHref: true } },
    { selector: 'img', format: 'skip' },
    { selector: 'script', format: 'skip' },
    { selector: 'style', format: 'skip' },
    { selector: 'nav', format: 'skip' },
    { selector: 'h1', options: { uppercase: false } },
    { selector: 'h2', options: { uppercase: false } },
    { selector: 'h3', options: { uppercase: false } },
    { selector: 'h4', options: { uppercase: false } },
    { selector: 'h5', options: { uppercase: false } },
    { selector: 'h6', options: { uppercase: false } },
    { selector: 'table', options: { uppercaseHeaderCells: false } },
  ],
};

/** Compiled once: html-to-text's `convert` rebuilds its selector matcher on every call. */
const htmlToText = compile(HTML_OPTIONS);

/**
 * Decodes bytes as strict UTF-8. Binary and undecodable input is a per-document error, never
 * silently mangled text in the index.
 */
export function decodeUtf8(documentId: string, bytes: Uint8Array): string {
  if (bytes.includes(0)) {
    throw new DocumentError('BinaryDocument', `${documentId}: contains NUL bytes; looks binary, not text`);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new DocumentError('InvalidUtf8', `${documentId}: is not valid UTF-8`);
  }
}

/** Turns a document into the plain text that gets chunked and embedded. */
export function extractText(documentId: string, raw: string, format: DocumentFormat): string {
  let text: string;
  switch (format) {
    case 'html':
      text = htmlToText(raw);
      break;
    case 'markdown':
      text = htmlToText(marked.parse(raw, { async: false, gfm: true }) as string);
      break;
    case 'text':
      text = raw;
      break;
  }
  return normalizeWhitespace(text);
}

export function normalizeWhitespace(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(/[ \t\f\v\u00a0]+/g, ' ')
    .replace(/ *\n */g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
