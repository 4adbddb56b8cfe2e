import type { ChunkingOptions } from '../contracts/ingest';
import { cl100k, type TextTokenizer } from './tokenizer';

export interface Chunk {
  index: number;
  text: string;
  tokens: number;
}

interface Segment {
  /** Separator placed before this segment when it follows another one in a chunk. */
  sep: string;
  text: string;
  tokens: number;
}

/** Separators tried in order: paragraphs, lines, sentences, words. */
const SPLITTERS: Array<{ re: RegExp; sep: string }> = [
  { re: /\n{2,}/, sep: '\n\n' },
  { re: /\n/, sep: '\n' },
  { re: /(?<=[.!?;:])\s+/, sep: ' ' },
  { re: /\s+/, sep: ' ' },
];

export function validateChunking(o: ChunkingOptions): void {
  if (!Number.isInteger(o.chunkTokens) || o.chunkTokens < 16 || o.chunkTokens > 8000) {
    throw new RangeError(`chunkTokens must be an integer from 16 to 8000, got ${o.chunkTokens}`);
  }
  if (!Number.isInteger(o.overlapTokens) || o.overlapTokens < 0 || o.overlapTokens >= o.chunkTokens / 2) {
    throw new RangeError(
      `overlapTokens must be an integer from 0 to less than half of chunkTokens (${o.chunkTokens}), got ${o.overlapTokens}`,
    );
  }
}

/**
 * Splits text into chunks of at most `chunkTokens` tokens, cutting at the largest natural
 * boundary that fits (paragraph, line, sentence, word; raw tokens only for a run of text with
 * no boundary), and repeats about `overlapTokens` of the previous chunk's tail at the start of
 * the next so that a sentence cut at a boundary keeps its context.
 *
 * Tokens are counted by `tokenizer`: the embedder's own (its `tokenizer`), so that no chunk is
 * longer than the model reads; cl100k_base when not given.
 */
export function chunkText(text: string, options: ChunkingOptions, tokenizer: TextTokenizer = cl100k): Chunk[] {
  validateChunking(options);
  const trimmed = text.trim();
  if (trimmed.length === 0) return [];
  const segments = split(tokenizer, trimmed, '', options.chunkTokens, 0);
  return pack(tokenizer, segments, options);
}

function split(tk: TextTokenizer, text: string, sep: string, limit: number, level: number): Segment[] {
  const tokens = tk.count(text);
  if (tokens <= limit) return [{ sep, text, tokens }];
  const splitter = SPLITTERS[level];
  if (!splitter) return tk.lossless ? hardSplit(tk, text, sep, limit) : charSplit(tk, text, sep, limit);
  const parts = text.split(splitter.re).filter((p) => p.length > 0);
  if (parts.length <= 1) return split(tk, text, sep, limit, level + 1);
  const out: Segment[] = [];
  parts.forEach((part, i) => {
    out.push(...split(tk, part, i === 0 ? sep : splitter.sep, limit, level + 1));
  });
  return out;
}

/** Last resort for a run of text with no whitespace (a blob, a long URL): cut by tokens. */
function hardSplit(tk: TextTokenizer, text: string, sep: string, limit: number): Segment[] {
  const ids = tk.encode(text);
  const out: Segment[] = [];
  for (let i = 0; i < ids.length; i += limit) {
    const piece = tk.decode(ids.slice(i, i + limit));
    out.push({ sep: i === 0 ? sep : '', text: piece, tokens: Math.min(limit, ids.length - i) });
  }
  return out;
}

/**
 * The same last resort for a tokenizer whose decode does not give the text back (WordPiece
 * lowercases it): the longest prefix, in characters, that fits `limit` tokens, found by
 * bisection, so each piece is the document's own text.
 */
function charSplit(tk: TextTokenizer, text: string, sep: string, limit: number): Segment[] {
  const chars = Array.from(text); // code points: never cut a surrogate pair
  const out: Segment[] = [];
  let start = 0;
  while (start < chars.length) {
    let lo = start + 1; // at least one character per piece, so this always ends
    let hi = chars.length;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (tk.count(chars.slice(start, mid).join('')) <= limit) lo = mid;
      else hi = mid - 1;
    }
    const piece = chars.slice(start, lo).join('');
    out.push({ sep: start === 0 ? sep : '', text: piece, tokens: tk.count(piece) });
    start = lo;
  }
  return out;
}

function pack(tk: TextTokenizer, segments: Segment[], { chunkTokens, overlapTokens }: ChunkingOptions): Chunk[] {
  const chunks: Chunk[] = [];
  let current: Segment[] = [];
  let currentTokens = 0;
  let fresh = 0; // segments in `current` that are not overlap carried from the previous chunk

  const emit = () => {
    const body = current.map((s, i) => (i === 0 ? s.text : s.sep + s.text)).join('');
    chunks.push({ index: chunks.length, text: body, tokens: tk.count(body) });
  };
  // A separator costs tokens too in a BPE encoding ("\n\n" is one in cl100k; none in WordPiece):
  // counted with the segment after it, so a joined chunk stays within chunkTokens.
  const sepCost = new Map<string, number>();
  const cost = (seg: Segment) => {
    let c = sepCost.get(seg.sep);
    if (c === undefined) sepCost.set(seg.sep, (c = seg.sep === '' ? 0 : tk.count(seg.sep)));
    return seg.tokens + c;
  };

  for (const seg0 of segments) {
    const seg = { ...seg0, tokens: cost(seg0) };
    if (fresh > 0 && currentTokens + seg.tokens > chunkTokens) {
      emit();
      // Carry whole trailing segments that fit in the overlap budget.
      const carried: Segment[] = [];
      let carriedTokens = 0;
      for (let i = current.length - 1; i >= 0; i--) {
        const s = current[i]!;
        if (carriedTokens + s.tokens > overlapTokens || carriedTokens + s.tokens + seg.tokens > chunkTokens) break;
        carried.unshift(s);
        carriedTokens += s.tokens;
      }
      current = carried;
      currentTokens = carriedTokens;
      fresh = 0;
    }
    current.push(seg);
    currentTokens += seg.tokens;
    fresh++;
  }
  if (fresh > 0) emit();
  return chunks;
}
