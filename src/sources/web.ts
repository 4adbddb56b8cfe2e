import { ConfigError, DocumentError } from '../errors';
import { formatOf, type DocumentFormat } from '../text/extract';
import type { WebSourceSpec } from '../contracts/sources/web';
import { defineSourceKind, type DocumentMetadata, type Source, type SourceItem, type SourcePage } from './types';
import { conditionalHeaders, crawl, crawledFormat, ListingError, type ListedPage } from './web-crawl';
import { formatOfBody } from './web-format';
import { httpFingerprint, httpRequest, HttpUnreachable } from './web-http';
import { robotsFor, type RobotsRules } from './web-robots';
import { parseSitemap, SitemapError } from './web-sitemap';

const DEFAULTS = { maxPages: 10_000, maxBytes: 512 * 1024 * 1024, requestsPerSecond: 5, timeoutSeconds: 30 };
/** A later page of the same run reuses the listing its worker made for the first page. */
const LISTING_TTL_MS = 60 * 60_000;
const MAX_SITEMAPS = 50;
const MAX_REDIRECTS = 5;
const listings = new Map<string, { at: number; pages: ListedPage[] }>();

function positive(name: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new ConfigError(`source.${name} must be a positive number, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * A web site as a source. Document ids are the pages' URLs. The listing is made once per run
 * (the first page, cursor null) and kept by the worker; every page of it is the URLs after the
 * cursor in sorted order, so paging is reproducible and survives continue-as-new, and a worker
 * that never saw the first page (another process, a restart) makes the listing again and still
 * resumes at the right place. Fingerprints are taken at listing time (sitemap <lastmod>, a HEAD's
 * ETag/Last-Modified, or what the crawl saw), so planning skips an unchanged page without a GET.
 */
export class WebSource implements Source {
  readonly url: URL;
  readonly isSitemap: boolean;
  private readonly maxPages: number;
  private readonly maxBytes: number;
  private readonly perSecond: number;
  private readonly timeoutMs: number;
  /** Crawl scope: the start page's directory (`/docs/` of `/docs/intro.html`). */
  private readonly prefix: string;

  constructor(private readonly spec: WebSourceSpec) {
    let url: URL;
    try {
      url = new URL(spec.url);
    } catch {
      throw new ConfigError(`source.url must be an absolute http(s) URL, got ${JSON.stringify(spec.url)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`source.url must be http(s), got ${url.protocol}`);
    if (url.username || url.password) throw new ConfigError('source.url must not carry credentials (they would be kept in workflow history)');
    url.hash = '';
    this.url = url;
    this.isSitemap = spec.sitemap ?? /\.xml(\.gz)?$/i.test(url.pathname);
    this.maxPages = Math.floor(positive('maxPages', spec.maxPages, DEFAULTS.maxPages));
    this.maxBytes = positive('maxBytes', spec.maxBytes, DEFAULTS.maxBytes);
    this.perSecond = positive('requestsPerSecond', spec.requestsPerSecond, DEFAULTS.requestsPerSecond);
    this.timeoutMs = positive('timeoutSeconds', spec.timeoutSeconds, DEFAULTS.timeoutSeconds) * 1000;
    this.prefix = url.pathname.slice(0, url.pathname.lastIndexOf('/') + 1);
  }

  describe(): string {
    return `web ${this.isSitemap ? 'sitemap' : 'site'} ${this.url}`;
  }

  /**
   * A page's format by its URL (a replay knows only that): what its Content-Type said when this
   * worker crawled it, else by the path's extension, else HTML (`/docs/`, `/guide/setup`).
   */
  formatOf(id: string): DocumentFormat {
    try {
      return crawledFormat(id) ?? formatOf(new URL(id).pathname) ?? 'html';
    } catch {
      return 'html';
    }
  }

  /** Sitemap URLs may be anywhere on the origin; a crawl stays under the start page's directory. */
  inScope(url: string): boolean {
    const u = new URL(url);
    return u.origin === this.url.origin && (this.isSitemap || u.pathname.startsWith(this.prefix));
  }

  /**
   * Before a run writes anything: robots.txt can be read, the sitemap or start page answers 2xx
   * (redirects on the site followed), and a sitemap is XML. Otherwise a ConfigError says which.
   */
  async validate(): Promise<void> {
    try {
      await this.robots();
      const url = this.url.toString();
      // A start page this worker crawled before is asked for conditionally: 304 means it is there.
      const res = await this.follow(url, this.perSecond, 50 * 1024 * 1024, this.isSitemap ? {} : conditionalHeaders(url));
      const what = this.isSitemap ? 'sitemap' : 'start page';
      if (res.status === 401 || res.status === 403) {
        throw new ListingError(`${what} ${url} answered ${res.status}: access refused (a web source sends no credentials; only public sites can be ingested)`, true);
      }
      if ((res.status < 200 || res.status >= 300) && res.status !== 304) throw new ListingError(`${what} ${url} answered ${res.status}`, res.status < 500 && res.status !== 429);
      if (this.isSitemap) {
        try {
          parseSitemap(res.body);
        } catch (err) {
          throw new ListingError(`sitemap ${url} ${(err as Error).message}`, true);
        }
      }
    } catch (err) {
      throw this.listingError(err, true);
    }
  }

  async listPage(cursor: string | null, limit: number): Promise<SourcePage> {
    const all = await this.listing(cursor === null);
    let start = 0;
    if (cursor !== null) {
      // first id after the cursor (binary search over the sorted listing)
      let lo = 0;
      let hi = all.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (all[mid]!.id <= cursor) lo = mid + 1;
        else hi = mid;
      }
      start = lo;
    }
    const slice = all.slice(start, start + limit);
    const items = this.isSitemap ? await this.withHeadFingerprints(slice) : slice;
    const nextCursor = start + limit < all.length ? slice[slice.length - 1]!.id : null;
    return { items: items.map(toItem), nextCursor };
  }

  private async listing(fresh: boolean): Promise<ListedPage[]> {
    const key = JSON.stringify(this.spec);
    const hit = listings.get(key);
    if (!fresh && hit && Date.now() - hit.at < LISTING_TTL_MS) return hit.pages;
    let pages: ListedPage[];
    try {
      const robots = await this.robots();
      pages = this.isSitemap ? await this.fromSitemap(robots) : await this.crawl(robots);
    } catch (err) {
      throw this.listingError(err, fresh);
    }
    const byId = new Map(pages.map((p) => [p.id, p]));
    const sorted = [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    listings.set(key, { at: Date.now(), pages: sorted });
    return sorted;
  }

  private robots(): Promise<RobotsRules> {
    return robotsFor(this.url.origin, { timeoutMs: this.timeoutMs, perSecond: this.perSecond });
  }

  private async rate(): Promise<number> {
    const delay = (await this.robots()).crawlDelay;
    return delay && delay > 0 ? Math.min(this.perSecond, 1 / delay) : this.perSecond;
  }

  private async crawl(robots: RobotsRules): Promise<ListedPage[]> {
    return crawl({
      start: this.url.toString(),
      inScope: (u) => this.inScope(u),
      robots,
      maxPages: this.maxPages,
      maxBytes: this.maxBytes,
      maxDocumentBytes: Math.min(this.maxBytes, 64 * 1024 * 1024),
      timeoutMs: this.timeoutMs,
      perSecond: await this.rate(),
    });
  }

  /** Every URL of the sitemap (and of the sitemaps a sitemap index names), in sitemap order. */
  private async fromSitemap(robots: RobotsRules): Promise<ListedPage[]> {
    const perSecond = await this.rate();
    const out: ListedPage[] = [];
    const todo = [this.url.toString()];
    const fetched = new Set<string>();
    while (todo.length > 0 && out.length < this.maxPages) {
      const mapUrl = todo.shift()!;
      if (fetched.has(mapUrl)) continue;
      if (fetched.size >= MAX_SITEMAPS) break;
      fetched.add(mapUrl);
      const first = mapUrl === this.url.toString();
      const res = await this.follow(mapUrl, perSecond, 50 * 1024 * 1024);
      if (res.status < 200 || res.status >= 300) {
        throw new ListingError(`sitemap ${mapUrl} answered ${res.status}`, first || res.status === 404 || res.status === 410);
      }
      if (res.truncated) throw new ListingError(`sitemap ${mapUrl} is larger than 50 MiB (the sitemap protocol's limit)`, true);
      let map;
      try {
        map = parseSitemap(res.body);
      } catch (err) {
        if (err instanceof SitemapError) throw new ListingError(`sitemap ${mapUrl} ${err.message}`, true);
        throw new ListingError(`sitemap ${mapUrl} cannot be unpacked: ${(err as Error).message}`, true);
      }
      if (map.kind === 'index') {
        for (const s of map.sitemaps) if (this.sameOrigin(s)) todo.push(new URL(s).toString());
        continue;
      }
      for (const e of map.entries) {
        if (out.length >= this.maxPages) break;
        let u: URL;
        try {
          u = new URL(e.loc);
        } catch {
          continue;
        }
        u.hash = '';
        const id = u.toString();
        if (!this.inScope(id) || !robots.allowed(id)) continue;
        out.push({ id, format: this.formatOf(id), ...(e.lastmod && { fingerprint: `lastmod:${e.lastmod}` }) });
      }
    }
    return out;
  }

  private sameOrigin(url: string): boolean {
    try {
      return new URL(url).origin === this.url.origin;
    } catch {
      return false;
    }
  }

  /**
   * Sitemap entries without <lastmod> get the ETag or Last-Modified of a HEAD, for this page of
   * the listing only. An entry whose HEAD answers 404/410 is left out, so the run deletes it.
   */
  private async withHeadFingerprints(pages: ListedPage[]): Promise<ListedPage[]> {
    const perSecond = await this.rate();
    const out: ListedPage[] = [];
    for (const p of pages) {
      if (p.fingerprint) {
        out.push(p);
        continue;
      }
      let res;
      try {
        res = await httpRequest(p.id, { method: 'HEAD', timeoutMs: this.timeoutMs, perSecond, maxBytes: 0 });
      } catch {
        out.push(p); // the read will say what is wrong with this page
        continue;
      }
      if (res.status === 404 || res.status === 410) continue;
      const fp = res.status >= 200 && res.status < 300 ? httpFingerprint(res.headers) : undefined;
      out.push(fp ? { ...p, fingerprint: fp } : p);
    }
    return out;
  }

  /** GET, following up to five redirects that stay on the origin (and in scope). */
  private async follow(url: string, perSecond: number, maxBytes: number, headers: Record<string, string> = {}) {
    let res = await httpRequest(url, { timeoutMs: this.timeoutMs, perSecond, maxBytes, headers });
    for (let hops = 0; res.location; hops++) {
      if (hops >= MAX_REDIRECTS) throw new ListingError(`${url} redirects more than ${MAX_REDIRECTS} times`, true);
      if (!this.sameOrigin(res.location)) throw new ListingError(`${url} redirects off the site, to ${res.location}`, true);
      res = await httpRequest(res.location, { timeoutMs: this.timeoutMs, perSecond, maxBytes });
    }
    return res;
  }

  /**
   * What a failed listing means for the run: a site that cannot be reached at the start of a run,
   * a missing start page or sitemap, a sitemap that is not XML: ConfigError (the run fails at once
   * with this message, before anything is written). A 5xx, or a host that stops answering in the
   * middle of a run: retried.
   */
  private listingError(err: unknown, firstPage: boolean): Error {
    const what = this.describe();
    if (err instanceof ListingError) {
      return err.permanent ? new ConfigError(`${what}: ${err.message}`) : new Error(`${what}: ${err.message}`);
    }
    if (err instanceof HttpUnreachable) {
      return firstPage && !err.timedOut ? new ConfigError(`${what}: ${err.message}`) : new Error(`${what}: ${err.message}`);
    }
    return err as Error;
  }

  async read(item: SourceItem, maxBytes: number): Promise<Uint8Array> {
    return (await this.readWithMetadata(item, maxBytes)).bytes;
  }

  /**
   * The page's bytes and the format they are: a listing knows a URL only by its path (a sitemap
   * entry `/download/report` is listed as HTML), so the answer's magic bytes or Content-Type
   * decide whether it is a PDF or a Word file (src/sources/web-format.ts). No metadata of its own.
   */
  async readWithMetadata(item: SourceItem, maxBytes: number): Promise<{ bytes: Uint8Array; metadata: DocumentMetadata; format: DocumentFormat }> {
    if (!this.inScope(item.id)) throw new DocumentError('UnsupportedDocument', `${item.id}: is outside ${this.describe()}`);
    let robots: RobotsRules;
    try {
      robots = await this.robots();
    } catch (err) {
      throw new DocumentError('UnreadableDocument', `${item.id}: robots.txt cannot be read (${(err as Error).message})`);
    }
    if (!robots.allowed(item.id)) throw new DocumentError('UnsupportedDocument', `${item.id}: robots.txt disallows it`);
    const perSecond = await this.rate();
    let url = item.id;
    let res;
    for (let hops = 0; ; hops++) {
      try {
        res = await httpRequest(url, { timeoutMs: this.timeoutMs, perSecond, maxBytes });
      } catch (err) {
        if (err instanceof HttpUnreachable) throw new DocumentError('UnreadableDocument', `${item.id}: ${err.reason}`);
        throw err;
      }
      if (!res.location) break;
      if (hops >= MAX_REDIRECTS) throw new DocumentError('UnreadableDocument', `${item.id}: more than ${MAX_REDIRECTS} redirects`);
      if (!this.inScope(res.location)) throw new DocumentError('UnreadableDocument', `${item.id}: redirects outside the source, to ${res.location}`);
      url = res.location;
    }
    if (res.status === 404 || res.status === 410) throw new DocumentError('DocumentVanished', `${item.id}: answered ${res.status}`);
    if (res.status < 200 || res.status >= 300) throw new DocumentError('UnreadableDocument', `${item.id}: answered ${res.status}`);
    if (res.truncated) throw new DocumentError('DocumentTooLarge', `${item.id}: is larger than ${maxBytes} bytes (VECTOR_INGEST_MAX_DOCUMENT_BYTES)`);
    const type = res.headers.get('content-type');
    const format = formatOfBody(item.format, type, url, res.body);
    if (!format) throw new DocumentError('UnsupportedDocument', `${item.id}: is ${type}, not HTML, text, PDF or DOCX (neither its Content-Type nor its first bytes say otherwise)`);
    return { bytes: res.body, metadata: {}, format };
  }
}

function toItem(p: ListedPage): SourceItem {
  return { id: p.id, format: p.format, ...(p.fingerprint && { fingerprint: p.fingerprint }) };
}

export const webSource = defineSourceKind({
  kind: 'web',
  open: (spec) => new WebSource(spec),
});
