import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { describeConfig, loadConfig } from '../../src/config';

describe('loadConfig', () => {
  it('falls back to embedded services and the offline embedder on an empty environment', () => {
    const c = loadConfig({});
    assert.equal(c.temporalAddress, undefined);
    assert.equal(c.databaseUrl, undefined);
    assert.equal(c.temporalNamespace, 'default');
    assert.equal(c.embedding.provider, 'offline');
    assert.equal(c.embedding.dimensions, 384);
    assert.equal(c.dataDir, path.resolve('.vector-ingest'));
    assert.equal(c.embedConcurrency, 4);
  });

  it('uses OpenAI with the model\'s own size when a key is set', () => {
    const c = loadConfig({ OPENAI_API_KEY: 'sk-test' });
    assert.deepEqual(c.embedding, { provider: 'openai', model: 'text-embedding-3-small', dimensions: 1536, sendDimensions: false });
  });

  it('sends dimensions only when the user chose them', () => {
    const c = loadConfig({ OPENAI_API_KEY: 'sk', EMBEDDING_DIMENSIONS: '256' });
    assert.equal(c.embedding.dimensions, 256);
    assert.equal(c.embedding.sendDimensions, true);
  });

  it('accepts a key-less OpenAI-compatible server', () => {
    const c = loadConfig({ OPENAI_BASE_URL: 'http://127.0.0.1:9/v1', EMBEDDING_MODEL: 'local', EMBEDDING_DIMENSIONS: '8' });
    assert.equal(c.embedding.provider, 'openai');
    assert.equal(c.embedding.model, 'local');
  });

  it('requires dimensions for a model it does not know', () => {
    assert.throws(() => loadConfig({ OPENAI_API_KEY: 'sk', EMBEDDING_MODEL: 'mystery' }), /EMBEDDING_DIMENSIONS is required for model "mystery"/);
  });

  it('names the variable in every validation error', () => {
    assert.throws(() => loadConfig({ VECTOR_INGEST_EMBED_CONCURRENCY: 'lots' }), /VECTOR_INGEST_EMBED_CONCURRENCY: .*number/);
    assert.throws(() => loadConfig({ VECTOR_INGEST_EMBED_CONCURRENCY: '0' }), /VECTOR_INGEST_EMBED_CONCURRENCY: .*at least 1/);
    assert.throws(() => loadConfig({ EMBEDDING_DIMENSIONS: '1.5' }), /EMBEDDING_DIMENSIONS: .*integer/);
    assert.throws(() => loadConfig({ OPENAI_BASE_URL: 'not a url' }), /OPENAI_BASE_URL/);
    assert.throws(() => loadConfig({ LOG_LEVEL: 'loud' }), /LOG_LEVEL/);
    assert.throws(() => loadConfig({ VECTOR_INGEST_PG_SCHEMA: 'x; drop' }), /VECTOR_INGEST_PG_SCHEMA/);
  });

  it('lets flags override the environment', () => {
    const c = loadConfig({ TEMPORAL_NAMESPACE: 'a', VECTOR_INGEST_UPSERT_CONCURRENCY: '3' }, { temporalNamespace: 'b', upsertConcurrency: 9 });
    assert.equal(c.temporalNamespace, 'b');
    assert.equal(c.upsertConcurrency, 9);
  });

  it('never shows secrets when described', () => {
    const c = loadConfig({ OPENAI_API_KEY: 'sk-very-secret', DATABASE_URL: 'postgres://u:hunter2@db:5432/x' });
    const shown = JSON.stringify(describeConfig(c));
    assert.ok(!shown.includes('sk-very-secret'));
    assert.ok(!shown.includes('hunter2'));
    assert.match(shown, /db:5432/);
  });
});
