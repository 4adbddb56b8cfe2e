import pino, { type Logger } from 'pino';

/**
 * Structured JSON logs; pretty, human-readable lines when a person is watching a terminal.
 * Secrets never reach the logger: configuration is logged through describeConfig().
 */
export function createLogger(level: string, opts: { pretty?: boolean } = {}): Logger {
  const pretty = opts.pretty ?? (process.stderr.isTTY === true && process.env.LOG_FORMAT !== 'json');
  if (pretty) {
    return pino({
      level,
      transport: { target: 'pino-pretty', options: { destination: 2, colorize: true, ignore: 'pid,hostname' } },
    });
  }
  return pino({ level, redact: ['openaiApiKey', 'apiKey', 'password', '*.apiKey', '*.password'] }, pino.destination(2));
}

export type { Logger };
