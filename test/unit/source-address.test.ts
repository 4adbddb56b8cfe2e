import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatSourceAddress, parseSourceAddress } from '../../src/sources/address';

describe('source addresses', () => {
  it('parse to the JSON source of each kind', () => {
    assert.deepEqual(parseSourceAddress('docs', '/home/u'), { kind: 'directory', path: '/home/u/docs' });
    assert.deepEqual(parseSourceAddress('/data/docs'), { kind: 'directory', path: '/data/docs' });
    assert.deepEqual(parseSourceAddress('git+https://github.com/org/repo.git#main'), { kind: 'git', url: 'https://github.com/org/repo.git', ref: 'main' });
    assert.deepEqual(parseSourceAddress('git+ssh://git@host/org/repo.git'), { kind: 'git', url: 'ssh://git@host/org/repo.git' });
    assert.deepEqual(parseSourceAddress('git+file:///srv/my%20repo#v1.2'), { kind: 'git', url: '/srv/my repo', ref: 'v1.2' });
    assert.deepEqual(parseSourceAddress('https://docs.example.com/sitemap.xml'), { kind: 'web', url: 'https://docs.example.com/sitemap.xml' });
    assert.deepEqual(parseSourceAddress('http://host/docs/'), { kind: 'web', url: 'http://host/docs/' });
    assert.deepEqual(parseSourceAddress('s3://bucket/kb/x'), { kind: 's3', bucket: 'bucket', prefix: 'kb/x' });
    assert.deepEqual(parseSourceAddress('s3://bucket'), { kind: 's3', bucket: 'bucket' });
    assert.deepEqual(parseSourceAddress('postgres://DOCS_DB/public.articles?id=id&text=title,body&metadata=tag&updated_at=ts&format=markdown'), {
      kind: 'postgres',
      connectionEnv: 'DOCS_DB',
      table: 'public.articles',
      id: 'id',
      text: ['title', 'body'],
      metadata: ['tag'],
      updatedAt: 'ts',
      format: 'markdown',
    });
    assert.deepEqual(parseSourceAddress('{"kind":"synthetic","documents":3}'), { kind: 'synthetic', documents: 3 });
  });

  it('refuse what they cannot mean, naming it', () => {
    assert.throws(() => parseSourceAddress('postgres://user:pw@host/db'), /not postgres:\/\/ENV_VAR|not an environment variable name/);
    assert.throws(() => parseSourceAddress('postgres://DB/t?text=a'), /\?id=<column> is required/);
    assert.throws(() => parseSourceAddress('postgres://DB/t?id=id'), /\?text=<column>/);
    assert.throws(() => parseSourceAddress('postgres://DB/t?id=id&text=a&password=x'), /unknown parameter "password"/);
    assert.throws(() => parseSourceAddress('ftp://host/x'), /unknown source address scheme/);
    assert.throws(() => parseSourceAddress('{nope'), /does not parse/);
    assert.throws(() => parseSourceAddress('  '), /empty/);
  });

  it('format back without secrets', () => {
    for (const a of ['git+https://github.com/org/repo.git#main', 's3://bucket/kb/', 'https://h/sitemap.xml', '/data/docs', 'git+file:///srv/repo#v1']) {
      assert.equal(formatSourceAddress(parseSourceAddress(a)), a);
    }
  });
});
