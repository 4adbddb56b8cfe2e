import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generationStorage, validateCollectionName, validateStorageName } from '../../src/naming';

describe('validateCollectionName', () => {
  it('accepts plain identifiers', () => {
    for (const n of ['docs', 'docs_v2', 'a', 'a'.repeat(48)]) assert.equal(validateCollectionName(n), n);
  });

  const hostile: Array<[unknown, RegExp]> = [
    ['docs; DROP TABLE users; --', /not allowed.*"docs_drop_table_users_"/],
    ['"docs"', /not allowed/],
    ['../../etc/passwd', /not allowed/],
    ['docs/sub', /not allowed/],
    ['Docs', /not allowed.*"docs"/],
    ['1docs', /not allowed/],
    ['_docs', /not allowed/],
    ['docs-v2', /not allowed.*"docs_v2"/],
    ['dócs', /not allowed/],
    ['docs__g2', /not ending in __g<number>.*"docs_g2"/], // the storage name of a generation
    ['a'.repeat(49), /49 characters long; the limit is 48/],
    ['', /required/],
    [undefined, /required/],
    [42, /required/],
  ];
  for (const [name, message] of hostile) {
    it(`refuses ${JSON.stringify(name)?.slice(0, 40)}`, () => {
      assert.throws(() => validateCollectionName(name), message);
    });
  }
});

describe('generation storage names', () => {
  it('are <collection>__g<n>, accepted as storage names and never as collection names', () => {
    assert.equal(generationStorage('docs', 3), 'docs__g3');
    assert.equal(validateStorageName('docs__g3'), 'docs__g3');
    assert.equal(validateStorageName('docs'), 'docs');
    assert.throws(() => validateStorageName('Docs__g3'), /not allowed/);
    assert.throws(() => generationStorage('docs', 0), /positive integer/);
  });
});
