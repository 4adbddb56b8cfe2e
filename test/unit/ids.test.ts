import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validate, version } from 'uuid';
import { pointId } from '../../src/ids';

describe('pointId', () => {
  it('is a version-5 UUID (Qdrant accepts only UUIDs or unsigned integers)', () => {
    const id = pointId('docs', 'guides/a.md', 0);
    assert.ok(validate(id));
    assert.equal(version(id), 5);
  });

  it('is deterministic', () => {
    assert.equal(pointId('docs', 'a.md', 3), pointId('docs', 'a.md', 3));
  });

  it('differs by collection, document and chunk index, without ambiguous concatenation', () => {
    const ids = new Set([
      pointId('docs', 'a.md', 1),
      pointId('docs', 'a.md', 2),
      pointId('docs', 'b.md', 1),
      pointId('other', 'a.md', 1),
      pointId('docs', 'a.md1', 1),
      pointId('docsa', '.md', 1),
    ]);
    assert.equal(ids.size, 6);
  });

  // Pinned: changing the namespace or the key format would orphan every stored point.
  it('is stable across releases', () => {
    assert.equal(pointId('docs', 'guides/retries.md', 0), STABLE);
  });
});

const STABLE = '734a9738-8807-5b0a-87d0-c107ece9f8ac';
