import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fitChunking } from '../../src/activities/chunk-limit';
import { ingestInput, effectiveChunking } from '../../src/cli/run-input';
import { loadConfig } from '../../src/config';
import { DEFAULT_CHUNKING } from '../../src/contracts/ingest';
import { createEmbedder } from '../../src/embedders';
import { declaredInputLimit, type InputLimit } from '../../src/embedders/limits';
import { defaultModelDir } from '../../src/embedders/local-model';
import { createLogger } from '../../src/log';

const MODEL_DIR = process.env.VECTOR_INGEST_MODEL_DIR ?? defaultModelDir();
const source = { kind: 'directory' as const, path: '/docs' };
const silent = createLogger('silent', { pretty: false });

const CONFIGS = {
  local: { VECTOR_INGEST_MODEL_DIR: MODEL_DIR },
  openai: { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' },
  offline: { EMBEDDING_PROVIDER: 'offline' },
};

describe('what the CLI shows of a run\'s chunking', () => {
  it('is the chunk size the worker cuts at: the request fitted to the built embedder\'s limit', async () => {
    for (const [name, env] of Object.entries(CONFIGS)) {
      const config = loadConfig(env);
      const embedder = await createEmbedder(config); // the local one loads its model: its own limit, not a copy
      try {
        const limit = (e: InputLimit) => ({ maxInputTokens: e.maxInputTokens, tokenizer: e.tokenizer.name, specialTokens: e.tokenizer.specialTokens });
        assert.deepEqual(limit(declaredInputLimit(config.embedding)), limit(embedder), name);
        for (const chunking of [{}, { chunkTokens: 200 }, { chunkTokens: 9000, overlapTokens: 300 }]) {
          const shown = effectiveChunking(config.embedding, { chunking });
          const used = fitChunking({ ...DEFAULT_CHUNKING, ...chunking }, embedder, silent);
          assert.deepEqual({ chunkTokens: shown.chunkTokens, overlapTokens: shown.overlapTokens }, used, `${name} ${JSON.stringify(chunking)}`);
        }
      } finally {
        await embedder.close();
      }
    }
  });

  it('says so when the model reads less than was asked (the default 512 for all-MiniLM-L6-v2)', () => {
    const local = effectiveChunking(loadConfig(CONFIGS.local).embedding, {});
    assert.equal(local.chunkTokens, 254);
    assert.equal(local.text, '254 wordpiece:all-MiniLM-L6-v2 tokens, 64 overlap (lowered from 512: all-MiniLM-L6-v2 reads at most 256 tokens per input)');
    const openai = effectiveChunking(loadConfig(CONFIGS.openai).embedding, {});
    assert.equal(openai.text, '512 cl100k_base tokens, 64 overlap');
    assert.equal(openai.lowered, false);
  });
});

describe('ingestInput', () => {
  it('carries only the flags that were given, so the workflow\'s defaults apply to the rest', () => {
    assert.deepEqual(ingestInput('docs', source, {}), { collection: 'docs', source });
    assert.deepEqual(ingestInput('docs', source, { overlapTokens: 10, batchTokens: 999, window: 3, full: true, sink: 'qdrant' }), {
      collection: 'docs',
      source,
      full: true,
      sink: 'qdrant',
      chunking: { overlapTokens: 10 },
      batching: { maxTokens: 999 },
      maxInFlightBatches: 3,
    });
  });
});
