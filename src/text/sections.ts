import type { ChunkingOptions } from '../contracts/ingest';
import { chunkText, validateChunking } from './chunker';
import type { Section } from './formats/types';
import { cl100k, type TextTokenizer } from './tokenizer';

export interface SectionChunk {
  index: number;
  /** The document's own text: what is stored and shown. */
  text: string;
  tokens: number;
  /** Headings every part of the chunk is under (the common path of what it holds). */
  headingPath: string[];
  /** PDF: the page the chunk is on (chunks never span pages). */
  page?: number;
}


const PATH_SEPARATOR = ' > ';
const MAX_PREFIX_CHARS = 300;

/**
 * What is embedded ahead of a chunk's text: its heading path ("Guide > Install > Linux"), so a
 * chunk that reads "run the installer" is found by a question about installing on Linux. The
 * stored content stays the document's text; the embedding cache keys on prefix and text.
 */
export function embeddingPrefix(headingPath: readonly string[]): string {
  if (headingPath.length === 0) return '';
  return headingPath.join(PATH_SEPARATOR).slice(0, MAX_PREFIX_CHARS);
}

/** The text the embedder sees for a chunk. */
export function embeddingText(prefix: string | null | undefined, content: string): string {
  return prefix ? `${prefix}\n\n${content}` : content;
}

function isPrefix(prefix: readonly string[], path: readonly string[]): boolean {
  return prefix.length <= path.length && prefix.every((h, i) => path[i] === h);
}

function commonPath(a: readonly string[], b: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < Math.min(a.length, b.length) && a[i] === b[i]; i++) out.push(a[i]!);
  return out;
}

/**
 * Chunks a document along its sections. Consecutive sections share a chunk while they fit,
 * but a major boundary (h1/h2) starts a new chunk unless what is gathered before it is a tiny
 * intro to it (under an eighth of a chunk, under headings the new section is also under: a
 * title line, a one-line preamble). A chunk never spans two PDF pages. A section larger than a
 * chunk is cut by chunkText, each piece keeping the section's heading path. Every chunk's text
 * plus its embedding prefix stays within `chunkTokens`.
 */
export function chunkSections(sections: readonly Section[], options: ChunkingOptions, tokenizer: TextTokenizer = cl100k): SectionChunk[] {
  validateChunking(options);
  const { chunkTokens } = options;
  const tiny = Math.max(16, Math.floor(chunkTokens / 8));
  const prefixTokens = (path: readonly string[]) => {
    const p = embeddingPrefix(path);
    return p ? tokenizer.count(p) + 1 : 0;
  };
  const out: SectionChunk[] = [];
  let parts: Array<{ s: Section; tokens: number }> = [];
  let partsTokens = 0;
  let partsPath: string[] = [];
  // Every part so far is a bare heading (a heading followed straight by a subheading).
  let bareHeadings = false;
  const isBareHeading = (s: Section) => s.headingPath.length > 0 && s.text.trim() === s.headingPath[s.headingPath.length - 1];

  const emit = (text: string, headingPath: string[], page?: number) => {
    const chunk: SectionChunk = { index: out.length, text, tokens: tokenizer.count(text), headingPath };
    if (page !== undefined) chunk.page = page;
    out.push(chunk);
  };
  const flush = () => {
    if (parts.length === 0) return;
    // Verbatim sections (code) join as they are; others by a blank line. Leading blank lines and
    // trailing space go; leading indentation stays.
    let text = '';
    for (const [i, p] of parts.entries()) {
      if (i === 0) text = p.s.verbatim ? p.s.text : p.s.text.trim();
      else if (p.s.verbatim) text += p.s.text;
      else text = `${text.trimEnd()}\n\n${p.s.text.trim()}`;
    }
    text = text.replace(/^\s*\n/, '').trimEnd();
    emit(text, partsPath, parts[0]!.s.page);
    parts = [];
    partsTokens = 0;
    partsPath = [];
    bareHeadings = false;
  };

  for (const s of sections) {
    if (s.text.trim().length === 0) continue;
    const tokens = tokenizer.count(s.text.trim());
    const room = chunkTokens - prefixTokens(s.headingPath);
    if (tokens > room) {
      // A tiny intro to this section (a title line before a long first section) opens its first
      // piece instead of standing alone as a chunk that says nothing but the title.
      let text = s.text;
      const intro = parts.length > 0 && partsTokens < tiny && s.page === parts[0]!.s.page && isPrefix(partsPath, s.headingPath) && parts.every((p) => !p.s.verbatim);
      if (intro) {
        text = `${parts.map((p) => p.s.text.trim()).join('\n\n')}\n\n${s.text.trim()}`;
        parts = [];
        partsTokens = 0;
        partsPath = [];
        bareHeadings = false;
      } else {
        flush();
      }
      const size = Math.max(16, room);
      const overlap = Math.min(options.overlapTokens, Math.ceil(size / 2) - 1);
      for (const c of chunkText(text, { chunkTokens: size, overlapTokens: overlap }, tokenizer)) emit(c.text, s.headingPath, s.page);
      continue;
    }
    if (parts.length > 0) {
      // Bare headings above a section are its own path's start: the section's path says more.
      const path = bareHeadings && isPrefix(partsPath, s.headingPath) ? [...s.headingPath] : commonPath(partsPath, s.headingPath);
      const fits = partsTokens + 1 + tokens + prefixTokens(path) <= chunkTokens;
      // Across a major boundary only a tiny intro joins what it introduces (a title line before
      // its first h2); never text from another page.
      const samePage = s.page === parts[0]!.s.page;
      const allowed = samePage && (!s.major || (partsTokens < tiny && isPrefix(partsPath, s.headingPath)));
      if (fits && allowed) {
        parts.push({ s, tokens });
        partsTokens += 1 + tokens;
        partsPath = path;
        bareHeadings &&= isBareHeading(s);
        continue;
      }
      flush();
    }
    parts = [{ s, tokens }];
    partsTokens = tokens;
    partsPath = [...s.headingPath];
    bareHeadings = isBareHeading(s);
  }
  flush();
  return out;
}
