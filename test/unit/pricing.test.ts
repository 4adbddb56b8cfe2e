import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { embeddingPrice, loadConfig } from '../../src/config';
import { ConfigError } from '../../src/errors';
import { costUsd, DEFAULT_PRICES_PER_MTOK, formatUsd, parsePrices, priceOf } from '../../src/embedders/pricing';
import { inputTokens } from '../../src/embedders/types';
import { cl100k } from '../../src/text/tokenizer';

describe('embedding price table', () => {
  it('prices OpenAI\'s embedding models from the default table, per million tokens', () => {
    assert.deepEqual(priceOf('text-embedding-3-small', 'openai'), { perMTok: 0.02, source: 'table' });
    assert.deepEqual(priceOf('text-embedding-3-large', 'openai'), { perMTok: 0.13, source: 'table' });
    assert.deepEqual(priceOf('text-embedding-ada-002', 'openai'), { perMTok: 0.1, source: 'table' });
    assert.equal(Object.keys(DEFAULT_PRICES_PER_MTOK).length, 3);
    // 1,000,000 tokens of 3-small cost two cents; 12,345 tokens of 3-large cost 0.13 * 12345 / 1e6.
    assert.equal(costUsd(1_000_000, priceOf('text-embedding-3-small', 'openai')), 0.02);
    assert.ok(Math.abs(costUsd(12_345, priceOf('text-embedding-3-large', 'openai')) - 0.00160485) < 1e-12);
  });

  it('local and offline embedders cost nothing; an unknown remote model has no price (0, marked unknown)', () => {
    assert.deepEqual(priceOf('all-MiniLM-L6-v2@abc', 'local'), { perMTok: 0, source: 'local' });
    assert.deepEqual(priceOf('offline-hash-v1', 'offline'), { perMTok: 0, source: 'local' });
    assert.deepEqual(priceOf('my-own-model', 'openai'), { perMTok: 0, source: 'unknown' });
  });

  it('settings override the table: the single price for the configured model, the JSON table for any model', () => {
    const s = { pricePerMTok: 0.5, prices: { 'text-embedding-3-small': 0.01, 'other': 0.07 } };
    // The single price wins for the configured model only.
    assert.deepEqual(priceOf('text-embedding-3-small', 'openai', s, 'text-embedding-3-small'), { perMTok: 0.5, source: 'setting' });
    assert.deepEqual(priceOf('text-embedding-3-small', 'openai', s, 'another-model'), { perMTok: 0.01, source: 'setting' });
    assert.deepEqual(priceOf('other', 'openai', s, 'text-embedding-3-small'), { perMTok: 0.07, source: 'setting' });
    // A local model with a contract price (say, the machine's cost) takes it too.
    assert.deepEqual(priceOf('all-MiniLM-L6-v2', 'local', { pricePerMTok: 0.001 }), { perMTok: 0.001, source: 'setting' });
  });

  it('reads VECTOR_INGEST_PRICE_PER_MTOK and VECTOR_INGEST_PRICES from the environment', () => {
    const base = { OPENAI_API_KEY: 'sk-test' };
    assert.deepEqual(embeddingPrice(loadConfig(base)), { perMTok: 0.02, source: 'table' });
    assert.deepEqual(embeddingPrice(loadConfig({ ...base, VECTOR_INGEST_PRICE_PER_MTOK: '0.018' })), { perMTok: 0.018, source: 'setting' });
    assert.deepEqual(embeddingPrice(loadConfig({ ...base, VECTOR_INGEST_PRICES: '{"text-embedding-3-small":0.015}' })), { perMTok: 0.015, source: 'setting' });
    assert.deepEqual(
      embeddingPrice(loadConfig({ ...base, EMBEDDING_MODEL: 'text-embedding-3-large', VECTOR_INGEST_PRICES: '{"text-embedding-3-small":0.015}' })),
      { perMTok: 0.13, source: 'table' },
    );
  });

  it('refuses a bad price setting at startup, naming the variable and the reason', () => {
    assert.throws(() => loadConfig({ VECTOR_INGEST_PRICE_PER_MTOK: '-1' }), /VECTOR_INGEST_PRICE_PER_MTOK must be >= 0/);
    assert.throws(() => loadConfig({ VECTOR_INGEST_PRICE_PER_MTOK: 'cheap' }), /VECTOR_INGEST_PRICE_PER_MTOK/);
    assert.throws(() => loadConfig({ VECTOR_INGEST_PRICES: '{not json' }), (e: unknown) => e instanceof ConfigError && /VECTOR_INGEST_PRICES is not JSON/.test(e.message));
    assert.throws(() => loadConfig({ VECTOR_INGEST_PRICES: '[0.02]' }), /must be a JSON object/);
    assert.throws(() => parsePrices('{"m":"0.02"}'), /the price of "m" must be a number/);
    assert.throws(() => parsePrices('{"m":-0.5}'), /the price of "m" must be a number/);
    assert.deepEqual(parsePrices('{"a":0,"b":1.5}'), { a: 0, b: 1.5 });
  });

  it('formats dollars without float noise', () => {
    assert.equal(formatUsd(0), '$0');
    assert.equal(formatUsd(0.00002), '$0.00002');
    assert.equal(formatUsd(0.1 + 0.2), '$0.3');
    assert.equal(formatUsd(12.345), '$12.35');
  });

  it('counts an input\'s tokens the embedder\'s way: its tokenizer plus the special tokens it adds', () => {
    const text = 'Retries are owned by Temporal.';
    assert.equal(inputTokens({ tokenizer: cl100k }, text), cl100k.count(text));
    const bert = { ...cl100k, specialTokens: 2 };
    assert.equal(inputTokens({ tokenizer: bert }, text), cl100k.count(text) + 2);
  });
});
