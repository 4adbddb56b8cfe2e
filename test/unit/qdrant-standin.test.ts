import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startQdrantStandIn, type QdrantStandIn } from '../../src/testing/qdrant-standin';
import { createQdrantClient, QdrantStore } from '../../src/sinks/qdrant';
import { xorshift32 } from '../../src/prng';

// The stand-in is only worth something if it rejects what a real Qdrant would reject.
describe('Qdrant stand-in checks requests against the OpenAPI schema', () => {
  let s: QdrantStandIn;
  before(async () => {
    s = await startQdrantStandIn();
  });
  after(() => s.close());

  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${s.url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });

  it('accepts a valid request and answers per the schema', async () => {
    const r = await call('PUT', '/collections/ok', { vectors: { size: 3, distance: 'Cosine' } });
    assert.equal(r.status, 200);
    const up = await call('PUT', '/collections/ok/points?wait=true', { points: [{ id: '6f1d7a52-3f0e-5b8c-9a41-2c7e0d5b9e13', vector: [1, 2, 3], payload: { a: 1 } }] });
    assert.equal(up.status, 200);
    assert.deepEqual(s.violations, []);
  });

  it('rejects and records a malformed body: a non-UUID string id, a wrong distance, a missing field', async () => {
    const before = s.violations.length;
    assert.equal((await call('PUT', '/collections/ok/points', { points: [{ id: 'not-a-uuid', vector: [1, 2, 3] }] })).status, 400);
    assert.equal((await call('PUT', '/collections/bad', { vectors: { size: 3, distance: 'Manhattan-ish' } })).status, 400);
    assert.equal((await call('POST', '/collections/ok/points/delete', { filter: { must: [{ match: { value: 'x' } }] } })).status, 400);
    assert.equal(s.violations.length, before + 3);
    assert.match(s.violations[before]!, /upsert_points/);
    s.violations.length = before; // expected violations; the suite's others must stay clean
  });

  it('records routes the schema does not describe', async () => {
    const before = s.violations.length;
    assert.equal((await call('GET', '/no/such/route')).status, 404);
    assert.match(s.violations[before]!, /route not in Qdrant's OpenAPI schema/);
    s.violations.length = before;
  });

  it('says which schema it validates against', () => {
    assert.equal(s.schemaVersion, '1.18');
  });
});

// Search in the stand-in must equal brute force: the sink's search tests mean nothing otherwise.
// The reference below is written apart from the stand-in's own scoring (float64 dot over norms).
describe('Qdrant stand-in search equals brute-force cosine', () => {
  let s: QdrantStandIn;
  const DIM = 12;
  const N = 300;
  const next = xorshift32(42);
  const rnd = () => next() / 0x1_0000_0000 - 0.5;
  const points = Array.from({ length: N }, (_, i) => ({
    id: `00000000-0000-5000-8000-${String(i).padStart(12, '0')}`,
    vector: Array.from({ length: DIM }, rnd),
    payload: { document_id: `d${i % 37}.md`, chunk_index: i % 5, content: `chunk ${i}`, team: i % 3 === 0 ? 'blue' : 'red' },
  }));
  const reference = (q: number[], keep: (p: (typeof points)[number]) => boolean, limit: number) => {
    const norm = (v: number[]) => Math.hypot(...v);
    return points
      .filter(keep)
      .map((p) => ({ id: p.id, score: p.vector.reduce((s, x, k) => s + x * q[k]!, 0) / (norm(p.vector) * norm(q)) }))
      .sort((a, b) => b.score - a.score)
      .slice(0, limit);
  };

  before(async () => {
    s = await startQdrantStandIn();
    const client = createQdrantClient(s.url);
    await client.createCollection('bf', { vectors: { size: DIM, distance: 'Cosine' } });
    await client.upsert('bf', { wait: true, points });
  });
  after(async () => {
    assert.deepEqual(s.violations, [], "requests or responses that violate Qdrant's OpenAPI schema");
    await s.close();
  });

  it('the query API (through the real client and QdrantStore) returns the top k by cosine, with and without a filter', async () => {
    const store = new QdrantStore(createQdrantClient(s.url));
    for (let t = 0; t < 10; t++) {
      const q = Array.from({ length: DIM }, rnd);
      const hits = await store.search('bf', { vector: q, limit: 10, efSearch: 64 });
      const want = reference(q, () => true, 10);
      assert.deepEqual(hits.map((h) => h.id), want.map((w) => w.id));
      hits.forEach((h, k) => assert.ok(Math.abs(h.score - want[k]!.score) < 1e-9));
      const filtered = await store.search('bf', { vector: q, limit: 7, where: [{ key: 'team', equals: 'blue' }, { key: 'chunk_index', anyOf: ['1', '2'] }] });
      const wantF = reference(q, (p) => p.payload.team === 'blue' && [1, 2].includes(p.payload.chunk_index), 7);
      assert.deepEqual(filtered.map((h) => h.id), wantF.map((w) => w.id));
      assert.ok(filtered.every((h) => h.metadata.team === 'blue' && h.content.startsWith('chunk ')));
    }
    assert.equal(s.requests['POST query_points'], 20);
  });

  it('the older search endpoint answers the same as brute force', async () => {
    const q = Array.from({ length: DIM }, rnd);
    const r = await fetch(`${s.url}/collections/bf/points/search`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ vector: q, limit: 5, with_payload: false, filter: { must: [{ key: 'document_id', match: { any: ['d1.md', 'd2.md'] } }] } }),
    });
    assert.equal(r.status, 200);
    const body = (await r.json()) as { result: Array<{ id: string; score: number; payload: unknown }> };
    assert.deepEqual(body.result.map((p) => p.id), reference(q, (p) => ['d1.md', 'd2.md'].includes(p.payload.document_id), 5).map((w) => w.id));
    assert.ok(body.result.every((p) => p.payload === null));
  });

  it('full-text match on a word of the content', async () => {
    const store = new QdrantStore(createQdrantClient(s.url));
    const hits = await store.keywordSearch('bf', { text: 'what is in chunk 17?', limit: 3 });
    // every content has "chunk" (a stop word here: in more than half the chunks); only one has "17"
    assert.deepEqual(hits.map((h) => h.content), ['chunk 17']);
    // each word finds its own chunk; the payload filter applies to every word
    const two = await store.keywordSearch('bf', { text: '17 170', limit: 5, where: [{ key: 'team', equals: 'red' }] });
    assert.deepEqual(two.map((h) => h.content), ['chunk 17', 'chunk 170']);
  });
});
