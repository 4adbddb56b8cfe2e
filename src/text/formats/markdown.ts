import { marked } from 'marked';
import { decodeUtf8 } from '../decode';
import { htmlSections } from '../html-sections';
import type { Format } from './types';

/** Markdown is rendered to HTML (GitHub flavour) and takes the HTML path, headings and all. */
export const markdown: Format = {
  name: 'markdown',
  extensions: ['.md', '.markdown', '.mdx'],
  extract(bytes, ctx) {
    const html = marked.parse(decodeUtf8(ctx.documentId, bytes), { async: false, gfm: true }) as string;
    const { title, sections } = htmlSections(html);
    return { sections, metadata: { title } };
  },
};
