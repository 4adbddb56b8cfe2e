import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { trace } from '@opentelemetry/api';
import { tracingFromEnv } from '../../src/tracing/setup';
import { inSpan } from '../../src/tracing/traced';

// A local HTTP server stands in for an OpenTelemetry collector: what arrives is what the OTLP/HTTP
// exporter sends (a collector itself cannot be installed here).
test('spans go by OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT, and nowhere without it', async () => {
  assert.equal(tracingFromEnv({}), undefined, 'no endpoint: no tracing');
  const received: Array<{ url: string; type: string; body: Buffer }> = [];
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      received.push({ url: req.url ?? '', type: String(req.headers['content-type']), body: Buffer.concat(parts) });
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const saved = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = endpoint; // the exporter reads it itself
  try {
    const tracing = tracingFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: 'vi-otlp-test' });
    assert.ok(tracing);
    await inSpan('embed', { 'embedding.model': 'm' }, async () => {
      assert.ok(trace.getActiveSpan(), 'the span is active inside');
    });
    await tracing.shutdown(); // flushes the batch
    assert.equal(received.length, 1);
    assert.equal(received[0]!.url, '/v1/traces');
    assert.match(received[0]!.type, /protobuf|json/);
    assert.ok(received[0]!.body.includes(Buffer.from('embed')), 'the span name is in the export');
    assert.ok(received[0]!.body.includes(Buffer.from('vi-otlp-test')), 'so is the service name');
  } finally {
    if (saved === undefined) delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    else process.env.OTEL_EXPORTER_OTLP_ENDPOINT = saved;
    server.close();
  }
});
