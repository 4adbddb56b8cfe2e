import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reciprocalRankFusion } from '../../src/search/rrf';
import { globMatcher, parseWhere } from '../../src/search/where';
import { snippet } from '../../src/search/snippet';
import { whereSql } from '../../src/sinks/pg-where';
import { qdrantFilter } from '../../src/sinks/qdrant-where';

describe('reciprocal rank fusion', () => {
  it('sums 1/(60 + rank) over the rankings that contain an item', () => {
    const fused = reciprocalRankFusion([['a', 'b', 'c'], ['c', 'a']], (x) => x);
    assert.deepEqual(fused.map((f) => f.item), ['a', 'c', 'b']);
    assert.equal(fused[0]!.score, 1 / 61 + 1 / 62);
    assert.equal(fused[1]!.score, 1 / 63 + 1 / 61);
    assert.equal(fused[2]!.score, 1 / 62);
    assert.deepEqual(fused.map((f) => f.ranks), [[1, 2], [3, 1], [2, undefined]]);
  });

  it('lifts an item ranked well by one side above items ranked modestly by one side only', () => {
    // "id" is missing from the dense ranking's top 3 but first by keywords.
    const fused = reciprocalRankFusion([['x', 'y', 'z'], ['id']], (s) => s);
    assert.deepEqual(fused.slice(0, 2).map((f) => f.item).sort(), ['id', 'x']);
    assert.ok(fused.findIndex((f) => f.item === 'id') < fused.findIndex((f) => f.item === 'y'));
  });

  it('breaks ties by the best single rank, then by key, and counts a repeated item once per ranking', () => {
    const fused = reciprocalRankFusion([['b', 'a', 'a'], ['a', 'b']], (s) => s);
    assert.deepEqual(fused.map((f) => f.item), ['a', 'b']);
    assert.equal(fused[0]!.score, fused[1]!.score);
    assert.deepEqual(reciprocalRankFusion([[], []], (s: string) => s), []);
    assert.throws(() => reciprocalRankFusion([['a']], (s) => s, -1), RangeError);
  });
});

describe('--where parsing', () => {
  it('maps path to document_id, detects globs there only, keeps other keys as metadata keys', () => {
    assert.deepEqual(parseWhere(['path=docs/**', 'document_id=a.md', 'format=pdf', 'chunk_index=2', 'title=a*b', 'x=y=z']), [
      { key: 'document_id', value: 'docs/**', glob: true },
      { key: 'document_id', value: 'a.md', glob: false },
      { key: 'format', value: 'pdf', glob: false },
      { key: 'chunk_index', value: '2', glob: false },
      { key: 'title', value: 'a*b', glob: false },
      { key: 'x', value: 'y=z', glob: false },
    ]);
    assert.deepEqual(parseWhere(undefined), []);
  });

  it('refuses malformed filters with a message naming the filter', () => {
    assert.throws(() => parseWhere(['format']), /--where "format": expected key=value/);
    assert.throws(() => parseWhere(['=pdf']), /expected key=value/);
    assert.throws(() => parseWhere(['format=']), /the value is empty/);
    assert.throws(() => parseWhere(["a'b=1"]), /is not a field name/);
  });

  it('matches document paths by glob: ** crosses folders, * does not, dotfiles included', () => {
    const docs = globMatcher('docs/**');
    assert.ok(docs('docs/a.md') && docs('docs/a/b/c.md') && docs('docs/.hidden/x.md'));
    assert.ok(!docs('docsx/a.md') && !docs('other/docs/a.md'));
    const top = globMatcher('guides/*.md');
    assert.ok(top('guides/retries.md') && !top('guides/deep/x.md') && !top('guides/x.txt'));
    const alt = globMatcher('**/*.{md,txt}');
    assert.ok(alt('a.md') && alt('x/y/z.txt') && !alt('x/y.html'));
  });

  it('becomes bound parameters in SQL, never text in the statement', () => {
    const w = whereSql([{ key: 'document_id', anyOf: ['a', 'b'] }, { key: 'chunk_index', equals: '3' }, { key: "x'; drop table t; --", equals: 'v' }], 3);
    assert.equal(w.sql, 'document_id = ANY($3::text[]) AND chunk_index = ANY($4::int[]) AND (metadata ->> $5) = $6');
    assert.deepEqual(w.params, [['a', 'b'], [3], "x'; drop table t; --", 'v']);
    assert.equal(whereSql([], 1).sql, 'TRUE');
    assert.throws(() => whereSql([{ key: 'chunk_index', equals: 'two' }], 1), /chunk_index must be a non-negative integer/);
  });

  it('becomes a Qdrant filter that matches typed payload values too', () => {
    assert.deepEqual(qdrantFilter([{ key: 'page', equals: '3' }, { key: 'document_id', anyOf: ['a'] }, { key: 'format', equals: 'pdf' }]), {
      must: [
        { should: [{ key: 'page', match: { value: '3' } }, { key: 'page', match: { value: 3 } }] },
        { key: 'document_id', match: { any: ['a'] } },
        { key: 'format', match: { value: 'pdf' } },
      ],
    });
    assert.equal(qdrantFilter([]), undefined);
  });
});

describe('snippet', () => {
  it('is one line, bounded, and shows the first query word when the chunk is long', () => {
    const text = `${'lorem ipsum '.repeat(40)}\n\nthe ERR_QX_4471 code means\tthe budget ran out ${'dolor sit '.repeat(40)}`;
    const s = snippet(text, 'what is ERR_QX_4471', 80);
    assert.ok(!s.includes('\n') && !s.includes('\t'));
    assert.ok(s.length <= 80, `${s.length}`);
    assert.match(s, /ERR_QX_4471/);
    assert.ok(s.startsWith('…') && s.endsWith('…'));
    assert.equal(snippet('short\n text', 'x'), 'short text');
  });
});
