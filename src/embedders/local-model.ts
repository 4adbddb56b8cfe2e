import { createHash } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError } from '../errors';

/** The local embedder's one model: sentence-transformers' all-MiniLM-L6-v2, int8 ONNX. */
export const LOCAL_MODEL = 'all-MiniLM-L6-v2';
export const LOCAL_DIMENSIONS = 384;
/** MiniLM reads at most 256 word pieces, [CLS] and [SEP] included, and drops the rest silently. */
export const LOCAL_MAX_INPUT_TOKENS = 256;
/** What scripts/infra/install-model.sh lays out under <model dir>/all-MiniLM-L6-v2. */
export const LOCAL_MODEL_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'onnx/model_quantized.onnx'];
export const INSTALL_MODEL_COMMAND = 'bash scripts/infra/install-model.sh';

/** The same default as scripts/infra/install-model.sh. */
export function defaultModelDir(env: NodeJS.ProcessEnv = process.env): string {
  const cache = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cache, 'vector-ingest', 'models');
}

/**
 * The model's folder, checked: every file transformers.js needs is there. Missing files are a
 * configuration problem with a known fix, so the message names the command that installs them.
 */
export function localModelPath(modelDir: string): string {
  const dir = path.join(modelDir, LOCAL_MODEL);
  const missing = LOCAL_MODEL_FILES.filter((f) => !existsSync(path.join(dir, f)) || statSync(path.join(dir, f)).size === 0);
  if (missing.length > 0) {
    throw new ConfigError(
      `the local embedding model ${LOCAL_MODEL} is not installed in ${dir} (missing: ${missing.join(', ')}). ` +
        `Install it with \`${INSTALL_MODEL_COMMAND}\` (set VECTOR_INGEST_MODEL_DIR to install and load it elsewhere), ` +
        'or choose another embedder: OPENAI_API_KEY / OPENAI_BASE_URL, or EMBEDDING_PROVIDER=offline (not semantic).',
    );
  }
  return dir;
}

/**
 * The model name recorded with collections and the embedding cache: the name plus the first 12
 * hex digits of the weights' sha256, so new weights are a new model (cache misses, and a
 * collection built with the old ones refuses the new unless rebuilt with --full).
 */
export async function localModelName(modelPath: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path.join(modelPath, 'onnx', 'model_quantized.onnx'))) hash.update(chunk as Buffer);
  return `${LOCAL_MODEL}@${hash.digest('hex').slice(0, 12)}`;
}
