import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config';
import { createEmbedder } from '../../src/embedders';
import { LocalEmbedder } from '../../src/embedders/local';
import { defaultModelDir, LOCAL_MODEL } from '../../src/embedders/local-model';
import { ConfigError } from '../../src/errors';
import { tempDir } from '../support/env';

// The real model (scripts/infra/install-model.sh, run by scripts/infra/all.sh) on the real
// onnxruntime-node CPU binary: nothing here is mocked.
const MODEL_DIR = process.env.VECTOR_INGEST_MODEL_DIR ?? defaultModelDir();
const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);

describe('LocalEmbedder (all-MiniLM-L6-v2 in-process)', () => {
  let e: LocalEmbedder;
  before(async () => {
    e = await LocalEmbedder.create({ modelDir: MODEL_DIR });
  });
  after(() => e.close());

  it('makes 384-dimensional unit vectors that put a question near its answer', async () => {
    const { vectors } = await e.embed([
      'How can I stop my tea from tasting bitter?',
      'Brew green tea at 80 degrees for two minutes; boiling water draws out bitter tannins.',
      'The central bank raised interest rates by a quarter point on Friday.',
    ]);
    assert.equal(vectors.length, 3);
    for (const v of vectors) {
      assert.equal(v.length, 384);
      assert.ok(Math.abs(Math.sqrt(dot(v, v)) - 1) < 1e-3);
    }
    const answer = dot(vectors[0]!, vectors[1]!);
    const unrelated = dot(vectors[0]!, vectors[2]!);
    assert.ok(answer > unrelated + 0.3, `question·answer ${answer.toFixed(3)} vs question·unrelated ${unrelated.toFixed(3)}`);
  });

  it('is deterministic and keeps the order of its inputs whatever their lengths', async () => {
    const texts = ['short', 'a much longer sentence about durable workflows and their retries', 'mid length text here'];
    const together = await e.embed(texts);
    for (const [i, t] of texts.entries()) {
      const alone = await e.embed([t]);
      assert.ok(dot(alone.vectors[0]!, together.vectors[i]!) > 0.999, `input ${i} moved`);
    }
  });

  it('names its model with a hash of the weights, so new weights are a new model', () => {
    const onnx = readFileSync(path.join(MODEL_DIR, LOCAL_MODEL, 'onnx', 'model_quantized.onnx'));
    assert.equal(e.model, `${LOCAL_MODEL}@${createHash('sha256').update(onnx).digest('hex').slice(0, 12)}`);
  });

  it('declares its limit and counts with its own WordPiece tokenizer, as the model does', async () => {
    assert.equal(e.maxInputTokens, 256);
    assert.equal(e.tokenizer.specialTokens, 2);
    const texts = ['Tokenization of unbelievably hyphenated-words, e.g. URLs: https://example.org/a?b=c', 'Ünïcödé text — with dashes'];
    const res = await e.embed(texts);
    // The inference thread reports the tokens it fed the model (attention mask): text + [CLS] + [SEP].
    assert.equal(res.tokens, texts.reduce((s, t) => s + e.tokenizer.count(t) + 2, 0));
    assert.ok(e.tokenizer.count('unbelievably') > 1, 'WordPiece splits rare words into pieces');
  });

  it('keeps the calling thread free while it embeds: a timer keeps firing', async () => {
    // One forward pass of all 64 texts (a pass budget above their padded size), so inference on
    // the calling thread would stall its loop for the whole embed, not pass by pass.
    const one = await LocalEmbedder.create({ modelDir: MODEL_DIR, passTokens: 1 << 20 });
    const text = 'Durable execution keeps workflow state across crashes and retries activities with backoff. '.repeat(8);
    const texts = Array.from({ length: 64 }, (_, i) => `${i} ${text}`);
    let last = Date.now();
    let maxGap = 0;
    let ticks = 0;
    const timer = setInterval(() => {
      const now = Date.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
      ticks++;
    }, 20);
    let took = 0;
    try {
      await one.loaded();
      const started = Date.now();
      await one.embed(texts);
      took = Date.now() - started;
    } finally {
      clearInterval(timer);
      await one.close();
    }
    // (Bounds relative to `took`, so a busy machine slows both sides alike.)
    assert.ok(took > 500, `embedding took only ${took} ms; the test needs a longer embed`);
    assert.ok(maxGap < took / 4, `the event loop stalled for ${maxGap} ms during a ${took} ms embed`);
    assert.ok(ticks > took / 20 / 4, `only ${ticks} ticks in ${took} ms`);
  });

  it('is what an empty configuration builds', async () => {
    const built = await createEmbedder(loadConfig({ VECTOR_INGEST_MODEL_DIR: MODEL_DIR }));
    try {
      assert.ok(built instanceof LocalEmbedder);
      assert.equal(built.model, e.model);
      assert.equal(built.semantic, true);
    } finally {
      await built.close();
    }
  });
});

describe('LocalEmbedder without its model', () => {
  it('refuses to start, naming the missing files and the command that installs them', async () => {
    const dir = tempDir('vi-nomodel-');
    await assert.rejects(LocalEmbedder.create({ modelDir: dir }), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /all-MiniLM-L6-v2 is not installed in .*vi-nomodel-/);
      assert.match(err.message, /onnx\/model_quantized\.onnx/);
      assert.match(err.message, /bash scripts\/infra\/install-model\.sh/);
      return true;
    });
  });
});
