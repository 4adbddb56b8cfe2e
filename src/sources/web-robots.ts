import robotsParser from 'robots-parser';
import { httpRequest, HttpUnreachable, ROBOTS_AGENT } from './web-http';

export interface RobotsRules {
  allowed(url: string): boolean;
  /** Seconds between requests the site asks for, if any. */
  crawlDelay: number | undefined;
}

const TTL_MS = 10 * 60_000;
const cache = new Map<string, { at: number; rules: RobotsRules }>();

const ALLOW_ALL: RobotsRules = { allowed: () => true, crawlDelay: undefined };

/**
 * The robots.txt rules of an origin, fetched once per 10 minutes per worker process. A missing
 * robots.txt (4xx) allows everything (RFC 9309). A 5xx or no answer is an error the caller
 * retries: treating it as "disallow all" would empty the listing and delete the collection.
 */
export async function robotsFor(origin: string, opts: { timeoutMs: number; perSecond: number }): Promise<RobotsRules> {
  const hit = cache.get(origin);
  if (hit && Date.now() - hit.at < TTL_MS) return hit.rules;
  const url = `${origin}/robots.txt`;
  let res = await httpRequest(url, { ...opts, maxBytes: 512 * 1024 });
  // RFC 9309: follow at least five redirects; stay on the answer of the last one.
  for (let hops = 0; res.location && hops < 5; hops++) res = await httpRequest(res.location, { ...opts, maxBytes: 512 * 1024 });
  let rules: RobotsRules;
  if (res.status >= 200 && res.status < 300) {
    const robot = robotsParser(url, res.body.toString('utf8'));
    rules = {
      allowed: (u) => robot.isAllowed(u, ROBOTS_AGENT) !== false,
      crawlDelay: robot.getCrawlDelay(ROBOTS_AGENT),
    };
  } else if (res.status >= 400 && res.status < 500) {
    rules = ALLOW_ALL;
  } else {
    throw new HttpUnreachable(url, `answered ${res.status}; robots.txt must be readable before crawling`, false);
  }
  cache.set(origin, { at: Date.now(), rules });
  return rules;
}
