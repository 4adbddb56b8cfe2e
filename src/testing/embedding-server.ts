import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { hashEmbed } from '../embedders/offline';
import { countTokens } from '../text/tokenizer';

/**
 * An OpenAI-compatible embeddings server (POST /v1/embeddings) for tests and benchmarks: real
 * HTTP for the real `openai` client, deterministic vectors (the offline hash embedding), and
 * counters of what it served. `fault` lets a test decide the answer to each request.
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
  | undefined;

export interface EmbeddingServerOptions {
  dimensions: number;
  /** Added latency per request, ms. */
  latencyMs?: number;
  /** Decides a non-default answer to a request; undefined answers normally. */
  fault?: (req: EmbeddingRequestInfo) => FaultAnswer;
}

export interface EmbeddingServerStats {
  requests: number;
  inputs: number;
  tokens: number;
  errors: number;
  requestBodies: EmbeddingRequestInfo[];
}

export interface EmbeddingServer {
  url: string;
  stats: EmbeddingServerStats;
  reset(): void;
  close(): Promise<void>;
}

export async function startEmbeddingServer(o: EmbeddingServerOptions): Promise<EmbeddingServer> {
  const stats: EmbeddingServerStats = { requests: 0, inputs: 0, tokens: 0, errors: 0, requestBodies: [] };
  const send = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const data = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(data);
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      if (req.method !== 'POST' || !req.url?.endsWith('/embeddings')) {
        send(res, 404, { error: { message: `no route ${req.method} ${req.url}`, type: 'invalid_request_error' } });
        return;
      }
      let body: { input?: unknown; model?: unknown; dimensions?: unknown; encoding_format?: unknown };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        send(res, 400, { error: { message: 'invalid JSON body', type: 'invalid_request_error' } });
        return;
      }
      const inputs = typeof body.input === 'string' ? [body.input] : body.input;
      if (!Array.isArray(inputs) || inputs.some((x) => typeof x !== 'string') || typeof body.model !== 'string') {
        send(res, 400, { error: { message: 'input must be a string or an array of strings, model a string', type: 'invalid_request_error' } });
        return;
      }
      stats.requests++;
      const info: EmbeddingRequestInfo = {
        n: stats.requests,
        inputs: inputs as string[],
        model: body.model,
        dimensions: typeof body.dimensions === 'number' ? body.dimensions : undefined,
        encodingFormat: typeof body.encoding_format === 'string' ? body.encoding_format : undefined,
      };
      stats.requestBodies.push({ ...info, inputs: [] });
      if (o.latencyMs) await new Promise((r) => setTimeout(r, o.latencyMs));
      const fault = o.fault?.(info);
      if (fault && 'status' in fault) {
        stats.errors++;
        send(res, fault.status, fault.body ?? { error: { message: `injected ${fault.status}`, type: 'server_error' } }, fault.headers);
        return;
      }
      const dims = fault && 'dimensions' in fault ? fault.dimensions : (info.dimensions ?? o.dimensions);
      let tokens = 0;
      const data = info.inputs.map((text, index) => {
        tokens += countTokens(text);
        return { object: 'embedding', index, embedding: hashEmbed(text, dims).vector };
      });
      stats.inputs += info.inputs.length;
      stats.tokens += tokens;
      send(res, 200, { object: 'list', data, model: info.model, usage: { prompt_tokens: tokens, total_tokens: tokens } });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    stats,
    reset: () => {
      stats.requests = 0;
      stats.inputs = 0;
      stats.tokens = 0;
      stats.errors = 0;
      stats.requestBodies = [];
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
