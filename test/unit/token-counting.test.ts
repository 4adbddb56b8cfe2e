import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { embedMisses } from '../../src/activities/embed';
import type { ActivityDeps } from '../../src/activities/deps';
import { DEFAULT_RETRY } from '../../src/activities/embed-retry';
import { OfflineEmbedder } from '../../src/embedders/offline';
import { RateLimitedEmbedder, type RateUnit, type SharedRateBudget } from '../../src/embedders/rate-limited';
import { inputTokens, TOKEN_MEMO_CHARS, type Embedder } from '../../src/embedders/types';
import { sha256 } from '../../src/ids';
import { createLogger } from '../../src/log';
import type { StagedChunk } from '../../src/state/store';
import { embeddingText } from '../../src/text/sections';
import { cl100k, type TextTokenizer } from '../../src/text/tokenizer';

// The texts of an embed request are tokenized once on its way (the BPE pass is the cost): the
// rate limiter counts only when it reserves, and what it counted is not counted again for the
// billed tokens. The numbers stay exactly those of the embedder's tokenizer (inputTokens).

/** cl100k with two special tokens (like a BERT model's), remembering every text it tokenized. */
function spyTokenizer(): TextTokenizer & { counted: string[] } {
  const counted: string[] = [];
  return { name: 'spy', specialTokens: 2, lossless: true, encode: cl100k.encode, decode: cl100k.decode, count: (t) => (counted.push(t), cl100k.count(t)), counted };
}

/** The offline embedder's vectors under a spy tokenizer. */
function spyEmbedder(tokenizer: TextTokenizer): Embedder {
  const inner = new OfflineEmbedder(8);
  return { model: 'spy-model', dimensions: 8, semantic: false, maxInputTokens: 8191, tokenizer, embed: (texts) => inner.embed(texts), close: async () => undefined };
}

class RecordingBudget implements SharedRateBudget {
  readonly reserved: number[] = [];
  recorded: Partial<Record<RateUnit, number>> = {};
  async setLimit(_key: string, unit: RateUnit, limit: { perMinute: number }): Promise<void> {
    this.recorded[unit] = limit.perMinute;
  }
  async reserve(_key: string, tokens: number): Promise<{ waitMs: number; cancel(): Promise<void> }> {
    this.reserved.push(tokens);
    return { waitMs: 0, cancel: async () => undefined };
  }
  async holdOff(): Promise<void> {}
  async limits(): Promise<Partial<Record<RateUnit, number>>> {
    return { ...this.recorded };
  }
}

const chunk = (n: number, content: string, embedPrefix = ''): StagedChunk => ({
  documentId: `doc${n}.md`,
  chunkIndex: 0,
  pointId: `p${n}`,
  textHash: sha256(embeddingText(embedPrefix, content)),
  content,
  embedPrefix,
  tokens: 0,
  batchNo: 0,
});

/** embedMisses over an in-memory stand-in for the state store: the batch's chunks, none cached. */
function depsFor(embedder: Embedder, chunks: StagedChunk[]): ActivityDeps {
  const store = {
    cache: {
      batchToEmbed: async () => ({ chunks, cached: new Set<string>(), failedBefore: 0 }),
      putEmbeddings: async () => undefined,
    },
    staging: { markFailed: async () => undefined, failedCount: async () => 0 },
  };
  return { store, embedder, log: createLogger('silent'), price: { perMTok: 0.02, source: 'table' } } as unknown as ActivityDeps;
}

const key = { collection: 'tokens', runKey: 'r', pageNo: 0, batchNo: 0 };

describe('token counting on the embed path', () => {
  const batch = () => [
    chunk(1, 'Install the package with npm and run the worker.', 'Guide > Install'),
    chunk(2, 'A second chunk, with no heading above it.'),
    chunk(3, 'Rate limits are shared by every worker process of an account.', 'Guide > Limits'),
  ];
  const exact = (chunks: StagedChunk[]) => chunks.reduce((n, c) => n + cl100k.count(embeddingText(c.embedPrefix, c.content)) + 2, 0);

  it("a provider that reports its usage: the run bills that figure and tokenizes nothing; one that does not: counted", async () => {
    const tk = spyTokenizer();
    const inner = spyEmbedder(tk);
    // An OpenAI-compatible answer with `usage` (src/embedders/openai.ts sets tokensFromProvider).
    const reporting: Embedder = { ...inner, embed: async (texts) => ({ ...(await inner.embed(texts)), tokens: 1234, tokensFromProvider: true }) };
    const chunks = batch();
    const billed = await embedMisses(depsFor(reporting, chunks), key, DEFAULT_RETRY, { deferCacheWrite: false });
    assert.equal(billed.result.tokens, 1234);
    assert.deepEqual(tk.counted, [], 'no text was tokenized to bill it');
    const counted = await embedMisses(depsFor(inner, chunks), key, DEFAULT_RETRY, { deferCacheWrite: false });
    assert.equal(counted.result.tokens, exact(chunks), 'without a usage figure the texts are counted');
  });

  it('an unlimited provider: each text of the batch is tokenized once, and the billed tokens are exact', async () => {
    const tk = spyTokenizer();
    const budget = new RecordingBudget();
    const embedder = new RateLimitedEmbedder(spyEmbedder(tk), budget, { key: 'unlimited' });
    const chunks = batch();
    const { result } = await embedMisses(depsFor(embedder, chunks), key, DEFAULT_RETRY, { deferCacheWrite: false });
    assert.deepEqual(budget.reserved, [], 'nothing reserved');
    assert.equal(tk.counted.length, chunks.length);
    assert.deepEqual(new Set(tk.counted), new Set(chunks.map((c) => embeddingText(c.embedPrefix, c.content))));
    assert.equal(result.tokens, exact(chunks));
  });

  it('a limited provider: the request reserves its exact token count, and its texts are still tokenized once', async () => {
    const tk = spyTokenizer();
    const budget = new RecordingBudget();
    const embedder = new RateLimitedEmbedder(spyEmbedder(tk), budget, { key: 'limited', tokensPerMinute: 1_000_000 });
    const chunks = batch();
    const { result } = await embedMisses(depsFor(embedder, chunks), key, DEFAULT_RETRY, { deferCacheWrite: false });
    assert.deepEqual(budget.reserved, [exact(chunks)]);
    assert.equal(tk.counted.length, chunks.length, 'the billed count reuses what the reservation counted');
    assert.equal(result.tokens, exact(chunks));
  });

  it('inputTokens remembers a bounded amount of text: the oldest counts are forgotten, and counted again exactly', () => {
    // A cheap stand-in tokenizer (one token per character): the memo is what is under test.
    const counted: string[] = [];
    const e = { tokenizer: { ...spyTokenizer(), specialTokens: 1, count: (t: string) => (counted.push(t), t.length) } };
    const first = 'the first text';
    assert.equal(inputTokens(e, first), first.length + 1);
    assert.equal(inputTokens(e, first), first.length + 1);
    assert.equal(counted.length, 1);
    // More than the memo holds, in texts of the largest size it keeps.
    const size = TOKEN_MEMO_CHARS / 64;
    for (let i = 0; i < 65; i++) inputTokens(e, `${i} `.padEnd(size, 'x'));
    assert.equal(counted.length, 66);
    assert.equal(inputTokens(e, first), first.length + 1);
    assert.equal(counted.length, 67, 'forgotten, so counted again');
    // A text longer than that is never kept.
    const long = 'y'.repeat(size + 1);
    assert.equal(inputTokens(e, long), size + 2);
    assert.equal(inputTokens(e, long), size + 2);
    assert.equal(counted.length, 69);
  });
});
