import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { registry, metrics } from './registry';

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/**
 * GET /metrics: the project's metrics, followed by the Temporal SDK's runtime metrics (worker
 * slots, poll latencies, activity and workflow task counts), which the SDK serves on an
 * internal port; one scrape target for both.
 */
export async function startMetricsServer(o: {
  host: string;
  port: number;
  sdkMetricsUrl?: string;
  backlog?: () => Promise<number>;
}): Promise<MetricsServer> {
  const server = http.createServer(async (req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('see /metrics\n');
      return;
    }
    try {
      if (o.backlog) metrics.backlog.set(await o.backlog().catch(() => -1));
      let body = await registry.metrics();
      if (o.sdkMetricsUrl) {
        const sdk = await fetch(o.sdkMetricsUrl, { signal: AbortSignal.timeout(2000) }).then((r) => r.text()).catch(() => '');
        body += `\n# Temporal SDK runtime metrics\n${sdk}`;
      }
      res.writeHead(200, { 'content-type': registry.contentType }).end(body);
    } catch (err) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`${(err as Error).message}\n`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${o.host}:${port}/metrics`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
