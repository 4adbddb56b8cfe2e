import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { fitChunking } from '../../src/activities/chunk-limit';
import { DEFAULT_CHUNKING } from '../../src/contracts/ingest';
import { defaultModelDir, LOCAL_MAX_INPUT_TOKENS, LOCAL_MODEL, localModelPath } from '../../src/embedders/local-model';
import { wordPieceTokenizer } from '../../src/embedders/local-tokenizer';
import { OfflineEmbedder } from '../../src/embedders/offline';
import { chunkTokenLimit } from '../../src/embedders/types';
import { createLogger } from '../../src/log';
import { chunkText } from '../../src/text/chunker';
import { decodeUtf8, extractText, formatOf } from '../../src/text/extract';
import { cl100k } from '../../src/text/tokenizer';
import { buildCorpus } from '../support/corpus';
import { tempDir } from '../support/env';

// DESIGN invariant 13: the embedder defines the text limits. The model's own tokenizer (its
// tokenizer.json, installed by scripts/infra/install-model.sh) counts every chunk.
const modelPath = localModelPath(process.env.VECTOR_INGEST_MODEL_DIR ?? defaultModelDir());
const wordPiece = wordPieceTokenizer(modelPath, LOCAL_MODEL);
const local = { model: LOCAL_MODEL, maxInputTokens: LOCAL_MAX_INPUT_TOKENS, tokenizer: wordPiece };
const log = createLogger('silent', { pretty: false });

function corpusTexts(): string[] {
  const root = tempDir('vi-limits-');
  return buildCorpus(root, { files: 120, largeFiles: 3 }).map((id) =>
    extractText(id, decodeUtf8(id, readFileSync(path.join(root, id))), formatOf(id)!),
  );
}

describe('chunk sizes follow the embedder', () => {
  const texts = corpusTexts();

  it('no chunk of the fixture corpus exceeds all-MiniLM-L6-v2\'s 256 word pieces, counted by its own tokenizer', () => {
    const chunking = fitChunking(DEFAULT_CHUNKING, local, log);
    assert.deepEqual(chunking, { chunkTokens: 254, overlapTokens: DEFAULT_CHUNKING.overlapTokens });
    let chunks = 0;
    let largest = 0;
    for (const text of texts) {
      for (const c of chunkText(text, chunking, wordPiece)) {
        const n = wordPiece.count(c.text) + wordPiece.specialTokens; // what the model is fed: [CLS] text [SEP]
        assert.ok(n <= LOCAL_MAX_INPUT_TOKENS, `chunk ${c.index} has ${n} word pieces: ${c.text.slice(0, 80)}…`);
        assert.equal(c.tokens, wordPiece.count(c.text));
        largest = Math.max(largest, n);
        chunks++;
      }
    }
    assert.ok(chunks > 200, `the corpus gave only ${chunks} chunks`);
    assert.ok(largest > 200, `chunks should fill the limit; the largest has ${largest} word pieces`);
    // The default chunking counted in cl100k would not fit: the limit is real for this corpus.
    const over = texts.flatMap((t) => chunkText(t, DEFAULT_CHUNKING)).filter((c) => wordPiece.count(c.text) + 2 > LOCAL_MAX_INPUT_TOKENS);
    assert.ok(over.length > 0, 'cl100k chunks of 512 tokens all fit 256 word pieces: the corpus does not test the limit');
  });

  it('keeps the cl100k default for OpenAI and offline embedders, whose limits are larger', () => {
    const offline = new OfflineEmbedder(8);
    assert.equal(fitChunking(DEFAULT_CHUNKING, offline, log), DEFAULT_CHUNKING);
    assert.equal(chunkTokenLimit({ maxInputTokens: 8191, tokenizer: cl100k }), 8191);
    for (const text of texts.slice(0, 20)) {
      for (const c of chunkText(text, DEFAULT_CHUNKING)) assert.ok(cl100k.count(c.text) <= DEFAULT_CHUNKING.chunkTokens);
    }
  });

  it('lowers a chunk size over the limit, and the overlap with it', () => {
    assert.deepEqual(fitChunking({ chunkTokens: 1000, overlapTokens: 200 }, local, log), { chunkTokens: 254, overlapTokens: 126 });
    assert.deepEqual(fitChunking({ chunkTokens: 200, overlapTokens: 20 }, local, log), { chunkTokens: 200, overlapTokens: 20 });
  });

  it('cuts a run of text with no spaces by characters for WordPiece, keeping the document\'s own text', () => {
    // No whitespace, but punctuation makes many word pieces (a word over 100 characters would be one [UNK]).
    const blob = 'Key=Välue&'.repeat(300);
    const chunks = chunkText(blob, { chunkTokens: 64, overlapTokens: 0 }, wordPiece);
    assert.ok(chunks.length > 3);
    assert.equal(chunks.map((c) => c.text).join(''), blob);
    for (const c of chunks) assert.ok(wordPiece.count(c.text) <= 64, `${wordPiece.count(c.text)} word pieces`);
  });
});
