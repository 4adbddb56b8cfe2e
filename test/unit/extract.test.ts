import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DocumentError } from '../../src/errors';
import { decodeUtf8, extractText, formatOf } from '../../src/text/extract';

describe('extractText', () => {
  it('turns markdown into text, keeping words and dropping syntax', () => {
    const md = '# Title\n\nSome **bold** and `code` and a [link](http://x.example).\n\n- one\n- two\n\n```js\nconst x = 1;\n```';
    const t = extractText('a.md', md, 'markdown');
    assert.match(t, /^Title/);
    assert.match(t, /Some bold and code and a link\./);
    assert.match(t, /one/);
    assert.match(t, /const x = 1;/);
    assert.ok(!t.includes('**'));
    assert.ok(!t.includes('http://x.example'));
  });

  it('turns HTML into text without scripts, styles or navigation', () => {
    const html = '<html><head><style>p{}</style></head><body><nav>Menu</nav><h1>Head</h1><p>Para &amp; more</p><script>evil()</script></body></html>';
    const t = extractText('a.html', html, 'html');
    assert.match(t, /Head/);
    assert.match(t, /Para & more/);
    assert.ok(!t.includes('evil'));
    assert.ok(!t.includes('Menu'));
    assert.ok(!t.includes('p{}'));
  });

  it('normalises whitespace in plain text', () => {
    assert.equal(extractText('a.txt', 'a  b\r\n\r\n\r\n\r\nc\t d  ', 'text'), 'a b\n\nc d');
  });
});

describe('decodeUtf8', () => {
  it('decodes valid UTF-8', () => {
    assert.equal(decodeUtf8('a', Buffer.from('héllo ✓', 'utf8')), 'héllo ✓');
  });
  it('refuses binary with a typed, named error', () => {
    assert.throws(
      () => decodeUtf8('img.txt', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01])),
      (e: unknown) => e instanceof DocumentError && e.type === 'BinaryDocument' && e.message.startsWith('img.txt'),
    );
  });
  it('refuses invalid UTF-8', () => {
    assert.throws(
      () => decodeUtf8('latin1.txt', Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20])),
      (e: unknown) => e instanceof DocumentError && e.type === 'InvalidUtf8',
    );
  });
});

describe('formatOf', () => {
  it('maps extensions', () => {
    assert.equal(formatOf('x/y.MD'), 'markdown');
    assert.equal(formatOf('a.htm'), 'html');
    assert.equal(formatOf('a.txt'), 'text');
    assert.equal(formatOf('a.png'), undefined);
    assert.equal(formatOf('Makefile'), undefined);
  });
});
