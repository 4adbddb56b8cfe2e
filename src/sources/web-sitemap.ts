import { gunzipSync } from 'node:zlib';
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export interface SitemapEntry {
  loc: string;
  lastmod?: string;
}

export type Sitemap = { kind: 'urlset'; entries: SitemapEntry[] } | { kind: 'index'; sitemaps: string[] };

const parser = new XMLParser({
  removeNSPrefix: true,
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: true,
  isArray: (name) => name === 'url' || name === 'sitemap',
});

/** Why a sitemap cannot be used: not XML, or XML that is neither a urlset nor a sitemapindex. */
export class SitemapError extends Error {
  override name = 'SitemapError';
}

/**
 * Parses a sitemap (sitemaps.org 0.9): a `<urlset>` of `<url><loc>…</loc><lastmod>…</lastmod></url>`
 * or a `<sitemapindex>` of `<sitemap><loc>…</loc></sitemap>`. Gzipped bodies (`.xml.gz`) are
 * unpacked first. Entries keep the sitemap's order.
 */
export function parseSitemap(body: Buffer): Sitemap {
  const bytes = body[0] === 0x1f && body[1] === 0x8b ? gunzipSync(body) : body;
  const xml = bytes.toString('utf8');
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    throw new SitemapError(`is not XML (${valid.err.msg} at line ${valid.err.line})`);
  }
  const doc = parser.parse(xml) as Record<string, unknown>;
  const text = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
  if (doc.urlset !== undefined) {
    const urls = childList(doc.urlset, 'url');
    const entries: SitemapEntry[] = [];
    for (const u of urls) {
      const loc = text((u as { loc?: unknown }).loc);
      if (!loc) continue;
      const lastmod = text((u as { lastmod?: unknown }).lastmod);
      entries.push(lastmod ? { loc, lastmod } : { loc });
    }
    return { kind: 'urlset', entries };
  }
  if (doc.sitemapindex !== undefined) {
    const maps = childList(doc.sitemapindex, 'sitemap');
    return { kind: 'index', sitemaps: maps.map((m) => text((m as { loc?: unknown }).loc)).filter((l): l is string => !!l) };
  }
  throw new SitemapError(`is XML but neither a <urlset> nor a <sitemapindex> (root: ${Object.keys(doc).filter((k) => k !== '?xml').join(', ') || 'none'})`);
}

/** An element's repeated children (an empty element parses as '', which has none). */
function childList(parent: unknown, name: string): unknown[] {
  const list = parent && typeof parent === 'object' ? (parent as Record<string, unknown>)[name] : undefined;
  return Array.isArray(list) ? list : [];
}
