import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { parseArgs } from 'node:util';
import { hashEmbed } from '../embedders/offline';
import { countTokens } from '../text/tokenizer';
import { RateWindow } from './rate-window';

/**
 * An OpenAI-compatible embeddings server (POST /v1/embeddings) for tests and benchmarks: real
 * HTTP for the real `openai` client, deterministic vectors (the offline hash embedding), faults
 * on demand, provider-style RPM/TPM limits, and counters of what it served.
 *
 * Faults, in the order they are checked for each request:
 *   setOutage('503' | 'reset')      every request fails (503, or the connection is reset)
 *   failNext(n, answer)             the next n requests get `answer`
 *   rpm / tpm (per windowMs)        over the limit → 429 with Retry-After and x-ratelimit-* headers
 *                                   (every answer carries x-ratelimit-limit-* / -remaining-*, per
 *                                   minute as OpenAI's are: see rateHeaders)
 *   maxInputTokens                  an input over it → 400 "maximum context length" (like OpenAI)
 *   poisonMarker                    an input containing it → 400 invalid_request_error
 *   crashMarker                     a request with an input containing it → 500, every time (a model
 *                                   server that crashes on some input; other requests are fine)
 *   fault(request)                  a callback deciding any answer (see FaultAnswer), e.g. chaos()
 * Latency: latencyMs per request plus perInputLatencyMs per input ("~200 ms + a few ms/input").
 */
export interface EmbeddingRequestInfo {
  n: number;
  inputs: string[];
  model: string;
  dimensions?: number;
  encodingFormat?: string;
}

export type FaultAnswer =
  | { status: number; body?: unknown; headers?: Record<string, string> }
  | { dimensions: number }
  | { malformed: true }
  | { hang: true }
  | { reset: true }
  | { delayMs: number }
  | undefined;

export interface EmbeddingServerOptions {
  dimensions: number;
  latencyMs?: number;
  perInputLatencyMs?: number;
  fault?: (req: EmbeddingRequestInfo) => FaultAnswer;
  rpm?: number;
  tpm?: number;
  /** Length of the rate-limit window (default 60 000 ms; shorter for fast tests). */
  windowMs?: number;
  maxInputTokens?: number;
  poisonMarker?: string;
  /** Any request with an input containing this gets a 500, every time (checked before `fault`). */
  crashMarker?: string;
  port?: number;
}

export interface EmbeddingServerStats {
  requests: number;
  ok: number;
  inputs: number;
  tokens: number;
  errors: number;
  rateLimited: number;
  byStatus: Record<string, number>;
  maxConcurrent: number;
  requestBodies: EmbeddingRequestInfo[];
  /** One entry per answered request: when it arrived (body read), when it was answered, its status. */
  log: Array<{ arrivedAt: number; at: number; status: number; inputs: number }>;
}

export interface EmbeddingServer {
  url: string;
  stats: EmbeddingServerStats;
  reset(): void;
  setOutage(mode: 'off' | '503' | 'reset'): void;
  /** Changes the added latency per request (and per input) from now on (benchmarks compare several). */
  setLatency(ms: number, perInputMs?: number): void;
  failNext(n: number, answer: Exclude<FaultAnswer, undefined>): void;
  close(): Promise<void>;
}

const LOG_LIMIT = 10_000;

function emptyStats(): EmbeddingServerStats {
  return { requests: 0, ok: 0, inputs: 0, tokens: 0, errors: 0, rateLimited: 0, byStatus: {}, maxConcurrent: 0, requestBodies: [], log: [] };
}

export async function startEmbeddingServer(options: EmbeddingServerOptions): Promise<EmbeddingServer> {
  const o = { ...options };
  let stats = emptyStats();
  let outage: 'off' | '503' | 'reset' = 'off';
  const queued: Array<Exclude<FaultAnswer, undefined>> = [];
  const limits = o.rpm || o.tpm ? new RateWindow(o.windowMs ?? 60_000, o.rpm, o.tpm) : undefined;
  const sockets = new Set<Socket>();
  let concurrent = 0;

  // OpenAI states its limits per minute. A shorter window (fast tests) is stated as the same
  // rate per minute, and remaining as that less what the current window used: a client that
  // paces by the stated rate and counts what is used then behaves as it would against the
  // provider's own minute-long window.
  const windowMs = o.windowMs ?? 60_000;
  const perMinute = (n: number) => Math.floor((n * 60_000) / windowMs);
  const rateHeaders = (): Record<string, string> => {
    if (!limits) return {};
    const r = limits.remaining();
    const h: Record<string, string> = {};
    if (o.rpm) {
      const limit = perMinute(o.rpm);
      Object.assign(h, { 'x-ratelimit-limit-requests': String(limit), 'x-ratelimit-remaining-requests': String(limit - (o.rpm - r.requests!)) });
    }
    if (o.tpm) {
      const limit = perMinute(o.tpm);
      Object.assign(h, { 'x-ratelimit-limit-tokens': String(limit), 'x-ratelimit-remaining-tokens': String(limit - (o.tpm - r.tokens!)) });
    }
    return h;
  };
  const send = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1;
    if (status >= 400) stats.errors++;
    if (status === 429) stats.rateLimited++;
    res.writeHead(status, { 'content-type': 'application/json', ...rateHeaders(), ...headers });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };
  const apiError = (message: string, type = 'invalid_request_error') => ({ error: { message, type, param: null, code: null } });

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, raw: Buffer) => {
    if (req.method !== 'POST' || !req.url?.endsWith('/embeddings')) return send(res, 404, apiError(`no route ${req.method} ${req.url}`));
    let body: { input?: unknown; model?: unknown; dimensions?: unknown; encoding_format?: unknown };
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return send(res, 400, apiError('invalid JSON body'));
    }
    const inputs = typeof body.input === 'string' ? [body.input] : body.input;
    if (!Array.isArray(inputs) || inputs.some((x) => typeof x !== 'string') || typeof body.model !== 'string') {
      return send(res, 400, apiError('input must be a string or an array of strings, model a string'));
    }
    stats.requests++;
    const info: EmbeddingRequestInfo = {
      n: stats.requests,
      inputs: inputs as string[],
      model: body.model,
      dimensions: typeof body.dimensions === 'number' ? body.dimensions : undefined,
      encodingFormat: typeof body.encoding_format === 'string' ? body.encoding_format : undefined,
    };
    if (stats.requestBodies.length < LOG_LIMIT) stats.requestBodies.push({ ...info, inputs: [] });
    const latency = (o.latencyMs ?? 0) + (o.perInputLatencyMs ?? 0) * info.inputs.length;
    if (latency > 0) await new Promise((r) => setTimeout(r, latency));

    if (outage === 'reset') return req.socket.destroy();
    if (outage === '503') return send(res, 503, apiError('service unavailable (outage)', 'server_error'));
    let answer: FaultAnswer = queued.shift();
    const tokenCounts = info.inputs.map((t) => countTokens(t));
    const tokens = tokenCounts.reduce((a, b) => a + b, 0);
    if (!answer && limits) {
      const admitted = limits.admit(tokens);
      if (!admitted.ok) {
        const secs = Math.max(1, Math.ceil(admitted.retryAfterMs / 1000));
        return send(res, 429, apiError(`Rate limit reached for ${admitted.reason} per window`, 'rate_limit_exceeded'), {
          'retry-after': String(secs),
          'retry-after-ms': String(Math.ceil(admitted.retryAfterMs)),
          [`x-ratelimit-reset-${admitted.reason}`]: `${Math.ceil(admitted.retryAfterMs)}ms`,
        });
      }
    }
    if (!answer && o.maxInputTokens !== undefined) {
      const i = tokenCounts.findIndex((t) => t > o.maxInputTokens!);
      if (i >= 0) return send(res, 400, apiError(`This model's maximum context length is ${o.maxInputTokens} tokens, however you requested ${tokenCounts[i]} tokens (input ${i}).`));
    }
    if (!answer && o.poisonMarker && info.inputs.some((t) => t.includes(o.poisonMarker!))) {
      return send(res, 400, apiError(`input rejected: contains ${o.poisonMarker}`));
    }
    if (!answer && o.crashMarker && info.inputs.some((t) => t.includes(o.crashMarker!))) {
      return send(res, 500, apiError('the model server crashed on this input', 'server_error'));
    }
    answer ??= o.fault?.(info);
    if (answer && 'hang' in answer) return; // never answered; the client's timeout must fire
    if (answer && 'reset' in answer) return req.socket.destroy();
    if (answer && 'status' in answer) return send(res, answer.status, answer.body ?? apiError(`injected ${answer.status}`, 'server_error'), answer.headers);
    if (answer && 'malformed' in answer) return send(res, 200, '{"object":"list","data":[{"object":"embedding","index":0,"embe');
    if (answer && 'delayMs' in answer) await new Promise((r) => setTimeout(r, answer.delayMs));
    const dims = answer && 'dimensions' in answer ? answer.dimensions : (info.dimensions ?? o.dimensions);
    const data = info.inputs.map((text, index) => ({ object: 'embedding', index, embedding: hashEmbed(text, dims).vector }));
    stats.ok++;
    stats.inputs += info.inputs.length;
    stats.tokens += tokens;
    send(res, 200, { object: 'list', data, model: info.model, usage: { prompt_tokens: tokens, total_tokens: tokens } });
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    concurrent++;
    stats.maxConcurrent = Math.max(stats.maxConcurrent, concurrent);
    let arrivedAt = Date.now();
    const done = () => {
      concurrent--;
      if (stats.log.length < LOG_LIMIT) stats.log.push({ arrivedAt, at: Date.now(), status: res.statusCode, inputs: 0 });
    };
    res.once('close', done);
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      arrivedAt = Date.now();
      handle(req, res, Buffer.concat(chunks)).catch((err) => {
        if (!res.headersSent) send(res, 500, apiError(String(err), 'server_error'));
      });
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(o.port ?? 0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    get stats() {
      return stats;
    },
    reset: () => {
      stats = emptyStats();
    },
    setOutage: (mode) => {
      outage = mode;
    },
    setLatency: (ms, perInputMs) => {
      o.latencyMs = ms;
      if (perInputMs !== undefined) o.perInputLatencyMs = perInputMs;
    },
    failNext: (n, answer) => {
      for (let i = 0; i < n; i++) queued.push(answer);
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  } as EmbeddingServer;
}

const HELP = `OpenAI-compatible embeddings server for tests and benchmarks (deterministic, NOT semantic vectors).

  node --import tsx src/testing/embedding-server.ts [options]

  --port N                 port on 127.0.0.1 (default 8089)
  --dimensions N           vector size (default 384)
  --latency-ms N           added latency per request (default 0)
  --per-input-latency-ms N added latency per input (default 0)
  --rpm N --tpm N          enforce request / token limits per window (429 with Retry-After)
  --window-ms N            the rate-limit window (default 60000)
  --max-input-tokens N     inputs over it get 400 "maximum context length"
  --poison TEXT            inputs containing TEXT get 400
  --crash TEXT             requests with an input containing TEXT get 500, every time
  -h, --help               this text`;

if (require.main === module) {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '8089' },
      dimensions: { type: 'string', default: '384' },
      'latency-ms': { type: 'string' },
      'per-input-latency-ms': { type: 'string' },
      rpm: { type: 'string' },
      tpm: { type: 'string' },
      'window-ms': { type: 'string' },
      'max-input-tokens': { type: 'string' },
      poison: { type: 'string' },
      crash: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
  } else {
    const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
    startEmbeddingServer({
      port: num(values.port),
      dimensions: Number(values.dimensions),
      latencyMs: num(values['latency-ms']),
      perInputLatencyMs: num(values['per-input-latency-ms']),
      rpm: num(values.rpm),
      tpm: num(values.tpm),
      windowMs: num(values['window-ms']),
      maxInputTokens: num(values['max-input-tokens']),
      poisonMarker: values.poison,
      crashMarker: values.crash,
    }).then((s) => process.stdout.write(`embeddings server on ${s.url} (OPENAI_BASE_URL=${s.url})\n`));
  }
}
