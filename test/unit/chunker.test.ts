import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chunkText } from '../../src/text/chunker';
import { countTokens } from '../../src/text/tokenizer';

const para = (i: number, words: number) =>
  Array.from({ length: words }, (_, w) => `word${i}x${w}`).join(' ') + '.';

describe('chunkText', () => {
  it('returns no chunks for empty or blank text', () => {
    assert.deepEqual(chunkText('', { chunkTokens: 64, overlapTokens: 8 }), []);
    assert.deepEqual(chunkText('  \n\n ', { chunkTokens: 64, overlapTokens: 8 }), []);
  });

  it('keeps a short text in one chunk, unchanged', () => {
    const chunks = chunkText('Hello world. This is short.', { chunkTokens: 64, overlapTokens: 8 });
    assert.equal(chunks.length, 1);
    assert.equal(chunks[0]!.text, 'Hello world. This is short.');
    assert.equal(chunks[0]!.tokens, countTokens('Hello world. This is short.'));
  });

  it('never exceeds the token limit and numbers chunks from 0', () => {
    const text = Array.from({ length: 40 }, (_, i) => para(i, 30 + (i % 7) * 9)).join('\n\n');
    const chunks = chunkText(text, { chunkTokens: 128, overlapTokens: 16 });
    assert.ok(chunks.length > 5, `expected many chunks, got ${chunks.length}`);
    chunks.forEach((c, i) => {
      assert.equal(c.index, i);
      assert.ok(c.tokens <= 128, `chunk ${i} has ${c.tokens} tokens`);
      assert.equal(c.tokens, countTokens(c.text));
    });
  });

  it('covers every word of the input, in order', () => {
    const words = Array.from({ length: 3000 }, (_, i) => `w${i}`);
    const text = words.join(' ');
    const chunks = chunkText(text, { chunkTokens: 100, overlapTokens: 20 });
    const seen = new Set(chunks.flatMap((c) => c.text.split(/\s+/)));
    for (const w of words) assert.ok(seen.has(w), `word ${w} lost`);
  });

  it('repeats the tail of a chunk at the start of the next (overlap)', () => {
    const text = Array.from({ length: 200 }, (_, i) => `Sentence number ${i} is here.`).join(' ');
    const chunks = chunkText(text, { chunkTokens: 80, overlapTokens: 20 });
    assert.ok(chunks.length > 3);
    for (let i = 1; i < chunks.length; i++) {
      const firstSentence = chunks[i]!.text.split('.')[0]!;
      assert.ok(chunks[i - 1]!.text.includes(firstSentence), `chunk ${i} does not start with overlap`);
    }
  });

  it('without overlap, chunks do not repeat text', () => {
    const text = Array.from({ length: 200 }, (_, i) => `Sentence number ${i} is here.`).join(' ');
    const chunks = chunkText(text, { chunkTokens: 80, overlapTokens: 0 });
    const total = chunks.map((c) => c.text).join(' ');
    assert.equal(total.split('Sentence').length - 1, 200);
  });

  it('prefers paragraph boundaries', () => {
    const text = [para(1, 20), para(2, 20), para(3, 20)].join('\n\n');
    const chunks = chunkText(text, { chunkTokens: countTokens(para(1, 20)) * 2 + 8, overlapTokens: 0 });
    assert.equal(chunks.length, 2);
    assert.equal(chunks[0]!.text, [para(1, 20), para(2, 20)].join('\n\n'));
    assert.equal(chunks[1]!.text, para(3, 20));
  });

  it('cuts a run of text with no whitespace by tokens', () => {
    const blob = 'x9Z'.repeat(3000);
    const chunks = chunkText(blob, { chunkTokens: 64, overlapTokens: 0 });
    assert.ok(chunks.length > 10);
    for (const c of chunks) assert.ok(c.tokens <= 64 + 2, `blob chunk has ${c.tokens} tokens`);
    assert.equal(chunks.map((c) => c.text).join(''), blob);
  });

  it('treats special-token strings in a document as ordinary text', () => {
    // Tokenizers throw on "<|endoftext|>" by default; a document about tokenizers must still index.
    const text = 'Models end a sample with <|endoftext|>; fill-in-the-middle uses <|fim_prefix|>.';
    const chunks = chunkText(text, { chunkTokens: 64, overlapTokens: 0 });
    assert.equal(chunks.length, 1);
    assert.equal(chunks[0]!.text, text);
    assert.ok(countTokens('<|endoftext|>') > 1, 'counted as ordinary text, not as one special token');
  });

  it('rejects nonsensical options with a clear message', () => {
    assert.throws(() => chunkText('a', { chunkTokens: 8, overlapTokens: 0 }), /chunkTokens must be an integer from 16/);
    assert.throws(() => chunkText('a', { chunkTokens: 100, overlapTokens: 60 }), /overlapTokens/);
    assert.throws(() => chunkText('a', { chunkTokens: 100.5, overlapTokens: 0 }), /chunkTokens/);
  });
});
