import { trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

/** A process's OpenTelemetry tracing: what the worker's interceptors and the workflow span sink need. */
export interface Tracing {
  spanProcessor: SpanProcessor;
  resource: Resource;
  /** Exports what is pending and stops; call after the workers drained. */
  shutdown(): Promise<void>;
}

let active: Tracing | undefined;

/**
 * Registers a global tracer provider (with the AsyncLocalStorage context manager, so spans
 * started inside an activity are its children) that sends spans to `spanProcessor`. One per
 * process: a second call returns the first.
 */
export function startTracing(spanProcessor: SpanProcessor, serviceName = 'vector-ingest'): Tracing {
  if (active) return active;
  const resource = new Resource({ 'service.name': serviceName });
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register();
  active = {
    spanProcessor,
    resource,
    shutdown: async () => {
      await provider.shutdown();
      trace.disable();
      active = undefined;
    },
  };
  return active;
}

/**
 * Tracing as the standard OpenTelemetry variables ask for it: spans go by OTLP/HTTP to
 * OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT; the exporter reads the
 * OTEL_EXPORTER_OTLP_* headers and timeouts itself), named by OTEL_SERVICE_NAME. Neither set:
 * no tracing, and the tracing calls in the code cost next to nothing.
 */
export function tracingFromEnv(env: NodeJS.ProcessEnv = process.env): Tracing | undefined {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return undefined;
  return startTracing(new BatchSpanProcessor(new OTLPTraceExporter()), env.OTEL_SERVICE_NAME || 'vector-ingest');
}
