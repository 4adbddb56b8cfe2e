import { Tiktoken } from 'js-tiktoken/lite';
import cl100k_base from 'js-tiktoken/ranks/cl100k_base';

/**
 * cl100k_base is the encoding of OpenAI's embedding models (text-embedding-3-*, ada-002), so
 * token counts here match what the provider bills and limits. One encoder per process: building
 * it parses the rank table (~100 ms).
 */
let encoder: Tiktoken | undefined;

function get(): Tiktoken {
  encoder ??= new Tiktoken(cl100k_base);
  return encoder;
}

export function encode(text: string): number[] {
  return get().encode(text);
}

export function decode(tokens: number[]): string {
  return get().decode(tokens);
}

export function countTokens(text: string): number {
  return get().encode(text).length;
}
