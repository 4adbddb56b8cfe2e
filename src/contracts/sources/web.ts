/**
 * A web site: a sitemap URL (sitemap indexes too), or a start URL crawled within its origin and
 * the start page's directory. Document ids are the pages' URLs.
 */
export interface WebSourceSpec {
  kind: 'web';
  /** `https://host/sitemap.xml` or a start URL such as `https://host/docs/`. */
  url: string;
  /** The url is a sitemap; by default, when its path ends in .xml or .xml.gz. */
  sitemap?: boolean;
  /** Most documents listed (default 10,000). */
  maxPages?: number;
  /** Most bytes a crawl downloads (default 512 MiB). */
  maxBytes?: number;
  /** Requests per second to one host from one worker (default 5; robots.txt Crawl-delay can lower it). */
  requestsPerSecond?: number;
  /** Per request (default 30). */
  timeoutSeconds?: number;
}
