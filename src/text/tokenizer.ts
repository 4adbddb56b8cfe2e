import { decode as decodeIds, encode as encodeText } from 'gpt-tokenizer/encoding/cl100k_base';

/**
 * How an embedder counts its input: chunking uses the embedder's own tokenizer so that no chunk
 * is longer than the model reads (DESIGN invariant 13). Counts exclude the special tokens a
 * model adds around every input ([CLS]/[SEP] for BERT); `specialTokens` says how many those are.
 */
export interface TextTokenizer {
  /** Names the encoding, e.g. `cl100k_base` or `wordpiece:all-MiniLM-L6-v2`. */
  readonly name: string;
  /** Tokens the model adds to every input besides the text's own (they count against its limit). */
  readonly specialTokens: number;
  /**
   * True when decode(encode(text)) gives back the text exactly (byte-level BPE). WordPiece
   * lowercases and drops whitespace, so a chunker must cut such text by characters instead.
   */
  readonly lossless: boolean;
  encode(text: string): number[];
  decode(tokens: number[]): string;
  count(text: string): number;
  /** How another thread builds the same tokenizer (src/text/tokenizer-spec.ts); none: it cannot. */
  readonly spec?: TokenizerSpec;
}

/** What another thread needs to build the same tokenizer (src/text/tokenizer-spec.ts). */
export type TokenizerSpec = { kind: 'cl100k_base' } | { kind: 'wordpiece'; modelPath: string; model: string };

/**
 * cl100k_base is the encoding of OpenAI's embedding models (text-embedding-3-*, ada-002), so
 * token counts here match what the provider bills and limits. gpt-tokenizer, not js-tiktoken:
 * same token ids, 4.7–7.3× faster side by side on the fixture corpus (BENCHMARKS.md), and chunking is the
 * planning activity's main cost.
 *
 * Special-token strings such as "<|endoftext|>" inside a document are ordinary text here (the
 * tokenizers' default is to throw on them, which would make a document about tokenizers fail).
 */
const ORDINARY = { disallowedSpecial: new Set<string>() };

export function encode(text: string): number[] {
  return encodeText(text, ORDINARY);
}

export function decode(tokens: number[]): string {
  return decodeIds(tokens);
}

export function countTokens(text: string): number {
  return encodeText(text, ORDINARY).length;
}

/** The default tokenizer of chunking: OpenAI's embedding models and the offline embedder use it. */
export const cl100k: TextTokenizer = {
  name: 'cl100k_base',
  spec: { kind: 'cl100k_base' },
  specialTokens: 0,
  lossless: true,
  encode,
  decode,
  count: countTokens,
};
