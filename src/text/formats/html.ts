import { decodeUtf8 } from '../decode';
import { htmlSections } from '../html-sections';
import type { Format } from './types';

export const html: Format = {
  name: 'html',
  extensions: ['.html', '.htm', '.xhtml'],
  extract(bytes, ctx) {
    const { title, sections } = htmlSections(decodeUtf8(ctx.documentId, bytes));
    return { sections, metadata: { title } };
  },
};
