import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ProviderError } from '../../src/errors';
import { ConfigError } from '../../src/errors';
import { pointId } from '../../src/ids';
import { createQdrantClient, QdrantStore } from '../../src/sinks/qdrant';
import type { Point } from '../../src/sinks/types';
import { startQdrantStandIn, type QdrantStandIn } from '../../src/testing/qdrant-standin';
import { uniqueCollection } from '../support/env';

const DIMS = 4;
const point = (collection: string, doc: string, i: number): Point => ({
  id: pointId(collection, doc, i),
  documentId: doc,
  chunkIndex: i,
  content: `${doc} chunk ${i}`,
  contentHash: `h-${doc}-${i}`,
  metadata: { tokens: 3 },
  vector: [1, i, 0.5, -1].map((x) => x / 2),
});

/** The same expectations for the stand-in and for a real Qdrant. */
function sinkSuite(target: () => { url: string; apiKey?: string; standIn?: QdrantStandIn }) {
  let store: QdrantStore;
  const collection = uniqueCollection('qs');
  before(() => {
    const t = target();
    store = new QdrantStore(createQdrantClient(t.url, t.apiKey));
  });
  after(async () => {
    await store?.drop(collection).catch(() => undefined);
  });

  it('creates the collection once; a second ensure is a no-op', async () => {
    await store.ensureCollection(collection, DIMS);
    await store.ensureCollection(collection, DIMS);
    assert.equal(await store.count(collection), 0);
  });

  it('refuses a different vector size with a clear message', async () => {
    await assert.rejects(store.ensureCollection(collection, DIMS + 1), (e: unknown) => e instanceof ConfigError && /stores vectors of 4 dimensions, but the embedder makes 5/.test(e.message));
  });

  it('upserts by UUID idempotently', async () => {
    const pts = ['a.md', 'b.md'].flatMap((d) => [0, 1, 2].map((i) => point(collection, d, i)));
    await store.upsert(collection, pts);
    await store.upsert(collection, pts);
    assert.equal(await store.count(collection), 6);
  });

  it('trims a document to its first chunks and deletes whole documents, touching nothing else', async () => {
    await store.trimDocuments(collection, [{ documentId: 'a.md', keep: 1 }]);
    assert.equal(await store.count(collection), 4);
    await store.deleteDocuments(collection, ['b.md']);
    assert.equal(await store.count(collection), 1);
    await store.deleteDocuments(collection, ['a.md']);
    assert.equal(await store.count(collection), 0);
  });
}

describe('Qdrant sink against the OpenAPI-checking stand-in', () => {
  let standIn: QdrantStandIn;
  before(async () => {
    standIn = await startQdrantStandIn();
  });
  after(async () => {
    assert.deepEqual(standIn.violations, [], 'requests or responses that violate Qdrant\'s OpenAPI schema');
    await standIn.close();
  });
  sinkSuite(() => ({ url: standIn.url, standIn }));

  it('classifies 429 as rate limited (retryable, with the server\'s delay) and 503 as unavailable', async () => {
    const store = new QdrantStore(createQdrantClient(standIn.url));
    const c = uniqueCollection('qs_err');
    await store.ensureCollection(c, DIMS);
    standIn.failNext(1, 429);
    await assert.rejects(store.upsert(c, [point(c, 'x.md', 0)]), (e: unknown) => e instanceof ProviderError && e.type === 'RateLimited' && e.retryable && e.retryAfterMs === 1000);
    standIn.failNext(1, 503);
    await assert.rejects(store.count(c), (e: unknown) => e instanceof ProviderError && e.type === 'ProviderUnavailable' && e.retryable);
    await store.drop(c);
  });

  it('classifies a refused connection as retryable', async () => {
    const dead = new QdrantStore(createQdrantClient('http://127.0.0.1:9'));
    await assert.rejects(dead.count('nothing'), (e: unknown) => e instanceof ProviderError && e.type === 'ProviderUnavailable' && e.retryable);
  });
});

describe('Qdrant sink against a real Qdrant (QDRANT_URL)', { skip: process.env.QDRANT_URL ? false : 'QDRANT_URL is not set: no Qdrant server can run on this machine; set it (e.g. the docker-compose service) to run this suite' }, () => {
  sinkSuite(() => ({ url: process.env.QDRANT_URL!, apiKey: process.env.QDRANT_API_KEY }));
});
