import { decodeUtf8, normalizeWhitespace } from '../decode';
import type { Format } from './types';

/** Plain text and text-like data files: chunked as they are. */
export const text: Format = {
  name: 'text',
  extensions: ['.txt', '.text', '.rst', '.csv', '.json', '.yaml', '.yml'],
  extract(bytes, ctx) {
    return { text: normalizeWhitespace(decodeUtf8(ctx.documentId, bytes)), metadata: {} };
  },
};
