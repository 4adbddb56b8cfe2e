import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import type { TextTokenizer } from '../text/tokenizer';

/** [CLS] and [SEP], which the model adds around every input. */
export const WORDPIECE_SPECIAL_TOKENS = 2;

/**
 * The model's own WordPiece tokenizer, from its tokenizer.json (the same file transformers.js
 * loads in the inference thread), for counting and cutting chunks in the planning activity.
 * Counts exclude [CLS] and [SEP]; `specialTokens` accounts for them.
 */
export function wordPieceTokenizer(modelPath: string, name: string): TextTokenizer {
  const json = JSON.parse(readFileSync(path.join(modelPath, 'tokenizer.json'), 'utf8')) as object;
  const config = JSON.parse(readFileSync(path.join(modelPath, 'tokenizer_config.json'), 'utf8')) as object;
  const tk = new Tokenizer(json, config);
  const encode = (text: string): number[] => tk.encode(text, { add_special_tokens: false }).ids;
  return {
    name: wordPieceName(name),
    spec: { kind: 'wordpiece', modelPath, model: name },
    specialTokens: WORDPIECE_SPECIAL_TOKENS,
    lossless: false,
    encode,
    decode: (ids) => tk.decode(ids, { skip_special_tokens: true }),
    count: (text) => encode(text).length,
  };
}

export function wordPieceName(model: string): string {
  return `wordpiece:${model}`;
}
