/**
 * Parses how long a server asks us to wait. Sources, in order of precedence:
 * `retry-after-ms`, `retry-after` (seconds or an HTTP date), and OpenAI's
 * `x-ratelimit-reset-requests` / `x-ratelimit-reset-tokens` durations ("1s", "6m0s", "250ms").
 */
export type HeaderLookup = (name: string) => string | null | undefined;

export function headerLookup(headers: unknown): HeaderLookup {
  if (!headers) return () => undefined;
  if (typeof (headers as Headers).get === 'function') return (n) => (headers as Headers).get(n);
  const rec = headers as Record<string, string | string[] | undefined>;
  return (n) => {
    const v = rec[n] ?? rec[n.toLowerCase()];
    return Array.isArray(v) ? v[0] : v;
  };
}

export function parseDurationMs(text: string): number | undefined {
  const s = text.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
  let total = 0;
  let matched = '';
  for (const m of s.matchAll(re)) {
    const n = Number(m[1]);
    const unit = m[2];
    total += unit === 'ms' ? n : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n * 3_600_000;
    matched += m[0];
  }
  return matched.length > 0 && matched.length === s.replace(/\s+/g, '').length ? total : undefined;
}

export function retryAfterMs(get: HeaderLookup, now = Date.now()): number | undefined {
  const ms = get('retry-after-ms');
  if (ms && /^\d+(\.\d+)?$/.test(ms.trim())) return Number(ms);
  const ra = get('retry-after');
  if (ra) {
    if (/^\d+(\.\d+)?$/.test(ra.trim())) return Number(ra) * 1000;
    const date = Date.parse(ra);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  const resets = [get('x-ratelimit-reset-requests'), get('x-ratelimit-reset-tokens')]
    .map((v) => (v ? parseDurationMs(v) : undefined))
    .filter((v): v is number => v !== undefined);
  return resets.length > 0 ? Math.max(...resets) : undefined;
}
