import { sha256 } from '../ids';
import type { DocumentFormat } from '../text/extract';
import { formatOf } from '../text/extract';
import { httpFingerprint, httpRequest, HttpUnreachable } from './web-http';
import { extractLinks } from './web-links';
import type { RobotsRules } from './web-robots';

export interface ListedPage {
  id: string;
  format: DocumentFormat;
  fingerprint?: string;
}

/** A listing that cannot be trusted: `permanent` problems (404 start page) fail the run. */
export class ListingError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = 'ListingError';
  }
}

export interface CrawlOptions {
  start: string;
  inScope(url: string): boolean;
  robots: RobotsRules;
  /** Most documents listed. */
  maxPages: number;
  /** Most body bytes the crawl downloads. */
  maxBytes: number;
  /** Largest single body. */
  maxDocumentBytes: number;
  timeoutMs: number;
  perSecond: number;
}

/** Links to these are never fetched: images, media, fonts, archives, scripts and styles. */
const NOT_TEXT = /\.(png|jpe?g|gif|svg|webp|avif|ico|bmp|tiff?|zip|gz|tgz|tar|bz2|xz|7z|rar|mp[34]|m4a|wav|ogg|webm|mov|avi|woff2?|ttf|otf|eot|css|js|mjs|map|wasm|exe|dmg|iso|bin)$/i;

/** What the last crawl in this process saw at a URL: answers a conditional GET's 304. */
interface Remembered {
  etag?: string;
  lastModified?: string;
  page: ListedPage;
  links: string[];
  noindex: boolean;
}
const MAX_REMEMBERED = 50_000;
const remembered = new Map<string, Remembered>();

function remember(url: string, r: Remembered): void {
  remembered.delete(url);
  remembered.set(url, r);
  if (remembered.size > MAX_REMEMBERED) remembered.delete(remembered.keys().next().value!);
}

/** The format a crawl in this process found a URL to be, by its Content-Type. */
export function crawledFormat(url: string): DocumentFormat | undefined {
  return remembered.get(url)?.page.format;
}

/** If-None-Match / If-Modified-Since for a URL this process crawled before (304 = unchanged). */
export function conditionalHeaders(url: string): Record<string, string> {
  const prev = remembered.get(url);
  const headers: Record<string, string> = {};
  if (prev?.etag) headers['if-none-match'] = prev.etag;
  if (prev?.lastModified) headers['if-modified-since'] = prev.lastModified;
  return headers;
}

const DOCX_TYPE = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

/** Formats whose bytes only their own parser reads: a body of one may not be parsed as another. */
export const BINARY_FORMATS: ReadonlySet<DocumentFormat> = new Set(['pdf', 'docx']);

/** The document format of an HTTP body, or undefined when it is not a document we index. */
export function formatOfContentType(contentType: string | null, url: string): DocumentFormat | undefined {
  const type = (contentType ?? 'text/html').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/pdf' || type === 'application/x-pdf') return 'pdf';
  if (type === DOCX_TYPE) return 'docx';
  // Many servers send files as octet-stream: the URL's extension says which (only the binary formats; a page is never octet-stream).
  if (type === 'application/octet-stream') {
    const byName = formatOf(new URL(url).pathname);
    return byName !== undefined && BINARY_FORMATS.has(byName) ? byName : undefined;
  }
  if (type === 'text/html' || type === 'application/xhtml+xml') return 'html';
  if (type === 'text/markdown' || type === 'text/x-markdown') return 'markdown';
  if (type === 'text/plain') return formatOf(new URL(url).pathname) === 'markdown' ? 'markdown' : 'text';
  return undefined;
}

/**
 * Breadth-first crawl from `start`, following links that stay in scope and that robots.txt
 * allows, until `maxPages` documents are listed or `maxBytes` downloaded. Every page is fetched
 * once (link discovery needs its body); a page this process crawled before is asked for with
 * If-None-Match / If-Modified-Since, and a 304 reuses what it saw. The fingerprint is the page's
 * ETag or Last-Modified, else the hash of its body, so planning skips an unchanged page without
 * fetching it again. Pages that answer 404/410 are not listed (and so leave the collection); a
 * 5xx or a host that stops answering fails the listing, to be retried: a partial crawl would
 * delete every page it missed. A page that times out is listed without a fingerprint, so its
 * read fails (or succeeds) as that one document.
 */
export async function crawl(o: CrawlOptions): Promise<ListedPage[]> {
  const queue = [o.start];
  const queued = new Set(queue);
  const out: ListedPage[] = [];
  let bytes = 0;
  let requests = 0;
  const enqueue = (url: string) => {
    if (!queued.has(url) && o.inScope(url) && !NOT_TEXT.test(new URL(url).pathname)) {
      queued.add(url);
      queue.push(url);
    }
  };
  while (queue.length > 0 && out.length < o.maxPages && bytes < o.maxBytes && requests < o.maxPages * 4) {
    const url = queue.shift()!;
    if (!o.robots.allowed(url)) continue;
    const prev = remembered.get(url);
    const headers = conditionalHeaders(url);
    requests++;
    let res;
    try {
      res = await httpRequest(url, {
        timeoutMs: o.timeoutMs,
        perSecond: o.perSecond,
        maxBytes: o.maxDocumentBytes,
        headers,
        wantBody: (type) => formatOfContentType(type, url) !== undefined,
      });
    } catch (err) {
      if (err instanceof HttpUnreachable && err.timedOut && url !== o.start) {
        out.push({ id: url, format: formatOf(new URL(url).pathname) ?? 'html' });
        continue;
      }
      throw err;
    }
    if (res.location) {
      enqueue(res.location);
      continue;
    }
    if (res.status === 304 && prev) {
      if (!prev.noindex) out.push(prev.page);
      prev.links.forEach(enqueue);
      continue;
    }
    if (res.status === 429 || res.status >= 500) {
      throw new ListingError(`${url} answered ${res.status} while crawling; the listing is retried`, false);
    }
    if (res.status < 200 || res.status >= 300) {
      if (url === o.start) throw new ListingError(`start page ${url} answered ${res.status}`, true);
      continue; // 404, 410, 401, 403: not a document of this site (any more)
    }
    bytes += res.truncated ? o.maxDocumentBytes : res.body.length;
    const format = formatOfContentType(res.headers.get('content-type'), url);
    if (!format) continue; // images, archives: not documents we index
    if (res.truncated) {
      out.push({ id: url, format }); // the read reports DocumentTooLarge for this page alone
      continue;
    }
    const page: ListedPage = { id: url, format, fingerprint: httpFingerprint(res.headers) ?? `sha256:${sha256(res.body)}` };
    const { links, noindex } = format === 'html' ? extractLinks(res.body.toString('utf8'), url) : { links: [], noindex: false };
    remember(url, {
      ...(res.headers.get('etag') && { etag: res.headers.get('etag')! }),
      ...(res.headers.get('last-modified') && { lastModified: res.headers.get('last-modified')! }),
      page,
      links,
      noindex,
    });
    if (!noindex) out.push(page);
    links.forEach(enqueue);
  }
  return out;
}
