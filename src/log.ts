import { trace } from '@opentelemetry/api';
import pino, { type Logger } from 'pino';

/**
 * A line logged inside a span (an activity, an embedder or sink call, when tracing is on)
 * carries its trace and span ids, so a log search leads to the trace and back.
 */
export function traceFields(): Record<string, string> {
  const ctx = trace.getActiveSpan()?.spanContext();
  return ctx && ctx.traceId !== '00000000000000000000000000000000' ? { trace_id: ctx.traceId, span_id: ctx.spanId } : {};
}

/**
 * Structured JSON logs; pretty, human-readable lines when a person is watching a terminal.
 * Secrets never reach the logger: configuration is logged through describeConfig().
 */
export function createLogger(level: string, opts: { pretty?: boolean } = {}): Logger {
  const pretty = opts.pretty ?? (process.stderr.isTTY === true && process.env.LOG_FORMAT !== 'json');
  if (pretty) {
    return pino({
      level,
      mixin: traceFields,
      transport: { target: 'pino-pretty', options: { destination: 2, colorize: true, ignore: 'pid,hostname' } },
    });
  }
  return pino({ level, mixin: traceFields, redact: ['openaiApiKey', 'apiKey', 'password', '*.apiKey', '*.password'] }, pino.destination(2));
}

export type { Logger };
