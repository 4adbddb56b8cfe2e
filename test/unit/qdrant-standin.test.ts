import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startQdrantStandIn, type QdrantStandIn } from '../../src/testing/qdrant-standin';

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
