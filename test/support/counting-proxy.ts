import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CountingProxy {
  url: string;
  /** Every request passed through: method and path with query. */
  readonly log: Array<{ method: string; path: string }>;
  close(): Promise<void>;
}

/**
 * An HTTP reverse proxy on 127.0.0.1 that forwards everything to `target` unchanged and logs
 * each request, so a test can count what a source really asked a server for (e.g. S3 object
 * GETs) without touching the source.
 */
export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const t = new URL(target);
  const log: Array<{ method: string; path: string }> = [];
  const server: Server = createServer((req, res) => {
    log.push({ method: req.method ?? 'GET', path: req.url ?? '/' });
    const up = request(
      { host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    log,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
