import { setTimeout as sleep } from 'node:timers/promises';
import { packageVersion } from '../version';

/** Also the name robots.txt rules are matched against. */
export const ROBOTS_AGENT = 'vector-ingest';
export const USER_AGENT = `${ROBOTS_AGENT}/${packageVersion()}`;

/**
 * Request starts per host are spaced at least 1/rate seconds apart, across every web source in
 * this worker process (one host is one politeness budget however many collections crawl it).
 * Several workers each keep their own budget.
 */
const nextSlot = new Map<string, number>();

export async function politely(host: string, perSecond: number): Promise<void> {
  const interval = 1000 / perSecond;
  const now = Date.now();
  const at = Math.max(now, nextSlot.get(host) ?? 0);
  nextSlot.set(host, at + interval);
  if (at > now) await sleep(at - now);
}

export interface HttpOptions {
  method?: 'GET' | 'HEAD';
  timeoutMs: number;
  perSecond: number;
  /** Bodies over this many bytes are cut off: `truncated` is set and the rest is not read. */
  maxBytes: number;
  headers?: Record<string, string>;
  /** Given the Content-Type of a 2xx answer: false leaves its body unread (not text we index). */
  wantBody?: (contentType: string | null) => boolean;
}

export interface HttpResponse {
  url: string;
  status: number;
  headers: Headers;
  body: Buffer;
  truncated: boolean;
  /** Absolute target of a 3xx answer (redirects are never followed here: the caller checks scope). */
  location?: string;
}

/** Why a request got no HTTP answer at all: the host is not there, refused, or too slow. */
export class HttpUnreachable extends Error {
  constructor(
    readonly url: string,
    readonly reason: string,
    readonly timedOut: boolean,
  ) {
    super(`${url}: ${reason}`);
    this.name = 'HttpUnreachable';
  }
}

/** One request, rate-limited per host, bounded in time and bytes, redirects not followed. */
export async function httpRequest(url: string, opts: HttpOptions): Promise<HttpResponse> {
  const u = new URL(url);
  await politely(u.host, opts.perSecond);
  const signal = AbortSignal.timeout(opts.timeoutMs);
  let res: Response;
  try {
    res = await fetch(u, {
      method: opts.method ?? 'GET',
      redirect: 'manual',
      signal,
      headers: { 'user-agent': USER_AGENT, accept: 'text/html,application/xhtml+xml,application/xml,text/xml,text/plain,text/markdown;q=0.9,*/*;q=0.5', ...opts.headers },
    });
  } catch (err) {
    throw unreachable(url, err, signal, opts.timeoutMs);
  }
  const location = res.headers.get('location');
  const out: HttpResponse = {
    url,
    status: res.status,
    headers: res.headers,
    body: Buffer.alloc(0),
    truncated: false,
    ...(location && res.status >= 300 && res.status < 400 && { location: new URL(location, url).toString() }),
  };
  if (opts.method === 'HEAD' || !res.body) return out;
  if (res.status >= 200 && res.status < 300 && opts.wantBody && !opts.wantBody(res.headers.get('content-type'))) {
    await res.body.cancel().catch(() => undefined);
    return out;
  }
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > opts.maxBytes) {
    await res.body.cancel().catch(() => undefined);
    return { ...out, truncated: true };
  }
  const parts: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength;
      if (size > opts.maxBytes) {
        await res.body.cancel().catch(() => undefined);
        return { ...out, truncated: true };
      }
      parts.push(Buffer.from(chunk));
    }
  } catch (err) {
    throw unreachable(url, err, signal, opts.timeoutMs);
  }
  return { ...out, body: Buffer.concat(parts) };
}

function unreachable(url: string, err: unknown, signal: AbortSignal, timeoutMs: number): HttpUnreachable {
  if (signal.aborted) return new HttpUnreachable(url, `no answer within ${timeoutMs / 1000} s`, true);
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const reason = cause?.code ?? cause?.message ?? (err as Error).message;
  return new HttpUnreachable(url, `cannot be reached (${reason})`, false);
}

/** The cheapest change signal an HTTP answer carries: its ETag, else its Last-Modified. */
export function httpFingerprint(headers: Headers): string | undefined {
  const etag = headers.get('etag');
  if (etag) return `etag:${etag}`;
  const lm = headers.get('last-modified');
  return lm ? `lm:${lm}` : undefined;
}
