import { Parser } from 'htmlparser2';

export interface PageLinks {
  /** Absolute URLs of the page's followable links, fragments removed, in document order. */
  links: string[];
  /** `<meta name="robots" content="noindex">`: the page must not be indexed. */
  noindex: boolean;
}

/**
 * The links of an HTML page (`<a href>`, `<area href>`), resolved against the page URL or its
 * `<base href>`. Links marked rel="nofollow" are left out, and so is every link of a page whose
 * robots meta tag says nofollow.
 */
export function extractLinks(html: string, pageUrl: string): PageLinks {
  let base = pageUrl;
  const hrefs: string[] = [];
  let noindex = false;
  let nofollow = false;
  const parser = new Parser(
    {
      onopentag(name, attrs) {
        if (name === 'base' && attrs.href) {
          base = resolve(attrs.href, pageUrl) ?? base;
        } else if ((name === 'a' || name === 'area') && attrs.href !== undefined) {
          if (!/\bnofollow\b/i.test(attrs.rel ?? '')) hrefs.push(attrs.href);
        } else if (name === 'meta' && (attrs.name ?? '').toLowerCase() === 'robots') {
          const content = (attrs.content ?? '').toLowerCase();
          if (/\b(noindex|none)\b/.test(content)) noindex = true;
          if (/\b(nofollow|none)\b/.test(content)) nofollow = true;
        }
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  parser.write(html);
  parser.end();
  if (nofollow) return { links: [], noindex };
  const links: string[] = [];
  for (const h of hrefs) {
    const abs = resolve(h, base);
    if (abs) links.push(abs);
  }
  return { links, noindex };
}

/** An absolute http(s) URL without its fragment, or undefined for mailto:, javascript: and junk. */
export function resolve(href: string, base: string): string | undefined {
  try {
    const u = new URL(href.trim(), base);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
    u.hash = '';
    return u.toString();
  } catch {
    return undefined;
  }
}
