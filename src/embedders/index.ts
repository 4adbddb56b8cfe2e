import type { Config } from '../config';
import { LocalEmbedder } from './local';
import { OfflineEmbedder } from './offline';
import { OpenAIEmbedder } from './openai';
import type { Embedder } from './types';

/**
 * The configured embedder, once per worker process. The local model is checked (a ConfigError
 * naming the install command when its files are missing) and starts loading in its own thread.
 */
export async function createEmbedder(config: Config): Promise<Embedder> {
  const e = config.embedding;
  if (e.provider === 'offline') return new OfflineEmbedder(e.dimensions);
  if (e.provider === 'local') return LocalEmbedder.create({ modelDir: e.modelDir, ...(e.threads !== undefined && { threads: e.threads }) });
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
  'EMBEDDING_PROVIDER=offline: using the OFFLINE hash embedder. Its vectors are deterministic and fine for ' +
  'tests, but they are NOT semantic (synonyms and paraphrases do not match). Unset EMBEDDING_PROVIDER for the ' +
  'local model (all-MiniLM-L6-v2), or set OPENAI_API_KEY / OPENAI_BASE_URL for an embeddings API.';

export { chunkTokenLimit } from './types';
export type { Embedder } from './types';
