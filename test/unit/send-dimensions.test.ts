import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config';
import { createEmbedder } from '../../src/embedders';
import { ProviderError } from '../../src/errors';
import { startEmbeddingServer, type EmbeddingServer } from '../../src/testing/embedding-server';

// A server for a model that cannot shorten vectors (Ollama, TEI, llama.cpp …): it makes 16-d
// vectors and answers 400 to any request that carries `dimensions`, as those servers do. The real
// `openai` client over real HTTP.
describe('vector size declared apart from what is sent', () => {
  let server: EmbeddingServer;
  before(async () => {
    server = await startEmbeddingServer({
      dimensions: 16,
      fault: (req) =>
        req.dimensions !== undefined
          ? { status: 400, body: { error: { message: 'This model does not support specifying dimensions.', type: 'invalid_request_error' } } }
          : undefined,
    });
  });
  after(() => server.close());

  const embedderFor = (env: Record<string, string>) =>
    createEmbedder(loadConfig({ OPENAI_BASE_URL: server.url, EMBEDDING_MODEL: 'nomic-embed-text', EMBEDDING_DIMENSIONS: '16', ...env }));

  it('works with EMBEDDING_DIMENSIONS set: the size is declared, not sent', async () => {
    server.reset();
    const e = await embedderFor({});
    assert.equal(e.dimensions, 16);
    const res = await e.embed(['one', 'two']);
    assert.equal(res.vectors.length, 2);
    assert.equal(res.vectors[0]!.length, 16);
    assert.equal(server.stats.requests, 1);
    assert.equal(server.stats.requestBodies[0]!.dimensions, undefined);
  });

  it('sends it when told to (EMBEDDING_SEND_DIMENSIONS=true), and this server refuses it as bad input', async () => {
    server.reset();
    const e = await embedderFor({ EMBEDDING_SEND_DIMENSIONS: 'true' });
    await assert.rejects(e.embed(['one']), (err: unknown) => err instanceof ProviderError && err.type === 'InvalidInput' && /does not support specifying dimensions/.test(err.message));
    assert.equal(server.stats.requestBodies[0]!.dimensions, 16);
  });

  it('still sends it to text-embedding-3-* by default, which can shorten vectors', async () => {
    server.reset();
    const e = await createEmbedder(loadConfig({ OPENAI_BASE_URL: server.url, EMBEDDING_MODEL: 'text-embedding-3-small', EMBEDDING_DIMENSIONS: '16' }));
    await assert.rejects(e.embed(['one']), ProviderError);
    assert.equal(server.stats.requestBodies[0]!.dimensions, 16);
  });
});
