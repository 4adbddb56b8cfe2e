import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { ConfigError, DocumentError } from '../../src/errors';
import type { SourceItem } from '../../src/sources/types';
import { WebSource } from '../../src/sources/web';
import { docsSite, TestSite } from '../support/web-site';

const fast = { requestsPerSecond: 1000, timeoutSeconds: 2 };
const fp = (i: SourceItem) => (i as SourceItem & { fingerprint?: string }).fingerprint;

async function listAll(src: WebSource, limit: number): Promise<SourceItem[]> {
  const out: SourceItem[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 100; i++) {
    const page = await src.listPage(cursor, limit);
    out.push(...page.items);
    if (page.nextCursor === null) return out;
    cursor = page.nextCursor;
  }
  throw new Error('listing did not end');
}

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('web source', () => {
  let site: TestSite;
  before(async () => {
    site = docsSite(await new TestSite().start());
  });
  after(() => site.stop());

  it('lists a sitemap: in sorted order, robots.txt obeyed, <lastmod> or a HEAD as the fingerprint, no GET of a page', async () => {
    const from = site.log.length;
    const src = new WebSource({ kind: 'web', url: `${site.url}/sitemap.xml`, ...fast });
    const items = await listAll(src, 100);
    assert.deepEqual(
      items.map((i) => i.id),
      ['/docs/', '/docs/guide/setup.html', '/docs/intro.html', '/docs/notes.txt'].map((p) => site.url + p),
    );
    assert.equal(fp(items[0]!), 'lastmod:2026-11-01');
    assert.equal(fp(items[1]!), 'lastmod:2026-11-02');
    assert.match(fp(items[2]!)!, /^etag:"[0-9a-f]{16}"$/); // no <lastmod>: taken from a HEAD
    assert.equal(items[3]!.format, 'text');
    assert.equal(site.documentReads(from), 0, 'listing a sitemap GETs no page');
    assert.ok(!site.log.slice(from).some((r) => r.path === '/docs/private.html'), 'a disallowed page is never requested');
  });

  it('follows a sitemap index', async () => {
    const src = new WebSource({ kind: 'web', url: `${site.url}/sitemap-index.xml`, ...fast });
    assert.equal((await listAll(src, 100)).length, 4);
  });

  it('crawls a start page within its path: no other origin or path, no disallowed page, no image; fingerprints from ETags', async () => {
    const src = new WebSource({ kind: 'web', url: `${site.url}/docs/`, ...fast });
    const items = await listAll(src, 100);
    assert.deepEqual(
      items.map((i) => i.id),
      ['/docs/', '/docs/guide/setup.html', '/docs/intro.html', '/docs/notes.txt'].map((p) => site.url + p),
    );
    assert.deepEqual(items.map((i) => i.format), ['html', 'html', 'html', 'text']);
    for (const i of items) assert.match(fp(i)!, /^etag:/);
    assert.ok(!site.log.some((r) => r.path === '/outside.html' || r.path === '/docs/private.html'));
  });

  it('crawls again with conditional GETs: unchanged pages answer 304 and keep their fingerprint', async () => {
    const url = `${site.url}/docs/`;
    const first = await listAll(new WebSource({ kind: 'web', url, ...fast }), 100);
    const from = site.log.length;
    const second = await listAll(new WebSource({ kind: 'web', url, ...fast }), 100);
    assert.deepEqual(second, first);
    const gets = site.log.slice(from).filter((r) => r.method === 'GET' && r.path.startsWith('/docs/'));
    assert.ok(gets.length >= 3);
    assert.ok(gets.filter((r) => r.path !== '/docs/logo.png').every((r) => r.status === 304), JSON.stringify(gets));
  });

  it('pages through a listing with a cursor, the same from a worker that never saw the first page', async () => {
    const src = new WebSource({ kind: 'web', url: `${site.url}/docs/`, ...fast });
    const whole = await listAll(src, 100);
    assert.deepEqual(await listAll(src, 1), whole);
    const first = await src.listPage(null, 2);
    assert.equal(first.nextCursor, whole[1]!.id);
    // Another spec key: this "worker" has no listing in memory and crawls again from the cursor.
    const elsewhere = new WebSource({ kind: 'web', url: `${site.url}/docs/`, ...fast, maxPages: 999 });
    const rest = await elsewhere.listPage(first.nextCursor, 10);
    assert.deepEqual(rest.items, whole.slice(2));
    assert.equal(rest.nextCursor, null);
  });

  it('reads pages, follows redirects within the site, and reports bad documents one by one', async () => {
    site.set('/docs/moved.html', '', { redirect: '/docs/intro.html' });
    site.set('/docs/away.html', '', { redirect: '/outside.html' });
    site.set('/docs/broken.html', '', { status: 500 });
    site.set('/docs/slow.html', '<p>late</p>', { delayMs: 1500 });
    site.set('/docs/big.html', `<p>${'x'.repeat(5000)}</p>`);
    try {
      const src = new WebSource({ kind: 'web', url: `${site.url}/docs/`, requestsPerSecond: 1000, timeoutSeconds: 0.5 });
      const item = (p: string): SourceItem => ({ id: site.url + p, format: 'html' });
      assert.match(Buffer.from(await src.read(item('/docs/moved.html'), 1e6)).toString(), /Temporal workflows page/);
      const fails: Array<[string, string, RegExp]> = [
        ['/docs/gone.html', 'DocumentVanished', /answered 404/],
        ['/docs/away.html', 'UnreadableDocument', /redirects outside the source/],
        ['/docs/broken.html', 'UnreadableDocument', /answered 500/],
        ['/docs/slow.html', 'UnreadableDocument', /no answer within 0.5 s/],
        ['/docs/logo.png', 'UnsupportedDocument', /image\/png, not HTML, text, PDF or DOCX/],
        ['/docs/private.html', 'UnsupportedDocument', /robots\.txt disallows/],
        ['/docs/big.html', 'DocumentTooLarge', /larger than 1000 bytes/],
      ];
      for (const [p, type, msg] of fails) {
        await assert.rejects(src.read(item(p), 1000), (e: unknown) => e instanceof DocumentError && e.type === type && msg.test(e.message), p);
      }
    } finally {
      for (const p of ['moved', 'away', 'broken', 'slow', 'big']) site.pages.delete(`/docs/${p}.html`);
    }
  });

  it('crawls a linked PDF as a document of format pdf, and reads a body served as another kind than listed as what it is served as', async () => {
    const pdfBytes = Buffer.from('%PDF-1.4 (bytes; the format test parses real PDFs)');
    site.set('/docs/', `<html><body><a href="manual.pdf">manual</a><a href="served">served</a><a href="intro.html">intro</a></body></html>`);
    site.set('/docs/manual.pdf', pdfBytes, { type: 'application/pdf' });
    site.set('/docs/served', pdfBytes, { type: 'application/pdf' });
    try {
      const src = new WebSource({ kind: 'web', url: `${site.url}/docs/`, ...fast });
      const items = await listAll(src, 10);
      const pdfs = items.filter((i) => i.format === 'pdf').map((i) => i.id.slice(site.url.length));
      assert.deepEqual(pdfs.sort(), ['/docs/manual.pdf', '/docs/served'], 'format from the Content-Type, whatever the URL says');
      assert.ok(items.every((i) => fp(i)), 'PDFs are fingerprinted like pages');
      assert.deepEqual(Buffer.from(await src.read({ id: `${site.url}/docs/manual.pdf`, format: 'pdf' }, 1e6)), pdfBytes);
      // A replay knows a URL only by its id: the crawl's Content-Type, not the missing extension, says PDF.
      assert.equal(src.formatOf(`${site.url}/docs/served`), 'pdf');
      assert.equal(new WebSource({ kind: 'web', url: `${site.url}/other/`, ...fast }).formatOf(`${site.url}/other/never-crawled`), 'html');
      // The listing's format is a guess from the URL: the answer decides which parser reads it.
      assert.equal((await src.readWithMetadata({ id: `${site.url}/docs/served`, format: 'html' }, 1e6)).format, 'pdf');
      assert.equal((await src.readWithMetadata({ id: `${site.url}/docs/intro.html`, format: 'pdf' }, 1e6)).format, 'html');
    } finally {
      docsSite(site);
      site.pages.delete('/docs/manual.pdf');
      site.pages.delete('/docs/served');
    }
  });

  it('crawls a linked Word file (its Content-Type, or octet-stream with a .docx name) as format docx; octet-stream without a known name is not a document', async () => {
    const docxBytes = Buffer.from('PK\u0003\u0004 (bytes; the format test parses real DOCX files)');
    const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
    site.set('/docs/', `<html><body><a href="report">report</a><a href="notes.docx">notes</a><a href="blob.bin">blob</a><a href="manual.pdf">manual</a></body></html>`);
    site.set('/docs/report', docxBytes, { type: DOCX });
    site.set('/docs/notes.docx', docxBytes, { type: 'application/octet-stream' });
    site.set('/docs/blob.bin', docxBytes, { type: 'application/octet-stream' });
    site.set('/docs/manual.pdf', Buffer.from('%PDF-1.4'), { type: 'application/pdf' });
    try {
      const src = new WebSource({ kind: 'web', url: `${site.url}/docs/`, ...fast });
      const items = await listAll(src, 10);
      const byPath = Object.fromEntries(items.map((i) => [i.id.slice(site.url.length), i.format]));
      assert.equal(byPath['/docs/report'], 'docx');
      assert.equal(byPath['/docs/notes.docx'], 'docx');
      assert.equal(byPath['/docs/blob.bin'], undefined, 'octet-stream with no known extension is not listed');
      assert.deepEqual(Buffer.from(await src.read({ id: `${site.url}/docs/report`, format: 'docx' }, 1e6)), docxBytes);
      // Neither binary format is parsed as the other, nor as a page: the Content-Type says which it is.
      for (const [p, listed, served] of [['/docs/report', 'html', 'docx'], ['/docs/report', 'pdf', 'docx'], ['/docs/manual.pdf', 'docx', 'pdf']] as const) {
        assert.equal((await src.readWithMetadata({ id: `${site.url}${p}`, format: listed }, 1e6)).format, served, `${p} listed as ${listed}`);
      }
    } finally {
      docsSite(site);
      for (const p of ['report', 'notes.docx', 'blob.bin', 'manual.pdf']) site.pages.delete(`/docs/${p}`);
    }
  });

  it('reads a sitemap entry whose URL has no extension by what it is served as: PDF or DOCX by Content-Type or first bytes; a body of no known kind fails naming the URL', async () => {
    const pdfBytes = Buffer.from('%PDF-1.7 (bytes; the format test parses real PDFs)');
    // a zip whose entry names say Word document (local header: signature, fields, then the name)
    const docxBytes = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(26), Buffer.from('[Content_Types].xml … word/document.xml')]);
    const zipBytes = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(26), Buffer.from('data.csv')]);
    const files: Array<[string, Buffer, string]> = [
      ['/files/report', pdfBytes, 'application/pdf'],
      ['/files/download', pdfBytes, 'application/octet-stream'],
      ['/files/handbook', docxBytes, 'application/octet-stream'],
      ['/files/minutes', docxBytes, 'text/html'],
      ['/files/export', zipBytes, 'application/octet-stream'],
      ['/files/slides.pdf', Buffer.from('<html><body>the slides moved</body></html>'), 'text/html'],
    ];
    for (const [p, body, type] of files) site.set(p, body, { type, inSitemap: true, lastmod: '2026-11-20' });
    try {
      const src = new WebSource({ kind: 'web', url: `${site.url}/sitemap.xml`, ...fast });
      const listed = new Map((await listAll(src, 100)).map((i) => [i.id.slice(site.url.length), i]));
      assert.equal(listed.get('/files/report')?.format, 'html', 'a sitemap lists by the URL alone: a guess');
      const read = async (p: string) => {
        const item = listed.get(p)!;
        assert.ok(await src.read(item, 1e6), p); // no FormatMismatch: the guess is not held against the page
        return (await src.readWithMetadata(item, 1e6)).format;
      };
      assert.equal(await read('/files/report'), 'pdf', 'by Content-Type');
      assert.equal(await read('/files/download'), 'pdf', 'octet-stream: by its first bytes');
      assert.equal(await read('/files/handbook'), 'docx', 'octet-stream: a zip with word/document.xml');
      assert.equal(await read('/files/minutes'), 'docx', 'the bytes win over a wrong text Content-Type');
      assert.equal(await read('/files/slides.pdf'), 'html', 'the extension says PDF, the answer says HTML');
      await assert.rejects(
        src.read(listed.get('/files/export')!, 1e6),
        (e: unknown) => e instanceof DocumentError && e.type === 'UnsupportedDocument' && e.message.startsWith(`${site.url}/files/export: is application/octet-stream, not HTML, text, PDF or DOCX`),
      );
      // Between text formats the listing's stands: it is finer than a Content-Type (code, markdown).
      assert.equal((await src.readWithMetadata({ id: `${site.url}/docs/notes.txt`, format: 'code' }, 1e6)).format, 'code');
    } finally {
      for (const [p] of files) site.pages.delete(p);
    }
  });

  it('spaces requests to one host by its rate limit', async () => {
    const src = new WebSource({ kind: 'web', url: `${site.url}/docs/`, requestsPerSecond: 20, timeoutSeconds: 2 });
    await src.read({ id: `${site.url}/docs/intro.html`, format: 'html' }, 1e6); // robots.txt now cached
    const t0 = Date.now();
    for (let i = 0; i < 6; i++) await src.read({ id: `${site.url}/docs/intro.html`, format: 'html' }, 1e6);
    assert.ok(Date.now() - t0 >= 240, `6 requests at 20/s took ${Date.now() - t0} ms`);
  });

  it('bounds a crawl by maxPages and maxBytes, and lists a redirect target within scope once', async () => {
    const fresh = docsSite(await new TestSite().start()); // an origin no crawl of this process has seen
    try {
      const url = `${fresh.url}/docs/`;
      assert.equal((await listAll(new WebSource({ kind: 'web', url, ...fast, maxBytes: 100 }), 100)).length, 1, 'the start page alone is over 100 bytes');
      assert.equal((await listAll(new WebSource({ kind: 'web', url, ...fast, maxPages: 2 }), 100)).length, 2);
      fresh.set('/docs/moved.html', '', { redirect: '/docs/intro.html' });
      fresh.set('/docs/', '<a href="moved.html">moved</a> <a href="intro.html">intro</a>');
      const ids = (await listAll(new WebSource({ kind: 'web', url, ...fast, maxPages: 50 }), 100)).map((i) => i.id);
      assert.deepEqual(ids, [`${fresh.url}/docs/`, `${fresh.url}/docs/guide/setup.html`, `${fresh.url}/docs/intro.html`]);
    } finally {
      await fresh.stop();
    }
  });

  it('reads a gzipped sitemap', async () => {
    const xml = `<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>${site.url}/docs/intro.html</loc><lastmod>2026-01-01</lastmod></url></urlset>`;
    site.set('/sitemap-docs.xml.gz', gzipSync(xml), { type: 'application/gzip', inSitemap: false });
    try {
      const items = await listAll(new WebSource({ kind: 'web', url: `${site.url}/sitemap-docs.xml.gz`, ...fast }), 10);
      assert.deepEqual(items.map((i) => [i.id, fp(i)]), [[`${site.url}/docs/intro.html`, 'lastmod:2026-01-01']]);
    } finally {
      site.pages.delete('/sitemap-docs.xml.gz');
    }
  });

  it('lowers its rate to robots.txt Crawl-delay', async () => {
    const other = docsSite(await new TestSite().start());
    other.robots = 'User-agent: *\nCrawl-delay: 0.2\n';
    try {
      const src = new WebSource({ kind: 'web', url: `${other.url}/docs/`, requestsPerSecond: 1000, timeoutSeconds: 2 });
      await src.read({ id: `${other.url}/docs/intro.html`, format: 'html' }, 1e6);
      const t0 = Date.now();
      for (let i = 0; i < 3; i++) await src.read({ id: `${other.url}/docs/intro.html`, format: 'html' }, 1e6);
      assert.ok(Date.now() - t0 >= 550, `3 requests with Crawl-delay 0.2 took ${Date.now() - t0} ms`);
    } finally {
      await other.stop();
    }
  });

  it('refuses bad input at the start of a run with a ConfigError naming the problem', async () => {
    const port = await closedPort();
    const cases: Array<[Partial<{ url: string }>, RegExp]> = [
      [{ url: `http://127.0.0.1:${port}/sitemap.xml` }, /cannot be reached \(ECONNREFUSED\)/],
      [{ url: `${site.url}/nope/sitemap.xml` }, /sitemap .* answered 404/],
      [{ url: `${site.url}/missing/` }, /start page .* answered 404/],
    ];
    for (const [spec, msg] of cases) {
      await assert.rejects(new WebSource({ kind: 'web', url: spec.url!, ...fast }).listPage(null, 10), (e: unknown) => e instanceof ConfigError && msg.test(e.message), spec.url);
    }
    site.sitemapOverride = 'this is not a sitemap';
    try {
      await assert.rejects(new WebSource({ kind: 'web', url: `${site.url}/sitemap.xml`, ...fast }).listPage(null, 10), (e: unknown) => e instanceof ConfigError && /is not XML/.test(e.message));
    } finally {
      site.sitemapOverride = undefined;
    }
    site.set('/members/', '', { status: 401 });
    try {
      await assert.rejects(new WebSource({ kind: 'web', url: `${site.url}/members/`, ...fast }).validate(), (e: unknown) => e instanceof ConfigError && /answered 401: access refused/.test(e.message));
    } finally {
      site.pages.delete('/members/');
    }
    await assert.rejects(new WebSource({ kind: 'web', url: `${site.url}/nope/sitemap.xml`, ...fast }).validate(), (e: unknown) => e instanceof ConfigError && /sitemap .* answered 404/.test(e.message));
    assert.throws(() => new WebSource({ kind: 'web', url: 'ftp://example.com/' }), ConfigError);
    assert.throws(() => new WebSource({ kind: 'web', url: 'http://user:pw@example.com/' }), /credentials/);
    assert.throws(() => new WebSource({ kind: 'web', url: `${site.url}/`, maxPages: -1 }), /maxPages/);
  });
});
