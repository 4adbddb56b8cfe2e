import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SitePage {
  body: string | Buffer;
  type?: string;
  /** Answer with this status instead (e.g. 500, 410). */
  status?: number;
  /** Answer 301 to this path. */
  redirect?: string;
  /** Listed in /sitemap.xml (default: HTML and text pages). */
  inSitemap?: boolean;
  /** <lastmod> in the sitemap; without it the source must HEAD the page. */
  lastmod?: string;
  /** Wait this long before answering. */
  delayMs?: number;
}

/**
 * A small web site served by node:http on 127.0.0.1 for the web source's tests: pages with
 * strong ETags (If-None-Match → 304), HEAD, robots.txt, /sitemap.xml generated from the pages
 * (and /sitemap-index.xml pointing at it), redirects, and a log of every request.
 */
export class TestSite {
  readonly pages = new Map<string, SitePage>();
  robots = 'User-agent: *\nDisallow: /docs/private.html\n';
  /** Replaces the generated sitemap when set (e.g. with something that is not XML). */
  sitemapOverride: string | undefined;
  readonly log: Array<{ method: string; path: string; status: number }> = [];
  private server: Server | undefined;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }

  set(path: string, body: string | Buffer, opts: Omit<SitePage, 'body'> = {}): void {
    this.pages.set(path, { body, ...opts });
  }

  /** GETs of documents (not robots.txt or sitemaps) answered with a body since `from`. */
  documentReads(from = 0): number {
    return this.log.slice(from).filter((r) => r.method === 'GET' && r.status === 200 && !/robots\.txt|sitemap/.test(r.path)).length;
  }

  private sitemap(): string {
    const urls = [...this.pages.entries()]
      .filter(([, p]) => p.inSitemap ?? (!p.redirect && /html|text/.test(p.type ?? 'text/html')))
      .map(([path, p]) => `<url><loc>${this.url}${path}</loc>${p.lastmod ? `<lastmod>${p.lastmod}</lastmod>` : ''}</url>`);
    return `<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n${urls.join('\n')}\n</urlset>\n`;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', this.url).pathname;
    const method = req.method ?? 'GET';
    const answer = (status: number, headers: Record<string, string>, body?: string | Buffer) => {
      this.log.push({ method, path, status });
      res.writeHead(status, headers);
      res.end(method === 'HEAD' ? undefined : body);
    };
    if (path === '/robots.txt') return answer(200, { 'content-type': 'text/plain' }, this.robots);
    if (path === '/sitemap.xml') return answer(200, { 'content-type': 'application/xml' }, this.sitemapOverride ?? this.sitemap());
    if (path === '/sitemap-index.xml') {
      return answer(200, { 'content-type': 'application/xml' }, `<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>${this.url}/sitemap.xml</loc></sitemap></sitemapindex>`);
    }
    const page = this.pages.get(path);
    if (!page) return answer(404, { 'content-type': 'text/html' }, '<h1>Not found</h1>');
    const respond = () => {
      if (page.redirect) return answer(301, { location: page.redirect }, '');
      if (page.status) return answer(page.status, { 'content-type': 'text/html' }, `<h1>${page.status}</h1>`);
      const etag = `"${createHash('sha256').update(page.body).digest('hex').slice(0, 16)}"`;
      if (req.headers['if-none-match'] === etag) return answer(304, { etag }, undefined);
      answer(200, { 'content-type': page.type ?? 'text/html; charset=utf-8', etag, 'content-length': String(Buffer.byteLength(page.body)) }, page.body);
    };
    if (page.delayMs) setTimeout(respond, page.delayMs);
    else respond();
  }
}

/** The site the tests ingest: five documents in /docs/, one of them disallowed by robots.txt. */
export function docsSite(site: TestSite): TestSite {
  const html = (title: string, body: string, links: string[] = []) =>
    `<!doctype html><html><head><title>${title}</title></head><body><h1>${title}</h1><p>${body}</p>` +
    links.map((l) => `<a href="${l}">${l}</a>`).join(' ') +
    '</body></html>';
  site.set('/docs/', html('Docs home', 'Welcome to the documentation of the durable ingestion service.', ['intro.html', 'guide/setup.html', 'private.html', 'notes.txt', 'logo.png', '/outside.html', 'mailto:x@example.com', '#top']), { lastmod: '2026-11-01' });
  site.set('/docs/intro.html', html('Introduction', 'Temporal workflows page through a source and embed each chunk exactly once.', ['/docs/', 'guide/setup.html']));
  site.set('/docs/guide/setup.html', html('Setup', 'Install the worker, point it at Postgres, and start an ingest run from the CLI.', ['../intro.html']), { lastmod: '2026-11-02' });
  site.set('/docs/private.html', html('Private', 'This page is disallowed by robots.txt and must never be indexed.'));
  site.set('/docs/notes.txt', 'Plain text notes: retries belong to Temporal, not to HTTP clients.', { type: 'text/plain' });
  site.set('/docs/logo.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0]), { type: 'image/png', inSitemap: false });
  site.set('/outside.html', html('Outside', 'Outside the crawl scope.'), { inSitemap: false });
  return site;
}
