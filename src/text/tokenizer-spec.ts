import { wordPieceTokenizer } from '../embedders/local-tokenizer';
import { cl100k, type TextTokenizer, type TokenizerSpec } from './tokenizer';

const built = new Map<string, TextTokenizer>();

/** The tokenizer a spec names, built once per thread. */
export function tokenizerOf(spec: TokenizerSpec): TextTokenizer {
  if (spec.kind === 'cl100k_base') return cl100k;
  const key = `${spec.modelPath}\0${spec.model}`;
  let t = built.get(key);
  if (!t) built.set(key, (t = wordPieceTokenizer(spec.modelPath, spec.model)));
  return t;
}
