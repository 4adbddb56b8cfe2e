import type { Config } from '../config';
import { OfflineEmbedder } from './offline';
import { OpenAIEmbedder } from './openai';
import type { Embedder } from './types';

export function createEmbedder(config: Config): Embedder {
  const e = config.embedding;
  if (e.provider === 'offline') return new OfflineEmbedder(e.dimensions);
  return new OpenAIEmbedder({
    // Local OpenAI-compatible servers often need no key; the client insists on one.
    apiKey: config.openaiApiKey ?? 'no-key',
    baseURL: config.openaiBaseUrl,
    model: e.model,
    dimensions: e.dimensions,
    sendDimensions: e.sendDimensions,
    timeoutMs: 120_000,
  });
}

export const OFFLINE_WARNING =
  'No OPENAI_API_KEY or OPENAI_BASE_URL: using the OFFLINE hash embedder. Its vectors are deterministic ' +
  'and fine for trying the pipeline, but they are NOT semantic (synonyms and paraphrases do not match). ' +
  'Set OPENAI_API_KEY (and OPENAI_BASE_URL for any OpenAI-compatible server) for real embeddings.';

export type { Embedder } from './types';
