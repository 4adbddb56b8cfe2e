import { compile, type FormatCallback } from 'html-to-text';
import { normalizeWhitespace } from './decode';
import type { Section } from './formats/types';

/** Private-use characters that mark a heading in html-to-text's output; never in real text. */
const OPEN = '\uE000';
const MID = '\uE001';
const CLOSE = '\uE002';
const MARKERS = /[\uE000-\uE002]/g;

/** Writes a heading as its own block, wrapped in markers that carry its level. */
const heading: FormatCallback = (elem, walk, builder, options) => {
  builder.openBlock({ leadingLineBreaks: 2 });
  builder.addLiteral(`${OPEN}${(options as { level?: number }).level ?? 1}${MID}`);
  walk(elem.children, builder);
  builder.addLiteral(CLOSE);
  builder.closeBlock({ trailingLineBreaks: 2 });
};

/** Compiled once: html-to-text's `convert` rebuilds its selector matcher on every call. */
const htmlToText = compile({
  wordwrap: false,
  // Its default cuts input past 16 MiB without a word (a note on stderr): a 17 MB page, or a
  // 12 MB Markdown file rendered to HTML, lost its end. Documents are bounded by
  // VECTOR_INGEST_MAX_DOCUMENT_BYTES before they get here.
  limits: { maxInputLength: Number.MAX_SAFE_INTEGER },
  preserveNewlines: false,
  formatters: { heading },
  selectors: [
    { selector: 'a', options: { ignoreHref: true } },
    { selector: 'img', format: 'skip' },
    { selector: 'script', format: 'skip' },
    { selector: 'style', format: 'skip' },
    { selector: 'nav', format: 'skip' },
    { selector: 'title', format: 'skip' },
    ...[1, 2, 3, 4, 5, 6].map((level) => ({ selector: `h${level}`, format: 'heading', options: { level } as object })),
    { selector: 'table', options: { uppercaseHeaderCells: false } },
  ],
});

const MAX_HEADING = 200;

export interface HtmlDocument {
  /** The <title>, else the first h1, else undefined. */
  title?: string;
  sections: Section[];
}

/**
 * HTML as sections under its headings: html-to-text renders the text (lists, tables, entities)
 * and marks each h1–h6, and the marks cut the text into sections, each with the path of
 * headings above it. An h1 or h2 starts a major section (chunks do not straddle it).
 */
export function htmlSections(html: string): HtmlDocument {
  const rendered = htmlToText(html);
  const sections: Section[] = [];
  const path: Array<{ level: number; text: string }> = [];
  let firstH1: string | undefined;
  const re = new RegExp(`${OPEN}(\\d)${MID}([\\s\\S]*?)${CLOSE}`, 'g');
  let current: { start: number; headingPath: string[]; major: boolean; heading?: string } = { start: 0, headingPath: [], major: true };
  const close = (end: number) => {
    const body = rendered.slice(current.start, end).replace(MARKERS, '');
    const text = normalizeWhitespace(current.heading === undefined ? body : `${current.heading}\n\n${body}`);
    if (text.length > 0) sections.push({ text, headingPath: current.headingPath, major: current.major });
  };
  for (let m = re.exec(rendered); m !== null; m = re.exec(rendered)) {
    close(m.index);
    const level = Number(m[1]);
    const text = normalizeWhitespace(m[2]!.replace(MARKERS, '')).replace(/\s+/g, ' ').slice(0, MAX_HEADING);
    if (level === 1 && firstH1 === undefined && text) firstH1 = text;
    while (path.length > 0 && path[path.length - 1]!.level >= level) path.pop();
    if (text) path.push({ level, text });
    current = { start: m.index + m[0].length, headingPath: path.map((h) => h.text), major: level <= 2, heading: text || undefined };
  }
  close(rendered.length);
  return { title: htmlTitle(html) ?? firstH1, sections };
}

function htmlTitle(html: string): string | undefined {
  const m = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(html);
  if (!m) return undefined;
  const t = normalizeWhitespace(htmlToText(m[1]!)).replace(/\s+/g, ' ').slice(0, MAX_HEADING);
  return t || undefined;
}
