import { DocumentError } from '../errors';

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

export function normalizeWhitespace(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(/[ \t\f\v\u00a0]+/g, ' ')
    .replace(/ *\n */g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
