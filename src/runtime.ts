import { Runtime, type LogLevel, type LogMetadata } from '@temporalio/worker';
import type { Logger } from './log';

let installed = false;

/**
 * Routes the Temporal SDK's own logs (worker state changes, bundling, workflow `log.*` calls)
 * through our logger. Its routine INFO lines are kept at debug so a terminal shows the run, not
 * the SDK's chatter. Must run before the first connection or worker is created; once per process.
 */
export function installRuntime(log: Logger, opts: { sdkMetricsBind?: string } = {}): void {
  if (installed) return;
  installed = true;
  const map: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
    TRACE: 'trace',
    DEBUG: 'debug',
    INFO: 'debug',
    WARN: 'warn',
    ERROR: 'error',
  };
  const forward = (level: LogLevel, message: string, meta?: LogMetadata) => {
    const m: Record<string, unknown> = meta ? { ...meta } : {};
    // pino serialises errors only under `err`; the SDK passes them as `error`.
    if (m.error instanceof Error) {
      m.err = m.error;
      delete m.error;
    }
    // Expected on the embed and upsert queues, which run activities only.
    const lvl = message.startsWith('No workflows registered') ? 'debug' : map[level];
    log[lvl](m, message);
  };
  Runtime.install({
    ...(opts.sdkMetricsBind && {
      telemetryOptions: { metrics: { prometheus: { bindAddress: opts.sdkMetricsBind, countersTotalSuffix: true, useSecondsForDurations: true } } },
    }),
    logger: {
      log: forward,
      trace: (m, meta) => forward('TRACE', m, meta),
      debug: (m, meta) => forward('DEBUG', m, meta),
      info: (m, meta) => forward('INFO', m, meta),
      warn: (m, meta) => forward('WARN', m, meta),
      error: (m, meta) => forward('ERROR', m, meta),
    },
  });
}
