import type { ChunkingOptions } from '../contracts/ingest';
import { chunkText, validateChunking } from './chunker';
import type { Section } from './formats/types';
import { countTokens } from './tokenizer';

export interface SectionChunk {
  index: number;
  /** The document's own text: what is stored and shown. */
  text: string;
  tokens: number;
  /** Headings every part of the chunk is under (the common path of what it holds). */
  headingPath: string[];
  /** PDF: the page the chunk starts on, and the one it ends on when it spans more. */
  page?: number;
  pageEnd?: number;
}

/** How tokens are counted; the embedder's tokenizer once it has one (chunkText's too). */
export interface TokenCounter {
  count(text: string): number;
}
const CL100K: TokenCounter = { count: countTokens };

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

function commonPath(a: readonly string[], b: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < Math.min(a.length, b.length) && a[i] === b[i]; i++) out.push(a[i]!);
  return out;
}

/**
 * Chunks a document along its sections. Consecutive sections share a chunk while they fit,
 * but a major boundary (h1/h2, a PDF page) starts a new chunk unless what is gathered before it
 * is tiny (under an eighth of a chunk: a title line, a one-line intro). A section larger than a
 * chunk is cut by chunkText, each piece keeping the section's heading path. Every chunk's text
 * plus its embedding prefix stays within `chunkTokens`.
 */
export function chunkSections(sections: readonly Section[], options: ChunkingOptions, tokenizer: TokenCounter = CL100K): SectionChunk[] {
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

  const emit = (text: string, headingPath: string[], page?: number, pageEnd?: number) => {
    const chunk: SectionChunk = { index: out.length, text, tokens: tokenizer.count(text), headingPath };
    if (page !== undefined) chunk.page = page;
    if (pageEnd !== undefined && pageEnd !== page) chunk.pageEnd = pageEnd;
    out.push(chunk);
  };
  const flush = () => {
    if (parts.length === 0) return;
    const text = parts.map((p) => p.s.text.trim()).join('\n\n');
    const pages = parts.map((p) => p.s.page).filter((n): n is number => n !== undefined);
    emit(text, partsPath, pages[0], pages[pages.length - 1]);
    parts = [];
    partsTokens = 0;
    partsPath = [];
  };

  for (const s of sections) {
    if (s.text.trim().length === 0) continue;
    const tokens = tokenizer.count(s.text.trim());
    const room = chunkTokens - prefixTokens(s.headingPath);
    if (tokens > room) {
      flush();
      const size = Math.max(16, room);
      const overlap = Math.min(options.overlapTokens, Math.ceil(size / 2) - 1);
      for (const c of chunkText(s.text, { chunkTokens: size, overlapTokens: overlap })) emit(c.text, s.headingPath, s.page);
      continue;
    }
    if (parts.length > 0) {
      const path = commonPath(partsPath, s.headingPath);
      const fits = partsTokens + 1 + tokens + prefixTokens(path) <= chunkTokens;
      const allowed = !s.major || partsTokens < tiny;
      if (fits && allowed) {
        parts.push({ s, tokens });
        partsTokens += 1 + tokens;
        partsPath = path;
        continue;
      }
      flush();
    }
    parts = [{ s, tokens }];
    partsTokens = tokens;
    partsPath = [...s.headingPath];
  }
  flush();
  return out;
}
