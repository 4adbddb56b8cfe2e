/**
 * A web site: a sitemap URL, or a start URL crawled within its origin and path prefix.
 * (Owned by the web source's author; fields may grow.)
 */
export interface WebSourceSpec {
  kind: 'web';
  /** `https://host/sitemap.xml` or a start URL such as `https://host/docs/`. */
  url: string;
}
