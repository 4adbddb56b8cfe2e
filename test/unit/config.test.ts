import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { adaptiveEmbedding, describeConfig, loadConfig } from '../../src/config';
import { DEFAULT_MAX_IN_FLIGHT } from '../../src/contracts/ingest';
import { DEFAULT_FORMAT_LIMITS } from '../../src/text/formats';

describe('loadConfig', () => {
  it('falls back to embedded services and the local model on an empty environment', () => {
    const c = loadConfig({ HOME: '/home/someone' });
    assert.equal(c.temporalAddress, undefined);
    assert.equal(c.databaseUrl, undefined);
    assert.equal(c.temporalNamespace, 'default');
    assert.equal(c.embedding.provider, 'local');
    assert.equal(c.embedding.model, 'all-MiniLM-L6-v2');
    assert.equal(c.embedding.dimensions, 384);
    assert.equal(c.embedding.sendDimensions, false);
    assert.equal(c.dataDir, path.resolve('.vector-ingest'));
    // The local model runs one request at a time on every core: two activities keep it busy.
    assert.equal(c.embedConcurrency, 2);
    assert.equal(loadConfig({ VECTOR_INGEST_EMBED_CONCURRENCY: '3' }).embedConcurrency, 3);
  });

  it('reads the index build memory as kB: default 1GB, Postgres units, refused out of range with the variable named', () => {
    assert.equal(loadConfig({}).indexBuildMemoryKb, 1024 * 1024);
    assert.equal(loadConfig({ VECTOR_INGEST_INDEX_BUILD_MEMORY: '256MB' }).indexBuildMemoryKb, 256 * 1024);
    assert.equal(loadConfig({ VECTOR_INGEST_INDEX_BUILD_MEMORY: '65536kB' }).indexBuildMemoryKb, 65536);
    assert.throws(() => loadConfig({ VECTOR_INGEST_INDEX_BUILD_MEMORY: 'lots' }), /VECTOR_INGEST_INDEX_BUILD_MEMORY must be a size like/);
    assert.throws(() => loadConfig({ VECTOR_INGEST_INDEX_BUILD_MEMORY: "1GB'; drop table x" }), /VECTOR_INGEST_INDEX_BUILD_MEMORY/);
    assert.throws(() => loadConfig({ VECTOR_INGEST_INDEX_BUILD_MEMORY: '512kB' }), /at least 1MB/);
    assert.throws(() => loadConfig({ VECTOR_INGEST_INDEX_BUILD_MEMORY: '4TB' }), /at most/);
  });

  it('finds the local model where install-model.sh puts it, or in VECTOR_INGEST_MODEL_DIR', () => {
    assert.equal(loadConfig({ XDG_CACHE_HOME: '/c' }).embedding.modelDir, '/c/vector-ingest/models');
    assert.equal(loadConfig({ VECTOR_INGEST_MODEL_DIR: '/m' }).embedding.modelDir, '/m');
    assert.equal(loadConfig({ VECTOR_INGEST_LOCAL_THREADS: '1' }).embedding.threads, 1);
  });

  it('chooses the provider: EMBEDDING_PROVIDER, else openai with a key or base URL, else local', () => {
    assert.equal(loadConfig({ OPENAI_API_KEY: 'sk' }).embedding.provider, 'openai');
    assert.equal(loadConfig({ OPENAI_BASE_URL: 'http://127.0.0.1:9/v1', EMBEDDING_DIMENSIONS: '8', EMBEDDING_MODEL: 'x' }).embedding.provider, 'openai');
    assert.equal(loadConfig({ OPENAI_API_KEY: 'sk', EMBEDDING_PROVIDER: 'local' }).embedding.provider, 'local');
    const off = loadConfig({ EMBEDDING_PROVIDER: 'offline' });
    assert.deepEqual([off.embedding.provider, off.embedding.model, off.embedding.dimensions, off.embedConcurrency], ['offline', 'offline-hash-v1', 384, 4]);
    assert.throws(() => loadConfig({ EMBEDDING_PROVIDER: 'hash' }), /EMBEDDING_PROVIDER must be local, openai or offline/);
    assert.throws(() => loadConfig({ EMBEDDING_MODEL: 'text-embedding-3-small' }), /local embedder runs all-MiniLM-L6-v2 only.*OPENAI_BASE_URL/);
    assert.throws(() => loadConfig({ EMBEDDING_DIMENSIONS: '256' }), /all-MiniLM-L6-v2 makes 384-dimensional vectors/);
  });

  it('uses OpenAI with the model\'s own size when a key is set', () => {
    const c = loadConfig({ OPENAI_API_KEY: 'sk-test' });
    assert.equal(c.embedding.provider, 'openai');
    assert.equal(c.embedding.model, 'text-embedding-3-small');
    assert.equal(c.embedding.dimensions, 1536);
    assert.equal(c.embedding.sendDimensions, false);
  });

  it('declares the vector size apart from sending it: dimensions go out only to text-embedding-3-* unless told', () => {
    const c = loadConfig({ OPENAI_API_KEY: 'sk', EMBEDDING_DIMENSIONS: '256' });
    assert.equal(c.embedding.dimensions, 256);
    assert.equal(c.embedding.sendDimensions, true);
    const other = loadConfig({ OPENAI_BASE_URL: 'http://127.0.0.1:9/v1', EMBEDDING_MODEL: 'nomic-embed-text', EMBEDDING_DIMENSIONS: '768' });
    assert.equal(other.embedding.dimensions, 768);
    assert.equal(other.embedding.sendDimensions, false);
    const told = loadConfig({ OPENAI_BASE_URL: 'http://127.0.0.1:9/v1', EMBEDDING_MODEL: 'm', EMBEDDING_DIMENSIONS: '8', EMBEDDING_SEND_DIMENSIONS: 'true' });
    assert.equal(told.embedding.sendDimensions, true);
    const not = loadConfig({ OPENAI_API_KEY: 'sk', EMBEDDING_DIMENSIONS: '256', EMBEDDING_SEND_DIMENSIONS: 'false' });
    assert.equal(not.embedding.sendDimensions, false);
    assert.throws(() => loadConfig({ EMBEDDING_SEND_DIMENSIONS: 'yes' }), /EMBEDDING_SEND_DIMENSIONS must be true or false/);
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
    assert.throws(() => loadConfig({ EMBEDDING_DIMENSIONS: '1.5', EMBEDDING_PROVIDER: 'offline' }), /EMBEDDING_DIMENSIONS: .*integer/);
    assert.throws(() => loadConfig({ OPENAI_BASE_URL: 'not a url' }), /OPENAI_BASE_URL/);
    assert.throws(() => loadConfig({ LOG_LEVEL: 'loud' }), /LOG_LEVEL/);
    assert.throws(() => loadConfig({ VECTOR_INGEST_PG_SCHEMA: 'x; drop' }), /VECTOR_INGEST_PG_SCHEMA/);
  });

  it('turns the adaptive embedding splitter off by VECTOR_INGEST_ADAPTIVE_EMBED=off or a configured rate, and only for openai', () => {
    const url = { OPENAI_BASE_URL: 'http://127.0.0.1:9/v1', EMBEDDING_MODEL: 'm', EMBEDDING_DIMENSIONS: '8' };
    assert.equal(adaptiveEmbedding(loadConfig(url)), true);
    assert.equal(adaptiveEmbedding(loadConfig({ ...url, VECTOR_INGEST_ADAPTIVE_EMBED: 'auto' })), true);
    assert.equal(adaptiveEmbedding(loadConfig({ ...url, VECTOR_INGEST_ADAPTIVE_EMBED: 'off' })), false);
    assert.equal(adaptiveEmbedding(loadConfig({ ...url, VECTOR_INGEST_EMBED_RATE: '5' })), false);
    assert.equal(adaptiveEmbedding(loadConfig({ EMBEDDING_PROVIDER: 'offline' })), false);
    assert.throws(() => loadConfig({ ...url, VECTOR_INGEST_ADAPTIVE_EMBED: 'no' }), /VECTOR_INGEST_ADAPTIVE_EMBED must be auto or off/);
  });

  it('under adaptive embedding, enough embed slots for a whole window of batches; the limiter bounds the requests', () => {
    const url = { OPENAI_BASE_URL: 'http://127.0.0.1:9/v1', EMBEDDING_MODEL: 'm', EMBEDDING_DIMENSIONS: '8' };
    // With 4 slots, half of a page's window waited in the embed queue while the adaptive limit
    // (up to 32 requests) had room (bench peer's profile): the slots must not be the bound.
    const adaptive = loadConfig(url);
    assert.ok(adaptive.embedConcurrency >= DEFAULT_MAX_IN_FLIGHT, `${adaptive.embedConcurrency} embed slots for a window of ${DEFAULT_MAX_IN_FLIGHT}`);
    // One request per batch (adaptive off, or paced by a rate): the slots are the request bound, as before.
    assert.equal(loadConfig({ ...url, VECTOR_INGEST_ADAPTIVE_EMBED: 'off' }).embedConcurrency, 4);
    assert.equal(loadConfig({ ...url, VECTOR_INGEST_EMBED_RATE: '5' }).embedConcurrency, 4);
    assert.equal(loadConfig({ ...url, VECTOR_INGEST_EMBED_CONCURRENCY: '3' }).embedConcurrency, 3);
  });

  it('per-document limits are settings: defaults those of the formats, overridden by the environment, bad values refused by name', () => {
    const d = loadConfig({});
    assert.deepEqual(
      { maxPdfPages: d.maxPdfPages, maxUnzippedBytes: d.maxUnzippedBytes, maxCodeLineBytes: d.maxCodeLineBytes },
      { maxPdfPages: DEFAULT_FORMAT_LIMITS.maxPdfPages, maxUnzippedBytes: DEFAULT_FORMAT_LIMITS.maxUnzippedBytes, maxCodeLineBytes: DEFAULT_FORMAT_LIMITS.maxCodeLineBytes },
    );
    assert.equal(d.maxDocumentBytes, 20 * 1024 * 1024);
    const c = loadConfig({ VECTOR_INGEST_MAX_PDF_PAGES: '50', VECTOR_INGEST_MAX_UNZIPPED_BYTES: '1048576', VECTOR_INGEST_MAX_CODE_LINE_BYTES: '500', VECTOR_INGEST_MAX_DOCUMENT_BYTES: '4096' });
    assert.deepEqual([c.maxPdfPages, c.maxUnzippedBytes, c.maxCodeLineBytes, c.maxDocumentBytes], [50, 1048576, 500, 4096]);
    for (const name of ['VECTOR_INGEST_MAX_PDF_PAGES', 'VECTOR_INGEST_MAX_UNZIPPED_BYTES', 'VECTOR_INGEST_MAX_CODE_LINE_BYTES', 'VECTOR_INGEST_MAX_DOCUMENT_BYTES']) {
      assert.throws(() => loadConfig({ [name]: '0' }), new RegExp(name));
      assert.throws(() => loadConfig({ [name]: 'lots' }), new RegExp(name));
    }
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
